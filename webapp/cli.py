"""The `qbsync` command group (DESIGN §8): a Flask CLI over `create_app`."""

from __future__ import annotations

import secrets
import signal
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db as db_cli

from qbdsim.cli import sim_cli
from webapp import ConfigError, create_app
from webapp.extensions import db
from webapp.models.auth import ApiToken, User
from webapp.models.sync import CANCELLED, COMPLETED, ENDED_STATUSES, RUNNING
from webapp.models.types import utcnow
from webapp.sync import manager


class SettingsMissing(NoAppException):
    """The settings are incomplete: said plainly (exit 1), not as a misused command line."""

    exit_code = 1

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file, err=True)


def _build_app(config: dict | None = None) -> Flask:
    try:
        return create_app(config)
    except ConfigError as error:
        # Flask's own "no app" error, not an exit: `qbsync --help` still lists every command.
        raise SettingsMissing(str(error)) from None


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


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _user_or_fail(email: str) -> User:
    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"there is no user {email.strip().lower()!r}; "
                                   "`qbsync users list` shows who there is")
    return user


def _password(password: str | None) -> str:
    """The --password given, else one typed twice at a hidden prompt."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users.command("create")
@click.argument("email")
@click.option("--password", help="Prompted for when omitted.")
@with_appcontext
def users_create(email: str, password: str | None) -> None:
    """Create a staff login. An existing one is left alone: see `users set-password`."""
    if "@" not in email:
        raise click.BadParameter("an email address is needed", param_hint="EMAIL")
    existing = User.by_email(email)
    if existing is not None:
        hint = ("`qbsync users set-password` gives it a new password" if existing.active
                else "it is disabled; `qbsync users enable` lets it in again")
        raise click.ClickException(f"user {existing.email} already exists; {hint}")
    try:
        create_or_update_user(email, _password(password))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    click.echo(f"user {email.strip().lower()} is ready")


@users.command("set-password")
@click.argument("email")
@click.option("--password", help="Prompted for when omitted.")
@with_appcontext
def users_set_password(email: str, password: str | None) -> None:
    """Give EMAIL a new password; every login of theirs ends (API tokens keep working)."""
    user = _user_or_fail(email)
    try:
        user.set_password(_password(password))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    db.session.commit()
    click.echo(f"new password set for {user.email}; their existing logins have ended")
    if not user.active:
        click.echo(f"{user.email} is still disabled; `qbsync users enable {user.email}` lets "
                   "them log in")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """Every staff login: whether it may log in, when it was made and last logged in."""
    rows = db.session.scalars(db.select(User).order_by(User.email)).all()
    if not rows:
        click.echo("no users yet; `qbsync users create EMAIL` makes one")
        return
    width = max(len(u.email) for u in rows)
    click.echo(f"{'EMAIL':<{width}}  {'STATUS':<8}  {'CREATED':<20}  LAST LOGIN")
    for user in rows:
        status = "active" if user.active else "disabled"
        click.echo(f"{user.email:<{width}}  {status:<8}  {_when(user.created_at):<20}  "
                   f"{_when(user.last_login_at)}")


@users.command("disable")
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    """Stop EMAIL logging in: their logins end and their API tokens stop working."""
    user = _user_or_fail(email)
    user.disable()
    db.session.commit()
    click.echo(f"{user.email} is disabled: logged out everywhere, their API tokens refused")


@users.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Let a disabled EMAIL log in again (tokens not revoked work again too)."""
    user = _user_or_fail(email)
    user.active = True
    db.session.commit()
    click.echo(f"{user.email} may log in again")
    live = [t for t in user.tokens if t.revoked_at is None]
    if live:
        ids = ", ".join(str(t.id) for t in live)
        click.echo(f"their API tokens work again too ({ids}); `qbsync tokens revoke ID` stops one")


@cli.group()
def tokens() -> None:
    """Manage API tokens for other tools."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@with_appcontext
def tokens_create(email: str, name: str) -> None:
    """Issue a token for EMAIL's account; the token alone is printed on the last line."""
    user = _user_or_fail(email)
    if not user.active:
        raise click.ClickException(f"{user.email} is disabled; `qbsync users enable "
                                   f"{user.email}` first")
    row, clear = ApiToken.issue(user, name)
    db.session.commit()
    click.echo(f"token {row.id} {name!r} for {user.email} (shown once; store it now):")
    click.echo(clear)


