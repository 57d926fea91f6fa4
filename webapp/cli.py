"""The `qbsync` command group (DESIGN §8): a Flask CLI over `create_app`."""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db as db_cli
from sqlalchemy import select

from qbdsim.cli import sim_cli
from webapp import ConfigError, create_app
from webapp.accounts_cli import create_or_update_user, tokens, users
from webapp.extensions import db
from webapp.models.auth import User
from webapp.models.sync import CANCELLED, COMPLETED, ENDED_STATUSES, RUNNING, SyncError
from webapp.sync import lifecycle, manager
from webapp.sync.carry import resumed_from
from webapp.sync.lifecycle import OUTCOME
from webapp.sync.pull import rewind


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
cli.add_command(users)
cli.add_command(tokens)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="qbsync")


def register_app_commands(app: Flask) -> None:
    """Nothing app-specific yet; kept so every piece wires itself the same way."""


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
    for run in session.object_runs:
        if resumed_from(run):
            click.echo(f"  {run.object_name} carries on where session {resumed_from(run)} "
                       "was cancelled")
    if in_process and not wait:
        click.echo("no REDIS_URL: this command is the worker, so it waits for the end")
    if wait or in_process:
        with _worker_log(in_process):
            status = _watch(session.id, in_process)
        sys.exit(0 if status == COMPLETED else 1)


LOG_FORMAT = "%(levelname)s: %(message)s"


@contextlib.contextmanager
def _worker_log(in_process: bool) -> Iterator[None]:
    """While this command is the worker, what it logs (one line per failed attempt, say)
    goes to the terminal, one line each, beside the progress."""
    if not in_process:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(lambda record: not getattr(record, OUTCOME, False))  # printed below
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


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
            _end_interrupted(session_id)
        else:
            click.echo("stopped watching; the workers carry on (`qbsync sync status`)")
        return "interrupted"
    _print_objects(doc)
    return doc["status"]


def _end_interrupted(session_id: int) -> None:
    """Ctrl+C while this command is the worker: no other process could take the session over
    (without Redis its queue lives in this process's memory), so it ends now, cancelled, rather
    than holding every other start off until it counts as stalled. The running object stops at
    its next page with its checkpoint committed, and the next sync carries on from there."""
    from actors import embedded

    click.echo("interrupted: stopping at the next page…")
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl+C: ended all the same
        embedded.stop(current_app._get_current_object())
    db.session.rollback()
    lifecycle.end_cancelled(session_id)
    db.session.expire_all()
    session = manager.get_session(session_id)
    if session.status != CANCELLED:  # it ended on its own meanwhile
        click.echo(f"session {session_id} {session.status} before it could be stopped")
        return
    unfinished = [r.object_name for r in session.object_runs if r.status == CANCELLED]
    where = (f"; the next sync carries on with {', '.join(unfinished)} from where it stopped"
             if unfinished else "")
    click.echo(f"session {session_id} cancelled: no REDIS_URL, so no other worker can take it "
               f"over. What it synced is kept{where}.")


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
    for message in db.session.scalars(select(SyncError.message).where(
            SyncError.session_id == doc["id"], SyncError.code == rewind.CODE)):
        click.echo(f"warning: {message}")
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
    from webapp.private_files import create_private

    path = Path(instance_path) / "demo-admin-password"
    create_private(path, secrets.token_urlsafe(12))
    return path.read_text().strip()


def demo_login(instance_path: str) -> tuple[str, str | None]:
    """The demo's login: (email, its password, or None when it was changed since and only its
    owner knows it). A restart keeps the password, and so every browser's login: it is set
    only for a new user, or when QBSYNC_ADMIN_PASSWORD says another one."""
    email = current_app.config["QBSYNC_ADMIN_EMAIL"]
    password = demo_admin_password(instance_path)
    user = User.by_email(email)
    if user is None:
        create_or_update_user(email, password)
        return email, password
    if not user.active:  # the demo's own login is always let in
        user.active = True
        db.session.commit()
    if user.check_password(password):
        return email, password
    if current_app.config.get("QBSYNC_ADMIN_PASSWORD"):  # asked for: its logins end
        create_or_update_user(email, password)
        return email, password
    return email, None  # changed with `qbsync users set-password`: theirs to keep


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
        email, password = demo_login(app.instance_path)
    embedded.start(app, resume=True)
    # `kill` (SIGTERM) stops as gracefully as Ctrl+C: waitress returns, the worker checkpoints.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"QuickBooks simulator: {size} records at {sim.url} (key "
               f"{sim.config.secret_key}, end user {sim.config.end_user_id}; see `qbsync sim "
               "serve --help` and the README)")
    click.echo(f"qbsync demo is running at http://127.0.0.1:{port}/")
    if password is None:
        click.echo(f"log in as {email} with the password set for it (`qbsync users "
                   "set-password` or QBSYNC_ADMIN_PASSWORD gives it another)")
    else:
        click.echo(f"log in as {email} with password {password}")
    click.echo("press Ctrl+C to stop")
    try:
        serve(app, host="127.0.0.1", port=port, threads=8, ident="qbsync")
    finally:
        embedded.stop(app)
        sim.stop()
