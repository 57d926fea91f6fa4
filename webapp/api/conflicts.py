"""`GET /api/v1/sessions/<id>/conflicts` (DESIGN §7): the fields both QuickBooks and the WMS
changed, found by a session's pulls, and who won by which rule (from the ledger)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select

from webapp.api import bp
from webapp.api.layer import operation
from webapp.api.schemas import PageQuery, Response, Timestamp
from webapp.api.sessions import BAD_PAGE, NOT_FOUND, _page_of, _session_or_404
from webapp.extensions import db
from webapp.models.sync import CONFLICT, SyncRecordEvent
from webapp.sync.manager import decode_cursor, encode_cursor, iso


class ConflictDocument(Response):
    """One field both sides changed since the last sync, decided by the object's rule."""

    object_type: str
    record_id: int | None = Field(description="The WMS record's id (records API).")
    qb_id: str | None
    record_label: str | None = Field(description="Ref number, full name or name.")
    field: str | None
    base: Any = Field(description="The value at the last sync.")
    wms_value: Any
    quickbooks_value: Any
    winner: Literal["wms", "quickbooks"]
    rule: str = Field(description="The rule that decided, in words.")
    created_at: Timestamp | None


class ConflictPage(Response):
    conflicts: list[ConflictDocument] = Field(description="Oldest first.")
    next_cursor: str | None


def conflicts_of(session_id: int) -> str:
    """The cursor scope of one session's conflict list."""
    return f"conflicts.{session_id}"


def list_conflicts(session_id: int, limit: int, cursor: str | None):
    """(conflict events oldest first, next_cursor); InvalidCursor for another list's cursor."""
    scope = conflicts_of(session_id)
    query = select(SyncRecordEvent).where(SyncRecordEvent.session_id == session_id,
                                          SyncRecordEvent.action == CONFLICT)
    after = decode_cursor(cursor, scope)
    if after is not None:
        query = query.where(SyncRecordEvent.id > after)
    rows = list(db.session.scalars(query.order_by(SyncRecordEvent.id).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id, scope) if len(rows) > limit else None
    return rows[:limit], next_cursor


def conflict_document(event: SyncRecordEvent) -> dict[str, Any]:
    detail = event.detail or {}
    return {
        "object_type": event.object_type, "record_id": event.record_id, "qb_id": event.qb_id,
        "record_label": event.record_label, "field": event.field,
        "base": detail.get("base"), "wms_value": detail.get("wms_value"),
        "quickbooks_value": detail.get("quickbooks_value"), "winner": detail.get("winner"),
        "rule": detail.get("rule") or "", "created_at": iso(event.created_at),
    }


@operation(
    bp, "GET", "/sessions/<int:session_id>/conflicts", tag="sessions",
    summary="A session's conflicts, oldest first",
    query=PageQuery,
    responses={200: (ConflictPage, "A page of conflicts."), 400: BAD_PAGE, 404: NOT_FOUND},
)
def list_session_conflicts(session_id: int, query: PageQuery):
    """Fields changed on both sides since the last sync: the base, both values, the winner
    and the rule that decided (DESIGN §1), oldest first."""
    _session_or_404(session_id)
    rows, next_cursor = _page_of(list_conflicts, session_id, query.limit, query.cursor)
    return {"conflicts": [conflict_document(e) for e in rows], "next_cursor": next_cursor}

