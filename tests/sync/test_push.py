"""The push (DESIGN §5): WMS edits and WMS-created records reach QuickBooks — read back through
Conductor's API from the simulator — exactly once, whatever happens to the requests.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import (
    Customer,
    InventoryAdjustment,
    Item,
    PurchaseOrder,
    SalesOrder,
    SyncError,
    SyncRecordEvent,
    Vendor,
)
from webapp.sync import manager, runner
from webapp.sync.conductor import QuickBooks

ALL = ["customer", "vendor", "item", "sales_order", "purchase_order"]
COUNT = 200


def wms(sql: str, **params) -> int | None:
    """A WMS writing its own tables; returns the new row's id for an INSERT."""
    result = db.session.execute(text(sql + (" RETURNING id" if sql.startswith("INSERT")
                                            else "")), params)
    new_id = result.scalar() if sql.startswith("INSERT") else None
    db.session.commit()
    return new_id


def read(qb, resource: str, qb_id: str) -> dict:
    [record] = qb.list_page(resource, {"ids": [qb_id]})["data"]
    return record


def row(model, local_id: int):
    db.session.expire_all()
    return db.session.get(model, local_id)


def first(qb, resource: str, **match) -> dict:
    return next(r for r in qb.list_page(resource, {"limit": 150})["data"]
                if r.get("isActive", True) and all(r.get(k) == v for k, v in match.items()))


def test_wms_edits_of_every_object_reach_quickbooks_field_by_field(sync_app, qb, sim):
    sync(ALL)
    vendor = first(qb, "vendors")
    stocked = first(qb, "inventory-items")
    service = next(r for r in qb.list_page("service-items", {"limit": 150})["data"]
                   if r["salesOrPurchaseDetails"])
    order = next(o for o in qb.list_page("purchase-orders", {"limit": 150})["data"]
                 if len(o["lines"]) >= 2 and not o["lineGroups"] and not o["isFullyReceived"])
    wms("UPDATE wms_vendor SET email = 'buyer@wms.example', credit_limit = '1500.00',"
        " billing_address = :a WHERE qb_id = :id",
        a='{"line1": "1 Dock Rd", "city": "Oslo"}', id=vendor["id"])
    wms("UPDATE wms_item SET sales_price = '12.50', reorder_point = 40, barcode = 'BC-1'"
        " WHERE qb_id = :id", id=stocked["id"])
    wms("UPDATE wms_item SET sales_description = 'Installed by us' WHERE qb_id = :id",
        id=service["id"])
    wms("UPDATE wms_purchase_order SET memo = 'call first', expected_date = '2027-01-15'"
        " WHERE qb_id = :id", id=order["id"])
    header = db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.qb_id == order["id"]))
    wms("UPDATE wms_purchase_order_line SET quantity = 9 WHERE purchase_order_id = :h"
        " AND qb_line_id = :line", h=header, line=order["lines"][0]["id"])
    wms("DELETE FROM wms_purchase_order_line WHERE purchase_order_id = :h AND qb_line_id = :l",
        h=header, l=order["lines"][1]["id"])
    doc = sync(ALL)
    counts = {name: o["pushed"] for name, o in objects_by_name(doc).items()}
    assert counts == {"customer": 0, "vendor": 1, "item": 2, "sales_order": 0,
                      "purchase_order": 1}
    now = read(qb, "vendors", vendor["id"])
    assert (now["email"], now["creditLimit"]) == ("buyer@wms.example", "1500.00")
    assert (now["billingAddress"]["line1"], now["billingAddress"]["city"]) == ("1 Dock Rd",
                                                                               "Oslo")
    now = read(qb, "inventory-items", stocked["id"])
    assert (Decimal(now["salesPrice"]), now["reorderPoint"], now["barcode"]) == (
        Decimal("12.5"), 40, "BC-1")
    assert read(qb, "service-items", service["id"])["salesOrPurchaseDetails"][
        "description"] == "Installed by us"
    now = read(qb, "purchase-orders", order["id"])
    assert (now["memo"], now["expectedDate"]) == ("call first", "2027-01-15")
    assert [(x["id"], x["quantity"]) for x in now["lines"]][:1] == [(order["lines"][0]["id"], 9)]
    assert order["lines"][1]["id"] not in {x["id"] for x in now["lines"]}
    # Echo: the next sync neither reads its own writes back as changes nor sends them again
    again = objects_by_name(sync(ALL))
    assert sum(o["pushed"] + o["updated"] + o["conflicts"] for o in again.values()) == 0


