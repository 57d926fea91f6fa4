"""What the progress says the sync is working on: QuickBooks' id, and the record's ref number or
name, which is what people in a warehouse know it by."""

from sqlalchemy import select

from tests.sync.conftest import sync
from webapp.extensions import db
from webapp.models import Customer, SalesOrder, SyncSession
from webapp.sync import manager


def test_each_page_names_its_last_record_by_ref_number_or_name(sync_app, sim):
    # Given a sync of sales orders (customers and items come first)
    seen = []

    def on_progress(run):
        session = db.session.get(SyncSession, run.session_id)
        seen.append((run.object_name, session.current_record_id, session.current_record_label))

    doc = sync(["sales_order"], on_progress=on_progress)
    # (once it has completed, nothing is current)
    assert doc["current_record_id"] is doc["current_record_label"] is None
    # Then after every page the session named the record by what people know it by
    pages = {name: [(i, label) for n, i, label in seen if n == name and i]
             for name in ("customer", "sales_order")}
    assert pages["customer"] and pages["sales_order"]
    for qb_id, label in pages["customer"]:
        assert label == db.session.scalar(select(Customer.full_name)
                                          .where(Customer.qb_id == qb_id))
    orders = [db.session.execute(select(SalesOrder.ref_number)
                                 .where(SalesOrder.qb_id == qb_id)).one_or_none()
              for qb_id, _ in pages["sales_order"]]
    assert None not in orders  # never the record of the object before (an item)
    refs = [order.ref_number for order in orders]
    assert [label for _, label in pages["sales_order"]] == refs  # None: it has no ref number
    assert any(refs)


def test_a_failed_record_is_logged_once_with_its_ref_number_or_name(sync_app, sim, qb):
    # Given a sales order naming a customer QuickBooks does not have, and a vendor with a
    # flag that is neither true nor false (items name it as their preferred vendor)
    order = qb.list_page("sales-orders", {"limit": 1})["data"][0]
    vendor = qb.list_page("vendors", {"limit": 1})["data"][0]
    sim.edits({"resource": "sales-orders", "id": order["id"], "raw": True,
               "fields": {"refNumber": "SO-4711",
                          "customer": {"id": "80000FFF-0000000000", "fullName": "Ghost"}}})
    sim.edits({"resource": "vendors", "id": vendor["id"], "raw": True,
               "fields": {"isEligibleFor1099": "perhaps"}})
    # When they are synced (vendors, then items, then sales orders)
    doc = sync(["sales_order", "vendor"])
    errors = manager.list_errors(doc["id"], limit=100)[0]
    # Then each error names the record as QuickBooks users know it, beside its id
    labels = {(e.object_type, e.object_id): e.record_label for e in errors}
    assert labels[("sales_order", order["id"])] == "SO-4711"
    assert labels[("vendor", vendor["id"])] == vendor["name"]
    assert manager.error_document(errors[0])["record_label"] == errors[0].record_label
    # And each failed record is logged once, though later objects refer to it again
    assert len(labels) == len(errors) == doc["error_count"]
    failed_items = {i for t, i in labels if t == "item"}
    assert failed_items  # their preferred vendor could not be synced
    for error in errors:
        if error.object_type == "item":
            assert "could not be synced (see its own error)" in error.message
