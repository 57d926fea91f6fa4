"""The straightforward pull: a BASELINE for bench/pull.py (issue 21), not product code.

This is the pull a first plan describes, written the way one would in an afternoon: the
official `conductor-py` client with its typed models and its auto-pagination (150 records a
page), over the resources qbsync mirrors (customers, vendors, the four item types, sales
orders, purchase orders and invoices with their lines, and inventory adjustments, which
QuickBooks does not paginate: one call). Each record is looked up by its QuickBooks id in a
plain SQLite database of its own (SQLAlchemy ORM, a table per object, the lines in a lines
table per transaction type) and created or updated there, one commit per record. A record whose
revision number is the one already stored is skipped — the one shortcut the stored revision
invites.

No resumability, no deletions, no references resolved, no retries beyond the SDK's own, no WMS
merge: a second run reads everything again (`since_last_run=False`, the default), or, with
`since_last_run=True`, only what changed since the last run started (`updatedAfter`, one
request per resource when nothing changed).

`run(base_url, db_path)` does one pass and says how many records it read, wrote and how many
requests it made; `python bench/peer.py URL DB` runs it from the command line.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from conductor import Conductor
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

KEY, END_USER = "sk_sim_qbsync_local", "end_usr_qbsim_local"


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str] = mapped_column(unique=True)
    revision: Mapped[str | None]
    name: Mapped[str | None]
    full_name: Mapped[str | None]
    company_name: Mapped[str | None]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    is_active: Mapped[bool | None]
    balance: Mapped[str | None]
    updated_at: Mapped[str | None]


class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str] = mapped_column(unique=True)
    revision: Mapped[str | None]
    name: Mapped[str | None]
    company_name: Mapped[str | None]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    is_active: Mapped[bool | None]
    balance: Mapped[str | None]
    updated_at: Mapped[str | None]


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str] = mapped_column(unique=True)
    kind: Mapped[str]
    revision: Mapped[str | None]
    name: Mapped[str | None]
    full_name: Mapped[str | None]
    sku: Mapped[str | None]
    price: Mapped[str | None]
    cost: Mapped[str | None]
    quantity_on_hand: Mapped[float | None]
    is_active: Mapped[bool | None]
    updated_at: Mapped[str | None]


class LineColumns:
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str | None]
    item_qb_id: Mapped[str | None]
    item_name: Mapped[str | None]
    description: Mapped[str | None]
    quantity: Mapped[float | None]
    rate: Mapped[str | None]
    amount: Mapped[str | None]


class SalesOrderLine(LineColumns, Base):
    __tablename__ = "sales_order_lines"
    sales_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_orders.id"), index=True)


class PurchaseOrderLine(LineColumns, Base):
    __tablename__ = "purchase_order_lines"
    purchase_order_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_orders.id"),
                                                   index=True)


class InvoiceLine(LineColumns, Base):
    __tablename__ = "invoice_lines"
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)


class InventoryAdjustmentLine(Base):
    __tablename__ = "inventory_adjustment_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_adjustment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inventory_adjustments.id"), index=True)
    qb_id: Mapped[str | None]
    item_qb_id: Mapped[str | None]
    item_name: Mapped[str | None]
    quantity_difference: Mapped[float | None]
    value_difference: Mapped[float | None]


class DocumentColumns:
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str] = mapped_column(unique=True)
    revision: Mapped[str | None]
    ref_number: Mapped[str | None]
    transaction_date: Mapped[str | None]
    total_amount: Mapped[str | None]
    memo: Mapped[str | None]
    updated_at: Mapped[str | None]


class SalesOrder(DocumentColumns, Base):
    __tablename__ = "sales_orders"
    customer_qb_id: Mapped[str | None]
    is_fully_invoiced: Mapped[bool | None]
    is_manually_closed: Mapped[bool | None]
    lines: Mapped[list[SalesOrderLine]] = relationship(cascade="all, delete-orphan")


class PurchaseOrder(DocumentColumns, Base):
    __tablename__ = "purchase_orders"
    vendor_qb_id: Mapped[str | None]
    is_fully_received: Mapped[bool | None]
    is_manually_closed: Mapped[bool | None]
    lines: Mapped[list[PurchaseOrderLine]] = relationship(cascade="all, delete-orphan")


class Invoice(DocumentColumns, Base):
    __tablename__ = "invoices"
    customer_qb_id: Mapped[str | None]
    balance_remaining: Mapped[str | None]
    is_paid: Mapped[bool | None]
    lines: Mapped[list[InvoiceLine]] = relationship(cascade="all, delete-orphan")


class InventoryAdjustment(Base):
    __tablename__ = "inventory_adjustments"
    id: Mapped[int] = mapped_column(primary_key=True)
    qb_id: Mapped[str] = mapped_column(unique=True)
    revision: Mapped[str | None]
    ref_number: Mapped[str | None]
    transaction_date: Mapped[str | None]
    memo: Mapped[str | None]
    updated_at: Mapped[str | None]
    lines: Mapped[list[InventoryAdjustmentLine]] = relationship(cascade="all, delete-orphan")


class LastRun(Base):
    __tablename__ = "last_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[str]


def ref_id(ref):
    return ref.id if ref is not None else None


def ref_name(ref):
    return ref.full_name if ref is not None else None


def text(value):
    return None if value is None else str(value)


def all_lines(record):
    """The record's lines, those inside line groups included."""
    lines = list(record.lines or [])
    for group in getattr(record, "line_groups", None) or []:
        lines.extend(group.lines or [])
    return lines


def document_line(model, line):
    return model(qb_id=line.id, item_qb_id=ref_id(line.item), item_name=ref_name(line.item),
                 description=line.description, quantity=line.quantity, rate=text(line.rate),
                 amount=text(line.amount))