@tokens.command("list")
@click.argument("email", required=False)
@with_appcontext
def tokens_list(email: str | None) -> None:
    """API tokens (of EMAIL, else everyone's): id, name, owner, last use. Never the token."""
    query = db.select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if email is not None:
        query = query.where(ApiToken.user_id == _user_or_fail(email).id)
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("no API tokens; `qbsync tokens create EMAIL` issues one")
        return
    width = max(len(t.user.email) for t in rows)
    name_width = max(4, *(len(t.name) for t in rows))
    click.echo(f"{'ID':>4}  {'NAME':<{name_width}}  {'USER':<{width}}  {'STATUS':<8}  "
               f"{'CREATED':<20}  LAST USED")
    for token in rows:
        if token.revoked_at is not None:
            status = "revoked"
        else:
            status = "live" if token.user.active else "disabled"
        click.echo(f"{token.id:>4}  {token.name:<{name_width}}  {token.user.email:<{width}}  "
                   f"{status:<8}  {_when(token.created_at):<20}  {_when(token.last_used_at)}")


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Refuse API token TOKEN_ID (its id in `tokens list`) from now on; this cannot be undone."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"there is no API token {token_id}; `qbsync tokens list` "
                                   "shows their ids")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
        click.echo(f"token {token.id} {token.name!r} of {token.user.email} is revoked")
    else:
        click.echo(f"token {token.id} {token.name!r} was already revoked "
                   f"({_when(token.revoked_at)})")


# --- sync -------------------------------------------------------------------------------------

WATCH_INTERVAL_S = 1.0


@cli.group("sync")
def sync_cli() -> None:
    """Start, watch and cancel syncs (the dashboard and the API do the same)."""


@sync_cli.command("start")
@click.option("--objects", help="Comma-separated objects, e.g. customer,item (default: all); "
              "what they depend on is added.")
@click.option("--full", is_flag=True, help="Re-read everything, not only what changed.")
@click.option("--wait", is_flag=True, help="Print progress until the sync ends; exit 1 unless "
              "it completed.")
@click.option("--if-idle", is_flag=True, help="For schedulers: when a sync is already under "
              "way, say so and exit 0 (exit 1 if no worker has reported on it for minutes).")
@with_appcontext
def sync_start(objects: str | None, full: bool, wait: bool, if_idle: bool) -> None:
    """Start a sync session."""
    names = [n.strip() for n in (objects or "").split(",") if n.strip()]
    try:
        session = manager.start_session(names, "full" if full else "incremental",
                                        created_by="cli")
    except manager.UnknownObjectError as error:
        raise click.BadParameter(str(error), param_hint="--objects") from None
    except manager.SessionAlreadyActive as error:
        active = error.active
        if if_idle and active is not None and not error.unattended:
            click.echo(f"session {active.id} is {active.status}; nothing started")
            return
        if error.unattended:
            raise click.ClickException(f"{error}; `qbsync sync cancel` ends it") from None
        raise click.ClickException(f"{error}; `qbsync sync cancel` stops it") from None
    app = current_app._get_current_object()
    in_process = not app.config.get("REDIS_URL")
    if in_process:  # no Redis: the session was queued in this process's memory
        from actors import embedded

        embedded.start(app)
    planned = ", ".join(p["name"] for p in session.planned_objects)
    click.echo(f"session {session.id} started ({session.mode}): {planned}")
    if in_process and not wait:
        click.echo("no REDIS_URL: this command is the worker, so it waits for the end")
    if wait or in_process:
        sys.exit(0 if _watch(session.id, in_process) == COMPLETED else 1)


def _watch(session_id: int, in_process: bool) -> str:
    """Print progress until the session ends; its final status."""
    last = None
    try:
        while True:
            db.session.expire_all()
            doc = manager.session_document(manager.get_session(session_id))
            line = _progress_line(doc)
            if line != last:
                click.echo(line)
                last = line
            if doc["status"] in ENDED_STATUSES:
                break
            time.sleep(WATCH_INTERVAL_S)
    except KeyboardInterrupt:
        if in_process:
            from actors import embedded

            embedded.stop(current_app._get_current_object())
            click.echo("stopped at a checkpoint; the next worker resumes this sync")
        else:
            click.echo("stopped watching; the workers carry on (`qbsync sync status`)")
        return "interrupted"
    _print_objects(doc)
    return doc["status"]


