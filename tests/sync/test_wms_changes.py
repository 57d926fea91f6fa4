"""The WMS side of two-way sync (DESIGN §1, §4): a WMS change is never overwritten by a pull,
a field both sides changed follows the object's rule, and every change and conflict is in the
ledger. WMS changes are made as a WMS would: straight into the tables with SQL (the triggers
stamp them) — the records API's own tests cover writes through it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, text

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import Customer, Item, SalesOrder, SalesOrderLine, SyncRecordEvent
from webapp.models.sync import CONFLICT, PULLED_UPDATED, PUSHED_UPDATED
from webapp.models.types import utcnow


def wms(sql: str, **params) -> None:
    """A WMS writing its own tables."""
    db.session.execute(text(sql), params)
    db.session.commit()


def row_of(model, qb_id: str):
    db.session.expire_all()
    return db.session.scalar(select(model).where(model.qb_id == qb_id))


def events(action: str, qb_id: str) -> list[SyncRecordEvent]:
    return list(db.session.scalars(select(SyncRecordEvent).where(
        SyncRecordEvent.action == action, SyncRecordEvent.qb_id == qb_id)
        .order_by(SyncRecordEvent.id)))


def a_customer(qb) -> dict:
    return next(c for c in qb.list_page("customers", {"limit": 50})["data"]
                if c["isActive"] and not c["parent"])


def test_the_lost_edit_story_the_wms_email_survives_quickbooks_unrelated_change(
        any_sync_app, any_qb, sim):
    """Edit a customer's email in the WMS, change another field in QuickBooks, sync: the
    email stays, QuickBooks' change arrives, the row is still pending."""
    sync(["customer"], qb=any_qb)
    customer = a_customer(any_qb)
    wms("UPDATE wms_customer SET email = 'wms@example.com' WHERE qb_id = :id",
        id=customer["id"])
    sim.edits({"resource": "customers", "id": customer["id"],
               "fields": {"accountNumber": "QB-4711"}})
    doc = sync(["customer"], qb=any_qb)
    row = row_of(Customer, customer["id"])
    assert row.email == "wms@example.com"
    assert row.account_number == "QB-4711"
    assert row.local_updated_at is not None
    assert objects_by_name(doc)["customer"]["conflicts"] == 0
    [pulled] = events(PULLED_UPDATED, customer["id"])
    assert pulled.fields == ["account_number"] and pulled.record_id == row.id
    # The pull kept the email as still to send, and the push sent it (only it)
    [pushed] = events(PUSHED_UPDATED, customer["id"])
    assert pushed.fields == ["email"] and pushed.id > pulled.id
    assert row.wms_pending is False and objects_by_name(doc)["customer"]["pushed"] == 1
    [now] = any_qb.list_page("customers", {"ids": [customer["id"]]})["data"]
    assert (now["email"], now["accountNumber"]) == ("wms@example.com", "QB-4711")
    # And the next sync neither pulls its own write back nor sends anything again
    again = objects_by_name(sync(["customer"], qb=any_qb))["customer"]
    assert (again["updated"], again["pushed"]) == (0, 0)
    assert row_of(Customer, customer["id"]).email == "wms@example.com"


def test_a_customer_contact_field_changed_on_both_sides_goes_to_the_wms(sync_app, qb, sim):
    sync(["customer"])
    customer = a_customer(qb)
    wms("UPDATE wms_customer SET phone = '555-0100', account_number = 'WMS-1'"
        " WHERE qb_id = :id", id=customer["id"])
    sim.edits({"resource": "customers", "id": customer["id"],
               "fields": {"phone": "555-0199", "accountNumber": "QB-1"}})
    doc = sync(["customer"])
    row = row_of(Customer, customer["id"])
    assert row.phone == "555-0100"  # contact field: the WMS wins
    assert row.account_number == "QB-1"  # anything else: QuickBooks wins
    [now] = qb.list_page("customers", {"ids": [customer["id"]]})["data"]
    assert (now["phone"], now["accountNumber"]) == ("555-0100", "QB-1")  # the phone was sent
    assert row.wms_pending is False
    assert objects_by_name(doc)["customer"]["conflicts"] == 2
    found = {e.field: e.detail for e in events(CONFLICT, customer["id"])}
    assert found["phone"]["winner"] == "wms" and found["phone"]["wms_value"] == "555-0100"
    assert found["phone"]["quickbooks_value"] == "555-0199"
    assert found["phone"]["base"] == customer["phone"]
    assert found["account_number"]["winner"] == "quickbooks"
    assert "contact fields" in found["phone"]["rule"]
    # Decided once: the next sync logs nothing again
    sync(["customer"])
    assert len(events(CONFLICT, customer["id"])) == 2


