"""The records API (DESIGN §7): the WMS side of each object — list, read, create, change, and a
record's history. Declared once per object, so each has its own models in openapi.json
(webapp.api.record_schemas) and a pull-only object (`invoice`) answers 405 to writes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from webapp.api import bp, record_store, record_writes
from webapp.api.layer import ApiError, operation
from webapp.api.record_schemas import RecordHistory, RecordQuery, models_for
from webapp.api.schemas import ErrorDocument, PageQuery
from webapp.sync.manager import InvalidCursor
from webapp.sync.objects import registry

TAG = "records"
OFFSET_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
BAD_INPUT = (ErrorDocument, "Bad input, the field named: `unknown_field`, `read_only_field` "
             "(never pushed, DESIGN §1), `invalid_value` (wrong type, too long for QuickBooks, a "
             "colon in a name), `missing_field`, `unknown_reference` (no record with that id).")
BAD_QUERY = (ErrorDocument, "A bad filter, `limit`, or a `cursor` this list did not hand out.")
NOT_FOUND = (ErrorDocument, "There is no such record.")
PULL_ONLY = (ErrorDocument, "This object is pull only (QuickBooks → WMS): the WMS cannot "
             "create or change it.")


def _record_or_404(obj, record_id: int):
    row = record_store.get(obj, record_id)
    if row is None:
        raise ApiError(404, "not_found", f"There is no {obj.name} {record_id}.")
    return row


def _cursor_page(lister, *args, **kwargs):
    try:
        return lister(*args, **kwargs)
    except InvalidCursor as error:
        message = str(error)
        raise ApiError(400, "invalid_cursor", f"{message[0].upper()}{message[1:]}.") from None


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:  # an unescaped "+00:00" arrives as " 00:00"
        value = datetime.fromisoformat(OFFSET_AS_SPACE.sub(r"\1+\2", text.strip()))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is in year 0
        raise ApiError(400, "invalid_changed_since", "changed_since must be an ISO 8601 time, "
                       "such as 2025-01-31T12:00:00Z.") from None


def _document(obj, models, row) -> dict:
    return record_store.documents(obj, models, [row])[0]


def register(name: str) -> None:
    """Declare the endpoints of object `name`."""
    obj, models = registry.get(name), models_for(name)
    path, display = f"/records/{name}", obj.display_name

    def list_records(query: RecordQuery):
        """The WMS records of this object: `q` searches name, full name and ref number,
        `state` filters by sync state, `changed_since` lists the rows the sync or the WMS
        changed at or after a time, oldest change first (how a WMS polls). Keyset-paged."""
        records, next_cursor = _cursor_page(
            record_store.list_records, obj, models, limit=query.limit, cursor=query.cursor,
            q=query.q, state=query.state, changed_since=_since(query.changed_since))
        return {"records": records, "next_cursor": next_cursor}

    def get_record(record_id: int):
        """One record: its fields, lines, sync state and sync times."""
        return _document(obj, models, _record_or_404(obj, record_id))

    def record_history(record_id: int, query: PageQuery):
        """What each sync did to this record (pulled, pushed, conflicts, errors), newest
        first."""
        _record_or_404(obj, record_id)
        events, next_cursor = _cursor_page(record_store.history, obj, record_id,
                                           limit=query.limit, cursor=query.cursor)
        return {"events": events, "next_cursor": next_cursor}

    declare = [
        (list_records, "GET", path, f"{display}: the WMS records", RecordQuery, None,
         {200: (models.page, "A page of records."), 400: BAD_QUERY}),
        (get_record, "GET", f"{path}/<int:record_id>", f"{display}: one record", None, None,
         {200: (models.record, "The record."), 404: NOT_FOUND}),
        (record_history, "GET", f"{path}/<int:record_id>/history",
         f"{display}: a record's history", PageQuery, None,
         {200: (RecordHistory, "A page of the record's ledger, newest first."),
          400: BAD_QUERY, 404: NOT_FOUND}),
    ]
    if models.create is not None:
        declare += _write_operations(obj, models, path, display)
    else:
        declare += _refusals(obj, path, display)
    verbs = {list_records: "list", get_record: "get", record_history: "history"}
    for view, method, rule, summary, query, body, responses in declare:
        view.__name__ = f"{verbs.get(view, view.__name__)}_{name}"  # the operationId
        operation(bp, method, rule, tag=TAG, summary=summary, query=query, body=body,
                  responses=responses)(view)


def _write_operations(obj, models, path: str, display: str) -> list[tuple]:
    def create(body):
        """Create a record in the WMS; the next sync creates it in QuickBooks. References are
        local ids, money and quantities decimal strings, dates YYYY-MM-DD."""
        row = record_writes.create(obj, models, body)
        return 201, _document(obj, models, row), {"Location": f"/api/v1{path}/{row.id}"}

    def update(record_id: int, body):
        """Change a record: `fields` holds only what changes; `lines`, when given, replaces
        the lines (a line with its `id` stays, its columns left out kept; one without is
        new; lines left out go). A change of nothing writes nothing."""
        row = _record_or_404(obj, record_id)
        record_writes.update(obj, models, row, body)
        return _document(obj, models, record_store.get(obj, record_id))

    return [
        (create, "POST", path, f"{display}: create a record in the WMS", None, models.create,
         {201: (models.record, "Created in the WMS; `qb_id` is null until the next sync "
                "creates it in QuickBooks."), 400: BAD_INPUT}),
        (update, "PATCH", f"{path}/<int:record_id>", f"{display}: change a record", None,
         models.update, {200: (models.record, "The record as changed."), 400: BAD_INPUT,
                         404: NOT_FOUND}),
    ]


def _refusals(obj, path: str, display: str) -> list[tuple]:
    def pull_only(**_):
        raise ApiError(405, "pull_only", f"{obj.display_name} are pull only (QuickBooks → WMS): "
                       "the WMS cannot create or change them; change them in QuickBooks.")

    def create(**kwargs):
        """Refused: this object is pull only."""
        return pull_only(**kwargs)

    def update(**kwargs):
        """Refused: this object is pull only."""
        return pull_only(**kwargs)

    return [
        (create, "POST", path, f"{display}: refused (pull only)", None, None, {405: PULL_ONLY}),
        (update, "PATCH", f"{path}/<int:record_id>", f"{display}: refused (pull only)", None,
         None, {404: NOT_FOUND, 405: PULL_ONLY}),
    ]


for _name in registry.order:
    register(_name)
