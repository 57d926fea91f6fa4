"""Writing the WMS side through the records API (DESIGN §4 "How the WMS writes", §7): create a
record (its `qb_id` stays NULL until the sync creates it in QuickBooks) or change one, its
lines replaced as a whole while kept lines keep their ids.

Only what differs is written, so a PATCH that changes nothing leaves the row untouched. The
database triggers (webapp.models.triggers) stamp `local_updated_at` and set `wms_pending` on
whatever is written, as for any other WMS writer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from webapp.api.layer import ApiError
from webapp.extensions import db
from webapp.sync.fields import Address, Day, Number
from webapp.sync.views import canon

DEFAULT_ITEM_TYPE = "inventory"
HIERARCHY = "parent_id"  # customers (jobs) and items (sub-items) nest under a parent
MAX_SUBLEVEL = 4  # QuickBooks' lists go five levels deep


def column_value(column, field, value: Any) -> Any:
    """A validated request value as the column holds it."""
    if value is None:
        return None
    if isinstance(field, Address) or isinstance(value, BaseModel):
        parts = value.model_dump() if isinstance(value, BaseModel) else value
        kept = {k: v for k, v in parts.items() if v not in (None, "")}
        return kept or None
    if isinstance(field, Number) or (isinstance(value, str) and column.type.python_type
                                     is Decimal):
        return Decimal(value)
    if isinstance(field, Day):
        return date.fromisoformat(value)
    return value


def _values(columns, model: BaseModel, names) -> dict[str, Any]:
    return {name: column_value(*columns.shown[name], getattr(model, name)) for name in names}


def _resolve(target_name: str, local_id: int, where: str):
    from webapp.sync.objects import registry

    target = db.session.get(registry.get(target_name).model, local_id)
    if target is None or target.qb_deleted_at is not None:
        gone = "no" if target is None else "a deleted"
        raise ApiError(400, "unknown_reference",
                       f"{where}: there is {gone} {target_name} with id {local_id}.")
    return target


def _set_refs(refs, values: dict[str, Any], where: str) -> None:
    """Check each given reference and keep QuickBooks' id of its target beside it."""
    for ref in refs:
        if ref.column not in values:
            continue
        local_id = values[ref.column]
        target = None if local_id is None else _resolve(ref.target, local_id,
                                                         f"{where}.{ref.column}")
        values[ref.qb_column] = None if target is None else target.qb_id


def _set_hierarchy(obj, row, values: dict[str, Any]) -> None:
    """`full_name` and `sublevel` as QuickBooks will compute them (never pushed)."""
    if HIERARCHY not in {ref.column for ref in obj.refs}:
        return
    name = values.get("name", getattr(row, "name", None))
    parent_id = values[HIERARCHY] if HIERARCHY in values else getattr(row, HIERARCHY, None)
    if parent_id is None:
        values["full_name"], values["sublevel"] = name, 0
        return
    parent = db.session.get(obj.model, parent_id)
    ancestor = parent
    while ancestor is not None:
        if row is not None and ancestor.id == row.id:
            raise ApiError(400, "invalid_value", f"fields.{HIERARCHY}: a {obj.name} cannot be "
                           "its own parent, nor the parent of one of its parents.")
        ancestor = (db.session.get(obj.model, ancestor.parent_id)
                    if ancestor.parent_id is not None else None)
    if parent.sublevel >= MAX_SUBLEVEL:
        raise ApiError(400, "invalid_value", f"fields.{HIERARCHY}: QuickBooks nests "
                       f"{obj.name}s at most {MAX_SUBLEVEL + 1} levels deep.")
    values["full_name"] = f"{parent.full_name}:{name}"
    values["sublevel"] = parent.sublevel + 1


def create(obj, models, body) -> Any:
    """Insert a WMS-created record (and its lines); returns the row, committed."""
    given = body.fields.model_fields_set
    values = _values(models.header, body.fields, given)
    if "item_type" in models.header.shown:
        values["item_type"] = values.get("item_type") or DEFAULT_ITEM_TYPE
    _set_refs(obj.refs, values, "fields")
    _set_hierarchy(obj, None, values)
    row = obj.model(**values)
    if models.lines is not None:
        for position, line in enumerate(body.lines or ()):
            row.lines.append(_new_line(obj, models, line, position))
    db.session.add(row)
    db.session.commit()
    return row


def update(obj, models, row, body) -> bool:
    """Apply a partial change; True when anything was written (and committed)."""
    values = _values(models.header, body.fields, body.fields.model_fields_set) \
        if body.fields is not None else {}
    for ref in obj.refs:  # the same reference again is no change (its QuickBooks id stays)
        if ref.column in values and values[ref.column] == getattr(row, ref.column):
            del values[ref.column]
    _set_refs(obj.refs, values, "fields")
    if {"name", HIERARCHY} & set(values):
        _set_hierarchy(obj, row, values)
    changed = _assign(row, values)
    if models.lines is not None and body.lines is not None:
        changed = _replace_lines(obj, models, row, body.lines) or changed
    if changed:
        row.push_held_at = None  # an edit lifts a hold ("Hold": until edited again)
        db.session.commit()
    else:
        db.session.rollback()
    return changed


def _assign(target, values: dict[str, Any]) -> bool:
    changed = False
    for column, value in values.items():
        if canon(getattr(target, column)) != canon(value):
            setattr(target, column, value)
            changed = True
    return changed


def _new_line(obj, models, line, position: int):
    where = f"lines[{position}]"
    names = line.model_fields_set - {"id"}
    values = _values(models.lines, line, names)
    _set_refs(obj.line_refs, values, where)
    return obj.line_model(position=position, **values)


def _replace_lines(obj, models, row, lines) -> bool:
    existing = {line.id: line for line in row.lines}
    kept: set[int] = set()
    changed = False
    for position, line in enumerate(lines):
        if line.id is None:
            row.lines.append(_new_line(obj, models, line, position))
            changed = True
            continue
        where = f"lines[{position}]"
        if line.id not in existing:
            raise ApiError(400, "unknown_reference",
                           f"{where}.id: {line.id} is not a line of this {obj.name}.")
        if line.id in kept:
            raise ApiError(400, "invalid_value", f"{where}.id: line {line.id} is given twice.")
        kept.add(line.id)
        values = _values(models.lines, line, line.model_fields_set - {"id"})
        for ref in obj.line_refs:
            if ref.column in values and values[ref.column] == getattr(existing[line.id],
                                                                      ref.column):
                del values[ref.column]
        _set_refs(obj.line_refs, values, where)
        values["position"] = position
        changed = _assign(existing[line.id], values) or changed
    for line_id, line in existing.items():
        if line_id not in kept:
            row.lines.remove(line)
            changed = True
    return changed