def test_an_item_field_changed_on_both_sides_goes_to_the_later_change(sync_app, qb, sim):
    sync(["item"])
    first, second = qb.list_page("service-items", {"limit": 2})["data"]
    # first: QuickBooks then the WMS (the WMS later); second: the WMS then QuickBooks
    sim.edits({"resource": "service-items", "id": first["id"],
               "fields": {"salesOrPurchaseDetails": {"description": "QB first"}}})
    time.sleep(1.1)  # QuickBooks' clock counts seconds
    wms("UPDATE wms_item SET sales_description = 'WMS later' WHERE qb_id = :id",
        id=first["id"])
    wms("UPDATE wms_item SET sales_description = 'WMS first' WHERE qb_id = :id",
        id=second["id"])
    time.sleep(1.1)
    sim.edits({"resource": "service-items", "id": second["id"],
               "fields": {"salesOrPurchaseDetails": {"description": "QB later"}}})
    sync(["item"])
    assert row_of(Item, first["id"]).sales_description == "WMS later"
    assert row_of(Item, second["id"]).sales_description == "QB later"
    assert [e.detail["winner"] for e in events(CONFLICT, first["id"])] == ["wms"]
    assert [e.detail["winner"] for e in events(CONFLICT, second["id"])] == ["quickbooks"]


def _order_with_lines(qb, count: int = 3) -> dict:
    return next(o for o in qb.list_page("sales-orders", {"limit": 150})["data"]
                if len(o["lines"]) >= count and not o["lineGroups"]
                and all(line["item"] and line["quantity"] for line in o["lines"])
                and not o["isFullyInvoiced"] and not o["isManuallyClosed"])


def _lines(order_qb_id: str) -> list[SalesOrderLine]:
    db.session.expire_all()
    order = row_of(SalesOrder, order_qb_id)
    return list(db.session.scalars(select(SalesOrderLine).where(
        SalesOrderLine.sales_order_id == order.id).order_by(SalesOrderLine.position)))


