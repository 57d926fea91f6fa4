"""The per-record ledger (`sync_record_event`, DESIGN §4): what happened to one record in one
session, written in the same transaction as the change it records.

Growth is bounded: a record a sync leaves unchanged writes nothing, and events older than
`QBSYNC_LEDGER_RETENTION_DAYS` (default 180) are pruned when a session ends.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete

from webapp.extensions import db
from webapp.models.sync import SyncRecordEvent
from webapp.models.types import utcnow
from webapp.sync.bulk import insert_rows
from webapp.sync.merge import Conflict

DEFAULT_RETENTION_DAYS = 180
LABEL_CHARS = 200
_COLUMNS = ("session_id", "object_type", "record_id", "qb_id", "record_label", "action",
            "field", "fields", "detail", "revision_before", "revision_after", "created_at")


def jsonable(value: Any) -> Any:
    """A value as the ledger keeps it: money and quantities as decimal strings, dates as ISO."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k not in ("source",)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def event(session_id: int | None, object_type: str, action: str, *, record_id: int | None,
          qb_id: str | None, label: str | None = None, field: str | None = None,
          fields: list[str] | None = None, detail: dict | None = None,
          revision_before: str | None = None, revision_after: str | None = None,
          at: datetime | None = None) -> dict[str, Any]:
    """One ledger row, every column set (rows are inserted in bulk)."""
    return {
        "session_id": session_id, "object_type": object_type, "record_id": record_id,
        "qb_id": qb_id, "record_label": label[:LABEL_CHARS] if label else None,
        "action": action, "field": field, "fields": fields,
        "detail": jsonable(detail) if detail is not None else None,
        "revision_before": revision_before, "revision_after": revision_after,
        "created_at": at or utcnow(),
    }


def conflict_detail(conflict: Conflict) -> dict[str, Any]:
    return {"base": conflict.base, "wms_value": conflict.wms_value,
            "quickbooks_value": conflict.quickbooks_value, "winner": conflict.winner,
            "rule": conflict.rule}


def write(rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_rows(SyncRecordEvent.__table__, [{c: row[c] for c in _COLUMNS} for row in rows])


def prune(days: int | None) -> int:
    """Delete events older than `days` (None: the default); returns how many went."""
    days = DEFAULT_RETENTION_DAYS if days is None else days
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(delete(SyncRecordEvent).where(
        SyncRecordEvent.created_at < cutoff))
    return result.rowcount or 0
