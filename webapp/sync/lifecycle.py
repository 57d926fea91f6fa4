"""Session and object-run status changes, shared by the workers and the inline runner.

pending -> running -> completed | failed | cancelled (`cancelling` while a cancel lands).
A session is failed exactly once; the cancel flag is removed when a session ends.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models.sync import (
    ACTIVE_STATUSES,
    CANCELLED,
    CANCELLING,
    COMPLETED,
    ENDED_STATUSES,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SyncObjectRun,
    SyncSession,
    SyncState,
)
from webapp.models.types import utcnow
from webapp.sync import ledger
from webapp.sync.flags import cancel_flags

# Marks a log record that says how a session ended (`extra={OUTCOME: True}`): a CLI that
# prints the outcome itself leaves it out of the lines it shows.
OUTCOME = "qbsync_outcome"


def _run(session_id: int, name: str) -> SyncObjectRun | None:
    return db.session.scalar(select(SyncObjectRun).where(
        SyncObjectRun.session_id == session_id, SyncObjectRun.object_name == name))


def cancel_requested(session_id: int) -> bool:
    return cancel_flags().is_set(session_id)


def begin_object(session_id: int, name: str) -> SyncObjectRun | None:
    """Mark the object running; None when it must not run (session ended, cancelled, done)."""
    session = db.session.get(SyncSession, session_id)
    run = _run(session_id, name)
    if session is None or run is None or session.status in ENDED_STATUSES:
        return None
    if run.status in (COMPLETED, SKIPPED, CANCELLED, FAILED):
        return None  # a redelivered message for finished work
    if cancel_requested(session_id) or session.cancel_requested_at is not None:
        end_cancelled(session_id)
        return None
    now = utcnow()
    if session.status == PENDING:
        session.status = RUNNING
    session.started_at = session.started_at or now
    if session.current_object != name:  # the last object's record is not this one's
        session.current_record_id = session.current_record_label = None
    session.current_object = name
    run.status = RUNNING
    run.started_at = run.started_at or now
    run.heartbeat_at = now
    run.attempts = (run.attempts or 0) + 1
    db.session.commit()
    return run


def complete_object(session_id: int, name: str) -> None:
    run = _run(session_id, name)
    run.status = COMPLETED
    run.finished_at = utcnow()
    db.session.commit()


def fail_session(session_id: int, reason: str, name: str | None = None) -> bool:
    """Fail the session once; False when it had already ended."""
    db.session.rollback()
    session = db.session.get(SyncSession, session_id, populate_existing=True)
    if session is None or session.status in ENDED_STATUSES:
        return False
    now = utcnow()
    for run in session.object_runs:
        if run.object_name == name or run.status == RUNNING:
            run.status, run.finished_at, run.error_message = FAILED, now, reason
        elif run.status == PENDING:
            run.status = SKIPPED
    session.status, session.completed_at, session.failure_reason = FAILED, now, reason
    db.session.commit()
    cancel_flags().clear(session_id)
    return True


def end_cancelled(session_id: int) -> None:
    """End the session `cancelled`, unless it has ended meanwhile (a worker failing it, say):
    the status changes only if the session is still active when the update runs."""
    now = utcnow()
    ended = db.session.execute(
        update(SyncSession)
        .where(SyncSession.id == session_id, SyncSession.status.in_(ACTIVE_STATUSES))
        .values(status=CANCELLED, completed_at=now,
                cancel_requested_at=func.coalesce(SyncSession.cancel_requested_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ended:
        db.session.commit()  # ends the transaction (and what the caller had pending, as ever)
        return
    session = db.session.get(SyncSession, session_id, populate_existing=True)
    for run in session.object_runs:
        if run.status == RUNNING:
            run.status, run.finished_at = CANCELLED, now
        elif run.status == PENDING:
            run.status = SKIPPED
    db.session.commit()
    cancel_flags().clear(session_id)


def finish_session(session_id: int) -> SyncSession | None:
    """Close the session after its last object: completed, or cancelled if asked to stop."""
    session = db.session.get(SyncSession, session_id, populate_existing=True)
    if session is None or session.status in ENDED_STATUSES:
        return session
    if session.status == CANCELLING or cancel_requested(session_id):
        end_cancelled(session_id)
        return session
    if any(run.status != COMPLETED for run in session.object_runs):
        fail_session(session_id, "The sync stopped before every object was synced.")
        return session
    now = utcnow()
    session.status, session.completed_at = COMPLETED, now
    session.progress_percentage = 100
    # Nothing is current once it has all been done (a failed session keeps where it stopped).
    session.current_object = session.current_record_id = session.current_record_label = None
    for state in db.session.scalars(select(SyncState).where(
            SyncState.end_user_id == session.end_user_id,
            SyncState.object_name.in_([r.object_name for r in session.object_runs]))):
        state.last_successful_session_id, state.last_successful_at = session.id, now
    ledger.prune(current_app.config.get("QBSYNC_LEDGER_RETENTION_DAYS"))
    db.session.commit()
    cancel_flags().clear(session_id)
    return session
