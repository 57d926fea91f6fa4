"""Starting, describing, listing and cancelling sync sessions (DESIGN §4, §6, §7).

Everything the API, the CLI and the dashboard do with sessions goes through here. Running a
session is someone else's job: the function registered as the dispatcher (the workers) is
called with the new session's id once it is committed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models.sync import (
    ACTIVE_STATUSES,
    CANCELLING,
    COMPLETED,
    MODES,
    PENDING,
    RUNNING,
    SyncError,
    SyncObjectRun,
    SyncSession,
    SyncState,
)
from webapp.models.types import utcnow
from webapp.sync import lifecycle
from webapp.sync.carry import carried_checkpoint, resumed_from
from webapp.sync.flags import cancel_flags
from webapp.sync.objects import registry
from webapp.sync.registry import UnknownObjectError

MAX_PAGE_LIMIT = 100
DEFAULT_PAGE_LIMIT = 20
# A running object's worker writes a heartbeat with every page; silence this long means the
# worker vanished (its message comes back to another worker, and the object resumes).
STALLED_AFTER = timedelta(minutes=2)
STALLED_MINUTES = int(STALLED_AFTER.total_seconds() // 60)

__all__ = [
    "InvalidCursor",
    "InvalidMode",
    "SessionAlreadyActive",
    "SessionEnded",
    "SessionNotFound",
    "UnknownObjectError",
]


class InvalidMode(ValueError):
    def __init__(self, mode: object):
        super().__init__(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


class InvalidCursor(ValueError):
    def __init__(self, why: str = "the cursor is not one this list handed out; pass the "
                 "`next_cursor` of its previous page, or none for the first page"):
        super().__init__(why)


class SessionAlreadyActive(Exception):
    """Another session of this company is pending or running (the database said so)."""

    def __init__(self, active: SyncSession | None, *, requeued: bool = False):
        self.active = active
        # No worker has shown a sign of life on it for a while: waiting will not help.
        self.unattended = active is not None and unattended(active) and not requeued
        which = f" (session {active.id}, {active.status})" if active else ""
        stuck = (f", but no worker has reported on it for over {STALLED_MINUTES} minutes: "
                 "check that a worker is running, or cancel it" if self.unattended else "")
        if requeued:
            stuck = (": the queue had lost it (Redis restarted empty?), so it was queued again"
                     " and resumes from its checkpoints")
        super().__init__(f"a sync is already pending or running{which}{stuck}")


class SessionNotFound(LookupError):
    def __init__(self, session_id: object):
        super().__init__(f"there is no sync session {session_id}")


class SessionEnded(Exception):
    def __init__(self, session: SyncSession):
        self.session = session
        super().__init__(f"session {session.id} already ended ({session.status})")


def end_user_id() -> str:
    """The company this deployment syncs (one Conductor end user)."""
    return current_app.config.get("CONDUCTOR_END_USER_ID") or "end_usr_local"


def set_dispatcher(app, dispatch: Callable[[int], None]) -> None:
    """Register what runs a committed session (the workers, or an inline runner)."""
    app.extensions["qbsync_dispatch"] = dispatch


def set_recoverer(app, recover: Callable[[int], bool]) -> None:
    """Register what queues a session again when the broker lost it (True when it did)."""
    app.extensions["qbsync_recover"] = recover


# --- commands -----------------------------------------------------------------------------


def start_session(
    objects: list[str] | None, mode: str = "incremental", created_by: str | None = None,
    only_record: dict[str, Any] | None = None,
) -> SyncSession:
    """Create a pending session with its plan and hand it to the dispatcher.

    `only_record` ({"object", "id"}) limits the session to one record of that object: read
    again by id and pushed (webapp.sync.single), nothing planned around it.
    Raises UnknownObjectError, InvalidMode, or SessionAlreadyActive — the last one decided by
    the database's partial unique index, so two simultaneous starts cannot both succeed.
    """
    if mode not in MODES:
        raise InvalidMode(mode)
    selected = list(dict.fromkeys(objects or []))
    plan = registry.plan(selected)
    if only_record is not None:
        selected = [only_record["object"]]
        plan = [p for p in registry.plan(selected) if p.name == only_record["object"]]
    active = active_session()
    if active is not None and active.status == CANCELLING and unattended(active):
        # Asked to cancel, then its worker died: nobody else would ever end it, and it would
        # hold every start off until a worker came back. Ended here, by the next start.
        lifecycle.end_cancelled(active.id)
        active = active_session()
    if active is not None and active.status in (PENDING, RUNNING) and unattended(active):
        # Nobody is on it: perhaps Redis lost its message (a failover, a restart empty)
        recover = current_app.extensions.get("qbsync_recover")
        if recover is not None and recover(active.id):
            raise SessionAlreadyActive(active_session(), requeued=True)
    if active is not None:  # refused before the insert: no session number is used up
        raise SessionAlreadyActive(active)
    session = SyncSession(
        end_user_id=end_user_id(),
        status=PENDING,
        mode=mode,
        selected_objects=selected or [p.name for p in plan],
        planned_objects=[p.as_dict() for p in plan],
        created_by=created_by,
        only_record=only_record,
    )
    # An object a cancelled session left part-way carries on from its checkpoint
    session.object_runs = [
        SyncObjectRun(object_name=p.name, position=i, reason=p.reason, status=PENDING,
                      checkpoint=None if only_record else carried_checkpoint(
                          session.end_user_id, p.name, mode))
        for i, p in enumerate(plan)
    ]
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SessionAlreadyActive(active_session()) from None
    dispatch = current_app.extensions.get("qbsync_dispatch")
    if dispatch is not None:
        dispatch(session.id)
    return session


def cancel_session(session_id: int) -> SyncSession:
    """Ask a pending or running session to stop; it ends `cancelled` within one page.

    The status changes only if the session is still active when the update runs: a worker
    may end it between this request's read and its write, and `cancelling` written over an
    ended session would hold the one-active-session rule forever.
    """
    get_session(session_id)  # unknown: SessionNotFound
    cancelling = db.session.execute(
        update(SyncSession)
        .where(SyncSession.id == session_id, SyncSession.status.in_(ACTIVE_STATUSES))
        .values(status=CANCELLING,
                cancel_requested_at=func.coalesce(SyncSession.cancel_requested_at, utcnow()))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    session = db.session.get(SyncSession, session_id, populate_existing=True)
    if not cancelling:
        raise SessionEnded(session)
    cancel_flags().set(session.id)  # after the commit: an ended session gets no flag
    if unattended(session):
        # No worker has shown a sign of life for a while (its process was killed, a `sync
        # start` interrupted with no worker to resume it): nobody would ever act on the
        # cancel, so it ends here. A worker that comes back finds it ended.
        lifecycle.end_cancelled(session.id)
    return session


def unattended(session: SyncSession, now: datetime | None = None) -> bool:
    """No sign of a worker (a start, a heartbeat, an object finished) for STALLED_AFTER."""
    signs = [session.created_at, session.started_at]
    for run in session.object_runs:
        signs += [run.started_at, run.heartbeat_at, run.finished_at]
    return (now or utcnow()) - max(s for s in signs if s is not None) > STALLED_AFTER


# --- queries ------------------------------------------------------------------------------


def get_session(session_id: int) -> SyncSession:
    session = db.session.get(SyncSession, session_id)
    if session is None:
        raise SessionNotFound(session_id)
    return session


def active_session() -> SyncSession | None:
    """The pending or running session, if any (a read: nothing is changed)."""
    return db.session.scalar(
        select(SyncSession)
        .where(SyncSession.end_user_id == end_user_id(), SyncSession.status.in_(ACTIVE_STATUSES))
        .order_by(SyncSession.id.desc())
    )


def current_session() -> SyncSession | None:
    """The active session, else the latest one."""
    return active_session() or db.session.scalar(
        select(SyncSession).order_by(SyncSession.id.desc()).limit(1)
    )


# Cursors are opaque to clients. Each names the listing it pages (the history, or one session's
# errors), so a cursor handed to another listing is refused rather than silently skipping rows.
# The id inside must fit a database integer.
CURSOR_VERSION = "v2"
LEGACY_CURSOR_VERSION = "v1"  # "v1:<id>", no list named: still taken, so paging goes on
MAX_CURSOR_ID = 2**63 - 1
HISTORY = "sessions"


def errors_of(session_id: int) -> str:
    """The cursor scope of one session's error list."""
    return f"errors.{session_id}"


