"""The records API's pydantic models (DESIGN §7), generated per object from the same field
declarations the sync maps with (webapp.sync.objects) and the WMS columns they fill, so the
API, its validation and openapi.json cannot drift from what the sync writes.

Per object `Customer`: `CustomerFields` and, for transactions, `CustomerLine` (what a record
document holds), `CustomerRecord`, `CustomerRecordPage`, and for objects the WMS may write,
`CustomerCreate` / `CustomerUpdate` (bodies) with their `...CreateFields`, `...UpdateFields`
and `...LineInput`. Request bodies answer their own errors (see `RecordBody`): a field that
does not exist, one the WMS may not write, a value QuickBooks would refuse, or a required
field left out, each a 400 naming the field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    create_model,
    model_validator,
)
from sqlalchemy import Numeric, String

from webapp.api.layer import ApiError
from webapp.api.schemas import MAX_ID, Response, Timestamp
from webapp.models.wms import ITEM_TYPES, SYNC_COLUMNS
from webapp.sync.fields import ADDRESS_KEYS, Address, Bool, Day, Integer, Number
from webapp.sync.objects import registry

SyncState = Literal["synced", "pending", "error", "deleted"]
# QuickBooks' limits where the WMS column is longer or unbounded (Conductor's create bodies):
# memos, notes and descriptions, and the parts of an address.
LONG_TEXT_CHARS = 4095
ADDRESS_CHARS = {"city": 31, "state": 21, "postalCode": 13, "country": 31}
ADDRESS_LINE_CHARS = 41
# As QuickBooks takes it: 8-4-4-4-12 hexadecimal digits, nothing around (qbdsim.validate).
GUID = r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$"
NO_COLON = r"^[^:]*$"
# Columns of a line that only the sync sets (QuickBooks' ids, groups, order).
LINE_SYNC_COLUMNS = frozenset({"qb_line_id", "item_qb_id", "is_line_group", "group_qb_line_id",
                               "position"})
# What each object's create needs, beyond the columns the database requires.
REQUIRED_ON_CREATE = {"sales_order": {"customer_id"}, "purchase_order": {"vendor_id"}}

LocalId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


def _storable(value: str | None) -> str | None:
    """Text both databases can store: no NUL character, no lone surrogate."""
    if value is not None and ("\x00" in value or _unencodable(value)):
        raise ValueError("contains a character that cannot be stored")
    return value


def _unencodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


Plain = Annotated[str, AfterValidator(_storable)]


class AddressInput(BaseModel):
    """An address as QuickBooks holds it; leave out the parts it has none of."""

    model_config = ConfigDict(extra="forbid")

    line1: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)
    line2: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)
    line3: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)
    line4: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)
    line5: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)
    city: Plain | None = Field(default=None, max_length=ADDRESS_CHARS["city"])
    state: Plain | None = Field(default=None, max_length=ADDRESS_CHARS["state"])
    postalCode: Plain | None = Field(default=None, max_length=ADDRESS_CHARS["postalCode"])  # noqa: N815
    country: Plain | None = Field(default=None, max_length=ADDRESS_CHARS["country"])
    note: Plain | None = Field(default=None, max_length=ADDRESS_LINE_CHARS)


assert tuple(AddressInput.model_fields) == ADDRESS_KEYS


class RecordSync(Response):
    qb_revision: str | None
    qb_updated_at: Timestamp | None = Field(description="QuickBooks' last change it sent.")
    local_updated_at: Timestamp | None = Field(description="The WMS's last change.")
    synced_at: Timestamp | None = Field(description="When the sync last wrote the row.")


class RecordEvent(Response):
    """One thing that happened to the record in one sync (the ledger, DESIGN §4)."""

    session_id: int | None
    action: str = Field(description="pulled_created, pulled_updated, pushed_created, "
                        "pushed_updated, conflict, error or skipped.")
    field: str | None = Field(default=None, description="A conflict's field.")
    fields: list[str] | None = Field(description="The columns a pull or push changed.")
    detail: dict[str, Any] | None = Field(
        description='A conflict\'s {"base", "wms_value", "quickbooks_value", "winner", "rule"}; '
        'an error\'s {"code", "message"}.')
    revision_before: str | None = None
    revision_after: str | None = None
    created_at: Timestamp | None


class RecordBase(Response):
    """What QuickBooks last sent (the base of the three-way merge), as WMS columns."""

    fields: dict[str, Any] = Field(description="The base's value of each synced column "
                                   "(references as QuickBooks ids, `customer_qb_id`).")
    changed: list[str] = Field(description="Columns the WMS changed since, not yet sent.")
    lines_changed: bool = Field(description="The WMS changed the lines since.")
    lines: list[dict[str, Any]] | None = Field(
        default=None, description="The lines QuickBooks last sent (transactions).")


class RecordCounts(Response):
    """How many records of the object are in each state."""

    all: int
    pending: int = Field(description="Exact when `pending_exact`, else rows the WMS touched "
                         "since the last sync (an upper bound).")
    pending_exact: bool
    error: int
    deleted: int
    held: int = Field(description="Held back from the push until changed again.")


class RecordHistory(Response):
    events: list[RecordEvent] = Field(description="Newest first.")
    next_cursor: str | None


class RecordQuery(BaseModel):
    """Filters and paging of a records list."""

    model_config = ConfigDict(extra="ignore")

    q: Plain | None = Field(default=None, max_length=200,
                          description="Name, full name or ref number contains (any case).")
    state: SyncState | None = Field(default=None, description="Only records in this state.")
    changed_since: str | None = Field(
        default=None, max_length=40, json_schema_extra={"format": "date-time"},
        description="Rows the sync or the WMS changed at or after this ISO time (no offset: "
        "UTC), oldest change first.")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200,
                               description="The `next_cursor` of the previous page (opaque).")


# --- fields --------------------------------------------------------------------------------


def _decimal_pattern(column) -> str:
    kind = column.type
    whole = (kind.precision or 18) - (kind.scale or 0)
    places = kind.scale or 0
    fraction = rf"(\.[0-9]{{1,{places}}})?" if places else ""
    return rf"^-?[0-9]{{1,{whole}}}{fraction}$"


def _iso_date(value: str) -> str:
    date.fromisoformat(value)  # ValueError: not a day of the calendar
    return value


def _text_limit(column, field) -> int:
    limits = [LONG_TEXT_CHARS]
    if isinstance(column.type, String) and column.type.length:
        limits.append(column.type.length)
    if field is not None and field.max_length:
        limits.append(field.max_length)
    return min(limits)


def input_type(column, field) -> Any:
    """The pydantic type a client's value for `column` must have."""
    if isinstance(field, Address):
        return AddressInput
    if isinstance(field, Bool):
        return StrictBool
    if isinstance(field, Integer):
        return StrictInt
    if isinstance(field, Number) or isinstance(column.type, Numeric):
        return Annotated[str, Field(
            pattern=_decimal_pattern(column),
            description=f"A decimal string, at most {column.type.scale} places.")]
    if isinstance(field, Day):
        return Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                    json_schema_extra={"format": "date"}),
                         AfterValidator(_iso_date)]
    if column.name == "external_id":
        return Annotated[str, Field(pattern=GUID, description="A GUID, set only at creation.")]
    if column.name == "name":
        return Annotated[Plain, Field(min_length=1, max_length=_text_limit(column, field),
                                    pattern=NO_COLON,
                                    description="No colon: it separates a parent's name.")]
    return Annotated[Plain, Field(max_length=_text_limit(column, field))]