def test_a_deactivation_in_the_wms_deactivates_the_record_in_quickbooks(sync_app, qb, sim):
    sync(["customer"])
    customer = next(c for c in qb.list_page("customers", {"limit": 50})["data"]
                    if c["isActive"] and not c["parent"] and c["sublevel"] == 0)
    wms("UPDATE wms_customer SET is_active = false WHERE qb_id = :id", id=customer["id"])
    sync(["customer"])
    found = qb.list_page("customers", {"ids": [customer["id"]], "status": "all"})["data"]
    assert found[0]["isActive"] is False


def _create_everything(qb) -> dict[str, int]:
    """A customer, a vendor, one item of each kind, a sales order naming the new customer and
    item, a purchase order naming the new vendor: all created in the WMS."""
    tag = uuid.uuid4().hex[:6]
    ids = {}
    ids["customer"] = wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active,"
                          " email) VALUES (:n, :n, 0, true, 'new@wms.example')",
                          n=f"WMS Customer {tag}")
    ids["vendor"] = wms("INSERT INTO wms_vendor (name, is_active) VALUES (:n, true)",
                        n=f"WMS Vendor {tag}")
    for item_type in ("inventory", "non_inventory", "service", "other_charge"):
        ids[item_type] = wms(
            "INSERT INTO wms_item (item_type, name, full_name, sublevel, is_active,"
            " sales_description, sales_price) VALUES (:t, :n, :n, 0, true, 'made in WMS',"
            " '4.25')", t=item_type, n=f"{item_type[:10]} {tag}")
    ids["sales_order"] = wms(
        "INSERT INTO wms_sales_order (customer_id, transaction_date, memo, is_manually_closed,"
        " is_active) VALUES (:c, :d, 'from the WMS', false, true)",
        c=ids["customer"], d=date.today().isoformat())
    wms("INSERT INTO wms_sales_order_line (sales_order_id, position, item_id, quantity, rate,"
        " is_manually_closed, is_line_group) VALUES (:o, 0, :i, 3, '4.25', false, false)",
        o=ids["sales_order"], i=ids["inventory"])
    ids["purchase_order"] = wms(
        "INSERT INTO wms_purchase_order (vendor_id, transaction_date, is_manually_closed,"
        " is_active) VALUES (:v, :d, false, true)", v=ids["vendor"], d=date.today().isoformat())
    wms("INSERT INTO wms_purchase_order_line (purchase_order_id, position, item_id, quantity,"
        " is_manually_closed, is_line_group) VALUES (:o, 0, :i, 10, false, false)",
        o=ids["purchase_order"], i=ids["non_inventory"])
    return ids


MODELS = {"customer": (Customer, "customers"), "vendor": (Vendor, "vendors"),
          "inventory": (Item, "inventory-items"), "non_inventory": (Item, "non-inventory-items"),
          "service": (Item, "service-items"), "other_charge": (Item, "other-charge-items"),
          "sales_order": (SalesOrder, "sales-orders"),
          "purchase_order": (PurchaseOrder, "purchase-orders")}