def encode_cursor(last_id: int, scope: str) -> str:
    raw = f"{CURSOR_VERSION}:{scope}:{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str) -> int | None:
    """The last id of the previous page; InvalidCursor unless this listing handed it out."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split(":")
        if parts[0] == LEGACY_CURSOR_VERSION and len(parts) == 2:
            parts = [CURSOR_VERSION, scope, parts[1]]  # handed out before cursors had lists
        version, cursor_scope, value = parts
        # Plain ASCII digits only: int() also takes "١٢", " 12", "+1" and "1_2".
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            raise ValueError(value)
        last_id = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if version != CURSOR_VERSION or not 0 <= last_id <= MAX_CURSOR_ID:
        raise InvalidCursor()
    if cursor_scope != scope:
        raise InvalidCursor("the cursor pages another list (the history, or another session's "
                            "errors); pass this list's own `next_cursor`, or none for its "
                            "first page")
    return last_id


def _page(query, model, limit: int, cursor: str | None, scope: str, newest_first: bool):
    limit = max(1, min(int(limit), MAX_PAGE_LIMIT))
    after = decode_cursor(cursor, scope)
    if after is not None:
        query = query.where(model.id < after if newest_first else model.id > after)
    order = model.id.desc() if newest_first else model.id.asc()
    rows = list(db.session.scalars(query.order_by(order).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id, scope) if len(rows) > limit else None
    return rows[:limit], next_cursor


def list_sessions(limit: int = DEFAULT_PAGE_LIMIT, cursor: str | None = None):
    """History, newest first: (sessions, next_cursor). InvalidCursor for a foreign cursor."""
    return _page(select(SyncSession), SyncSession, limit, cursor, HISTORY, newest_first=True)


def list_errors(session_id: int, limit: int = DEFAULT_PAGE_LIMIT, cursor: str | None = None):
    """A session's errors, oldest first: (errors, next_cursor). InvalidCursor for a foreign
    cursor (the history's, or another session's errors')."""
    get_session(session_id)
    query = select(SyncError).where(SyncError.session_id == session_id)
    return _page(query, SyncError, limit, cursor, errors_of(session_id), newest_first=False)


def last_successful_sync_at() -> datetime | None:
    return db.session.scalar(
        select(SyncSession.completed_at)
        .where(SyncSession.end_user_id == end_user_id(), SyncSession.status == COMPLETED)
        .order_by(SyncSession.completed_at.desc())
        .limit(1)
    )


# --- documents ----------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, as the API promises."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


OBJECT_COUNTS = ("created", "updated", "unchanged", "deleted", "pushed", "conflicts", "failed",
                 "api_calls")


def object_document(run: SyncObjectRun) -> dict[str, Any]:
    doc = {"name": run.object_name, "status": run.status, "reason": run.reason,
           "total": run.total, "processed": run.processed}
    doc.update({name: getattr(run, name) for name in OBJECT_COUNTS})
    doc["started_at"], doc["finished_at"] = iso(run.started_at), iso(run.finished_at)
    doc["heartbeat_at"] = iso(run.heartbeat_at)
    doc["stalled"] = is_stalled(run)
    doc["resumed_from"] = resumed_from(run)
    return doc


def is_stalled(run: SyncObjectRun, now: datetime | None = None) -> bool:
    """Running, but no heartbeat from its worker for STALLED_AFTER."""
    if run.status != RUNNING or run.heartbeat_at is None:
        return False
    return (now or utcnow()) - run.heartbeat_at > STALLED_AFTER


def object_fraction(run: SyncObjectRun) -> float:
    if run.status == COMPLETED:
        return 1.0
    if run.status == "skipped":  # never ran: not progress (the stored maximum still holds)
        return 0.0
    if run.total:  # items' total grows resource by resource: not done until completed
        return min(run.processed / run.total, 0.99)
    return 0.0


def progress_percentage(session: SyncSession) -> int:
    """Mean of the objects' fractions; 100 only for a completed session; never goes back."""
    if session.status == COMPLETED:
        return 100
    runs = session.object_runs
    computed = int(sum(object_fraction(r) for r in runs) / len(runs) * 100) if runs else 0
    return min(max(computed, session.progress_percentage or 0), 99)


def session_document(session: SyncSession) -> dict[str, Any]:
    """The session as the API returns it (DESIGN §7 contract fields, plus a few extras)."""
    runs = session.object_runs
    end = session.completed_at or (
        utcnow() if session.status in (RUNNING, CANCELLING) else None)
    duration = (end - session.started_at).total_seconds() if end and session.started_at else None
    return {
        "id": session.id,
        "status": session.status,
        "mode": session.mode,
        "created_at": iso(session.created_at),
        "started_at": iso(session.started_at),
        "completed_at": iso(session.completed_at),
        "duration_s": round(duration, 3) if duration is not None else None,
        "selected_objects": list(session.selected_objects or []),
        "planned_objects": list(session.planned_objects or []),
        "current_object": session.current_object,
        "current_record_id": session.current_record_id,
        "current_record_label": session.current_record_label,
        "total_records": sum(r.total or 0 for r in runs),
        "processed_records": sum(r.processed for r in runs),
        "progress_percentage": progress_percentage(session),
        "error_count": session.error_count,
        "cancel_requested": session.cancel_requested_at is not None,
        # An object's worker went quiet, or no worker has picked the session up at all.
        "stalled": session.is_active and (any(is_stalled(r) for r in runs)
                                          or unattended(session)),
        "failure_reason": session.failure_reason,
        "created_by": session.created_by,
        "only_record": session.only_record,
        "objects": [object_document(r) for r in runs],
    }


def error_document(error: SyncError) -> dict[str, Any]:
    return {
        "id": error.id,
        "object_type": error.object_type,
        "object_id": error.object_id,
        "record_label": error.record_label,
        "local_id": error.local_id,
        "phase": error.phase,
        "code": error.code,
        "message": error.message,
        "retryable": error.retryable,
        "created_at": iso(error.created_at),
    }


def sync_states() -> list[SyncState]:
    return list(db.session.scalars(select(SyncState).where(SyncState.end_user_id == end_user_id())))