def output_type(column, field) -> Any:
    """The type of `column` in a record document."""
    if isinstance(field, Address):
        return dict[str, str]
    if isinstance(field, Bool) or column.type.python_type is bool:
        return bool
    if isinstance(field, Number) or isinstance(column.type, Numeric):
        return Annotated[str, Field(description="A decimal string.")]
    if isinstance(field, Day):
        return Annotated[str, Field(json_schema_extra={"format": "date"})]
    if column.type.python_type is int:
        return int
    return str


@dataclass(frozen=True)
class Columns:
    """Which columns of an object (or of its lines) a client reads, writes or may not write."""

    shown: dict[str, tuple[Any, Any]]  # column -> (column, field) in document order
    writable: tuple[str, ...]
    read_only: frozenset[str]


def header_columns(obj) -> Columns:
    table = obj.model.__table__
    fields = obj.column_fields()
    shown: dict[str, tuple[Any, Any]] = {}
    if obj.name == "item":
        shown["item_type"] = (table.c.item_type, None)
    for column, field in fields.items():
        shown[column] = (table.c[column], field)
    for ref in obj.refs:
        shown[ref.column] = (table.c[ref.column], None)
        shown[ref.qb_column] = (table.c[ref.qb_column], None)
    # `item_type` and `external_id` are set at creation only (RecordBody lets them in there).
    never = (obj.computed | obj.net_change | set(SYNC_COLUMNS) | {r.qb_column for r in obj.refs}
             | ({"item_type", "external_id"} & set(shown)))
    writable = tuple(c for c in shown if c not in never)
    return Columns(shown, writable, frozenset(never))


