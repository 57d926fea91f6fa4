"""The web app against a careful attacker (issue 19): throttled logins that name no account,
strict input, tokens kept to the API, nothing cached or served that should not be, private
files, and a simulator no web page can drive."""

from __future__ import annotations

import base64
import io
import os
import stat
import time

import pytest

from tests.conftest import PASSWORD, log_in, make_app
from webapp.auth import throttle
from webapp.extensions import db
from webapp.models.sync import SyncSession


def _fail_login(client, email="staff@example.com"):
    return client.post("/login", data={"email": email, "password": "not the password"})


# --- login --------------------------------------------------------------------------------


def test_failed_logins_are_throttled_per_account_with_a_clear_message(client, user):
    # Given five failed logins for one account
    for _ in range(5):
        assert _fail_login(client).status_code == 400
    # When a sixth comes, even with the right password
    refused = log_in(client)
    # Then it is refused with 429, says why and when to come back
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    # And another account from the same address may still log in
    from webapp.cli import create_or_update_user

    create_or_update_user("other@example.com", PASSWORD)
    assert log_in(client, "other@example.com").status_code == 302


def test_failed_logins_are_throttled_per_client_address(client, user):
    # Given twenty failed logins from one address, each for another email
    for n in range(20):
        assert _fail_login(client, f"guess{n}@example.com").status_code == 400
    # Then the next one from that address is refused, whatever the account
    assert log_in(client).status_code == 429
    # And another address is not held back
    other = client.post("/login", data={"email": "staff@example.com", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302


def test_successful_logins_are_not_counted(client, user):
    for _ in range(8):
        assert log_in(client).status_code == 302
        client.post("/logout")
    assert log_in(client).status_code == 302


def test_login_takes_as_long_for_an_email_without_an_account(client, user):
    """No account enumeration by timing: the unknown email's password is hashed too."""

    def fastest(email: str) -> float:
        times = []
        for _ in range(2):  # fewer than an account's failed logins allowed
            start = time.perf_counter()
            assert _fail_login(client, email).status_code == 400
            times.append(time.perf_counter() - start)
        return min(times)

    fastest("warm-up@example.com")  # the dummy hash is made once
    known, unknown = fastest("staff@example.com"), fastest("nobody@example.com")
    assert unknown > known * 0.6, (known, unknown)


def test_the_limits_are_kept_in_redis_when_the_app_has_it(sqlite_uri, redis_url):
    app = make_app(sqlite_uri, REDIS_URL=redis_url)
    limiter = app.extensions["qbsync_login_limiter"]
    assert type(limiter.storage).__name__ == "RedisStorage"
    assert throttle.PER_ACCOUNT and throttle.PER_ADDRESS


# --- redirects, caching, static files --------------------------------------------------------


@pytest.mark.parametrize("evil", ["/\r\nSet-Cookie: a=b", "/x\x00y", "/sessions\x7f", "/\x1b[31m"])
def test_next_with_control_characters_lands_on_the_dashboard(client, user, evil):
    response = client.post("/login", query_string={"next": evil},
                           data={"email": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    again = client.get("/login", query_string={"next": evil})
    assert again.status_code == 302 and again.headers["Location"] == "/"


def test_authenticated_answers_are_never_cached(logged_in, api_token, app):
    assert logged_in.get("/").headers["Cache-Control"] == "no-store"
    token = {"Authorization": f"Bearer {api_token}"}
    assert app.test_client().get("/api/v1/objects", headers=token).headers[
        "Cache-Control"] == "no-store"
    with logged_in.get("/static/css/app.css") as asset:
        assert asset.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("path", ["vendor/refresh.sh", "vendor/VERSIONS.txt",
                                  "vendor/bootstrap/LICENSE"])
def test_static_serves_no_scripts_or_other_files(client, path):
    assert client.get(f"/static/{path}").status_code == 404


def test_static_serves_the_assets_pages_use(client):
    for path in ("css/app.css", "js/qbsync.js", "favicon.svg",
                 "vendor/bootstrap/bootstrap.min.css", "vendor/alpinejs-csp/alpine-csp.min.js"):
        with client.get(f"/static/{path}") as response:
            assert response.status_code == 200, path


# --- tokens are for the API -----------------------------------------------------------------


def test_a_bearer_token_cannot_load_pages(app, api_token):
    token = {"Authorization": f"Bearer {api_token}"}
    for path in ("/", "/sessions/1"):
        response = app.test_client().get(path, headers=token)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "token_not_for_pages"


def test_a_bearer_token_cannot_log_a_browser_out(logged_in, api_token):
    refused = logged_in.post("/logout", headers={"Authorization": f"Bearer {api_token}"})
    assert refused.status_code == 403
    assert logged_in.get("/").status_code == 200  # the browser is still logged in


# --- strict parsing -------------------------------------------------------------------------


def _session_count() -> int:
    return db.session.query(SyncSession).count()


@pytest.mark.parametrize("kind", ["form", "multipart", "text"])
def test_a_json_endpoint_refuses_a_body_that_is_not_json(logged_in, kind):
    """A cross-site form post with the session cookie must not start a sync of everything."""
    bodies = {
        "form": {"data": {"mode": "full"}},
        "multipart": {"data": {"mode": "full", "f": (io.BytesIO(b"x"), "f.txt")},
                      "content_type": "multipart/form-data"},
        "text": {"data": '{"mode": "full"}', "content_type": "text/plain"},
    }
    response = logged_in.post("/api/v1/sessions", **bodies[kind])
    assert response.status_code == 415, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert _session_count() == 0


def test_a_chunked_body_over_the_limit_is_413(app, api_token):
    big = b'{"objects": [' + b'"customer",' * 200_000 + b'"customer"]}'
    headers = {"Authorization": f"Bearer {api_token}", "Content-Type": "application/json",
               "Transfer-Encoding": "chunked"}
    # As gunicorn and waitress hand it over: de-chunked, the stream ending with the body
    response = app.test_client().post(
        "/api/v1/sessions", input_stream=io.BytesIO(big), headers=headers,
        environ_base={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    # A chunked body nobody de-chunked is not taken for an empty one (a sync of everything)
    small = io.BytesIO(b'{"objects": ["customer"]}')
    response = app.test_client().post("/api/v1/sessions", input_stream=small, headers=headers)
    assert response.status_code == 411
    assert _session_count() == 0


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


FORGED = [_cursor("v2:sessions:\u0661\u0662"), _cursor("v2:sessions: 12"),
          _cursor("v2:sessions:1_0"), _cursor("v2:sessions:+5"),
          _cursor("v2:sessions:99999999999999999999999"), "\u0661\u0662", "%00", "a\x00b"]


@pytest.mark.postgres
@pytest.mark.parametrize("cursor", FORGED)
def test_forged_cursors_are_400_on_postgresql(postgres_url, cursor):
    app = make_app(postgres_url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        from webapp.cli import create_or_update_user
        from webapp.models.auth import ApiToken

        _row, token = ApiToken.issue(create_or_update_user("a@example.com", PASSWORD), "t")
        db.session.commit()
        auth = {"Authorization": f"Bearer {token}"}
        for path in ("/api/v1/sessions", "/api/v1/sessions/1/errors"):
            response = app.test_client().get(path, query_string={"cursor": cursor}, headers=auth)
            assert response.status_code in (400, 404), (path, response.get_data(as_text=True))
        db.session.remove()
        db.engine.dispose()


# --- files and the simulator ----------------------------------------------------------------


def test_the_sqlite_file_and_the_demo_secrets_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("QBSYNC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        app = make_app(f"sqlite:///{tmp_path}/qbsync.db", QBSYNC_MODE="demo", TESTING=True)
        with app.app_context():
            from webapp.cli import demo_admin_password

            demo_admin_password(str(tmp_path))
            db.session.execute(db.text("CREATE TABLE t (x int)"))
            db.session.commit()
            db.engine.dispose()
    finally:
        os.umask(old)
    for name in ("qbsync.db", "demo-secret-key", "demo-admin-password"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_the_simulator_refuses_unsafe_requests_that_are_not_json():
    import httpx

    from qbdsim.testing import running_simulator

    with running_simulator(size=50) as sim, httpx.Client(base_url=sim.url) as http:
        for kwargs in ({"data": {"size": "10"}}, {}, {"content": b"{}",
                                                      "headers": {"Content-Type": "text/plain"}}):
            refused = http.post("/_sim/reset", **kwargs)
            assert refused.status_code == 415, kwargs
        assert http.post("/_sim/reset", json={}).status_code == 200
        assert http.get("/_sim/counts").status_code == 200


def test_production_refuses_a_short_secret_key(tmp_path):
    from webapp.config import ConfigError, load_settings

    env = {"SECRET_KEY": "k" * 31, "DATABASE_URL": "postgres://u@db/d",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "CONDUCTOR_SECRET_KEY": "sk",
           "CONDUCTOR_END_USER_ID": "end_usr_x"}
    with pytest.raises(ConfigError, match="^SECRET_KEY is too short"):
        load_settings(env, str(tmp_path))
    assert load_settings({**env, "SECRET_KEY": "k" * 32}, str(tmp_path))["SECRET_KEY"]
