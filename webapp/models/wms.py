"""The WMS mirror: the warehouse's own tables that qbsync keeps in step with QuickBooks.

Every synced row carries the same sync columns (`SyncedMixin`). Foreign keys between mirror
tables use local ids; the QuickBooks ids are kept beside them so a row can be written before
the row it points at has arrived. Money is `Numeric`, never float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import MONEY, QUANTITY, RATE, JSONDoc, UTCDateTime

ITEM_TYPES = ("inventory", "non_inventory", "service", "other_charge")


# The columns only the sync writes. Every other column of a synced table is the WMS's to
# change (through the records API or SQL); a change to one of them outside the sync stamps
# `local_updated_at` and sets `wms_pending` (database triggers, webapp.models.triggers).
SYNC_COLUMNS = ("id", "qb_id", "qb_revision", "qb_updated_at", "local_updated_at", "synced_at",
                "sync_base", "sync_hash", "qb_deleted_at", "wms_pending", "push_error",
                "push_held_at", "from_count", "stock_sent")


def is_held(push_held_at: datetime | None, local_updated_at: datetime | None) -> bool:
    """Held back from the push ("Hold") and not changed by the WMS since."""
    return push_held_at is not None and (local_updated_at is None
                                         or local_updated_at <= push_held_at)


PARTIAL_INDEXES = (("deleted", "qb_deleted_at IS NOT NULL"),
                   ("refused", "push_error IS NOT NULL"),
                   ("held", "push_held_at IS NOT NULL"))


class SyncedMixin:
    """Columns every synced row carries (DESIGN §4).

    Who changed what is found by comparing, never by clocks alone (webapp.sync.views):

    - `sync_base` is QuickBooks' record exactly as the sync last read or wrote it (its JSON,
      keyed by our column names, references as QuickBooks ids, lines under "lines" with their
      QuickBooks line ids). Converted through the object's field declarations it is the row as
      it would be had nobody changed it since: a fresh QuickBooks record that differs from it
      is a QuickBooks change, a row (or line) that differs from it is a WMS change.
    - `local_updated_at` is the WMS's clock: set by the records API and by triggers whenever
      a WMS column of the row, or one of its lines, changes outside the sync; the sync never
      moves it. It orders a WMS change against QuickBooks' `updatedAt` (items' "later change
      wins") and answers "changed since"; it does not decide what changed.
    - `wms_pending` says where to look: set with `local_updated_at`, kept by the pull while
      a merged row still differs from its base, cleared once nothing differs. A row with
      `qb_id` NULL was created in the WMS.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Null until a row created in the WMS has been pushed to QuickBooks.
    qb_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    qb_revision: Mapped[str | None] = mapped_column(String(20))
    qb_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    local_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sync_base: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    sync_hash: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    qb_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wms_pending: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    # Why QuickBooks refused the row's last push (the records API's "error" state).
    push_error: Mapped[str | None] = mapped_column(Text)
    # Staff held the row back from the push ("Hold", records API): it is not sent until the
    # WMS changes it again (`local_updated_at` later than this) or the hold is lifted.
    push_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805 - declared_attr receives the class
        # Partial indexes: the records pages count and list deleted and refused rows by id
        # without reading the table (few rows match, so the indexes stay small).
        table = cls.__tablename__
        return tuple(
            Index(f"ix_{table}_{name}", "id", sqlite_where=text(where),
                  postgresql_where=text(where))
            for name, where in PARTIAL_INDEXES)


class ContactMixin:
    """Contact fields shared by customers and vendors (the WMS wins these on conflict)."""

    name: Mapped[str] = mapped_column(String(41))
    company_name: Mapped[str | None] = mapped_column(String(41))
    salutation: Mapped[str | None] = mapped_column(String(15))
    first_name: Mapped[str | None] = mapped_column(String(25))
    middle_name: Mapped[str | None] = mapped_column(String(5))
    last_name: Mapped[str | None] = mapped_column(String(25))
    job_title: Mapped[str | None] = mapped_column(String(41))
    email: Mapped[str | None] = mapped_column(String(1023))
    cc_email: Mapped[str | None] = mapped_column(String(1023))
    phone: Mapped[str | None] = mapped_column(String(21))
    alternate_phone: Mapped[str | None] = mapped_column(String(21))
    fax: Mapped[str | None] = mapped_column(String(21))
    contact: Mapped[str | None] = mapped_column(String(41))
    alternate_contact: Mapped[str | None] = mapped_column(String(41))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    account_number: Mapped[str | None] = mapped_column(String(99))
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    balance: Mapped[Decimal | None] = mapped_column(MONEY)
    terms: Mapped[str | None] = mapped_column(String(31))
    note: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(40))