def save_customer(c):
    return dict(name=c.name, full_name=c.full_name, company_name=c.company_name,
                email=c.email, phone=c.phone, is_active=c.is_active, balance=text(c.balance))


def save_vendor(v):
    return dict(name=v.name, company_name=v.company_name, email=v.email, phone=v.phone,
                is_active=v.is_active, balance=text(v.balance))


def save_item(kind):
    def values(i):
        price = cost = None
        if kind == "inventory":
            price, cost = i.sales_price, i.purchase_cost
        elif i.sales_and_purchase_details is not None:
            price = i.sales_and_purchase_details.sales_price
            cost = i.sales_and_purchase_details.purchase_cost
        elif i.sales_or_purchase_details is not None:
            price = i.sales_or_purchase_details.price
        return dict(kind=kind, name=i.name, full_name=i.full_name,
                    sku=getattr(i, "sku", None), price=text(price), cost=text(cost),
                    quantity_on_hand=getattr(i, "quantity_on_hand", None),
                    is_active=i.is_active)
    return values


def save_sales_order(o):
    return dict(ref_number=o.ref_number, transaction_date=text(o.transaction_date),
                total_amount=text(o.total_amount), memo=o.memo,
                customer_qb_id=ref_id(o.customer), is_fully_invoiced=o.is_fully_invoiced,
                is_manually_closed=o.is_manually_closed,
                lines=[document_line(SalesOrderLine, line) for line in all_lines(o)])


def save_purchase_order(o):
    return dict(ref_number=o.ref_number, transaction_date=text(o.transaction_date),
                total_amount=text(o.total_amount), memo=o.memo,
                vendor_qb_id=ref_id(o.vendor), is_fully_received=o.is_fully_received,
                is_manually_closed=o.is_manually_closed,
                lines=[document_line(PurchaseOrderLine, line) for line in all_lines(o)])


def save_invoice(o):
    return dict(ref_number=o.ref_number, transaction_date=text(o.transaction_date),
                total_amount=text(o.subtotal), memo=o.memo,
                customer_qb_id=ref_id(o.customer), balance_remaining=text(o.balance_remaining),
                is_paid=o.is_paid,
                lines=[document_line(InvoiceLine, line) for line in all_lines(o)])


def save_adjustment(a):
    return dict(ref_number=a.ref_number, transaction_date=text(a.transaction_date),
                memo=a.memo, lines=[
                    InventoryAdjustmentLine(
                        qb_id=line.id, item_qb_id=ref_id(line.item),
                        item_name=ref_name(line.item),
                        quantity_difference=line.quantity_difference,
                        value_difference=line.value_difference)
                    for line in a.lines or []])


def save(session: Session, model, record, values) -> bool:
    """Update or create `record` by its QuickBooks id, then commit. False if unchanged."""
    row = session.scalars(sa.select(model).where(model.qb_id == record.id)).one_or_none()
    if row is not None and row.revision == record.revision_number:
        return False
    if row is None:
        row = model(qb_id=record.id)
        session.add(row)
    for name, value in values(record).items():
        setattr(row, name, value)
    row.revision = record.revision_number
    row.updated_at = text(record.updated_at)
    session.commit()
    return True


def run(base_url: str, db_path: str, *, since_last_run: bool = False,
        api_key: str = KEY, end_user: str = END_USER) -> dict:
    """One pass of the straightforward pull into the SQLite file `db_path`."""
    requests = 0

    def count(request):
        nonlocal requests
        requests += 1

    http = httpx.Client(event_hooks={"request": [count]}, timeout=120)
    client = Conductor(api_key=api_key, base_url=base_url, http_client=http)
    engine = sa.create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    read = written = 0
    with Session(engine) as session:
        last = session.get(LastRun, 1)
        since = {"updated_after": last.started_at} if since_last_run and last else {}
        qbd = client.qbd
        lists = {"conductor_end_user_id": end_user, "status": "all", "limit": 150, **since}
        docs = {"conductor_end_user_id": end_user, "include_line_items": True, "limit": 150,
                **since}
        sources = [
            (Customer, qbd.customers, lists, save_customer),
            (Vendor, qbd.vendors, lists, save_vendor),
            (Item, qbd.inventory_items, lists, save_item("inventory")),
            (Item, qbd.non_inventory_items, lists, save_item("non_inventory")),
            (Item, qbd.service_items, lists, save_item("service")),
            (Item, qbd.other_charge_items, lists, save_item("other_charge")),
            (SalesOrder, qbd.sales_orders, docs, save_sales_order),
            (PurchaseOrder, qbd.purchase_orders, docs, save_purchase_order),
            (Invoice, qbd.invoices, docs, save_invoice),
        ]
        for model, resource, params, values in sources:
            # the SDK fetches the next page when this one runs out
            for record in resource.list(**params):
                read += 1
                written += save(session, model, record, values)
        adjustments = qbd.inventory_adjustments.list(
            conductor_end_user_id=end_user, include_line_items=True, **since)
        for record in adjustments.data:
            read += 1
            written += save(session, InventoryAdjustment, record, save_adjustment)
        if last is None:
            session.add(LastRun(id=1, started_at=started_at))
        else:
            last.started_at = started_at
        session.commit()
    engine.dispose()
    client.close()
    return {"read": read, "written": written, "requests": requests}


if __name__ == "__main__":
    started = time.perf_counter()
    result = run(sys.argv[1], sys.argv[2], since_last_run="--since-last-run" in sys.argv)
    print(result, f"{time.perf_counter() - started:.1f}s")
