"""Comparable views of a record, for change detection (DESIGN §1, §4).

Three things are compared field by field: `sync_base` (QuickBooks' record as last read or
written), the WMS row (with its lines), and a fresh QuickBooks record. Each becomes a dict of
comparable values per column through the object's own field declarations, the same ones the
pull maps with:

- a column's value as the pull would write it (money and quantities compared by value,
  addresses by their non-empty keys, empty text as no text);
- a reference by the QuickBooks id it stands for, under its `qb_column` (`customer_qb_id`):
  a row's local foreign key is looked up (a referenced row not yet in QuickBooks stands as
  `local:<id>`), so a WMS that changes `customer_id` changes the reference;
- names-only references (`terms`, accounts) by name on the WMS side, and by QuickBooks id
  when QuickBooks' fresh record is compared with the base (a renamed terms list entry is not
  a change of this customer).

Lines are lists of such dicts, with `qb_line_id` (and the WMS line's `id`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.sync.fields import Field, MappingError, RefName

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject

GROUP_KEYS = ("description", "quantity", "unit_of_measure", "amount", "item_qb_id")
LOCAL = "local:"


def canon(value: Any) -> Any:
    """A value as compared: empty text and empty addresses are no value."""
    if value == "" or value == {}:
        return None
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if v not in (None, "")}
        return kept or None
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _convert(field: Field, raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return canon(field.convert(raw))
    except MappingError:
        return canon(raw)


def base_values(obj: type[SyncObject], base: Mapping | None) -> dict[str, Any]:
    """The base (or a fresh record's base) as comparable values per column."""
    base = base or {}
    values = {column: _convert(field, base.get(column))
              for column, field in obj.column_fields().items()}
    for ref in obj.refs:
        values[ref.qb_column] = base.get(ref.qb_column)
    return values


def qb_changed(obj: type[SyncObject], old: Mapping | None, new: Mapping) -> set[str]:
    """The columns QuickBooks changed: its fresh record's base against the stored one."""
    old = old or {}
    changed = set()
    for column, field in obj.column_fields().items():
        a, b = old.get(column), new.get(column)
        if isinstance(field, RefName):
            a, b = _ref_key(a), _ref_key(b)
        else:
            a, b = _convert(field, a), _convert(field, b)
        if a != b:
            changed.add(column)
    changed.update(ref.qb_column for ref in obj.refs
                   if old.get(ref.qb_column) != new.get(ref.qb_column))
    return changed


def _ref_key(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw.get("id") or raw.get("fullName")
    return raw


def row_values(obj: type[SyncObject], row: Mapping, qb_ids: Mapping) -> dict[str, Any]:
    """A WMS row as comparable values; `qb_ids` maps (target, local id) to QuickBooks ids."""
    values = {column: canon(row.get(column)) for column in obj.column_fields()}
    for ref in obj.refs:
        values[ref.qb_column] = _ref_value(ref, row, qb_ids)
    return values


def _ref_value(ref, row: Mapping, qb_ids: Mapping) -> str | None:
    local = row.get(ref.column)
    if local is None:
        return row.get(ref.qb_column)
    return qb_ids.get((ref.target, local)) or f"{LOCAL}{local}"


def _line_keys(obj: type[SyncObject], is_group: bool) -> tuple[str, ...]:
    if is_group:
        return GROUP_KEYS
    return (*obj.line_fields, *(ref.qb_column for ref in obj.line_refs))


def base_lines(obj: type[SyncObject], base: Mapping | None) -> list[dict[str, Any]]:
    out = []
    for line in (base or {}).get("lines") or ():
        is_group = bool(line.get("is_line_group"))
        fields = _group_fields() if is_group else obj.line_fields
        values = {"qb_line_id": line.get("qb_line_id"),
                  "group_qb_line_id": line.get("group_qb_line_id"), "is_line_group": is_group}
        for key in _line_keys(obj, is_group):
            field = fields.get(key)
            values[key] = _convert(field, line.get(key)) if field else line.get(key)
        out.append(_derived(values))
    return out


def _group_fields() -> dict[str, Field]:
    from webapp.sync.objects._transaction import GROUP_FIELDS

    return GROUP_FIELDS


def row_lines(obj: type[SyncObject], lines: Iterable[Mapping],
              qb_ids: Mapping) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        is_group = bool(line.get("is_line_group"))
        values = {"id": line.get("id"), "qb_line_id": line.get("qb_line_id"),
                  "group_qb_line_id": line.get("group_qb_line_id"), "is_line_group": is_group}
        for key in _line_keys(obj, is_group):
            values[key] = canon(line.get(key))
        for ref in obj.line_refs:
            if not is_group:
                values[ref.qb_column] = _ref_value(ref, line, qb_ids)
        out.append(_derived(values))
    return out


def _derived(line: dict[str, Any]) -> dict[str, Any]:
    """A line priced by its rate: QuickBooks computes its amount (quantity x rate), so the
    amount is no one's change to compare."""
    if not line.get("is_line_group") and line.get("rate") is not None:
        line["amount"] = None
    return line


def wms_changed(obj: type[SyncObject], row: Mapping, lines: list[Mapping] | None,
                qb_ids: Mapping) -> tuple[set[str], bool]:
    """(columns the WMS changed, whether its lines differ) against the row's `sync_base`;
    a row never synced (no `qb_id`) has everything to send."""
    base = row.get("sync_base")
    if row.get("qb_id") is None or base is None:
        return set(obj.column_fields()), obj.line_model is not None
    was, now = base_values(obj, base), row_values(obj, row, qb_ids)
    changed = {column for column in now if now[column] != was.get(column)}
    changed -= obj.computed - obj.net_change
    lines_changed = False
    if obj.line_model is not None and lines is not None:
        lines_changed = not same_lines(base_lines(obj, base), row_lines(obj, lines, qb_ids),
                                       obj.line_computed)
    return changed, lines_changed


def plain_lines_changed(obj: type[SyncObject], row: Mapping, lines: list[Mapping],
                        qb_ids: Mapping) -> bool:
    """Whether the WMS changed the lines that are not in a line group (what a push sends)."""
    def plain(held: list[dict]) -> list[dict]:
        return [x for x in held if not x["is_line_group"] and not x["group_qb_line_id"]]

    return not same_lines(plain(base_lines(obj, row.get("sync_base"))),
                          plain(row_lines(obj, lines, qb_ids)), obj.line_computed)


def same_lines(a: list[dict], b: list[dict], computed: frozenset[str]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        keys = (set(x) | set(y)) - computed - {"id"}
        if any(x.get(k) != y.get(k) for k in keys):
            return False
    return True


def load_qb_ids(session, obj: type[SyncObject], rows: Iterable[Mapping],
                lines: Iterable[Mapping] = ()) -> dict[tuple[str, int], str | None]:
    """{(target, local id): QuickBooks id} for every local reference of these rows."""
    from webapp.sync.objects import registry

    wanted: dict[str, set[int]] = {}
    for ref in obj.refs:
        for row in rows:
            if row.get(ref.column) is not None:
                wanted.setdefault(ref.target, set()).add(row[ref.column])
    for ref in obj.line_refs:
        for line in lines:
            if line.get(ref.column) is not None:
                wanted.setdefault(ref.target, set()).add(line[ref.column])
    found: dict[tuple[str, int], str | None] = {}
    for target, ids in wanted.items():
        table = registry.get(target).model.__table__
        listed = sorted(ids)
        for start in range(0, len(listed), 500):
            chunk = listed[start:start + 500]
            for local_id, qb_id in session.execute(
                    select(table.c.id, table.c.qb_id).where(table.c.id.in_(chunk))):
                found[(target, local_id)] = qb_id
    return found
