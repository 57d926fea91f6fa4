"""Figures QuickBooks recomputes without a new revision, followed by incremental syncs.

Entering, editing, voiding or deleting an invoice changes items' stock, customers' balances
and sales orders' invoiced quantities while those records keep their revision; the engine
reads them again by id (webapp.sync.pull.refresh).
"""

from decimal import Decimal

from sqlalchemy import select

from qbdsim.testing import SimHttp
from tests.sync.conftest import invoice_to_move, objects_by_name, sync
from webapp.extensions import db
from webapp.models import Customer, Item, SalesOrder


def test_stock_and_balances_follow_transactions_without_a_full_sync(sync_app, sim, qb):
    sync()
    invoices = qb.list_page("invoices", {"limit": 50})["data"]
    invoice = next(i for i in invoices if any(
        (line["item"] or {}).get("id") and line["quantity"] for line in i["lines"]))
    line = next(x for x in invoice["lines"] if (x["item"] or {}).get("id") and x["quantity"])
    lines = [{"id": x["id"]} for x in invoice["lines"]]
    lines[invoice["lines"].index(line)]["quantity"] = line["quantity"] + 5
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {"lines": lines}})
    item_id, customer_id = line["item"]["id"], invoice["customer"]["id"]
    doc = sync()  # incremental
    assert doc["status"] == "completed", doc["failure_reason"]
    # the rows QuickBooks recomputed count as updated, with their own objects
    counts = objects_by_name(doc)
    assert counts["invoice"]["updated"] == 1 and counts["customer"]["updated"] >= 1
    resource = {"inventory": "inventory-items"}.get(db.session.scalar(
        select(Item.item_type).where(Item.qb_id == item_id)))
    if resource:
        wire = qb.list_page(resource, {"ids": [item_id]})["data"][0]
        local = db.session.scalar(select(Item.quantity_on_hand).where(Item.qb_id == item_id))
        assert local == Decimal(str(wire["quantityOnHand"]))
        assert counts["item"]["updated"] >= 1  # its stock moved
    wire = qb.list_page("customers", {"ids": [customer_id]})["data"][0]
    local = db.session.scalar(select(Customer.balance).where(Customer.qb_id == customer_id))
    assert local == Decimal(wire["balance"])


def linked_invoice(qb) -> tuple[dict, str]:
    """An invoice that invoiced a sales order, and that order's QuickBooks id."""
    invoices = qb.list_page("invoices", {"limit": 150, "includeLinkedTransactions": True})
    invoice = next(i for i in invoices["data"] if any(
        link["transactionType"] == "sales_order" for link in i["linkedTransactions"]))
    order_id = next(link["id"] for link in invoice["linkedTransactions"]
                    if link["transactionType"] == "sales_order")
    return invoice, order_id


def invoiced_locally(order_id: str) -> dict:
    db.session.expire_all()
    order = db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == order_id))
    return {line.qb_line_id: line.quantity_invoiced for line in order.lines
            if line.quantity_invoiced is not None}


def invoiced_in_quickbooks(qb, order_id: str) -> dict:
    wire = qb.list_page("sales-orders", {"ids": [order_id], "includeLineItems": True})["data"][0]
    return {line["id"]: Decimal(str(line["quantityInvoiced"])) for line in wire["lines"]
            if line.get("quantityInvoiced") is not None}


def test_deleting_an_invoice_gives_its_sales_order_back_its_quantities(sync_app, sim, qb):
    sync()
    invoice, order_id = linked_invoice(qb)
    before = invoiced_locally(order_id)
    sim.edits({"delete": {"resource": "invoices", "id": invoice["id"]}})
    doc = sync()  # incremental: the invoice is in the deleted list, the order did not change
    assert objects_by_name(doc)["invoice"]["deleted"] == 1
    assert invoiced_locally(order_id) == invoiced_in_quickbooks(qb, order_id) != before


def test_voiding_an_invoice_gives_its_sales_order_back_its_quantities(sync_app, sim, qb,
                                                                     simulator):
    sync()
    invoice, order_id = linked_invoice(qb)
    before = invoiced_locally(order_id)
    with SimHttp(simulator) as http:  # a void drops the invoice's links in QuickBooks
        http.request("POST", f"invoices/{invoice['id']}/void").raise_for_status()
    sync()  # the voided invoice is read again; the order's revision did not move
    assert invoiced_locally(order_id) == invoiced_in_quickbooks(qb, order_id) != before


def _stock(qb, item_id: str) -> tuple[Decimal, Decimal]:
    """(quantity on hand in QuickBooks, in the WMS) of an inventory item."""
    wire = qb.list_page("inventory-items", {"ids": [item_id]})["data"][0]
    db.session.expire_all()
    local = db.session.scalar(select(Item.quantity_on_hand).where(Item.qb_id == item_id))
    return Decimal(str(wire["quantityOnHand"])), local


def _balance(qb, customer_id: str) -> tuple[Decimal, Decimal]:
    wire = qb.list_page("customers", {"ids": [customer_id]})["data"][0]
    db.session.expire_all()
    local = db.session.scalar(select(Customer.balance).where(Customer.qb_id == customer_id))
    return Decimal(wire["balance"]), local


def test_what_an_edited_invoice_no_longer_refers_to_is_read_again(sync_app, sim, qb):
    """An invoice moved to another customer and item gives the old ones back their balance
    and stock in QuickBooks; those keep their revision, so the WMS must re-read them too."""
    sync()
    invoice, old_item, old_customer, new_item, new_customer = invoice_to_move(qb)
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {
        "customerId": new_customer,
        "lines": [{"id": "-1", "itemId": new_item, "quantity": 2, "rate": "10.00"}]}})
    wire_stock, _ = _stock(qb, old_item)
    wire_balance, _ = _balance(qb, old_customer)
    sync()  # incremental
    assert _stock(qb, old_item) == (wire_stock, wire_stock)
    assert _balance(qb, old_customer) == (wire_balance, wire_balance)