def _progress_line(doc: dict) -> str:
    line = f"session {doc['id']}: {doc['status']} {doc['progress_percentage']}%"
    running = [o for o in doc["objects"] if o["status"] == RUNNING]
    for run in running:
        # a floor while it runs: items and adjustments announce their total a part at a time
        total = f"of at least {run['total']}" if run["total"] is not None else "so far"
        line += f" · {run['name']} {run['processed']} {total}"
        if run.get("stalled"):
            line += " (stalled: no word from its worker for over two minutes)"
    if doc.get("stalled") and not any(run.get("stalled") for run in running):
        line += " · no worker has reported on it for over two minutes: is one running?"
    if doc["cancel_requested"] and doc["status"] not in ENDED_STATUSES:
        line += " · cancel requested"
    return line


def _print_objects(doc: dict) -> None:
    for run in doc["objects"]:
        counts = ", ".join(f"{name} {run[name]}" for name in ("created", "updated", "unchanged",
                                                              "deleted", "failed") if run[name])
        click.echo(f"  {run['name']:<22} {run['status']:<10} {counts}")
    if doc["failure_reason"]:
        click.echo(f"reason: {doc['failure_reason']}")
    if doc["error_count"]:
        click.echo(f"{doc['error_count']} error(s) recorded: see the dashboard or the API")


@sync_cli.command("status")
@with_appcontext
def sync_status() -> None:
    """Show the running sync, else the latest one."""
    session = manager.current_session()
    if session is None:
        click.echo("no sync has been started yet")
        return
    doc = manager.session_document(session)
    click.echo(_progress_line(doc))
    _print_objects(doc)


@sync_cli.command("cancel")
@with_appcontext
def sync_cancel() -> None:
    """Cancel the running sync; it stops within one page and ends cancelled."""
    session = manager.active_session()
    if session is None:
        raise click.ClickException("no sync is running")
    try:
        session = manager.cancel_session(session.id)
    except manager.SessionEnded as error:  # it ended between the read and the cancel
        raise click.ClickException(
            f"session {session.id} already ended ({error.session.status})") from None
    if session.status == CANCELLED:  # no worker was attending it: ended at once
        click.echo(f"session {session.id}: cancelled (no worker had reported on it for over "
                   f"{manager.STALLED_MINUTES} minutes)")
    else:
        click.echo(f"session {session.id}: cancel requested; it stops within one page")


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


def demo_anchor() -> str:
    """The moment the demo company's generated history leads up to, fixed at the first start
    and kept in the instance folder: a restarted demo regenerates the same company, with the
    same QuickBooks ids, so the WMS it already mirrors still matches it (with a new moment
    each time, every record would come back under a new id, as a duplicate)."""
    from datetime import datetime

    from webapp import instance_folder

    path = Path(instance_folder()) / "demo-quickbooks-anchor"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(datetime.now().astimezone().isoformat(timespec="seconds"))
    return path.read_text().strip()


@cli.command("demo", with_appcontext=False)
@click.option("--port", default=5000, show_default=True, help="Port of the web app.")
@click.option("--sim-port", default=8765, show_default=True, help="Port of the simulator.")
@click.option("--size", default=2000, show_default=True, help="Records in the demo company.")
def demo(port: int, sim_port: int, size: int) -> None:
    """Everything on one laptop: the QuickBooks simulator, the web app and its worker, in one
    process on 127.0.0.1 (SQLite, no Redis)."""
    from waitress import serve

    from actors import embedded
    from qbdsim.config import SimConfig
    from qbdsim.server import SimServer

    try:
        sim = SimServer(SimConfig(port=sim_port, size=size, anchor=demo_anchor())).start()
    except OSError as error:
        raise click.ClickException(f"the simulator cannot listen on port {sim_port} ({error}); "
                                   "pick another with --sim-port") from None
    app = _build_app({"QBSYNC_MODE": "demo", "REDIS_URL": None,
                      "CONDUCTOR_BASE_URL": sim.base_url,
                      "CONDUCTOR_SECRET_KEY": sim.config.secret_key,
                      "CONDUCTOR_END_USER_ID": sim.config.end_user_id})
    with app.app_context():
        upgrade()
        email = app.config["QBSYNC_ADMIN_EMAIL"]
        password = demo_admin_password(app.instance_path)
        create_or_update_user(email, password)
    embedded.start(app, resume=True)
    # `kill` (SIGTERM) stops as gracefully as Ctrl+C: waitress returns, the worker checkpoints.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"QuickBooks simulator: {size} records at {sim.url}")
    click.echo(f"qbsync demo is running at http://127.0.0.1:{port}/")
    click.echo(f"log in as {email} with password {password}")
    click.echo("press Ctrl+C to stop")
    try:
        serve(app, host="127.0.0.1", port=port, threads=8, ident="qbsync")
    finally:
        embedded.stop(app)
        sim.stop()