class Customer(SyncedMixin, ContactMixin, db.Model):
    __tablename__ = "wms_customer"

    full_name: Mapped[str] = mapped_column(String(209), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wms_customer.id"))
    parent_qb_id: Mapped[str | None] = mapped_column(String(36))
    sublevel: Mapped[int] = mapped_column(default=0)
    total_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    job_status: Mapped[str | None] = mapped_column(String(16))
    resale_number: Mapped[str | None] = mapped_column(String(15))


class Vendor(SyncedMixin, ContactMixin, db.Model):
    __tablename__ = "wms_vendor"

    name_on_check: Mapped[str | None] = mapped_column(String(41))
    tax_identification_number: Mapped[str | None] = mapped_column(String(15))
    is_eligible_for_1099: Mapped[bool | None] = mapped_column()


class Item(SyncedMixin, db.Model):
    """Inventory, non-inventory, service and other-charge items in one table."""

    __tablename__ = "wms_item"

    item_type: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(31))
    full_name: Mapped[str] = mapped_column(String(159), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wms_item.id"))
    parent_qb_id: Mapped[str | None] = mapped_column(String(36))
    sublevel: Mapped[int] = mapped_column(default=0)
    sku: Mapped[str | None] = mapped_column(String(31))
    barcode: Mapped[str | None] = mapped_column(String(50))
    sales_description: Mapped[str | None] = mapped_column(Text)
    sales_price: Mapped[Decimal | None] = mapped_column(RATE)
    purchase_description: Mapped[str | None] = mapped_column(Text)
    purchase_cost: Mapped[Decimal | None] = mapped_column(RATE)
    income_account: Mapped[str | None] = mapped_column(String(159))
    expense_account: Mapped[str | None] = mapped_column(String(159))
    preferred_vendor_id: Mapped[int | None] = mapped_column(ForeignKey("wms_vendor.id"))
    preferred_vendor_qb_id: Mapped[str | None] = mapped_column(String(36))
    quantity_on_hand: Mapped[Decimal | None] = mapped_column(QUANTITY)
    reorder_point: Mapped[Decimal | None] = mapped_column(QUANTITY)
    maximum_quantity_on_hand: Mapped[Decimal | None] = mapped_column(QUANTITY)
    average_cost: Mapped[Decimal | None] = mapped_column(RATE)
    quantity_on_sales_order: Mapped[Decimal | None] = mapped_column(QUANTITY)
    quantity_on_purchase_order: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit_of_measure: Mapped[str | None] = mapped_column(String(31))
    external_id: Mapped[str | None] = mapped_column(String(40))


class TransactionMixin:
    """Header fields shared by the synced transactions."""

    ref_number: Mapped[str | None] = mapped_column(String(11), index=True)
    transaction_date: Mapped[date] = mapped_column(Date)
    memo: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(40))