def line_columns(obj) -> Columns:
    table = obj.line_model.__table__
    shown: dict[str, tuple[Any, Any]] = {
        name: (table.c[name], None) for name in ("qb_line_id", "is_line_group",
                                                 "group_qb_line_id") if name in table.c}
    for column, field in obj.line_fields.items():
        shown[column] = (table.c[column], field)
    for ref in obj.line_refs:
        shown[ref.column] = (table.c[ref.column], None)
        shown[ref.qb_column] = (table.c[ref.qb_column], None)
    never = obj.line_computed | LINE_SYNC_COLUMNS | {obj.line_parent}
    writable = tuple(c for c in shown if c not in never)
    return Columns(shown, writable, frozenset(never))


# --- request bodies ------------------------------------------------------------------------


class RecordBody(BaseModel):
    """A create or update body. It checks the field names first, so a never-pushed field is
    `read_only_field` and an unknown one `unknown_field` rather than a schema error, then
    answers a bad value `invalid_value` and a missing one `missing_field`, naming it."""

    model_config = ConfigDict(extra="forbid")
    _columns: ClassVar[Columns]
    _lines: ClassVar[Columns | None]
    _creating: ClassVar[bool]

    @model_validator(mode="wrap")
    @classmethod
    def _answer_errors(cls, data: Any, handler):
        if isinstance(data, dict):
            _check_names(cls, data)
        try:
            return handler(data)
        except ValidationError as error:
            raise _as_invalid(error) from None


def _check_names(cls: type[RecordBody], data: dict) -> None:
    allowed = ("fields", "lines") if cls._lines is not None else ("fields",)
    for key in data:
        if key not in allowed:
            raise ApiError(400, "unknown_field", f"Unknown field {key!r}: send "
                           f"{' and '.join(repr(a) for a in allowed)}.")
    writable = set(cls._columns.writable)
    if cls._creating:
        writable |= {"item_type", "external_id"} & set(cls._columns.shown)
    if isinstance(data.get("fields"), dict):
        _check_keys(data["fields"], writable, cls._columns.read_only, "fields")
    if cls._lines is not None and isinstance(data.get("lines"), list):
        for number, line in enumerate(data["lines"]):
            if isinstance(line, dict):
                _check_keys(line, {*cls._lines.writable, "id"}, cls._lines.read_only,
                            f"lines[{number}]")


def _check_keys(values: dict, writable: set[str], read_only: frozenset[str], where: str) -> None:
    for key in values:
        if key in writable:
            continue
        if key in read_only:
            raise ApiError(400, "read_only_field",
                           f"{where}.{key} is read-only: QuickBooks computes it or sets it only "
                           "when the record is created, so the WMS cannot change it.")
        raise ApiError(400, "unknown_field", f"{where}.{key} is not a field of this record.")


def _as_invalid(error: ValidationError) -> ApiError:
    first = error.errors(include_url=False, include_context=False, include_input=False)[0]
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"])
    where = where.replace(".[", "[") or "body"
    if first["type"] == "missing":
        return ApiError(400, "missing_field", f"{where} is required.")
    if first["type"] == "string_pattern_mismatch" and where.endswith(".name"):
        message = f"{where} cannot contain ':' (QuickBooks puts it between a parent's name and "
        return ApiError(400, "invalid_value", message + "its child's).")
    return ApiError(400, "invalid_value", f"{where}: {first['msg']}.")


def _strip_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


