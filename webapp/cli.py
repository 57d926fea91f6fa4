"""The `qbsync` command group (DESIGN §8): a Flask CLI over `create_app`."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db as db_cli

from qbdsim.cli import sim_cli
from webapp import ConfigError, create_app
from webapp.extensions import db
from webapp.models.auth import ApiToken, User


def _build_app() -> Flask:
    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"qbsync: {error}", err=True)
        sys.exit(2)


cli = FlaskGroup(
    name="qbsync",
    create_app=_build_app,
    add_version_option=False,
    help="qbsync keeps a warehouse database and QuickBooks Desktop in step.",
)
cli.add_command(db_cli)
cli.add_command(sim_cli)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="qbsync")


def register_app_commands(app: Flask) -> None:
    """Nothing app-specific yet; kept so every piece wires itself the same way."""


# --- users and tokens -------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """Manage staff logins."""


def create_or_update_user(email: str, password: str) -> User:
    """Create the user, or reset the password (and end the sessions) of an existing one."""
    user = User.by_email(email)
    if user is None:
        user = User(email=email.strip().lower())
        db.session.add(user)
    user.active = True
    user.set_password(password)
    db.session.commit()
    return user


@users.command("create")
@click.argument("email")
@click.option("--password", help="Prompted for when omitted.")
@with_appcontext
def users_create(email: str, password: str | None) -> None:
    """Create a staff login (or reset its password)."""
    if "@" not in email:
        raise click.BadParameter("an email address is needed", param_hint="EMAIL")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_or_update_user(email, password)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    click.echo(f"user {email.strip().lower()} is ready")


@cli.group()
def tokens() -> None:
    """Manage API tokens for other tools."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@with_appcontext
def tokens_create(email: str, name: str) -> None:
    """Issue a token for EMAIL's account; the token alone is printed on the last line."""
    user = User.by_email(email)
    if user is None or not user.active:
        raise click.ClickException(
            f"no active user {email!r}; create it with `qbsync users create`"
        )
    _row, clear = ApiToken.issue(user, name)
    db.session.commit()
    click.echo(f"token {name!r} for {user.email} (shown once; store it now):")
    click.echo(clear)


# --- demo -------------------------------------------------------------------------------------


def demo_admin_password(instance_path: str) -> str:
    """QBSYNC_ADMIN_PASSWORD, else a generated password kept in the instance folder."""
    configured = current_app.config.get("QBSYNC_ADMIN_PASSWORD")
    if configured:
        return configured
    path = Path(instance_path) / "demo-admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


@cli.command("demo")
@click.option("--port", default=5000, show_default=True, help="Port of the web app.")
@click.option("--sim-port", default=8765, show_default=True, help="Port of the simulator.")
@click.option("--size", default=2000, show_default=True, help="Records in the demo company.")
def demo(port: int, sim_port: int, size: int) -> None:
    """Everything on one laptop: migrate, create the login, serve on 127.0.0.1."""
    os.environ["QBSYNC_MODE"] = "demo"
    app = _build_app()
    with app.app_context():
        upgrade()
        email = app.config["QBSYNC_ADMIN_EMAIL"]
        password = demo_admin_password(app.instance_path)
        create_or_update_user(email, password)
    url = f"http://127.0.0.1:{port}/"
    click.echo(f"qbsync demo is running at {url}")
    click.echo(f"log in as {email} with password {password}")
    click.echo("press Ctrl+C to stop")
    from waitress import serve

    serve(app, host="127.0.0.1", port=port, threads=8, ident="qbsync")