def test_records_created_in_the_wms_exist_once_in_quickbooks_in_one_session(sync_app, qb, sim):
    sync(ALL)
    ids = _create_everything(qb)
    doc = sync(ALL)
    assert doc["error_count"] == 0, [e.message for e in db.session.scalars(select(SyncError))]
    for kind, local_id in ids.items():
        model, resource = MODELS[kind]
        created = row(model, local_id)
        assert created.qb_id is not None and created.wms_pending is False, kind
        record = read(qb, resource, created.qb_id)
        assert record["externalId"] == created.external_id
    order = read(qb, "sales-orders", row(SalesOrder, ids["sales_order"]).qb_id)
    assert order["customer"]["id"] == row(Customer, ids["customer"]).qb_id
    assert order["lines"][0]["item"]["id"] == row(Item, ids["inventory"]).qb_id
    assert order["memo"] == "from the WMS"
    assert read(qb, "purchase-orders", row(PurchaseOrder, ids["purchase_order"]).qb_id)[
        "vendor"]["id"] == row(Vendor, ids["vendor"]).qb_id
    # Lines keep their local ids and learn their QuickBooks line ids
    line_id = db.session.execute(text("SELECT qb_line_id FROM wms_sales_order_line WHERE"
                                      " sales_order_id = :o"), {"o": ids["sales_order"]}).one()
    assert line_id[0] == order["lines"][0]["id"]
    events = db.session.scalars(select(SyncRecordEvent.action).where(
        SyncRecordEvent.action == "pushed_created"))
    assert len(list(events)) == len(ids)
    assert objects_by_name(sync(ALL))["customer"]["pushed"] == 0


def test_a_stale_revision_is_read_again_merged_and_sent_once_more(sync_app, qb, sim,
                                                                  monkeypatch):
    """QuickBooks edited between our read and our write (3200): re-read, merged (the
    conflict logged), and sent again; nothing is lost on either side."""
    sync(["customer"])
    customer = next(c for c in qb.list_page("customers", {"limit": 50})["data"]
                    if c["isActive"] and not c["parent"])
    wms("UPDATE wms_customer SET email = 'wms@example.com', note = 'WMS note' WHERE qb_id = :id",
        id=customer["id"])
    real_update = QuickBooks.update
    edits = []

    def someone_edits_first(self, resource, qb_id, body):
        if not edits:  # a QuickBooks user saves the customer just before our write lands
            edits.append(sim.edits({"resource": "customers", "id": qb_id,
                                    "fields": {"note": "QB note", "fax": "555-0133"}}))
        return real_update(self, resource, qb_id, body)

    monkeypatch.setattr(QuickBooks, "update", someone_edits_first)
    doc = sync(["customer"])
    assert doc["error_count"] == 0 and edits
    now = read(qb, "customers", customer["id"])
    assert (now["email"], now["note"], now["fax"]) == ("wms@example.com", "QB note",
                                                       "555-0133")
    [local] = db.session.scalars(select(Customer).where(Customer.qb_id == customer["id"]))
    assert (local.email, local.note, local.fax, local.wms_pending) == (
        "wms@example.com", "QB note", "555-0133", False)
    [conflict] = db.session.scalars(select(SyncRecordEvent).where(
        SyncRecordEvent.action == "conflict", SyncRecordEvent.qb_id == customer["id"]))
    assert conflict.field == "note" and conflict.detail["winner"] == "quickbooks"


def test_a_record_quickbooks_refuses_is_one_error_and_the_rest_go_on(sync_app, qb, sim):
    sync(["customer"])
    bad = wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
              " ('Acme: West', 'Acme: West', 0, true)")
    good = wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
               " ('Acme West', 'Acme West', 0, true)")
    doc = sync(["customer"])
    assert doc["status"] == "completed" and doc["error_count"] == 1
    [error] = db.session.scalars(select(SyncError))
    assert (error.phase, error.local_id, error.record_label) == ("push", bad, "Acme: West")
    assert "colon" in error.message and "next sync" in error.message
    assert row(Customer, bad).qb_id is None and row(Customer, bad).push_error
    assert row(Customer, good).qb_id is not None
    # Fixed in the WMS: the next sync sends it
    wms("UPDATE wms_customer SET name = 'Acme - West', full_name = 'Acme - West' WHERE id = :i",
        i=bad)
    assert sync(["customer"])["error_count"] == 0
    fixed = row(Customer, bad)
    assert fixed.qb_id is not None and fixed.push_error is None
    assert read(qb, "customers", fixed.qb_id)["name"] == "Acme - West"