def _fields_model(name: str, columns: Columns, writable: tuple[str, ...],
                  required: set[str], partial: bool, **extra: Any) -> type[BaseModel]:
    definitions: dict[str, Any] = dict(extra)
    for column_name in writable:
        column, field = columns.shown[column_name]
        kind = (LocalId if column_name.endswith("_id") and field is None and column_name != "id"
                else input_type(column, field))
        if column_name == "item_type":
            kind = Literal[ITEM_TYPES]  # type: ignore[valid-type]
        nullable = column.nullable and column_name not in required
        if column_name in required and not partial:
            definitions[column_name] = (kind, ...)
        elif nullable:
            definitions[column_name] = (kind | None, None)
        else:
            definitions[column_name] = (kind, None)
    config = ConfigDict(extra="forbid",
                        json_schema_extra=_strip_defaults if partial else None)
    return create_model(name, __config__=config, **definitions)


def _body_model(name: str, base_fields: type[BaseModel], line_input: type[BaseModel] | None,
                columns: Columns, lines: Columns | None, creating: bool) -> type[RecordBody]:
    definitions: dict[str, Any] = {
        "fields": (base_fields, ... if creating else None)}
    if line_input is not None:
        definitions["lines"] = (list[line_input] | None, Field(  # type: ignore[valid-type]
            default=None, max_length=1000,
            description="Replaces the lines: a line with its `id` stays (its other columns "
            "as given, the rest kept), one without is new, lines left out are deleted."))
    model = create_model(name, __base__=RecordBody, **definitions)
    model._columns, model._lines, model._creating = columns, lines, creating
    return model


# --- per object ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordModels:
    """The models of one object's endpoints; `create`/`update` None for pull-only objects."""

    fields: type[BaseModel]
    line: type[BaseModel] | None
    record: type[BaseModel]
    page: type[BaseModel]
    create: type[RecordBody] | None
    update: type[RecordBody] | None
    header: Columns
    lines: Columns | None


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _output_model(name: str, columns: Columns, extra: dict[str, Any]) -> type[BaseModel]:
    definitions = dict(extra)
    for column_name, (column, field) in columns.shown.items():
        definitions[column_name] = (output_type(column, field) | None, ...)
    return create_model(name, __base__=Response, **definitions)


@functools.cache
def models_for(name: str) -> RecordModels:
    """The models of object `name` (built once)."""
    obj = registry.get(name)
    prefix = pascal(name)
    header = header_columns(obj)
    lines = line_columns(obj) if obj.line_model is not None else None
    fields = _output_model(f"{prefix}Fields", header, {})
    line = (_output_model(f"{prefix}Line", lines, {"id": (int, ...)})
            if lines is not None else None)
    record_fields: dict[str, Any] = {
        "id": (int, ...),
        "object": (Literal[name], ...),  # type: ignore[valid-type]
        "qb_id": (str | None, Field(description="Null until the sync creates it in QuickBooks.")),
        "label": (str | None, Field(description="Ref number, full name or name.")),
        "sync_state": (SyncState, ...),
        "held": (bool, Field(description="Held back from the push (\"Hold\") until the WMS "
                             "changes it again or the hold is lifted.")),
        "push_error": (str | None, Field(description="Why QuickBooks refused the last push.")),
        "base": (RecordBase | None, Field(description="What QuickBooks last sent; null for a "
                                          "record not yet in QuickBooks.")),
        "fields": (fields, ...),
        "sync": (RecordSync, ...),
    }
    if line is not None:
        record_fields["lines"] = (list[line], ...)  # type: ignore[valid-type]
    record = create_model(f"{prefix}Record", __base__=Response, **record_fields)
    page = create_model(f"{prefix}RecordPage", __base__=Response,
                        records=(list[record], ...),  # type: ignore[valid-type]
                        next_cursor=(str | None, ...))
    create = update = None
    if obj.direction == "both":
        required = {c for c in header.writable if not header.shown[c][0].nullable
                    and header.shown[c][0].default is None} | REQUIRED_ON_CREATE.get(name, set())
        creatable = (*header.writable, *({"item_type", "external_id"} & set(header.shown)))
        line_input = None
        if lines is not None:
            line_input = _fields_model(
                f"{prefix}LineInput", lines, lines.writable, set(), False,
                id=(LocalId | None, Field(default=None, description="Keep this line.")))
        create = _body_model(
            f"{prefix}Create",
            _fields_model(f"{prefix}CreateFields", header, creatable, required, False),
            line_input, header, lines, True)
        update = _body_model(
            f"{prefix}Update",
            _fields_model(f"{prefix}UpdateFields", header, header.writable, required, True),
            line_input, header, lines, False)
    return RecordModels(fields, line, record, page, create, update, header, lines)
