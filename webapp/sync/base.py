"""`SyncObject`: the declarative base every synced object subclasses (STYLE principle 4).

An object module declares what it is — name, display name, direction, dependencies, the
QuickBooks resources, the WMS model, its fields, references and lines — and the engine does
the rest once: paging, checkpoints, upserts, progress, cancel checks, deletions and errors.
"""

from __future__ import annotations

from typing import Any, ClassVar

from webapp.sync.fields import Field, MappingError, Ref, Timestamp, apply_fields, compile_fields
from webapp.sync.merge import QuickBooksWins, Rule

DIRECTIONS = ("both", "pull")
LINKED_SALES_ORDERS = "linked_sales_orders"  # the key in `sync_base` (see links_sales_orders)
LIST, TRANSACTION, ADJUSTMENT = "list", "transaction", "adjustment"
LABEL_CHARS = 200  # SyncSession.current_record_label


class SyncObject:
    """Base of every synced object; subclasses with a `name` register themselves."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    direction: ClassVar[str] = "both"
    depends_on: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = LIST
    model: ClassVar[type]
    fields: ClassVar[dict[str, Field]] = {}
    refs: ClassVar[tuple[Ref, ...]] = ()
    # deleted-list-objects objectTypes / deleted-transactions transactionTypes, per resource
    deleted_types: ClassVar[dict[str, str]] = {}
    list_params: ClassVar[dict[str, Any]] = {}
    name_path: ClassVar[str] = "fullName"  # what nameFrom compares (vendors: name)
    # Lines (transactions): the line model, the column pointing at the header, fields, refs.
    line_model: ClassVar[type | None] = None
    line_parent: ClassVar[str] = ""
    line_fields: ClassVar[dict[str, Field]] = {}
    line_refs: ClassVar[tuple[Ref, ...]] = ()
    # Records that change sales orders without their revision moving (invoices): their
    # `linked_sales_orders` are kept in `sync_base` and read again after incremental pulls.
    links_sales_orders: ClassVar[bool] = False
    # The three-way merge (DESIGN §1, webapp.sync.merge): the rule for a field both sides
    # changed, and stock, moved as net changes. `computed` and `line_computed` are derived
    # from the fields' write side: what is never pushed (or set only at creation) is
    # QuickBooks' value always.
    rule: ClassVar[Rule] = QuickBooksWins()
    net_change: ClassVar[frozenset[str]] = frozenset()
    computed: ClassVar[frozenset[str]] = frozenset()
    line_computed: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # an intermediate base class, not an object
        if cls.direction not in DIRECTIONS:
            raise TypeError(f"{cls.__name__}.direction must be one of {DIRECTIONS}")
        cls.computed = frozenset(
            column for column, field in cls.column_fields().items() if not field.pushed)
        cls.line_computed = frozenset(
            column for column, field in cls.line_fields.items() if not field.pushed)
        from webapp.sync.registry import registry

        registry.register(cls)

    @classmethod
    def describe(cls) -> dict:
        """The object as the API lists it."""
        return {
            "name": cls.name,
            "display_name": cls.display_name,
            "direction": cls.direction,
            "depends_on": list(cls.depends_on),
        }

    @classmethod
    def as_listed(cls, record: dict[str, Any]) -> dict[str, Any]:
        """A record QuickBooks answered to our write, shaped as the pull's listing sends it
        (with `list_params`), so its fingerprint is the one the next pull computes."""
        return record

    @classmethod
    def row_label(cls, row) -> str:
        """A WMS row as people know it: its ref number or name, else its local id."""
        for column in ("ref_number", "full_name", "name"):
            if row.get(column):
                return str(row[column])[:LABEL_CHARS]
        return f"#{row['id']} (created in the WMS)"

    @classmethod
    def resource_of(cls, row) -> str:
        """The QuickBooks resource a row's record lives in."""
        return cls.resources[0]

    @classmethod
    def write_fields(cls, row) -> dict[str, Field]:
        """{column: field} of what a create or update of this row may send."""
        return cls.column_fields()

    @classmethod
    def ref_write(cls, ref: Ref, row) -> str | None:
        """Where a reference's QuickBooks id goes in this row's bodies (None: nowhere)."""
        return ref.write

    @classmethod
    def column_fields(cls) -> dict[str, Field]:
        """{column: field} of every synced header column (what `sync_base` is converted with)."""
        return cls.fields

    @classmethod
    def to_local(cls, record: dict[str, Any], resource: str) -> tuple[dict, dict]:
        """(column values, the same values as QuickBooks sent them) for the header row.

        The second dict is plain JSON: it becomes `sync_base`, the base of the three-way
        merge (convert it with the same fields to compare it with the row). Override for
        per-resource differences.
        """
        values: dict[str, Any] = {}
        base: dict[str, Any] = {}
        apply_fields(cls.fields, record, values, base)
        return values, base

    @classmethod
    def lines_to_local(cls, record: dict[str, Any]) -> list[tuple[dict, dict, dict]]:
        """[(line columns, line base, {Ref: QuickBooks id})] for each line, in order; the line
        base carries the references' QuickBooks ids too."""
        if cls.line_model is None:
            return []
        lines = record.get("lines")
        if not isinstance(lines, list):
            raise MappingError("lines should be a list")
        return cls.map_lines(lines)

    @classmethod
    def map_lines(cls, lines: list) -> list[tuple[dict, dict, dict]]:
        """`lines_to_local` for one array of QuickBooks lines."""
        out = []
        apply, refs = compile_fields(cls.line_fields), cls.line_refs
        for line in lines:
            if not isinstance(line, dict):
                raise MappingError("a line should be an object")
            values: dict[str, Any] = {"qb_line_id": line.get("id")}
            base: dict[str, Any] = {"qb_line_id": values["qb_line_id"]}
            apply(line, values, base)
            line_refs = {}
            for ref in refs:
                line_refs[ref] = base[ref.qb_column] = ref.qb_id(line)
            out.append((values, base, line_refs))
        return out

    @classmethod
    def linked_sales_orders(cls, record: dict[str, Any]) -> list[str]:
        """QuickBooks ids of the sales orders this record changes without their revision
        moving (invoices: the orders they invoice); read again after incremental pulls."""
        return []

    @classmethod
    def label(cls, record: dict[str, Any]) -> str | None:
        """The record as people know it: a transaction's ref number, a list object's name."""
        for key in ("refNumber", "fullName", "name"):
            value = record.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:LABEL_CHARS]
        return None

    @classmethod
    def is_active(cls, record: dict[str, Any]) -> bool:
        return record.get("isActive", True) is not False

    updated_at = Timestamp("updatedAt", required=True)