def test_a_name_held_by_another_record_is_refused_with_who_holds_it(sync_app, qb, sim):
    sync(["customer", "vendor"])
    vendor = first(qb, "vendors")
    taken = wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
                " (:n, :n, 0, true)", n=vendor["name"])
    doc = sync(["customer", "vendor"])
    [error] = db.session.scalars(select(SyncError))
    assert error.code == "qb_3100" and error.local_id == taken
    assert f'a vendor "{vendor["name"]}" (id {vendor["id"]})' in error.message
    assert doc["error_count"] == 1


def test_creates_under_lost_responses_and_faults_exist_exactly_once(sync_app, qb, sim):
    """200 WMS-created records of every kind, with three writes in ten applied but answered
    with a failure and one request in ten failing outright: each exists once."""
    sync(ALL)
    created = []
    for n in range(COUNT):
        kind = ("customer", "vendor", "service", "inventory", "sales_order")[n % 5]
        if kind == "customer":
            created.append((Customer, "customers", wms(
                "INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
                " (:n, :n, 0, true)", n=f"Lost Customer {n}")))
        elif kind == "vendor":
            created.append((Vendor, "vendors", wms(
                "INSERT INTO wms_vendor (name, is_active) VALUES (:n, true)",
                n=f"Lost Vendor {n}")))
        elif kind in ("service", "inventory"):
            created.append((Item, f"{kind}-items", wms(
                "INSERT INTO wms_item (item_type, name, full_name, sublevel, is_active) VALUES"
                " (:t, :n, :n, 0, true)", t=kind, n=f"Lost Item {n}")))
        else:
            customer = created[-4][2]  # this round's customer
            created.append((SalesOrder, "sales-orders", wms(
                "INSERT INTO wms_sales_order (customer_id, transaction_date, memo,"
                " is_manually_closed, is_active) VALUES (:c, :d, :m, false, true)",
                c=customer, d=date.today().isoformat(), m=f"lost {n}")))
            wms("INSERT INTO wms_sales_order_line (sales_order_id, position, item_id, quantity,"
                " is_manually_closed, is_line_group) VALUES (:o, 0, :i, 2, false, false)",
                o=created[-1][2], i=created[-2][2])  # this round's inventory item
    sim.faults(lost_response_rate=0.3, fault_rate=0.1)
    # Each failure is retried from the object's checkpoint; at once here (no backoff)
    session = runner.run_session(manager.start_session(ALL, "incremental").id,
                                 max_attempts=400, backoff_s=0.0)
    doc = manager.session_document(session)
    assert doc["status"] == "completed", doc["failure_reason"]
    sim.faults(lost_response_rate=0.0, fault_rate=0.0)
    assert doc["error_count"] == 0
    db.session.expire_all()
    seen = Counter()
    for model, resource, local_id in created:
        local = db.session.get(model, local_id)
        assert local.qb_id is not None, (resource, local_id)
        seen[(resource, local.external_id)] += 0
    for resource in {r for _, r, _ in created}:
        params = {"limit": 150, "status": "all"} if resource != "sales-orders" else {
            "limit": 150}
        records, cursor = [], None
        while True:
            page = qb.list_page(resource, params, cursor)
            records += page["data"]
            cursor = page.get("nextCursor")
            if not page.get("hasMore"):
                break
        for record in records:
            key = (resource, record.get("externalId"))
            if key in seen:
                seen[key] += 1
    assert len(seen) == COUNT
    assert set(seen.values()) == {1}, [k for k, v in seen.items() if v != 1]


