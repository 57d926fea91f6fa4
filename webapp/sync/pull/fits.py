"""What the WMS's columns can hold: a value one cannot fails its record alone, the same way on
SQLite (which would store it) and PostgreSQL (which would fail the whole page)."""

from __future__ import annotations

from webapp.sync.fields import MappingError

_LENGTHS: dict[str, dict[str, int]] = {}


def column_lengths(table) -> dict[str, int]:
    """{column: the most characters it holds} of a table's text columns."""
    held = _LENGTHS.get(table.name)
    if held is None:
        held = _LENGTHS[table.name] = {
            column.name: column.type.length for column in table.c
            if isinstance(getattr(column.type, "length", None), int)}
    return held


def check_fits(table, *groups: dict, what: str = "") -> None:
    """A value the column cannot hold fails the record alone, identically on SQLite (which
    would store it) and PostgreSQL (which would fail the whole page): text longer than the
    column, or holding a NUL character (PostgreSQL stores none, in text or JSON)."""
    lengths = column_lengths(table)
    for values in groups:
        for column, value in values.items():
            if value.__class__ is not str:
                if isinstance(value, dict | list) and holds_nul(value):
                    raise MappingError(f"{what}{column} holds a NUL character")
                continue
            limit = lengths.get(column)
            if limit is not None and len(value) > limit:
                raise MappingError(f"{what}{column} is longer than the {limit} characters the "
                                   "WMS keeps")
            if "\x00" in value:
                raise MappingError(f"{what}{column} holds a NUL character")


_LIMITED: dict[str, tuple[tuple[str, int], ...]] = {}


def fits(table, values: dict, refs: dict) -> bool:
    """`check_fits` of `values` and of `refs` ({Ref: QuickBooks id}) would pass, for a record
    that holds no NUL character anywhere (its JSON has no `\\u0000`): every value mapped from
    it is free of them, so only the table's limited text columns are looked at."""
    limited = _LIMITED.get(table.name)
    if limited is None:
        limited = _LIMITED[table.name] = tuple(column_lengths(table).items())
    for column, limit in limited:
        value = values.get(column)
        if value.__class__ is str and len(value) > limit:
            return False
    lengths = column_lengths(table)
    for ref, value in refs.items():
        if value.__class__ is str:
            limit = lengths.get(ref.qb_column)
            if limit is not None and len(value) > limit:
                return False
    return True


def holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False
