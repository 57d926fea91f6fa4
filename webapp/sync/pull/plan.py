"""Whether an object's pull is full or incremental, from its `SyncState` (DESIGN §5).

Decided once per run by the engine (`_plan_pull`), and asked beforehand for the session's other
objects by the probes a session shares (`probes`), which must know whose watermarks they serve.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models.sync import SyncSession, SyncState
from webapp.models.types import utcnow
from webapp.sync.base import SyncObject

DELETED_LIST_MAX_AGE = timedelta(days=89)  # QuickBooks keeps deletions for 90 days
MAX_LOOKBACK = DELETED_LIST_MAX_AGE  # the furthest back a deleted-list check may start


def state_of(session: SyncSession, name: str) -> SyncState:
    """The object's watermarks for the session's company (made on first use)."""
    state = db.session.scalar(select(SyncState).where(
        SyncState.end_user_id == session.end_user_id, SyncState.object_name == name))
    if state is None:
        state = SyncState(end_user_id=session.end_user_id, object_name=name)
        db.session.add(state)
        db.session.flush()
    return state


def has_rows(obj: type[SyncObject]) -> bool:
    table = obj.model.__table__
    return db.session.scalar(select(func.count()).select_from(table)) > 0


def wants_full(session: SyncSession, state: SyncState, rows: bool,
               now: datetime | None = None) -> bool:
    """A full pull: asked for; or no watermark yet; or one later than `now` (this server's
    clock was wrong when it was set, and what changed since may lie before it); or a
    deleted-list check too old for QuickBooks' 90 days (with rows to compare ids against)."""
    now = now or utcnow()
    stale = state.last_deleted_check_at is None or (
        now - state.last_deleted_check_at > DELETED_LIST_MAX_AGE)
    ahead = state.watermark is not None and datetime.fromisoformat(state.watermark) > now
    return session.mode == "full" or state.watermark is None or ahead or (stale and rows)


def later(a: str | None, b: str | None) -> str | None:
    """The later of two QuickBooks times (ISO text with offsets); None counts as unknown."""
    if a is None or b is None:
        return a or b
    return a if datetime.fromisoformat(a) >= datetime.fromisoformat(b) else b


def check_after(state: SyncState) -> str | None:
    """Where a deleted-list check starts: the deletion watermark, but never further back than
    QuickBooks keeps deletions (older ones were seen by the previous check, which is younger
    than that, else this would be an id comparison); None for everything it keeps."""
    if not state.deleted_watermark:
        return None
    after = datetime.fromisoformat(state.deleted_watermark)
    floor = (utcnow() - MAX_LOOKBACK).astimezone(after.tzinfo)
    return max(after, floor).isoformat(timespec="seconds")
