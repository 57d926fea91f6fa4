"""Line groups (an item group used on a sales order, purchase order or invoice) reach the WMS:
each group as a line row of its own followed by its lines, whose items the warehouse picks or
receives like any other."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import Item, SyncError
from webapp.sync.objects import registry
from webapp.sync.objects.item import NOT_MIRRORED_ITEM_RESOURCES

OBJECTS = {"sales_order": "sales-orders", "purchase_order": "purchase-orders",
           "invoice": "invoices"}
# Line columns beside the common ones, as QuickBooks names them, per object.
EXTRA = {"sales_order": {"quantity_invoiced": "quantityInvoiced",
                         "is_manually_closed": "isManuallyClosed"},
         "purchase_order": {"sku": "sku", "received_quantity": "receivedQuantity",
                            "is_manually_closed": "isManuallyClosed"},
         "invoice": {"service_date": "serviceDate"}}


def every_record(qb, resource: str) -> list[dict]:
    records, params = [], {"limit": 150}
    while True:
        page = qb.list_page(resource, params)
        records += page["data"]
        if not page["hasMore"]:
            return records
        params = {"limit": 150, "cursor": page["nextCursor"]}


def number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def expected_rows(record: dict, name: str, items: dict[str, int]) -> list[dict]:
    """The line rows QuickBooks' record should give, in order: plain lines, then each group
    followed by its lines."""

    def line_row(line: dict, group_id: str | None) -> dict:
        row = {
            "qb_line_id": line["id"], "is_line_group": False, "group_qb_line_id": group_id,
            "item_qb_id": line["item"]["id"], "item_id": items.get(line["item"]["id"]),
            "description": line["description"], "quantity": number(line["quantity"]),
            "unit_of_measure": line["unitOfMeasure"], "rate": number(line["rate"]),
            "amount": number(line["amount"]),
        }
        for column, key in EXTRA[name].items():
            value = line[key]
            row[column] = number(value) if isinstance(value, int | float) and not isinstance(
                value, bool) else value
        return row

    rows = [line_row(line, None) for line in record["lines"]]
    for group in record["lineGroups"]:
        rows.append({
            "qb_line_id": group["id"], "is_line_group": True, "group_qb_line_id": None,
            "item_qb_id": group["itemGroup"]["id"], "item_id": None,
            "description": group["description"], "quantity": number(group["quantity"]),
            "unit_of_measure": group["unitOfMeasure"], "rate": None,
            "amount": number(group["totalAmount"]),
        })
        rows += [line_row(line, group["id"]) for line in group["lines"]]
    return rows


def stored_rows(header, name: str) -> list[dict]:
    columns = ("qb_line_id", "is_line_group", "group_qb_line_id", "item_qb_id", "item_id",
               "description", "quantity", "unit_of_measure", "rate", "amount")
    rows = []
    for line in header.lines:
        row = {column: getattr(line, column) for column in columns}
        if not line.is_line_group:
            for column in EXTRA[name]:
                value = getattr(line, column)
                row[column] = value.isoformat() if hasattr(value, "isoformat") else value
        rows.append(row)
    return rows


def header_row(name: str, qb_id: str):
    model = registry.get(name).model
    return db.session.scalar(select(model).where(model.qb_id == qb_id))


def local_items() -> dict[str, int]:
    return dict(db.session.execute(select(Item.qb_id, Item.id)).all())


def test_a_full_sync_writes_every_group_and_its_lines_as_quickbooks_has_them(sync_app, sim, qb):
    doc = sync(mode="full")
    assert doc["error_count"] == 0 and db.session.scalar(select(SyncError.id)) is None
    items = local_items()
    for name, resource in OBJECTS.items():
        records = every_record(qb, resource)
        grouped = [r for r in records if r["lineGroups"]]
        assert grouped, f"the simulator generated no {resource} with a line group"
        for record in grouped:
            header = header_row(name, record["id"])
            # Then every group and every line in it is a row, field by field as QuickBooks has it
            assert stored_rows(header, name) == expected_rows(record, name, items)
            # And the lines in groups name real, mirrored items
            assert all(line.item_id is not None for line in header.lines
                       if line.group_qb_line_id is not None)
            # And what the order carries, read from item lines only, counts each item once
            carried = Counter()
            for line in header.lines:
                if not line.is_line_group and line.quantity is not None:
                    carried[line.item_qb_id] += line.quantity
            wire = Counter()
            for line in [*record["lines"], *(x for g in record["lineGroups"] for x in g["lines"])]:
                if line["quantity"] is not None:
                    wire[line["item"]["id"]] += number(line["quantity"])
            assert carried == wire
            # And the sync base keeps the groups for a later push or three-way merge
            bases = [b for b in header.sync_base["lines"] if b.get("is_line_group")]
            assert [(b["qb_line_id"], b["item_qb_id"], b["should_print_items_in_group"])
                    for b in bases] == [(g["id"], g["itemGroup"]["id"],
                                         g["shouldPrintItemsInGroup"])
                                        for g in record["lineGroups"]]
            children = [b["qb_line_id"] for b in header.sync_base["lines"]
                        if b.get("group_qb_line_id")]
            assert children == [x["id"] for g in record["lineGroups"] for x in g["lines"]]


def test_an_edited_group_replaces_the_orders_lines_and_refreshes_its_items(sync_app, sim, qb):
    sync()
    order = next(r for r in every_record(qb, "sales-orders")
                 if r["lineGroups"] and not r["isManuallyClosed"])
    group = order["lineGroups"][0]
    # When the group's quantity changes in QuickBooks (it is expanded again)
    sim.edits({"resource": "sales-orders", "id": order["id"],
               "fields": {"lineGroups": [{"id": group["id"], "quantity": group["quantity"] + 2}]}})
    edited = qb.list_page("sales-orders", {"ids": [order["id"]]})["data"][0]
    doc = sync(["sales_order"])
    # Then the order's rows are QuickBooks' new lines, the old ones gone
    assert doc["error_count"] == 0
    assert objects_by_name(doc)["sales_order"]["updated"] >= 1
    header = header_row("sales_order", order["id"])
    assert stored_rows(header, "sales_order") == expected_rows(edited, "sales_order",
                                                               local_items())
    (row,) = [line for line in header.lines if line.is_line_group]
    assert row.quantity == group["quantity"] + 2
    # And the group's inventory items were read again: their quantity on sales orders moved
    components = {x["item"]["id"] for x in edited["lineGroups"][0]["lines"]}
    inventory = {r["id"]: r for r in qb.list_page("inventory-items", {
        "ids": sorted(components), "status": "all"})["data"]}
    assert inventory
    for qb_id, record in inventory.items():
        item = db.session.scalar(select(Item).where(Item.qb_id == qb_id))
        assert item.quantity_on_sales_order == number(record["quantityOnSalesOrder"])


@pytest.mark.parametrize("broken", ["not a list", ["not an object"],
                                    [{"id": "20FFF-1", "itemGroup": "not a reference",
                                      "lines": []}]])
def test_a_malformed_line_group_is_one_mapping_error_and_the_page_goes_on(sync_app, sim, qb,
                                                                           broken):
    orders = qb.list_page("sales-orders", {"limit": 3})["data"]
    sim.edits({"resource": "sales-orders", "id": orders[0]["id"], "raw": True,
               "fields": {"lineGroups": broken}})
    doc = sync(["sales_order"])
    errors = db.session.scalars(select(SyncError)).all()
    assert [(e.object_id, e.code) for e in errors] == [(orders[0]["id"], "mapping_error")]
    assert objects_by_name(doc)["sales_order"]["failed"] == 1
    assert header_row("sales_order", orders[0]["id"]) is None
    written = db.session.scalar(select(db.func.count()).select_from(
        registry.get("sales_order").model))
    assert written == sim.counts()["sales-orders"] - 1
    assert header_row("sales_order", orders[1]["id"]) is not None


def test_an_item_group_is_never_looked_up(sync_app, sim, qb):
    """A line group's item group is kept as the group carries it (id and name): a pull of
    purchase orders with line groups asks nothing of any unmirrored item kind."""
    records = every_record(qb, "purchase-orders")
    assert any(r["lineGroups"] for r in records), "no purchase order with a line group"
    groups = {g["itemGroup"]["id"] for r in records for g in r["lineGroups"]}
    names = {g["itemGroup"]["id"]: g["itemGroup"]["fullName"] for r in records
             for g in r["lineGroups"]}
    requests = sim.stats()["requests"]
    before = {r: requests.get(f"GET /v1/quickbooks-desktop/{r}", 0)
              for r in NOT_MIRRORED_ITEM_RESOURCES}
    doc = sync(["purchase_order"], mode="full")
    assert doc["error_count"] == 0
    requests = sim.stats()["requests"]
    listed = {r: requests.get(f"GET /v1/quickbooks-desktop/{r}", 0) - before[r]
              for r in NOT_MIRRORED_ITEM_RESOURCES}
    assert listed == {r: 0 for r in NOT_MIRRORED_ITEM_RESOURCES}
    # And every group row still names its item group, with no local item
    rows = [line for header in db.session.scalars(select(registry.get("purchase_order").model))
            for line in header.lines if line.is_line_group]
    assert {line.item_qb_id for line in rows} == groups
    assert all(line.item_id is None for line in rows)
    assert all(line.item_name == names[line.item_qb_id] for line in rows)


def test_an_invoice_made_from_an_order_with_a_group_reaches_both_in_the_wms(sync_app, sim, qb):
    sync()
    order = next(r for r in every_record(qb, "sales-orders")
                 if r["lineGroups"] and not r["isManuallyClosed"] and not r["isFullyInvoiced"]
                 and not r["linkedTransactions"])
    # When QuickBooks invoices the whole order (its group comes over as a group)
    invoice = qb.create("invoices", {"customerId": order["customer"]["id"],
                                     "transactionDate": order["transactionDate"],
                                     "linkToTransactionIds": [order["id"]]})
    assert invoice["lineGroups"]
    doc = sync(["invoice"])
    assert doc["error_count"] == 0
    # Then the invoice's rows are its lines and group, as QuickBooks has them
    invoice = qb.list_page("invoices", {"ids": [invoice["id"]]})["data"][0]
    assert stored_rows(header_row("invoice", invoice["id"]), "invoice") == expected_rows(
        invoice, "invoice", local_items())
    # And the order it invoiced was read again: its group's lines are invoiced, the order too
    order = qb.list_page("sales-orders", {"ids": [order["id"]]})["data"][0]
    assert order["isFullyInvoiced"]
    header = header_row("sales_order", order["id"])
    assert header.is_fully_invoiced
    assert stored_rows(header, "sales_order") == expected_rows(order, "sales_order",
                                                               local_items())
