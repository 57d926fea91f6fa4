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
    """A value copied as it is (strings, booleans, ints) from a dotted path."""

    def __init__(self, path: str, *, required: bool = False, max_length: int | None = None):
        self.path, self.required, self.max_length = path, required, max_length
        self.top = None if "." in path else path  # the common case, read without _dig

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


class Text(Field):
    def convert(self, value: Any) -> Any:
        if value.__class__ is not str:
            raise MappingError(f"{self.path} should be text, got {type(value).__name__}")
        if self.max_length is not None and len(value) > self.max_length:
            raise MappingError(f"{self.path} is longer than {self.max_length} characters")
        return value


class Bool(Field):
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

    def __init__(self, path: str, *, places: int | None = None, **kwargs):
        super().__init__(path, **kwargs)
        self.places = places

    def convert(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise MappingError(f"{self.path} should be a number, got {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise MappingError(f"{self.path} should be a number, got {value!r}") from None
        if not number.is_finite():
            raise MappingError(f"{self.path} should be a finite number, got {value!r}")
        if self.places is not None:
            number = number.quantize(Decimal(1).scaleb(-self.places))
        return number


class Day(Field):
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
    """The `fullName` of a reference we keep as text (terms, accounts)."""

    def convert(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            raise MappingError(f"{self.path} should be a reference")
        return value.get("fullName")


ADDRESS_KEYS = ("line1", "line2", "line3", "line4", "line5", "city", "state", "postalCode",
                "country", "note")


class Address(Field):
    """An address object, kept as JSON with only the keys that have a value."""

    def convert(self, value: Any) -> dict[str, str] | None:
        if not isinstance(value, dict):
            raise MappingError(f"{self.path} should be an address")
        kept = {k: value[k] for k in ADDRESS_KEYS if value.get(k) not in (None, "")}
        return kept or None


def apply_fields(fields: dict[str, Field], record: dict[str, Any], values: dict[str, Any],
                 base: dict[str, Any]) -> None:
    """Fill `values` (column values) and `base` (the same as QuickBooks sent them)."""
    for column, field in fields.items():
        base[column], values[column] = field.read(record)


class Ref:
    """A reference to another synced object, resolved to a local foreign key.

    `column` receives the local id, `qb_column` keeps QuickBooks' id beside it; `target` is
    the name of the object that owns the referenced rows.
    """

    def __init__(self, path: str | tuple[str, ...], *, target: str, column: str, qb_column: str,
                 required: bool = False):
        self.paths = (path,) if isinstance(path, str) else path
        self.path, self.target = self.paths[0], target
        self.column, self.qb_column, self.required = column, qb_column, required

    def qb_id(self, record: dict[str, Any]) -> str | None:
        """QuickBooks' id of the referenced record (the first of `paths` that is set)."""
        value = None
        for path in self.paths:
            value = _dig(record, path)
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
