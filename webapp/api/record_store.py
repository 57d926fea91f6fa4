"""Reading the WMS side of an object for the records API (DESIGN §7): record documents, their
sync state, lists with search, state filter and keyset paging, and a record's ledger.

A record's `sync_state`: `deleted` (QuickBooks deleted it), `error` (its last push failed),
`pending` (created in the WMS, or changed there and differing from `sync_base`, found by the
same comparison the sync makes, webapp.sync.views), else `synced`. The database triggers set
`wms_pending` on every WMS write, so only those rows (indexed) are compared.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select, type_coerce

from webapp.extensions import db
from webapp.models import wms
from webapp.models.sync import SyncRecordEvent
from webapp.models.types import UTCDateTime
from webapp.sync import views
from webapp.sync.manager import CURSOR_VERSION, InvalidCursor, iso

# A state filter that must compare rows reads candidates in batches of this many.
SCAN_BATCH = 200
SEARCH_COLUMNS = ("name", "full_name", "ref_number")


# --- cursors -------------------------------------------------------------------------------
# As the sessions' (webapp.sync.manager): opaque, versioned, and naming the list they page, so
# a cursor handed to another list (another object, another order, another record's history)
# is refused instead of skipping rows.


def encode_cursor(scope: str, *values: int) -> str:
    raw = f"{CURSOR_VERSION}:{scope}:{'|'.join(str(v) for v in values)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str, count: int = 1) -> list[int] | None:
    """The keys of the previous page's last row; InvalidCursor unless this list made it."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, cursor_scope, value = raw.split(":")
        parts = value.split("|")
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(value)  # plain ASCII digits only: no signs, spaces or other scripts
        keys = [int(part) for part in parts]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if version != CURSOR_VERSION or len(keys) != count or not all(
            0 <= k < 2**63 for k in keys):
        raise InvalidCursor()
    if cursor_scope != scope:
        raise InvalidCursor("the cursor pages another list (another object, another order, or "
                            "another record's history); pass this list's own `next_cursor`, "
                            "or none for its first page")
    return keys


def _micros(value: datetime) -> int:
    return int(value.timestamp()) * 1_000_000 + value.microsecond


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


# --- documents -----------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A column value as the API sends it: decimal strings, ISO days."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_mapping(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}