def test_order_header_and_lines_merge_by_quickbooks_line_id(sync_app, qb, sim):
    """Header: QuickBooks wins. Lines: changed on both sides → QuickBooks; changed on one →
    that side; added on each side → kept; removed on one side and changed on the other →
    kept, changed; removed on one side and untouched on the other → gone."""
    sync(["sales_order"])
    order = _order_with_lines(qb, 4)
    a, b, c, d = order["lines"][:4]
    local = {line.qb_line_id: line.id for line in _lines(order["id"])}
    # The WMS: memo; line a's quantity; line b's quantity; removes c; adds a line
    wms("UPDATE wms_sales_order SET memo = 'WMS memo' WHERE qb_id = :id", id=order["id"])
    wms("UPDATE wms_sales_order_line SET quantity = 11 WHERE id = :id", id=local[a["id"]])
    wms("UPDATE wms_sales_order_line SET quantity = 12 WHERE id = :id", id=local[b["id"]])
    wms("DELETE FROM wms_sales_order_line WHERE id = :id", id=local[c["id"]])
    added = _lines(order["id"])[0]
    wms("INSERT INTO wms_sales_order_line (sales_order_id, position, item_id, item_qb_id,"
        " quantity, is_manually_closed, is_line_group) VALUES (:order, 99, :item, :item_qb,"
        " 5, false, false)", order=added.sales_order_id, item=added.item_id,
        item_qb=added.item_qb_id)
    # QuickBooks: memo; line a's quantity (both changed a); changes c (removed in the WMS);
    # removes d (untouched in the WMS); adds a line
    kept = [{"id": a["id"], "quantity": 21}, {"id": b["id"]}, {"id": c["id"], "quantity": 23}]
    new_line = {"id": "-1", "itemId": a["item"]["id"], "quantity": 7}
    kept += [{"id": line["id"]} for line in order["lines"][4:]]
    sim.edits({"resource": "sales-orders", "id": order["id"],
               "fields": {"memo": "QB memo", "lines": [*kept, new_line]}})
    doc = sync(["sales_order"])
    row = row_of(SalesOrder, order["id"])
    assert row.memo == "QB memo" and row.wms_pending is False
    lines = {line.qb_line_id: line for line in _lines(order["id"])}
    assert lines[a["id"]].quantity == 21  # changed on both: QuickBooks
    assert lines[b["id"]].quantity == 12  # the WMS's change
    assert lines[c["id"]].quantity == 23  # removed in the WMS, changed in QuickBooks: stays
    assert d["id"] not in lines  # removed in QuickBooks, untouched in the WMS: gone
    new = [line for qb_line_id, line in lines.items()  # QuickBooks' 7 and the WMS's 5
           if qb_line_id not in {x["id"] for x in order["lines"]}]
    assert sorted(line.quantity for line in new) == [5, 7]
    # The line added in the WMS was created in QuickBooks (and kept its local id)
    [wms_added] = [line for line in _lines(order["id"]) if line.position == len(lines) - 1]
    assert wms_added.quantity == 5 and wms_added.qb_line_id is not None
    # QuickBooks now has exactly the merged lines
    [now] = qb.list_page("sales-orders", {"ids": [order["id"]]})["data"]
    assert {x["id"]: Decimal(str(x["quantity"])) for x in now["lines"]} == {
        line.qb_line_id: line.quantity for line in _lines(order["id"])}
    # Local line ids are stable: the lines that stayed kept theirs
    assert lines[a["id"]].id == local[a["id"]] and lines[b["id"]].id == local[b["id"]]
    fields = {e.field: e.detail for e in events(CONFLICT, order["id"])}
    assert fields["memo"]["winner"] == "quickbooks"
    assert fields[f"line {a['id']}"]["winner"] == "quickbooks"
    assert fields[f"line {c['id']}"]["winner"] == "quickbooks"
    assert objects_by_name(doc)["sales_order"]["conflicts"] == len(fields) == 3


def test_a_wms_edit_survives_rows_read_again_without_a_new_revision(sync_app, qb, sim):
    """An invoice moves an item's stock (the item's revision does not move) while the WMS
    edited the item's description; a parent renamed while the WMS edited a job's phone."""
    sync(["customer", "item", "invoice"])
    stocked = next(i for i in qb.list_page("inventory-items", {"limit": 50})["data"]
                   if i["isActive"])
    customer = a_customer(qb)
    wms("UPDATE wms_item SET sales_description = 'WMS words' WHERE qb_id = :id",
        id=stocked["id"])
    before = row_of(Item, stocked["id"]).quantity_on_hand
    sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": customer["id"], "transactionDate": "2026-12-01",
        "lines": [{"itemId": stocked["id"], "quantity": 2, "rate": "1.00"}]}}})
    job = next((c for c in qb.list_page("customers", {"limit": 150})["data"]
                if c["parent"] and c["sublevel"] == 1), None)
    assert job is not None
    wms("UPDATE wms_customer SET phone = '555-0142' WHERE qb_id = :id", id=job["id"])
    sim.edits({"resource": "customers", "id": job["parent"]["id"],
               "fields": {"name": "Renamed Parent Co"}})
    sync(["customer", "item", "invoice"])
    item = row_of(Item, stocked["id"])
    assert item.quantity_on_hand == before - 2  # QuickBooks' move arrived
    assert item.sales_description == "WMS words"  # the WMS edit survived
    moved = row_of(Customer, job["id"])
    assert moved.full_name.startswith("Renamed Parent Co:")
    assert moved.phone == "555-0142"


