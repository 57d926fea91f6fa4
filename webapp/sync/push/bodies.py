"""Request bodies from WMS rows, through the objects' write declarations (the write side of
`webapp.sync.fields`): one machinery for every object, so no object module builds a body.

- a field goes where its `write` path says (dotted paths nest), converted by its `to_qb`;
- a reference goes as the QuickBooks id of the row it names (`customerId`); a row not in
  QuickBooks yet cannot be named, and the record waits (`Waiting`);
- a names-only column (terms, accounts) goes as the id QuickBooks has for that name,
  looked up once per sync (`Names`);
- lines go whole (QuickBooks replaces all lines on update): a line keeps its QuickBooks
  line id, a new one is "-1". Line groups are left as they are (`lineGroups` omitted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from webapp.sync.conductor import RECORD, QuickBooksError
from webapp.sync.fields import RefName
from webapp.sync.views import LOCAL

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject
    from webapp.sync.conductor import QuickBooks

NEW_LINE = "-1"


class Waiting(Exception):
    """The record names a row that is not in QuickBooks yet (created in the WMS, and not
    pushed: it failed, or comes later)."""


class Refused(Exception):
    """The record cannot be sent as it is; the message says why, in plain words."""


def put(body: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


class Names:
    """QuickBooks ids of names-only references (terms, accounts), read once per sync."""

    def __init__(self, qb: QuickBooks) -> None:
        self.qb = qb
        self.ids: dict[str, dict[str, str]] = {}

    def id_of(self, resources: tuple[str, ...], name: str) -> str:
        for resource in resources:
            if resource not in self.ids:
                try:
                    records = self.qb.list_all(resource, {})
                except QuickBooksError as error:
                    if error.kind != RECORD:
                        raise
                    records = []  # a list this company (or Conductor) does not have
                self.ids[resource] = {r.get("fullName") or r.get("name"): r["id"]
                                      for r in records if isinstance(r, dict) and "id" in r}
            if name in self.ids[resource]:
                return self.ids[resource][name]
        raise Refused(f'QuickBooks has no {resources[0].replace("-", " ").rstrip("s")}'
                      f' named "{name}"')


def _value(field, value, names: Names) -> Any:
    if isinstance(field, RefName):
        return None if value is None else names.id_of(field.lookup, value)
    return field.to_qb(value)


def header(obj: type[SyncObject], row, columns: set[str], qb_ids: dict, names: Names,
           *, create: bool) -> dict[str, Any]:
    """The body's header fields for `columns` (every pushed one on create)."""
    body: dict[str, Any] = {}
    fields = obj.write_fields(row)
    for column in sorted(columns):
        field = fields.get(column)
        if field is None or field.write is None or (field.create_only and not create) or (
                field.update_only and create):
            continue
        value = row[column]
        if create and value is None:
            continue
        put(body, field.write, _value(field, value, names))
    refs = {ref.qb_column: ref for ref in obj.refs}
    for column in sorted(columns & set(refs)):
        ref = refs[column]
        write = obj.ref_write(ref, row)
        if write is None:
            continue
        qb_id = qb_id_of(ref, row, qb_ids)
        if qb_id is None and create:
            continue
        put(body, write, qb_id)
    return body


def qb_id_of(ref, row, qb_ids: dict) -> str | None:
    """The QuickBooks id of the row a reference names (Waiting when it has none yet)."""
    local = row.get(ref.column)
    if local is None:
        return row.get(ref.qb_column)
    qb_id = qb_ids.get((ref.target, local))
    if qb_id is None or qb_id.startswith(LOCAL):
        raise Waiting(f"{ref.target.replace('_', ' ')} {local}")
    return qb_id


def lines(obj: type[SyncObject], rows: list, qb_ids: dict, names: Names, *,
          create: bool = False) -> list[dict]:
    """Every plain line, in order: its QuickBooks line id (or "-1") and its fields (a
    create's lines have no id)."""
    out = []
    for row in rows:
        if row.get("is_line_group") or row.get("group_qb_line_id"):
            continue  # line groups stay as QuickBooks has them
        body: dict[str, Any] = {} if create else {"id": row.get("qb_line_id") or NEW_LINE}
        for column, field in obj.line_fields.items():
            value = row.get(column)
            if field.write is None or value is None or (field.update_only and create):
                continue
            if column == "amount" and row.get("rate") is not None:
                continue  # with a rate, QuickBooks computes the amount (and ignores ours)
            put(body, field.write, _value(field, value, names))
        for ref in obj.line_refs:
            qb_id = qb_id_of(ref, row, qb_ids)
            if qb_id is not None:
                put(body, ref.write, qb_id)
        out.append(body)
    return out
