"""`GET /api/v1/health`: database and broker reachability, no login needed."""

import pytest

from tests.conftest import make_app


def test_health_is_ok_without_login(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.redis
def test_health_checks_real_redis(sqlite_uri, redis_url):
    app = make_app(sqlite_uri, REDIS_URL=redis_url)
    assert app.test_client().get("/api/v1/health").get_json()["broker"] == "ok"


def test_health_is_503_when_the_broker_is_down(sqlite_uri):
    app = make_app(sqlite_uri, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable", "database": "ok", "broker": "unreachable"
    }


def test_health_is_503_when_the_database_is_down():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none",
                   SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}})
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
