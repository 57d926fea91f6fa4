"""Field converters: how one QuickBooks JSON value becomes one WMS column value.

Object modules declare `{column: converter}`; the engine applies them. Converters raise
`MappingError` for a value they cannot accept, which turns that record into a `sync_error`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.jsonutil import json_default  # noqa: F401 - part of this module's API


class MappingError(ValueError):
    """A QuickBooks record that cannot be written to the WMS as it is."""


def _dig(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise MappingError(f"{path} is not an object")
        value = value.get(part)
    return value


class Field:
    """A value copied as it is (strings, booleans, ints) from a dotted path.

    The write side is declared with the read side (DESIGN §1): `write` is where the value
    goes in a create or update body (by default where it was read; a dotted path nests),
    `write=False` marks a field QuickBooks computes or sets itself (never pushed: its
    value is always QuickBooks'), `create_only` one that can be set only at creation,
    `update_only` one a create does not take.
    """

    def __init__(self, path: str, *, required: bool = False, max_length: int | None = None,
                 write: str | bool = True, create_only: bool = False,
                 update_only: bool = False, in_base: bool = True):
        self.path, self.required, self.max_length = path, required, max_length
        # Kept in `sync_base` (QuickBooks' copy): not a name copied from another record, which
        # QuickBooks changes with that record and without a new revision of this one.
        self.in_base = in_base
        self.top = None if "." in path else path  # the common case, read without _dig
        self.write = self.write_path(path) if write is True else (write or None)
        self.create_only, self.update_only = create_only, update_only

    def write_path(self, path: str) -> str:
        return path

    @property
    def pushed(self) -> bool:
        """Sent to QuickBooks on update (not computed by it, not set only at creation)."""
        return self.write is not None and not self.create_only

    def to_qb(self, value: Any) -> Any:
        """A column value as QuickBooks takes it in a request body."""
        return value

    def __call__(self, record: dict[str, Any]) -> Any:
        return self.read(record)[1]

    def read(self, record: dict[str, Any]) -> tuple[Any, Any]:
        """(the value as QuickBooks sent it, the column value)."""
        raw = record.get(self.top) if self.top is not None else _dig(record, self.path)
        if raw is None:
            if self.required:
                raise MappingError(f"{self.path} is missing")
            return None, None
        return raw, self.convert(raw)

    def convert(self, value: Any) -> Any:
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            raise MappingError(f"{self.path} is longer than {self.max_length} characters")
        return value

    def fast(self, raw: str) -> str | None:
        """A Python expression over the variable `raw` that is the column value in the common
        case and falls back to `convert(raw)` otherwise (it raises the clear error); None
        when every value goes through `convert`. Used by `compile_fields`."""
        plain = type(self).convert is Field.convert and self.max_length is None
        return raw if plain else None


class Text(Field):
    def fast(self, raw: str) -> str:
        length = "" if self.max_length is None else f" and len({raw}) <= {self.max_length}"
        return f"{raw} if {raw}.__class__ is str{length} else convert({raw})"

    def convert(self, value: Any) -> Any:
        if value.__class__ is not str:
            raise MappingError(f"{self.path} should be text, got {type(value).__name__}")
        if self.max_length is not None and len(value) > self.max_length:
            raise MappingError(f"{self.path} is longer than {self.max_length} characters")
        return value


class Bool(Field):
    def fast(self, raw: str) -> str:
        return f"{raw} if {raw} is True or {raw} is False else convert({raw})"

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise MappingError(f"{self.path} should be true or false, got {value!r}")
        return value


class Integer(Field):
    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise MappingError(f"{self.path} should be a whole number, got {value!r}")
        return int(value)


class Number(Field):
    """Money (decimal strings) and quantities (JSON numbers) as exact `Decimal`s."""

    def to_qb(self, value: Any) -> Any:
        if value is None:
            return None
        number = Decimal(value)
        if self.places is not None:  # money and rates travel as decimal strings
            return format(number.quantize(self.quantum), "f")
        return int(number) if number == number.to_integral_value() else float(number)

    def __init__(self, path: str, *, places: int | None = None, **kwargs):
        super().__init__(path, **kwargs)
        self.places = places
        self.quantum = None if places is None else Decimal(1).scaleb(-places)

    def convert(self, value: Any) -> Decimal:
        kind = value.__class__
        try:
            if kind is str or kind is int:
                number = Decimal(value)
            elif kind is float:
                number = Decimal(repr(value))  # the shortest text that reads back the same
            else:  # booleans, objects, lists
                raise InvalidOperation
            if not number.is_finite():
                raise MappingError(f"{self.path} should be a finite number, got {value!r}")
        except InvalidOperation:
            raise MappingError(f"{self.path} should be a number, got {value!r}") from None
        if self.quantum is not None:
            try:
                number = number.quantize(self.quantum)
            except InvalidOperation:
                raise MappingError(f"{self.path} has too many digits: {value!r}") from None
        return number


class Day(Field):
    def to_qb(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def convert(self, value: Any) -> date:
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise MappingError(f"{self.path} should be a date, got {value!r}") from None


class Timestamp(Field):
    """QuickBooks' `updatedAt` (with its UTC offset) as an aware datetime."""

    def convert(self, value: Any) -> datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise MappingError(f"{self.path} should be a timestamp, got {value!r}") from None
        if parsed.tzinfo is None:
            raise MappingError(f"{self.path} has no UTC offset: {value!r}")
        return parsed


class RefName(Field):
    """The `fullName` of a reference we keep as text (terms, accounts). Pushed as the
    reference's id (`<path>Id`), looked up by name in `lookup` (QuickBooks resources, tried
    in order) once per sync."""

    def __init__(self, path: str, *, lookup: tuple[str, ...] = ("accounts",), **kwargs):
        super().__init__(path, **kwargs)
        self.lookup = lookup

    def write_path(self, path: str) -> str:
        return path + "Id"

    def convert(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            raise MappingError(f"{self.path} should be a reference")
        return value.get("fullName")


ADDRESS_KEYS = ("line1", "line2", "line3", "line4", "line5", "city", "state", "postalCode",
                "country", "note")


class Address(Field):
    """An address object, kept as JSON with only the keys that have a value."""

    def to_qb(self, value: Any) -> Any:
        """Every key, an empty one as "" (QuickBooks takes no nulls here; "" clears it)."""
        value = value if isinstance(value, dict) else {}
        return {k: value.get(k) or "" for k in ADDRESS_KEYS}

    def convert(self, value: Any) -> dict[str, str] | None:
        if not isinstance(value, dict):
            raise MappingError(f"{self.path} should be an address")
        kept = {k: value[k] for k in ADDRESS_KEYS if value.get(k) not in (None, "")}
        return kept or None


def apply_fields(fields: dict[str, Field], record: dict[str, Any], values: dict[str, Any],
                 base: dict[str, Any]) -> None:
    """Fill `values` (column values) and `base` (the same as QuickBooks sent them)."""
    compile_fields(fields)(record, values, base)


_COMPILED: dict[int, tuple[dict, Any]] = {}


def compile_fields(fields: dict[str, Field]):
    """`apply(record, values, base)` for these fields, generated as straight-line Python.

    The same as calling `field.read` for each column, without a method call or two per value:
    a page of 150 orders with their lines has some 15,000 values, and this is most of what
    mapping costs. Each field contributes its `fast` expression; values it does not accept go
    to its `convert`, which raises the `MappingError`. Field sets are module constants, so the
    compiled function is kept for the life of the dict.
    """
    held = _COMPILED.get(id(fields))
    if held is not None and held[0] is fields:
        return held[1]
    namespace: dict[str, Any] = {"MappingError": MappingError, "_dig": _dig}
    body = ["def apply(record, values, base):", "    get = record.get"]
    for number, (column, field) in enumerate(fields.items()):
        raw, conv = f"r{number}", f"c{number}"
        namespace[conv] = field.convert
        namespace[f"p{number}"] = field.path
        read = f"get({field.top!r})" if field.top is not None else f"_dig(record, p{number})"
        body.append(f"    {raw} = {read}")
        expr = (field.fast(raw) or f"convert({raw})").replace("convert(", f"{conv}(")
        if field.required:
            body += [f"    if {raw} is None:",
                     f"        raise MappingError(p{number} + ' is missing')",
                     f"    values[{column!r}] = {expr}"]
        else:
            body.append(f"    values[{column!r}] = None if {raw} is None else {expr}")
        if field.in_base:
            body.append(f"    base[{column!r}] = {raw}")
    exec(compile("\n".join(body), f"<fields {len(fields)}>", "exec"), namespace)  # noqa: S102
    _COMPILED[id(fields)] = (fields, namespace["apply"])
    return namespace["apply"]


class Ref:
    """A reference to another synced object, resolved to a local foreign key.

    `column` receives the local id, `qb_column` keeps QuickBooks' id beside it; `target` is
    the name of the object that owns the referenced rows. An `unmirrored` reference may name
    a record of a kind the WMS does not mirror (a line's discount, subtotal or item group):
    its id is matched against the WMS's rows only, never looked up in QuickBooks (each kind
    would cost a request, and QuickBooks answers an unknown id with an error), and a row it
    does not match keeps `qb_column` with `column` NULL — no error. A mirrored record the
    WMS has not read yet is linked when its own pull writes it (`PageWriter`).
    """

    def __init__(self, path: str | tuple[str, ...], *, target: str, column: str, qb_column: str,
                 required: bool = False, unmirrored: bool = False,
                 write: str | None = None):
        self.paths = (path,) if isinstance(path, str) else path
        self.path, self.target = self.paths[0], target
        self.write = write or self.path + "Id"  # where its QuickBooks id goes in a body
        self.column, self.qb_column, self.required = column, qb_column, required
        self.unmirrored = unmirrored

    def qb_id(self, record: dict[str, Any]) -> str | None:
        """QuickBooks' id of the referenced record (the first of `paths` that is set)."""
        value = None
        for path in self.paths:
            value = record.get(path) if "." not in path else _dig(record, path)
            if value is not None:
                break
        if value is None:
            if self.required:
                raise MappingError(f"{self.path} is missing")
            return None
        if not isinstance(value, dict):
            raise MappingError(f"{self.path} should be a reference")
        ref_id = value.get("id")
        if ref_id is None and self.required:
            raise MappingError(f"{self.path} has no id")
        return ref_id
