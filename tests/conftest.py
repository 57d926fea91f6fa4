"""Shared fixtures: apps on SQLite or PostgreSQL, a CSRF-aware client, users, services.

Services (PostgreSQL, Redis) are real. Locally a missing one skips the tests that need it;
in CI (`CI=true`) a missing one is a failure, as Dramatiq's own test-suite does.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from webapp import create_app
from webapp.extensions import db

POSTGRES_URL = os.environ.get(
    "QBSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QBSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct horse battery"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> None:
    """Skip locally when a service is missing; fail in CI, where it must be there."""
    if _reachable(url):
        return
    message = f"{name} is not reachable at {urlsplit(url).netloc}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI requires it)")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    require_service("PostgreSQL", POSTGRES_URL)
    import sqlalchemy as sa

    name = f"qbsync_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_URL)
    return REDIS_URL


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once by Alembic; each test gets a copy (fast, and real)."""
    path = tmp_path_factory.mktemp("template") / "qbsync.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return path


def make_app(database_uri: str, **overrides):
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_uri, **overrides}
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture
def sqlite_uri(tmp_path, migrated_sqlite_template) -> str:
    target = tmp_path / "qbsync.db"
    shutil.copy(migrated_sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def _push_request_context():
    """Turn off pytest-flask's shared request context: requests get their own (see above)."""


@pytest.fixture
def app(sqlite_uri):
    application = make_app(sqlite_uri)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as it does under a real server.

    Tests keep an app context open for database access; without this, Flask would reuse it for
    the client's requests and `g` (and the database session) would leak from one to the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class CSRFClient(IsolatedClient):
    """A test client that, like the dashboard's JavaScript, sends `X-CSRFToken` on unsafe
    requests (STYLE principle 10). Pass `csrf=False` to prove a missing token fails."""

    def csrf_token(self) -> str:
        page = super().open("/login", follow_redirects=True)
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "every HTML page carries the csrf-token meta tag"
        return match.group(1)

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        has_token = any(k.lower() == "authorization" for k in headers)
        if csrf and method in UNSAFE_METHODS and not has_token and "X-CSRFToken" not in headers:
            headers["X-CSRFToken"] = self.csrf_token()
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()


@pytest.fixture
def user(app):
    from webapp.cli import create_or_update_user

    return create_or_update_user("staff@example.com", PASSWORD)


def log_in(client: FlaskClient, email: str = "staff@example.com", password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def logged_in(client, user) -> CSRFClient:
    response = log_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def api_token(app, user) -> str:
    from webapp.models.auth import ApiToken

    _row, clear = ApiToken.issue(user, "tests")
    db.session.commit()
    return clear