def test_triggers_stamp_wms_writes_and_never_the_sync_s(any_sync_app, any_qb, sim):
    sync(["customer", "sales_order"], qb=any_qb)
    customer = a_customer(any_qb)
    row = row_of(Customer, customer["id"])
    assert row.local_updated_at is None and row.wms_pending is False  # the sync's writes
    # A sync column written outside the sync stamps nothing
    wms("UPDATE wms_customer SET synced_at = synced_at WHERE qb_id = :id", id=customer["id"])
    wms("UPDATE wms_customer SET sync_hash = 'x' WHERE qb_id = :id", id=customer["id"])
    assert row_of(Customer, customer["id"]).local_updated_at is None
    # A synced column does
    wms("UPDATE wms_customer SET note = 'a note' WHERE qb_id = :id", id=customer["id"])
    row = row_of(Customer, customer["id"])
    assert row.local_updated_at is not None and row.wms_pending is True
    # A line's change stamps its header
    order = row_of(SalesOrder, _order_with_lines(any_qb, 1)["id"])
    assert order.local_updated_at is None
    wms("UPDATE wms_sales_order_line SET description = 'picked' WHERE sales_order_id = :id",
        id=order.id)
    order = row_of(SalesOrder, order.qb_id)
    assert order.local_updated_at is not None and order.wms_pending is True
    # A row the WMS inserts is pending, with no QuickBooks id
    wms("INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
        " ('New From WMS', 'New From WMS', 0, true)")
    new = db.session.scalar(select(Customer).where(Customer.name == "New From WMS"))
    assert new.qb_id is None and new.wms_pending is True and new.local_updated_at is not None
    # The next pull leaves the WMS-created row alone and keeps the edited one's note
    sim.edits({"resource": "customers", "id": customer["id"], "fields": {"fax": "555-0111"}})
    sync(["customer"], qb=any_qb)
    assert row_of(Customer, customer["id"]).note == "a note"
    db.session.expire_all()
    assert db.session.get(Customer, new.id).name == "New From WMS"


def test_stock_moves_as_net_changes(sync_app, qb, sim):
    """WMS on-hand = QuickBooks' on-hand + the WMS's own difference from the base."""
    sync(["customer", "item", "invoice"])
    stocked = next(i for i in qb.list_page("inventory-items", {"limit": 50})["data"]
                   if i["isActive"])
    base = row_of(Item, stocked["id"]).quantity_on_hand
    wms("UPDATE wms_item SET quantity_on_hand = :q WHERE qb_id = :id",
        q=str(base + Decimal(5)), id=stocked["id"])  # a receipt counted in the WMS
    sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": a_customer(qb)["id"], "transactionDate": "2026-12-01",
        "lines": [{"itemId": stocked["id"], "quantity": 2, "rate": "1.00"}]}}})
    sync(["customer", "item", "invoice"])
    assert row_of(Item, stocked["id"]).quantity_on_hand == base + 5 - 2


def test_the_ledger_keeps_its_retention_and_an_unchanged_record_writes_nothing(sync_app, qb,
                                                                                 sim):
    first = sync(["customer"])
    logged = db.session.scalar(select(func.count()).select_from(SyncRecordEvent))
    assert logged == objects_by_name(first)["customer"]["created"] > 0
    old = db.session.scalar(select(SyncRecordEvent).limit(1))
    old.created_at = utcnow() - timedelta(days=sync_app.config["QBSYNC_LEDGER_RETENTION_DAYS"]
                                          + 1)
    db.session.commit()
    sync(["customer"])  # nothing changed: nothing logged, and the old event pruned
    assert db.session.scalar(select(func.count()).select_from(SyncRecordEvent)) == logged - 1


def test_the_lost_edit_story_through_the_records_api(any_sync_app, any_qb, sim):
    """The same story with the WMS writing through the records API, as an integration would."""
    from webapp.cli import create_or_update_user
    from webapp.models.auth import ApiToken

    sync(["customer"], qb=any_qb)
    customer = a_customer(any_qb)
    local = row_of(Customer, customer["id"])
    _token_row, token = ApiToken.issue(create_or_update_user("wms@example.com", "x" * 12), "wms")
    db.session.commit()
    client = any_sync_app.test_client()
    answer = client.patch(f"/api/v1/records/customer/{local.id}",
                          json={"fields": {"email": "api@example.com"}},
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["sync_state"] == "pending"
    sim.edits({"resource": "customers", "id": customer["id"],
               "fields": {"accountNumber": "QB-0815"}})
    sync(["customer"], qb=any_qb)
    row = row_of(Customer, customer["id"])
    assert (row.email, row.account_number, row.wms_pending) == (
        "api@example.com", "QB-0815", False)
    [now] = any_qb.list_page("customers", {"ids": [customer["id"]]})["data"]
    assert now["email"] == "api@example.com"
    record = client.get(f"/api/v1/records/customer/{local.id}/history",
                        headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [e["action"] for e in record["events"]][:2] == ["pushed_updated", "pulled_updated"]