def label(row: Any) -> str | None:
    """The record as people know it: a transaction's ref number, a full name, a name."""
    for column in SEARCH_COLUMNS:
        value = getattr(row, column, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def lines_of(obj, rows: list[Any]) -> dict[int, list[Any]]:
    """{header id: its lines in order} for transactions; {} for list objects."""
    if obj.line_model is None or not rows:
        return {}
    parent = getattr(obj.line_model, obj.line_parent)
    found: dict[int, list[Any]] = {row.id: [] for row in rows}
    query = (select(obj.line_model).where(parent.in_(list(found)))
             .order_by(parent, obj.line_model.position, obj.line_model.id))
    for line in db.session.scalars(query):
        found[getattr(line, obj.line_parent)].append(line)
    return found


def states(obj, rows: list[Any], lines: dict[int, list[Any]],
           changes: dict[int, tuple[set[str], bool]] | None = None) -> dict[int, str]:
    """{id: sync_state} of these rows (one query for their references' QuickBooks ids);
    `changes`, when given, receives {id: (columns the WMS changed, lines changed)} of the
    rows that were compared with their base."""
    result: dict[int, str] = {}
    compare = []
    for row in rows:
        if row.qb_deleted_at is not None:
            result[row.id] = "deleted"
        elif row.push_error is not None:
            result[row.id] = "error"
        elif row.qb_id is None:
            result[row.id] = "pending"
        elif not row.wms_pending:
            result[row.id] = "synced"
        else:
            compare.append(row)
    if compare:
        mappings = {row.id: as_mapping(row) for row in compare}
        line_maps = {row.id: [as_mapping(x) for x in lines.get(row.id, ())] for row in compare}
        qb_ids = views.load_qb_ids(db.session, obj, list(mappings.values()),
                                   [x for group in line_maps.values() for x in group])
        for row in compare:
            changed, lines_changed = views.wms_changed(
                obj, mappings[row.id], line_maps[row.id] if obj.line_model else None, qb_ids)
            result[row.id] = "pending" if changed or lines_changed else "synced"
            if changes is not None:
                changes[row.id] = (changed, lines_changed)
    return result


def is_held(row: Any) -> bool:
    """Held back from the push ("Hold") and not changed by the WMS since."""
    return wms.is_held(row.push_held_at, row.local_updated_at)


def base_block(obj, row: Any, change: tuple[set[str], bool] | None) -> dict[str, Any] | None:
    """What QuickBooks last sent (`sync_base`) as WMS columns, and which of them the WMS has
    changed since; None for a record QuickBooks has never had."""
    if row.sync_base is None:
        return None
    fields = {column: jsonable(value) for column, value in views.base_values(
        obj, row.sync_base).items()}
    changed, lines_changed = change or (set(), False)
    block: dict[str, Any] = {"fields": fields, "changed": sorted(changed - obj.computed),
                             "lines_changed": bool(lines_changed)}
    if obj.line_model is not None:
        raw = (row.sync_base or {}).get("lines") or []
        block["lines"] = [
            {**{key: jsonable(value) for key, value in line.items()},
             "amount": original.get("amount")}
            for line, original in zip(views.base_lines(obj, row.sync_base), raw, strict=True)]
    return block


def documents(obj, models, rows: list[Any]) -> list[dict[str, Any]]:
    """The record documents of `rows`, in their order."""
    lines = lines_of(obj, rows)
    changes: dict[int, tuple[set[str], bool]] = {}
    state = states(obj, rows, lines, changes)
    return [document(obj, models, row, state[row.id], lines.get(row.id, []),
                     changes.get(row.id)) for row in rows]


def document(obj, models, row: Any, state: str, lines: list[Any],
             change: tuple[set[str], bool] | None = None) -> dict[str, Any]:
    doc = {
        "id": row.id, "object": obj.name, "qb_id": row.qb_id, "label": label(row),
        "sync_state": state, "held": is_held(row), "push_error": row.push_error,
        "base": base_block(obj, row, change),
        "fields": {column: jsonable(getattr(row, column)) for column in models.header.shown},
        "sync": {"qb_revision": row.qb_revision, "qb_updated_at": iso(row.qb_updated_at),
                 "local_updated_at": iso(row.local_updated_at), "synced_at": iso(row.synced_at)},
    }
    if models.lines is not None:
        doc["lines"] = [{"id": line.id, **{c: jsonable(getattr(line, c))
                                           for c in models.lines.shown}} for line in lines]
    return doc


def get(obj, record_id: int) -> Any | None:
    return db.session.get(obj.model, record_id)


# --- lists ---------------------------------------------------------------------------------


def _changed_at(model):
    """The row's latest change, by the sync or by the WMS (either may be NULL)."""
    synced, local = model.synced_at, model.local_updated_at
    return type_coerce(case((synced.is_(None), local), (local.is_(None), synced),
                            (local > synced, local), else_=synced), UTCDateTime())


def _state_filter(model, state: str | None):
    """(SQL condition of the candidates, whether each must still be compared)."""
    live = and_(model.qb_deleted_at.is_(None), model.push_error.is_(None))
    if state == "deleted":
        return model.qb_deleted_at.is_not(None), False
    if state == "error":
        return and_(model.qb_deleted_at.is_(None), model.push_error.is_not(None)), False
    if state == "pending":
        return and_(live, or_(model.wms_pending.is_(True), model.qb_id.is_(None))), True
    if state == "synced":
        return and_(live, model.qb_id.is_not(None)), True
    return None, False


# The pending count compares candidates with their base (as the list does) up to this many;
# past it the count is of candidates (rows the WMS touched), an upper bound.
EXACT_PENDING_MAX = 1000


def counts(obj) -> dict[str, Any]:
    """How many records per state, from indexes: all, pending, error, deleted, held."""
    model = obj.model
    count = select(func.count()).select_from(model)
    result: dict[str, Any] = {"all": db.session.scalar(count)}
    for state in ("error", "deleted"):
        result[state] = db.session.scalar(count.where(_state_filter(model, state)[0]))
    candidates, _ = _state_filter(model, "pending")
    pending = db.session.scalar(count.where(candidates))
    result["pending_exact"] = pending <= EXACT_PENDING_MAX
    if result["pending_exact"] and pending:
        pending = 0
        for start in range(0, EXACT_PENDING_MAX, SCAN_BATCH):
            rows = list(db.session.scalars(select(model).where(candidates).order_by(model.id)
                                           .limit(SCAN_BATCH).offset(start)))
            if not rows:
                break
            pending += sum(1 for s in states(obj, rows, lines_of(obj, rows)).values()
                           if s == "pending")
    result["pending"] = pending
    result["held"] = db.session.scalar(count.where(model.push_held_at.is_not(None), or_(
        model.local_updated_at.is_(None), model.local_updated_at <= model.push_held_at)))
    return result


def list_records(obj, models, *, limit: int, cursor: str | None, q: str | None = None,
                 state: str | None = None, changed_since: datetime | None = None):
    """(documents, next_cursor): by id, or with `changed_since` by the time of the latest
    change (then id), keyset-paged."""
    model = obj.model
    scope = f"records.{obj.name}" + (".changed" if changed_since is not None else "")
    query = select(model)
    if q:
        searched = [getattr(model, c) for c in SEARCH_COLUMNS if hasattr(model, c)]
        query = query.where(or_(*(c.icontains(q, autoescape=True) for c in searched)))
    condition, compare = _state_filter(model, state)
    if condition is not None:
        query = query.where(condition)
    if changed_since is not None:
        changed = _changed_at(model)
        query = query.add_columns(changed).where(or_(
            model.synced_at >= changed_since, model.local_updated_at >= changed_since))
        after = decode_cursor(cursor, scope, 2)
        if after is not None:
            try:
                at, last_id = _from_micros(after[0]), after[1]
            except (OverflowError, OSError, ValueError):  # a time no cursor of ours holds
                raise InvalidCursor() from None
            query = query.where(or_(changed > at, and_(changed == at, model.id > last_id)))
        query = query.order_by(changed, model.id)
    else:
        after = decode_cursor(cursor, scope)
        if after is not None:
            query = query.where(model.id > after[0])
        query = query.order_by(model.id)
    rows = _collect(obj, query, limit + 1, state if compare else None)
    page = [row for row, _ in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last, changed_at = rows[limit - 1]
        keys = (_micros(changed_at), last.id) if changed_since is not None else (last.id,)
        next_cursor = encode_cursor(scope, *keys)
    return documents(obj, models, page), next_cursor


def _collect(obj, query, wanted: int, state: str | None) -> list[tuple[Any, Any]]:
    """Up to `wanted` (row, change time) of `query`; with `state`, only the rows whose exact
    state it is (candidates read in batches until enough are found)."""
    if state is None:
        return [(r[0], r[1] if len(r) > 1 else None) for r in db.session.execute(
            query.limit(wanted))]
    found: list[tuple[Any, Any]] = []
    offset = 0
    while len(found) < wanted:
        batch = [(r[0], r[1] if len(r) > 1 else None) for r in db.session.execute(
            query.limit(SCAN_BATCH).offset(offset))]
        if not batch:
            break
        rows = [row for row, _ in batch]
        exact = states(obj, rows, lines_of(obj, rows))
        found += [pair for pair in batch if exact[pair[0].id] == state]
        offset += SCAN_BATCH
    return found[:wanted]


# --- history -------------------------------------------------------------------------------


def history(obj, record_id: int, *, limit: int, cursor: str | None):
    """(events newest first, next_cursor) of one record's ledger."""
    scope = f"history.{obj.name}.{record_id}"
    query = select(SyncRecordEvent).where(SyncRecordEvent.object_type == obj.name,
                                          SyncRecordEvent.record_id == record_id)
    after = decode_cursor(cursor, scope)
    if after is not None:
        query = query.where(SyncRecordEvent.id < after[0])
    rows = list(db.session.scalars(query.order_by(SyncRecordEvent.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(scope, rows[limit - 1].id) if len(rows) > limit else None
    return [event_document(e) for e in rows[:limit]], next_cursor


def event_document(event: SyncRecordEvent) -> dict[str, Any]:
    return {"session_id": event.session_id, "action": event.action, "field": event.field,
            "fields": event.fields, "detail": event.detail,
            "revision_before": event.revision_before, "revision_after": event.revision_after,
            "created_at": iso(event.created_at)}
