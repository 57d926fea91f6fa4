"""What a cancelled session leaves for the next one: the checkpoints of its unfinished objects.

A cancel stops an object at a page boundary with its checkpoint committed (DESIGN §6). The next
session that runs that object picks the listing up from there instead of reading it again from
the start — at QuickBooks' pace, every page not read again saves seconds. It is the same resume
a retried or redelivered object makes within a session; the watermark that object sets at the
end is taken back from when the interrupted pull began, so what changed meanwhile, before the
checkpoint's place in the listing, is read by the sync after.

A checkpoint is carried only from the object's latest run that started, only when that run was
cancelled, and only into a session that reads at least as much: a full session takes a full
pull's checkpoint, never an incremental one's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.sync import CANCELLED, SyncObjectRun, SyncSession

RESUMED_FROM = "resumed_from"  # checkpoint key: the session whose pull this run carries on


def carried_checkpoint(end_user_id: str, name: str, mode: str) -> dict[str, Any] | None:
    """The checkpoint a new `mode` session's run of `name` resumes from, if any."""
    latest = db.session.execute(
        select(SyncObjectRun, SyncSession.id)
        .join(SyncSession, SyncSession.id == SyncObjectRun.session_id)
        .where(SyncSession.end_user_id == end_user_id, SyncObjectRun.object_name == name,
               SyncObjectRun.started_at.is_not(None))
        .order_by(SyncSession.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    run, session_id = latest
    checkpoint = dict(run.checkpoint or {})
    if run.status != CANCELLED or not checkpoint.get("started"):
        return None
    if mode == "full" and not checkpoint.get("full"):
        return None
    checkpoint[RESUMED_FROM] = session_id
    # The push is not carried: a new session sends whatever is pending, the records
    # QuickBooks refused last time included (they may have been fixed since).
    checkpoint.pop("push_failed", None)
    checkpoint.pop("pushed", None)
    return checkpoint


def resumed_from(run: SyncObjectRun) -> int | None:
    """The earlier session whose cancelled pull this run carries on, if it does."""
    return (run.checkpoint or {}).get(RESUMED_FROM)
