"""Settings from the environment: production refuses to start without its secrets."""

import pytest

from webapp import create_app
from webapp.config import PRODUCTION_REQUIRED, ConfigError, load_settings, normalize_database_url

PRODUCTION_ENV = {
    "SECRET_KEY": "s" * 64,
    "DATABASE_URL": "postgres://u:p@db.example:5432/qbsync",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CONDUCTOR_SECRET_KEY": "sk_conductor_x",
    "CONDUCTOR_END_USER_ID": "end_usr_x",
}


@pytest.mark.parametrize("missing", PRODUCTION_REQUIRED)
def test_production_refuses_to_start_when_a_required_setting_is_missing(missing, tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        load_settings(env, str(tmp_path))
    message = str(caught.value)
    assert message.startswith(missing) and "\n" not in message


def test_create_app_without_secret_key_names_it(monkeypatch):
    for name in PRODUCTION_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QBSYNC_MODE", "production")
    with pytest.raises(ConfigError, match="^SECRET_KEY is not set"):
        create_app()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_are_normalised_for_psycopg(given, expected):
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize("value", ["1", "true", "y", "2"])
def test_production_refuses_to_start_in_debug_mode(monkeypatch, value):
    for name, setting in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("QBSYNC_MODE", "production")
    monkeypatch.setenv("FLASK_DEBUG", value)
    with pytest.raises(ConfigError, match="^FLASK_DEBUG is set"):
        create_app()


@pytest.mark.parametrize("value", ["0", "false", "No", ""])
def test_production_starts_with_debug_mode_explicitly_off(tmp_path, value):
    settings = load_settings({**PRODUCTION_ENV, "FLASK_DEBUG": value}, str(tmp_path))
    assert settings["DEBUG"] is False


def test_production_settings_are_secure(tmp_path):
    settings = load_settings(PRODUCTION_ENV, str(tmp_path))
    assert settings["DEBUG"] is False
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert settings["QBSYNC_PROXY_COUNT"] == 1


def test_demo_mode_needs_no_settings_and_uses_sqlite_in_instance(tmp_path):
    settings = load_settings({"QBSYNC_MODE": "demo"}, str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/qbsync.db"
    assert settings["REDIS_URL"] is None
    assert len(settings["SECRET_KEY"]) >= 32
    # and talks to `qbsync demo`'s simulator, so the CLI beside a running demo syncs from it
    assert settings["CONDUCTOR_BASE_URL"] == "http://127.0.0.1:8765/v1"
    assert settings["CONDUCTOR_SECRET_KEY"] == "sk_sim_qbsync_local"
    assert settings["CONDUCTOR_END_USER_ID"] == "end_usr_qbsim_local"
    moved = load_settings({"QBSYNC_MODE": "demo",
                           "CONDUCTOR_BASE_URL": "http://127.0.0.1:8766/v1"}, str(tmp_path))
    assert moved["CONDUCTOR_BASE_URL"] == "http://127.0.0.1:8766/v1"


def test_production_has_no_simulator_defaults(tmp_path):
    settings = load_settings({k: v for k, v in PRODUCTION_ENV.items()
                              if k != "CONDUCTOR_BASE_URL"}, str(tmp_path))
    assert settings["CONDUCTOR_BASE_URL"] is None  # Conductor's own


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="QBSYNC_MODE"):
        load_settings({"QBSYNC_MODE": "staging"}, str(tmp_path))


def _production_app(monkeypatch, tmp_path):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QBSYNC_MODE", "production")
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})


def test_production_app_trusts_one_proxy_hop(monkeypatch, tmp_path):
    """Behind Heroku's router the app sees HTTPS through X-Forwarded-Proto (HSTS follows)."""
    app = _production_app(monkeypatch, tmp_path)
    client = app.test_client()
    plain = "http://qbsync.example"
    proxied = client.get("/api/v1/health", base_url=plain, headers={"X-Forwarded-Proto": "https"})
    direct = client.get("/api/v1/health", base_url=plain)
    assert "Strict-Transport-Security" in proxied.headers
    assert "Strict-Transport-Security" not in direct.headers


def test_production_over_plain_http_says_why_login_cannot_work(monkeypatch, tmp_path):
    """On a LAN without HTTPS the Secure login cookie never comes back: say so, and how to fix."""
    app = _production_app(monkeypatch, tmp_path)
    client = app.test_client()
    lan, https, loopback = "http://192.0.2.2:8080", "https://qbsync.example", "http://127.0.0.1"
    page = client.get("/login", base_url=lan).get_data(as_text=True)
    assert "plain HTTP" in page and "QBSYNC_SECURE_COOKIES=false" in page
    # the login it refuses (no CSRF session: the cookie never came back) says the same
    refused = client.post("/login", base_url=lan, data={"email": "a@example.com",
                                                        "password": "x" * 10})
    assert refused.status_code == 400
    assert "QBSYNC_SECURE_COOKIES=false" in refused.get_data(as_text=True)
    # over HTTPS (also behind the proxy) and on this machine itself there is nothing to say
    for base, headers in ((https, {}), (lan, {"X-Forwarded-Proto": "https"}), (loopback, {})):
        page = client.get("/login", base_url=base, headers=headers).get_data(as_text=True)
        assert "plain HTTP" not in page, base
    monkeypatch.setenv("QBSYNC_SECURE_COOKIES", "false")
    relaxed = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert "plain HTTP" not in relaxed.test_client().get("/login", base_url=lan).get_data(
        as_text=True)


def test_the_resume_bound_is_whole_pages_of_records_at_least_one_page():
    assert load_settings({"QBSYNC_MODE": "test"}, "/tmp")["QBSYNC_RESUME_RECORDS"] == 3000
    env = {"QBSYNC_MODE": "test", "QBSYNC_RESUME_RECORDS": "4500"}
    assert load_settings(env, "/tmp")["QBSYNC_RESUME_RECORDS"] == 4500
    for bad in ("100", "1500.5", "many"):
        with pytest.raises(ConfigError, match="QBSYNC_RESUME_RECORDS"):
            load_settings({"QBSYNC_MODE": "test", "QBSYNC_RESUME_RECORDS": bad}, "/tmp")
