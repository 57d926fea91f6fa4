"""qbsync: keeps a warehouse-management database and a QuickBooks Desktop company file in step.

`create_app` is the only place an application is built: wsgi.py, the CLI, the workers and every
test call it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.config import ConfigError, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ConfigError", "create_app"]


def instance_folder() -> str:
    """Where this installation keeps its own files (the SQLite database, demo settings)."""
    return os.environ.get("QBSYNC_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, with `config` overriding any setting."""
    app = Flask(
        __name__,
        instance_path=instance_folder(),
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    _configure(app, config or {})
    _init_extensions(app)
    _register_blueprints(app)
    _init_workers(app)
    _init_cli(app)
    return app


def _configure(app: Flask, overrides: Mapping[str, Any]) -> None:
    env = dict(os.environ)
    if "QBSYNC_MODE" in overrides:
        env["QBSYNC_MODE"] = overrides["QBSYNC_MODE"]
    elif overrides.get("TESTING"):
        env["QBSYNC_MODE"] = "test"
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from dotenv import dotenv_values

    # .env fills gaps only; the real environment and explicit overrides win.
    merged = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    merged.update(env)
    settings = load_settings(merged, app.instance_path)
    if settings["QBSYNC_MODE"] == "demo" and not merged.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _demo_secret_key(Path(app.instance_path))
    app.config.update(settings)
    app.config.update(overrides)
    from webapp.private_files import private_sqlite_file

    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    default_proxies = 1 if settings["QBSYNC_MODE"] == "production" else 0
    proxies = int(app.config.get("QBSYNC_PROXY_COUNT", default_proxies))
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _demo_secret_key(instance: Path) -> str:
    """A demo keeps its logins across restarts: its secret key lives in the instance folder."""
    from webapp.private_files import create_private

    path = instance / "demo-secret-key"
    create_private(path, secrets.token_hex(32))
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from webapp import models  # noqa: F401 - registers every table on the metadata
    from webapp.extensions import csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)

    from webapp import auth, security
    from webapp.sync import contact, flags

    auth.init_app(app)
    security.init_app(app)
    flags.init_app(app)
    contact.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from webapp.api import bp as api_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.dashboard import bp as dashboard_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(dashboard_bp)

    from webapp import errors
    from webapp.auth import throttle

    throttle.init_app(app)

    errors.init_app(app)


def _init_workers(app: Flask) -> None:
    from actors.broker import init_app

    init_app(app)


def _init_cli(app: Flask) -> None:
    from webapp.cli import register_app_commands

    register_app_commands(app)


