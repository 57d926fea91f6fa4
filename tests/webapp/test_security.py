"""Authentication on every route, CSRF on every unsafe route, tokens, and security headers."""

import pytest

from tests.conftest import CSRFClient, make_app
from webapp.extensions import db
from webapp.models.auth import ApiToken, hash_token
from webapp.security import PUBLIC_ENDPOINTS

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _rules(app, methods):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods & set(methods)):
            url = rule.rule.replace("<int:", "<").replace("<", "").replace(">", "")
            yield method, url, rule.endpoint


def test_every_route_but_login_and_health_needs_a_user(app, client):
    checked = 0
    for method, url, endpoint in _rules(app, ("GET", *UNSAFE)):
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url)
            assert response.get_json()["error"]["code"] == "unauthorized"
        else:
            assert response.status_code in (302, 400), (method, url)  # unsafe: CSRF first
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), endpoint
        checked += 1
    assert checked >= 3


def test_unsafe_routes_refuse_a_missing_csrf_token_and_accept_a_valid_one(app, logged_in):
    seen = 0
    for method, url, _ in _rules(app, UNSAFE):
        without = logged_in.open(url, method=method, csrf=False)
        assert without.status_code == 400, (method, url)
        body = without.get_data(as_text=True)
        assert "CSRF" in body or "csrf" in body
        with_token = logged_in.open(url, method=method)
        assert with_token.status_code != 400 or "csrf" not in with_token.get_data(as_text=True)
        seen += 1
        logged_in.post("/login", data={"email": "staff@example.com",
                                       "password": "correct horse battery"})
    assert seen >= 1


def test_login_form_without_csrf_token_is_refused(client, user):
    response = client.post("/login", data={"email": "staff@example.com",
                                           "password": "correct horse battery"}, csrf=False)
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_token_authenticates_api_calls_without_cookie_or_csrf(app, api_token):
    plain = app.test_client()  # no CSRF help, no cookies
    response = plain.get("/api/v1/objects", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 200
    assert [o["name"] for o in response.get_json()["objects"]][:2] == ["customer", "vendor"]
    assert "Set-Cookie" not in response.headers
    # unsafe requests with a token need no CSRF token either
    post = plain.post("/api/v1/sessions/current/cancel",
                      headers={"Authorization": f"Bearer {api_token}"})
    assert post.status_code == 409 and "Set-Cookie" not in post.headers
    row = db.session.scalar(db.select(ApiToken))
    assert row.last_used_at is not None
    assert row.token_hash == hash_token(api_token) and api_token not in row.token_hash


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "qbs_x"])
def test_bad_tokens_get_a_json_401(app, api_token, header):
    response = app.test_client().get("/api/v1/objects", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
    assert "Set-Cookie" not in response.headers


def test_bearer_header_ignores_a_logged_in_cookie(logged_in):
    response = logged_in.get("/api/v1/objects", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_revoked_token_is_refused(app, api_token):
    from webapp.models.types import utcnow

    db.session.scalar(db.select(ApiToken)).revoked_at = utcnow()
    db.session.commit()
    response = app.test_client().get(
        "/api/v1/objects", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("name", ["token", "access_token", "api_key"])
def test_token_in_query_string_is_refused(app, api_token, name):
    response = app.test_client().get(f"/api/v1/objects?{name}={api_token}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "token_in_query"


def test_html_responses_carry_security_headers(client):
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP
    secure = client.get("/login", base_url="https://localhost").headers
    assert "max-age=63072000" in secure["Strict-Transport-Security"]


def test_errors_never_leak_internals(sqlite_uri):
    app = make_app(sqlite_uri, PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret connection string postgres://u:pw@h/db")

    with app.app_context():
        from webapp.cli import create_or_update_user

        _row, token = ApiToken.issue(create_or_update_user("a@example.com", "long enough"), "t")
        db.session.commit()
    for path in ("/api/v1/boom", "/api/v1/boom-not-found"):
        page = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
        body = page.get_data(as_text=True)
        assert page.status_code in (404, 500)
        assert "postgres://" not in body and "Traceback" not in body


def test_csrf_client_helper_is_the_default(client):
    assert isinstance(client, CSRFClient)


def test_a_busy_database_does_not_fail_a_token_call(app, api_token, monkeypatch):
    # Given SQLite busy with a long write elsewhere (a sync's page, in the demo), and writes
    # here that give up waiting quickly
    import sqlite3

    from webapp import extensions

    monkeypatch.setattr(extensions, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db.engine.dispose()
    holder = sqlite3.connect(db.engine.url.database)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # When a tool calls the API, its token's first use to be stamped
        response = app.test_client().get("/api/v1/objects",
                                         headers={"Authorization": f"Bearer {api_token}"})
        # Then the call is answered all the same; the stamp waits for a later call
        assert response.status_code == 200
    finally:
        holder.rollback()
        holder.close()
    db.session.expire_all()
    assert db.session.scalar(db.select(ApiToken)).last_used_at is None
    app.test_client().get("/api/v1/objects", headers={"Authorization": f"Bearer {api_token}"})
    db.session.expire_all()
    assert db.session.scalar(db.select(ApiToken)).last_used_at is not None
