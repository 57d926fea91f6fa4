"""Stock on both sides, as the stock tests read and move it: the WMS through SQL (as a WMS
writes its own tables), QuickBooks behind the API's back (the simulator's `/_sim/edits`) and
read back through Conductor's API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from tests.sync.test_push import wms
from webapp.extensions import db
from webapp.models import InventoryAdjustment, InventoryAdjustmentLine, Item

EVERYTHING = ["customer", "item", "invoice", "inventory_adjustment"]
ACCOUNT = "Inventory Adjustments"


def wms_adjustment(item_id: int, difference, memo: str = "WMS move", account=None) -> int:
    """An adjustment the WMS enters: a header and one line."""
    adjustment = wms("INSERT INTO wms_inventory_adjustment (transaction_date, memo, is_active,"
                     " account_name, from_count) VALUES (:d, :m, true, :a, false)",
                     d=date.today().isoformat(), m=memo, a=account)
    wms("INSERT INTO wms_inventory_adjustment_line (inventory_adjustment_id, position, item_id,"
        " quantity_difference) VALUES (:a, 0, :i, :q)", a=adjustment, i=item_id,
        q=str(difference))
    return adjustment


def wms_count(item_id: int, counted) -> None:
    """A cycle count: the WMS sets the item's on-hand figure directly."""
    wms("UPDATE wms_item SET quantity_on_hand = :q WHERE id = :i", q=str(counted), i=item_id)


def wms_edit_line(adjustment_id: int, difference) -> None:
    wms("UPDATE wms_inventory_adjustment_line SET quantity_difference = :q"
        " WHERE inventory_adjustment_id = :a", q=str(difference), a=adjustment_id)


def wms_on_hand(item_id: int) -> Decimal:
    db.session.expire_all()
    return db.session.get(Item, item_id).quantity_on_hand


def qb_on_hand(qb, qb_id: str) -> Decimal:
    [record] = qb.list_page("inventory-items", {"ids": [qb_id]})["data"]
    return Decimal(str(record["quantityOnHand"]))


def qb_adjust(sim, account_id: str, qb_item: str, difference) -> str:
    [touched] = sim.edits({"create": {"resource": "inventory-adjustments", "fields": {
        "accountId": account_id, "transactionDate": date.today().isoformat(),
        "lines": [{"itemId": qb_item, "adjustQuantity": {"quantityDifference": difference}}]}}})
    return touched["id"]


def qb_invoice(sim, customer_id: str, qb_item: str, quantity) -> str:
    [touched] = sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": customer_id, "transactionDate": date.today().isoformat(),
        "lines": [{"itemId": qb_item, "quantity": quantity, "rate": "1.00"}]}}})
    return touched["id"]


def qb_receipt(sim, resource: str, customer_id: str, vendor_id: str, qb_item: str,
               quantity) -> str:
    """An item receipt, sales receipt or credit memo entered in QuickBooks: stock moved by a
    transaction the WMS does not mirror."""
    party = {"vendorId": vendor_id} if resource == "item-receipts" else {
        "customerId": customer_id}
    lines = "itemLines" if resource == "item-receipts" else "lines"
    (made,) = sim.edits({"create": {"resource": resource, "fields": {
        **party, "transactionDate": "2026-12-01", lines: [{"itemId": qb_item,
                                                          "quantity": quantity}]}}})
    return made["id"]


def qb_edit_adjustment(sim, qb, adjustment_qb_id: str, difference) -> None:
    [record] = qb.list_all("inventory-adjustments", {"ids": [adjustment_qb_id],
                                                     "includeLineItems": True})
    [line] = record["lines"]
    sim.edits({"resource": "inventory-adjustments", "id": adjustment_qb_id,
               "fields": {"lines": [{"id": line["id"], "quantityDifference": difference}]}})


def account_id(qb, name: str = ACCOUNT) -> str:
    return next(a["id"] for a in qb.list_all("accounts", {}) if a["fullName"] == name)


def stocked_items(qb, n: int) -> list[tuple[int, str]]:
    """(WMS id, QuickBooks id) of `n` active inventory items the WMS mirrors."""
    records = [r for r in qb.list_page("inventory-items", {"limit": 150})["data"]
               if r["isActive"] and not r["sublevel"]][:n]
    ids = dict(db.session.execute(select(Item.qb_id, Item.id).where(
        Item.qb_id.in_([r["id"] for r in records]))).all())
    return [(ids[r["id"]], r["id"]) for r in records]


def customer_id(qb) -> str:
    return next(c["id"] for c in qb.list_page("customers", {"limit": 50})["data"]
                if c["isActive"] and not c["parent"])


def count_adjustments(item_id: int) -> list[tuple]:
    """(QuickBooks id, difference) of the count adjustments the sync recorded for the item."""
    db.session.expire_all()
    return list(db.session.execute(
        select(InventoryAdjustment.qb_id, InventoryAdjustmentLine.quantity_difference)
        .join(InventoryAdjustmentLine)
        .where(InventoryAdjustment.from_count.is_(True),
               InventoryAdjustmentLine.item_id == item_id)
        .order_by(InventoryAdjustment.id)).all())
