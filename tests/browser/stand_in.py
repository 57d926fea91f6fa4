"""A stand-in for the workers, for browser tests that watch the dashboard react: it moves a
session through the same lifecycle steps the workers take and writes the counts they write.

Only for states the real engine cannot be brought to on cue (a worker gone quiet, a page
half-written at an exact count, a cancel whose worker died): progress and counts as the engine
really writes them are checked in test_dashboard_engine.py and test_end_to_end.py."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import SyncError, SyncObjectRun, SyncSession
from webapp.sync import lifecycle, manager
from webapp.sync.contact import contact_log


def start(objects: list[str], mode: str = "incremental", by: str = "tool") -> int:
    """Start a session as another tool would (through the manager), returning its id."""
    return manager.start_session(objects, mode, created_by=by).id


def begin(session_id: int, name: str, total: int) -> None:
    """The worker picks up `name`: the session runs, the object has its total."""
    run = lifecycle.begin_object(session_id, name)
    run.total = total
    db.session.commit()


def report(session_id: int, name: str, *, record: str | None = None, label: str | None = None,
           **counts: int) -> None:
    """One page written: counts (processed, created, ...) added, current record moved."""
    run = db.session.scalar(select(SyncObjectRun).where(
        SyncObjectRun.session_id == session_id, SyncObjectRun.object_name == name))
    for key, value in counts.items():
        setattr(run, key, getattr(run, key) + value)
    session = db.session.get(SyncSession, session_id)
    session.current_object, session.current_record_id = name, record
    session.current_record_label = label
    db.session.commit()
    # the worker just read that page from QuickBooks: /status says it is reachable
    contact_log().record(current_app.config.get("CONDUCTOR_END_USER_ID") or "", True)


def fail_record(session_id: int, name: str, qb_id: str, message: str,
                label: str | None = None) -> None:
    """A record that could not be synced, as the engine logs it."""
    db.session.add(SyncError(session_id=session_id, object_type=name, object_id=qb_id,
                             record_label=label, phase="pull", code="broken_reference",
                             message=message))
    session = db.session.get(SyncSession, session_id)
    session.error_count += 1
    db.session.commit()


def complete(session_id: int, name: str) -> None:
    lifecycle.complete_object(session_id, name)


def finish(session_id: int) -> str:
    """Close the session the way the last worker step does; returns its status."""
    return lifecycle.finish_session(session_id).status


def status(session_id: int) -> str:
    return db.session.get(SyncSession, session_id, populate_existing=True).status


def worker_gone(session_id: int, minutes_ago: float) -> None:
    """Pretend every sign of a worker on the session (queued, started, heartbeats) is
    `minutes_ago` older: no worker has attended it since."""
    from datetime import timedelta

    session = db.session.get(SyncSession, session_id)
    for row in [session, *session.object_runs]:
        for name in ("created_at", "started_at", "heartbeat_at", "finished_at"):
            if getattr(row, name, None) is not None:
                setattr(row, name, getattr(row, name) - timedelta(minutes=minutes_ago))
    db.session.commit()


def cancel(session_id: int) -> None:
    """Cancel as the API does (a worker that seems alive must honour it)."""
    manager.cancel_session(session_id)


def heartbeat(session_id: int, name: str, minutes_ago: float) -> None:
    """Pretend the worker's last heartbeat for `name` was `minutes_ago`."""
    from datetime import timedelta

    from webapp.models.types import utcnow

    run = db.session.scalar(select(SyncObjectRun).where(
        SyncObjectRun.session_id == session_id, SyncObjectRun.object_name == name))
    run.heartbeat_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
