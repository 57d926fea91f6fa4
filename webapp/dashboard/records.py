"""The records pages (DESIGN §9, issue 18): a list per object, a record page, and the edit and
new forms. Shells like the other pages: the records, their history and every write go through
the records API, from static/js/records.js. What the forms offer is read from the same models
that validate the API's bodies (webapp.api.record_schemas), so a field the API takes is a
field the form shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from sqlalchemy import Numeric, Text

from webapp.api.record_schemas import models_for
from webapp.api.schemas import MAX_ID
from webapp.dashboard import _poll_ms, bp
from webapp.sync.fields import Address, Bool, Day, Integer, Number
from webapp.sync.objects import registry

PAGE_SIZE = 25
# What a record page's lines table shows, of the columns an object's lines have.
LINE_COLUMNS = ("item_id", "description", "quantity", "unit_of_measure", "rate", "amount",
                "quantity_difference", "value_difference")
# Shown first in a form, in this order, when the object has them.
LEADING = ("name", "ref_number", "customer_id", "vendor_id", "transaction_date", "parent_id",
           "item_type")
ADDRESS_PARTS = (("line1", "Line 1"), ("line2", "Line 2"), ("city", "City"),
                 ("state", "State"), ("postalCode", "Postal code"), ("country", "Country"))
# Words people use for a few columns whose names do not read well as they are.
LABELS = {"cc_email": "CC email", "is_active": "Active", "sku": "SKU", "qb_id": "QuickBooks id",
          "is_eligible_for_1099": "Eligible for 1099", "parent_id": "Parent",
          "customer_id": "Customer", "vendor_id": "Vendor", "item_id": "Item",
          "preferred_vendor_id": "Preferred vendor", "ref_number": "Ref number",
          "is_manually_closed": "Closed by hand", "purchase_order_number": "PO number",
          "quantity_difference": "Quantity difference", "postalCode": "Postal code"}


def label_of(column: str) -> str:
    return LABELS.get(column) or column.replace("_", " ").capitalize()


@dataclass(frozen=True)
class FormField:
    """One input of a record form."""

    name: str
    label: str
    kind: str  # text, textarea, decimal, date, bool, integer, address, ref
    required: bool = False
    max_length: int | None = None
    target: str | None = None  # a ref's object
    target_display: str | None = None


def _field(columns, name: str, required: set[str], refs: dict[str, str]) -> FormField:
    column, field = columns.shown[name]
    if name in refs:
        target = refs[name]
        return FormField(name, label_of(name), "ref", name in required, target=target,
                         target_display=registry.get(target).display_name)
    if isinstance(field, Address):
        kind = "address"
    elif isinstance(field, Bool) or column.type.python_type is bool:
        kind = "bool"
    elif isinstance(field, Number) or isinstance(column.type, Numeric):
        kind = "decimal"
    elif isinstance(field, Day):
        kind = "date"
    elif isinstance(field, Integer):
        kind = "integer"
    elif isinstance(column.type, Text):
        kind = "textarea"
    else:
        kind = "text"
    length = getattr(column.type, "length", None)
    if field is not None and getattr(field, "max_length", None):
        length = min(length or field.max_length, field.max_length)
    return FormField(name, label_of(name), kind, name in required, max_length=length)


def form_fields(obj, creating: bool) -> tuple[list[FormField], list[FormField]]:
    """(header fields, line fields) a create or an update of `obj` takes."""
    models = models_for(obj.name)
    body = models.create if creating else models.update
    fields_model = body.model_fields["fields"].annotation
    if creating:
        required = {k for k, f in fields_model.model_fields.items() if f.is_required()}
    else:
        required = {"name"} & set(models.header.writable)
    names = [n for n in fields_model.model_fields if n != "external_id"]
    names.sort(key=lambda n: (LEADING.index(n) if n in LEADING else len(LEADING)))
    refs = {ref.column: ref.target for ref in obj.refs}
    header = [_field(models.header, n, required, refs) for n in names
              if n != "item_type" or creating]
    lines: list[FormField] = []
    if models.lines is not None:
        line_refs = {ref.column: ref.target for ref in obj.line_refs}
        wanted = ("item_id", "description", "quantity", "rate", "quantity_difference")
        lines = [_field(models.lines, n, set(), line_refs) for n in wanted
                 if n in models.lines.writable]
    return header, lines


def _object_or_404(name: str):
    if name not in registry.order:
        abort(404, description=f"There is no kind of record called {name!r}.")
    return registry.get(name)


def _id_or_404(record_id: int) -> int:
    if not 1 <= record_id <= MAX_ID:
        abort(404, description="There is no such record.")
    return record_id


@bp.get("/records/<name>")
def records_page(name: str):
    """One object's WMS records: search, state filter with counts, pages."""
    obj = _object_or_404(name)
    return render_template("dashboard/records.html", obj=obj, page_size=PAGE_SIZE)


@bp.get("/records/<name>/<int:record_id>")
def record_page(name: str, record_id: int):
    """One record: its fields beside what QuickBooks last sent, lines, and history."""
    obj = _object_or_404(name)
    models = models_for(name)
    refs = {ref.column: ref.target for ref in obj.refs}
    line_refs = {ref.column: ref.target for ref in obj.line_refs} if obj.line_model else {}
    labels = {column: label_of(column) for column in models.header.shown}
    line_columns = []
    if models.lines is not None:
        line_columns = [c for c in LINE_COLUMNS if c in models.lines.shown]
        labels.update({column: label_of(column) for column in models.lines.shown})
    return render_template("dashboard/record.html", obj=obj, record_id=_id_or_404(record_id),
                           refs=refs, line_refs=line_refs, labels=labels,
                           line_columns=line_columns, poll_ms=_poll_ms())


def _form(name: str, record_id: int | None):
    obj = _object_or_404(name)
    if obj.direction != "both":
        abort(404, description=f"{obj.display_name} come from QuickBooks only: the WMS cannot "
              "create or change them.")
    header, lines = form_fields(obj, creating=record_id is None)
    return render_template("dashboard/record_form.html", obj=obj, record_id=record_id,
                           fields=header, line_fields=lines, address_parts=ADDRESS_PARTS)


@bp.get("/records/<name>/new")
def new_record(name: str):
    """A form that creates a record in the WMS (the next sync creates it in QuickBooks)."""
    return _form(name, None)


@bp.get("/records/<name>/<int:record_id>/edit")
def edit_record(name: str, record_id: int):
    """A form that changes a WMS record (the next sync sends the change)."""
    return _form(name, _id_or_404(record_id))


@bp.app_context_processor
def record_objects():
    """The records pages in the navigation."""
    return {"record_objects": [(n, registry.get(n).display_name) for n in registry.order]}