def test_a_worker_killed_between_a_create_and_its_commit_adopts_the_record(sync_app, qb, sim,
                                                                           monkeypatch):
    """The create reached QuickBooks, then the process died before recording its id: the
    next run finds it by its externalId instead of creating it again."""
    sync(["customer"])
    local_id = wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
                   " ('Crash Test Co', 'Crash Test Co', 0, true)")
    real_create = QuickBooks.create

    class Killed(BaseException):
        pass

    def create_then_die(self, resource, body):
        real_create(self, resource, body)
        raise Killed()  # the process is gone: nothing after the request runs

    monkeypatch.setattr(QuickBooks, "create", create_then_die)
    with pytest.raises(Killed):
        sync(["customer"], expect=None)
    monkeypatch.setattr(QuickBooks, "create", real_create)
    db.session.rollback()
    db.session.execute(text("UPDATE sync_session SET status = 'failed'"))  # its worker died
    db.session.commit()
    assert row(Customer, local_id).external_id is not None  # committed before the request
    assert row(Customer, local_id).qb_id is None
    sync(["customer"])
    adopted = row(Customer, local_id)
    named = qb.list_page("customers", {"fullNames": ["Crash Test Co"]})["data"]
    assert [r["id"] for r in named] == [adopted.qb_id]
    assert named[0]["externalId"] == adopted.external_id


def test_a_no_change_sync_makes_no_more_requests_than_the_pull(sync_app, qb, sim):
    sync(ALL)
    before = sim.stats()["total"]
    sync(ALL)
    spent = sim.stats()["total"] - before
    pushed = db.session.scalar(select(func.count()).select_from(SyncRecordEvent).where(
        SyncRecordEvent.action.like("pushed%")))
    assert pushed == 0
    assert spent <= 17, sim.stats()["requests"]


def test_a_change_quickbooks_has_no_place_for_costs_no_request_and_says_so(sync_app, qb, sim):
    sync(["item"])
    service = next(r for r in qb.list_page("service-items", {"limit": 150})["data"]
                   if r["salesOrPurchaseDetails"] and r["isActive"])
    wms("UPDATE wms_item SET purchase_cost = '3.00' WHERE qb_id = :id", id=service["id"])
    before = sim.stats()["requests"]
    doc = sync(["item"])
    after = sim.stats()["requests"]
    posts = {k: after[k] - before.get(k, 0) for k in after if k.startswith("POST")}
    assert not any(posts.values()) and objects_by_name(doc)["item"]["pushed"] == 0
    [local] = db.session.scalars(select(Item).where(Item.qb_id == service["id"]))
    assert local.wms_pending is False and "purchase_cost" in local.push_error
    assert local.purchase_cost == Decimal("3.00")  # the WMS keeps its value