class LineMixin:
    """Columns shared by order and invoice lines; `qb_line_id` is QuickBooks' TxnLineID.

    Line groups (an item group used on a transaction, QuickBooks' `lineGroups`) are rows of
    the same table rather than a table of their own: the group's row has `is_line_group` set,
    its item group's id in `item_qb_id` (item groups are not mirrored, so `item_id` is NULL),
    its `totalAmount` as `amount`, and its TxnLineID as `qb_line_id`; the group's own lines
    follow it, real item lines like any other, each naming the group's `qb_line_id` in
    `group_qb_line_id`. One table keeps "every line of this order, in order" one query and
    the writer's replace-all of lines unchanged; what an order carries is its rows that are
    not groups (`is_line_group` false), so a group never counts twice.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    qb_line_id: Mapped[str | None] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(default=0)
    item_qb_id: Mapped[str | None] = mapped_column(String(36))
    # The item's full name as the line carries it, where the WMS has no item row to name it:
    # the one name a line of an item kind the WMS does not mirror (a discount, an item group)
    # has. NULL when `item_id` is set (the item's own row has its name, renames included).
    item_name: Mapped[str | None] = mapped_column(String(209))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit_of_measure: Mapped[str | None] = mapped_column(String(31))
    rate: Mapped[Decimal | None] = mapped_column(RATE)
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    is_line_group: Mapped[bool] = mapped_column(default=False, server_default=false())
    group_qb_line_id: Mapped[str | None] = mapped_column(String(36))

    @declared_attr
    def item_id(cls) -> Mapped[int | None]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("wms_item.id"), index=True)


class SalesOrder(SyncedMixin, TransactionMixin, db.Model):
    __tablename__ = "wms_sales_order"

    customer_id: Mapped[int | None] = mapped_column(ForeignKey("wms_customer.id"), index=True)
    customer_qb_id: Mapped[str | None] = mapped_column(String(36))
    purchase_order_number: Mapped[str | None] = mapped_column(String(25))
    due_date: Mapped[date | None] = mapped_column(Date)
    shipping_date: Mapped[date | None] = mapped_column(Date)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    subtotal: Mapped[Decimal | None] = mapped_column(MONEY)
    sales_tax_total: Mapped[Decimal | None] = mapped_column(MONEY)
    total_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    is_manually_closed: Mapped[bool] = mapped_column(default=False)
    is_fully_invoiced: Mapped[bool | None] = mapped_column()

    lines: Mapped[list[SalesOrderLine]] = relationship(
        order_by="SalesOrderLine.position", cascade="all, delete-orphan"
    )


class SalesOrderLine(LineMixin, db.Model):
    __tablename__ = "wms_sales_order_line"

    sales_order_id: Mapped[int] = mapped_column(
        ForeignKey("wms_sales_order.id", ondelete="CASCADE"), index=True
    )
    quantity_invoiced: Mapped[Decimal | None] = mapped_column(QUANTITY)
    is_manually_closed: Mapped[bool] = mapped_column(default=False)


class PurchaseOrder(SyncedMixin, TransactionMixin, db.Model):
    __tablename__ = "wms_purchase_order"

    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("wms_vendor.id"), index=True)
    vendor_qb_id: Mapped[str | None] = mapped_column(String(36))
    due_date: Mapped[date | None] = mapped_column(Date)
    expected_date: Mapped[date | None] = mapped_column(Date)
    vendor_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    vendor_message: Mapped[str | None] = mapped_column(Text)
    total_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    is_manually_closed: Mapped[bool] = mapped_column(default=False)
    is_fully_received: Mapped[bool | None] = mapped_column()

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        order_by="PurchaseOrderLine.position", cascade="all, delete-orphan"
    )


class PurchaseOrderLine(LineMixin, db.Model):
    __tablename__ = "wms_purchase_order_line"

    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("wms_purchase_order.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str | None] = mapped_column(String(31))
    received_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    is_manually_closed: Mapped[bool] = mapped_column(default=False)


class Invoice(SyncedMixin, TransactionMixin, db.Model):
    __tablename__ = "wms_invoice"

    customer_id: Mapped[int | None] = mapped_column(ForeignKey("wms_customer.id"), index=True)
    customer_qb_id: Mapped[str | None] = mapped_column(String(36))
    purchase_order_number: Mapped[str | None] = mapped_column(String(25))
    due_date: Mapped[date | None] = mapped_column(Date)
    shipping_date: Mapped[date | None] = mapped_column(Date)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    subtotal: Mapped[Decimal | None] = mapped_column(MONEY)
    sales_tax_total: Mapped[Decimal | None] = mapped_column(MONEY)
    applied_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    balance_remaining: Mapped[Decimal | None] = mapped_column(MONEY)
    is_paid: Mapped[bool | None] = mapped_column()
    is_pending: Mapped[bool | None] = mapped_column()

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )


class InvoiceLine(LineMixin, db.Model):
    __tablename__ = "wms_invoice_line"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("wms_invoice.id", ondelete="CASCADE"), index=True
    )
    service_date: Mapped[date | None] = mapped_column(Date)


class InventoryAdjustment(SyncedMixin, TransactionMixin, db.Model):
    """A stock move (DESIGN §1: net changes). Besides the WMS's own and QuickBooks' ones, the
    sync writes two kinds itself: a WMS count (an item's `quantity_on_hand` changed directly)
    becomes one with `from_count` set, whose difference the WMS figure already includes, so
    that when QuickBooks creates it only the item's base moves (webapp.sync.push.counts); and
    the WMS's change of an adjustment QuickBooks changed too is sent as a new plain one.
    `stock_sent` ({"revision", "differences" per item}) is set while an update of the lines,
    sent at that revision, has no known outcome (webapp.sync.push.doubt)."""

    __tablename__ = "wms_inventory_adjustment"

    account_qb_id: Mapped[str | None] = mapped_column(String(36))
    account_name: Mapped[str | None] = mapped_column(String(159))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("wms_customer.id"))
    customer_qb_id: Mapped[str | None] = mapped_column(String(36))
    from_count: Mapped[bool] = mapped_column(default=False, server_default=false())
    stock_sent: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)

    lines: Mapped[list[InventoryAdjustmentLine]] = relationship(
        order_by="InventoryAdjustmentLine.position", cascade="all, delete-orphan"
    )


class InventoryAdjustmentLine(db.Model):
    __tablename__ = "wms_inventory_adjustment_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_adjustment_id: Mapped[int] = mapped_column(
        ForeignKey("wms_inventory_adjustment.id", ondelete="CASCADE"), index=True
    )
    qb_line_id: Mapped[str | None] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(default=0)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("wms_item.id"), index=True)
    item_qb_id: Mapped[str | None] = mapped_column(String(36))
    quantity_difference: Mapped[Decimal | None] = mapped_column(QUANTITY)
    value_difference: Mapped[Decimal | None] = mapped_column(MONEY)
    serial_number: Mapped[str | None] = mapped_column(String(4095))
    lot_number: Mapped[str | None] = mapped_column(String(40))


class SyncWriteMarker(db.Model):
    """Never holds a committed row: the sync inserts one at the start of each of its
    transactions on SQLite and deletes it before committing (webapp.sync.writing), so the
    triggers can tell the sync's own writes from the WMS's. (PostgreSQL uses a
    transaction-local setting instead.)"""

    __tablename__ = "sync_write_marker"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