def test_an_adjustment_made_in_the_wms_moves_stock_on_both_sides_once(sync_app, qb, sim):
    """+7 counted into the WMS as an adjustment while QuickBooks invoices 2 of the item: both
    moves land on both sides, each once, and the next sync moves nothing."""
    everything = ["customer", "item", "invoice", "inventory_adjustment"]
    sync(everything)
    stocked = first(qb, "inventory-items")
    item = db.session.scalar(select(Item).where(Item.qb_id == stocked["id"]))
    opening = item.quantity_on_hand
    adjustment = wms("INSERT INTO wms_inventory_adjustment (transaction_date, memo, is_active)"
                     " VALUES (:d, 'receipt found', true)", d=date.today().isoformat())
    wms("INSERT INTO wms_inventory_adjustment_line (inventory_adjustment_id, position, item_id,"
        " quantity_difference) VALUES (:a, 0, :i, 7)", a=adjustment, i=item.id)
    customer = first(qb, "customers", parent=None)
    sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": customer["id"], "transactionDate": date.today().isoformat(),
        "lines": [{"itemId": stocked["id"], "quantity": 2, "rate": "1.00"}]}}})
    doc = sync(everything)
    assert objects_by_name(doc)["inventory_adjustment"]["pushed"] == 1
    created = row(InventoryAdjustment, adjustment)
    record = read(qb, "inventory-adjustments", created.qb_id)
    assert record["memo"] == "receipt found (from the WMS)"
    assert record["account"]["fullName"] == "Inventory Adjustments"
    assert [line["quantityDifference"] for line in record["lines"]] == [7]
    expected = opening + 7 - 2
    assert Decimal(str(read(qb, "inventory-items", stocked["id"])["quantityOnHand"])) == expected
    assert row(Item, item.id).quantity_on_hand == expected
    again = objects_by_name(sync(everything))
    assert sum(o["pushed"] + o["updated"] for o in again.values()) == 0
    assert row(Item, item.id).quantity_on_hand == expected


def test_an_adjustment_quickbooks_refuses_is_one_error_and_the_others_go(sync_app, qb, sim):
    sync(["item", "inventory_adjustment"])
    service = db.session.scalar(select(Item.id).where(Item.item_type == "service"))
    stocked = db.session.scalar(select(Item.id).where(Item.item_type == "inventory"))
    ids = []
    for item_id in (service, stocked):
        ids.append(wms("INSERT INTO wms_inventory_adjustment (transaction_date, is_active)"
                       " VALUES (:d, true)", d=date.today().isoformat()))
        wms("INSERT INTO wms_inventory_adjustment_line (inventory_adjustment_id, position,"
            " item_id, quantity_difference) VALUES (:a, 0, :i, 3)", a=ids[-1], i=item_id)
    doc = sync(["item", "inventory_adjustment"])
    assert doc["error_count"] == 1
    [error] = db.session.scalars(select(SyncError))
    assert error.local_id == ids[0] and error.phase == "push"
    assert row(InventoryAdjustment, ids[0]).qb_id is None
    assert row(InventoryAdjustment, ids[1]).qb_id is not None


def test_a_change_inside_a_line_group_is_not_sent_and_not_tried_again(sync_app, qb, sim):
    sync(["sales_order"])
    order = next(o for o in qb.list_page("sales-orders", {"limit": 150})["data"]
                 if o["lineGroups"])
    header = db.session.scalar(select(SalesOrder.id).where(SalesOrder.qb_id == order["id"]))
    wms("UPDATE wms_sales_order_line SET description = 'inside a group' WHERE"
        " sales_order_id = :h AND group_qb_line_id IS NOT NULL", h=header)
    before = sim.stats()["requests"]
    sync(["sales_order"])
    after = sim.stats()["requests"]
    assert not any(after[k] - before.get(k, 0) for k in after if k.startswith("POST"))
    local = row(SalesOrder, header)
    assert local.wms_pending is False and "line groups" in local.push_error


def test_a_cancel_lands_between_two_writes_and_the_next_sync_sends_the_rest(sync_app, qb, sim):
    sync(["customer"])
    created = [wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
                   " (:n, :n, 0, true)", n=f"Cancelled Push {n}") for n in range(5)]
    pushed_before_cancel = []

    def cancel_after_the_first_write(run):
        if run.pushed and not pushed_before_cancel:
            pushed_before_cancel.append(run.pushed)
            manager.cancel_session(run.session_id)

    doc = sync(["customer"], expect="cancelled", on_progress=cancel_after_the_first_write)
    assert objects_by_name(doc)["customer"]["pushed"] == 1
    assert sum(row(Customer, i).qb_id is not None for i in created) == 1
    doc = sync(["customer"])
    assert objects_by_name(doc)["customer"]["pushed"] == 4
    assert all(row(Customer, i).qb_id is not None for i in created)
