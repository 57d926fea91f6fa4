"""Pulling QuickBooks into the WMS, against the simulator over HTTP with conductor-py."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.sync.conftest import objects_by_name, snapshot, sync
from webapp.extensions import db
from webapp.models import (
    Customer,
    InventoryAdjustment,
    Invoice,
    Item,
    PurchaseOrder,
    SalesOrder,
    SyncError,
    Vendor,
)
from webapp.models.types import utcnow
from webapp.sync.objects import registry
from webapp.sync.pull.refs import RefResolver
from webapp.sync.pull.writer import PageWriter
from webapp.sync.writing import sync_writer

COUNTED = {
    "customers": (Customer, None),
    "vendors": (Vendor, None),
    "inventory-items": (Item, "inventory"),
    "non-inventory-items": (Item, "non_inventory"),
    "service-items": (Item, "service"),
    "other-charge-items": (Item, "other_charge"),
    "sales-orders": (SalesOrder, None),
    "purchase-orders": (PurchaseOrder, None),
    "invoices": (Invoice, None),
    "inventory-adjustments": (InventoryAdjustment, None),
}


def wms_count(model, item_type=None) -> int:
    query = select(func.count()).select_from(model).where(model.qb_deleted_at.is_(None))
    if item_type:
        query = query.where(model.item_type == item_type)
    return db.session.scalar(query)


def assert_counts_match(sim):
    counts = sim.counts()
    for resource, (model, item_type) in COUNTED.items():
        assert wms_count(model, item_type) == counts[resource], resource


def test_full_sync_mirrors_every_object(sync_app, sim):
    doc = sync()
    assert doc["status"] == "completed", doc["failure_reason"]
    assert doc["progress_percentage"] == 100 and doc["error_count"] == 0
    assert_counts_match(sim)
    for run in doc["objects"]:
        assert run["processed"] == run["total"] == run["created"], run


def test_full_sync_copies_fields_and_lines_exactly(any_sync_app, sim, any_qb):
    qb = any_qb
    sync()
    customers = qb.list_page("customers", {"status": "all", "limit": 40})["data"]
    assert len(customers) == 40  # the loop below checks something
    assert any(r["parent"] for r in customers) and any(r["billingAddress"] for r in customers)
    for record in customers:
        row = db.session.scalar(select(Customer).where(Customer.qb_id == record["id"]))
        assert row.full_name == record["fullName"] and row.name == record["name"]
        assert row.email == record["email"] and row.phone == record["phone"]
        assert row.is_active is record["isActive"]
        assert row.qb_revision == record["revisionNumber"]
        assert row.balance == (Decimal(record["balance"]) if record["balance"] else None)
        assert (row.parent_qb_id or None) == (record["parent"] or {}).get("id")
        if record["parent"]:
            assert row.parent_id == db.session.scalar(
                select(Customer.id).where(Customer.qb_id == record["parent"]["id"]))
        if record["billingAddress"]:
            assert row.billing_address.get("city") == record["billingAddress"]["city"]
    orders = qb.list_page("sales-orders", {"limit": 25})["data"]
    assert len(orders) == 25 and any(r["lines"] for r in orders)
    mirrored = set(db.session.scalars(select(Item.qb_id)))
    for record in orders:
        row = db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == record["id"]))
        assert row.ref_number == record["refNumber"]
        assert row.transaction_date.isoformat() == record["transactionDate"]
        assert row.total_amount == Decimal(record["totalAmount"])
        assert row.customer_qb_id == record["customer"]["id"]
        assert row.customer_id is not None
        # plain lines first, then each line group followed by its lines (test_line_groups)
        in_groups = [qb_line_id for g in record["lineGroups"]
                     for qb_line_id in (g["id"], *(x["id"] for x in g["lines"]))]
        assert [line.qb_line_id for line in row.lines] == [
            *(x["id"] for x in record["lines"]), *in_groups]
        plain = row.lines[: len(record["lines"])]
        for line, wire in zip(plain, record["lines"], strict=True):
            assert line.item_qb_id == wire["item"]["id"]
            # discount, subtotal and assembly items are not mirrored: no local item
            assert (line.item_id is not None) == (wire["item"]["id"] in mirrored)
            quantity = wire["quantity"]
            assert line.quantity == (None if quantity is None else Decimal(str(quantity)))
            assert line.amount == Decimal(wire["amount"])


def test_inactive_records_are_present_and_marked(sync_app, sim, qb):
    sync(["customer", "vendor", "item"])
    inactive = qb.list_page("customers", {"status": "inactive"})["data"]
    assert inactive, "the generated company has inactive customers"
    for record in inactive:
        assert db.session.scalar(
            select(Customer.is_active).where(Customer.qb_id == record["id"])) is False


def test_a_second_sync_without_changes_writes_nothing(sync_app, sim):
    sync()
    before = snapshot()
    doc = sync()
    assert doc["status"] == "completed"
    for run in doc["objects"]:
        assert run["created"] == run["updated"] == run["deleted"] == 0, (run["name"], run)
        # one listing per list resource (items have four); the session's shared requests
        # (deleted lists, changed transactions) counted with the object that asked them
        assert run["api_calls"] <= (6 if run["name"] == "item" else 2), run
    assert sum(run["api_calls"] for run in doc["objects"]) == 9
    assert snapshot() == before


def test_incremental_sync_changes_exactly_the_edited_rows(any_sync_app, sim):
    sync()
    before = snapshot()
    touched = sim.edits({"random": 25})
    deleted = sim.edits({"delete": {"resource": "invoices", "id": _any_id(Invoice)}})
    calls_before = sim.stats()["total"]
    doc = sync()
    runs = objects_by_name(doc)
    changed = {t["id"] for t in touched}
    owner = {"customers": "customer", "vendors": "vendor", "sales-orders": "sales_order",
             "purchase-orders": "purchase_order", "invoices": "invoice",
             "inventory-adjustments": "inventory_adjustment"}
    # every edited record was updated; beyond them, only items, customers and sales orders
    # whose stock, balance or invoiced quantities QuickBooks recomputed because of an edited
    # transaction: each counted with its own object, as many as its rows that changed
    updated_rows = sum(r["updated"] for r in runs.values())
    assert doc["status"] == "completed", doc["failure_reason"]
    assert updated_rows >= len(changed)
    for name in ("vendor", "purchase_order", "invoice", "inventory_adjustment"):
        edited = {t["id"] for t in touched if owner.get(t["resource"]) == name}
        assert runs[name]["updated"] == len(edited), name
    after = snapshot()
    for name, table in (("sales_order", "wms_sales_order"), ("customer", "wms_customer")):
        edited = {t["id"] for t in touched if owner.get(t["resource"]) == name}
        rewritten = len(set(after[table]) - set(before[table]))
        assert runs[name]["updated"] == rewritten >= len(edited), name
    assert runs["invoice"]["deleted"] == 1
    assert db.session.scalar(select(Invoice.qb_deleted_at).where(
        Invoice.qb_id == deleted[0]["id"])) is not None
    # near the minimum: per resource one listing and one deleted-list check, and per
    # transaction object at most five batched re-reads (four item kinds and customers)
    assert sim.stats()["total"] - calls_before <= 2 * 10 + 2 + 5 * 4
    assert sum(r["api_calls"] for r in runs.values()) == sim.stats()["total"] - calls_before
    assert_counts_match(sim)
    # and the WMS now equals QuickBooks: a full sync finds nothing to change
    full = sync(mode="full")
    for run in full["objects"]:
        assert run["created"] == run["updated"] == run["deleted"] == 0, (run["name"], run)
    assert snapshot() != before


def _any_id(model) -> str:
    return db.session.scalar(select(model.qb_id).order_by(model.id).limit(1))


def test_edits_made_during_a_pull_arrive_with_the_next_sync(sync_app, sim, qb):
    sync()
    edited = []

    def edit_while_pulling(run):
        if len(edited) < 3:
            edited.extend(sim.edits({"random": 2}))

    sync(on_progress=edit_while_pulling)
    # QuickBooks was edited while that pull ran (else the loop below would check nothing)
    assert len(edited) >= 3, edited
    sync()
    for touched in edited:
        model = {"customers": Customer, "vendors": Vendor, "sales-orders": SalesOrder,
                 "purchase-orders": PurchaseOrder, "invoices": Invoice,
                 "inventory-adjustments": InventoryAdjustment}.get(touched["resource"], Item)
        wire = qb.list_page(touched["resource"], {"ids": [touched["id"]]})["data"][0]
        local = db.session.scalar(select(model.qb_revision).where(model.qb_id == touched["id"]))
        assert local == wire["revisionNumber"], touched


def test_pulling_the_same_object_twice_leaves_identical_tables(sync_app, sim):
    sync(mode="full")
    first = snapshot()
    sync(mode="full")
    assert snapshot() == first


def test_a_broken_record_is_one_error_and_the_page_goes_on(sync_app, sim, qb):
    orders = qb.list_page("sales-orders", {"limit": 3})["data"]
    sim.edits({"resource": "sales-orders", "id": orders[0]["id"], "raw": True,
               "fields": {"customer": {"id": "80000FFF-0000000000", "fullName": "Ghost"}}})
    sim.edits({"resource": "sales-orders", "id": orders[1]["id"], "raw": True,
               "fields": {"transactionDate": "not a date"}})
    doc = sync(["sales_order"])
    assert doc["status"] == "completed"
    errors = db.session.scalars(select(SyncError).order_by(SyncError.id)).all()
    assert {(e.object_id, e.code) for e in errors} == {
        (orders[0]["id"], "broken_reference"), (orders[1]["id"], "mapping_error")}
    assert "cannot find" in errors[0].message or "cannot find" in errors[1].message
    assert objects_by_name(doc)["sales_order"]["failed"] == 2
    assert doc["error_count"] == 2
    assert wms_count(SalesOrder) == sim.counts()["sales-orders"] - 2
    assert db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == orders[2]["id"]))


def test_a_reference_missing_locally_is_fetched_in_one_batch(sync_app, sim, qb):
    from webapp.sync import manager
    from webapp.sync.engine import run_object

    sync(["sales_order"])
    new = [sim.edits({"create": {"resource": "customers", "fields": {"name": f"Late {n}"}}})[0]
           for n in range(3)]
    orders = qb.list_page("sales-orders", {"limit": 3})["data"]
    for order, customer in zip(orders, new, strict=True):
        sim.edits({"resource": "sales-orders", "id": order["id"],
                   "fields": {"customerId": customer["id"]}})
    before = sim.stats()["requests"].get("GET /v1/quickbooks-desktop/customers", 0)
    # only the sales orders are pulled: the new customers must be fetched on demand
    session = manager.start_session(["sales_order"], "incremental")
    run_object(session.id, "sales_order", qb)
    after = sim.stats()["requests"]["GET /v1/quickbooks-desktop/customers"]
    # one batched fetch of the three missing customers, one re-read of their balances
    assert after - before == 2
    for order, customer in zip(orders, new, strict=True):
        row = db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == order["id"]))
        assert row.customer_qb_id == customer["id"]
        assert row.customer_id == db.session.scalar(
            select(Customer.id).where(Customer.qb_id == customer["id"]))


@pytest.mark.postgres
def test_full_sync_on_postgresql(postgres_url, simulator, sim):
    from flask_migrate import upgrade

    from tests.conftest import make_app
    from tests.sync.conftest import sim_config

    app = make_app(postgres_url, **sim_config(simulator))
    with app.app_context():
        upgrade()
        doc = sync()
        assert doc["status"] == "completed", doc["failure_reason"]
        assert_counts_match(sim)
        before = snapshot()
        sync()
        assert snapshot() == before
        db.session.remove()
        db.engine.dispose()


def test_deletions_older_than_quickbooks_keeps_are_found_by_id_comparison(sync_app, sim, qb):
    from datetime import timedelta

    from webapp.models import SyncState
    from webapp.models.types import utcnow

    sync(["vendor"])
    victim = qb.list_page("vendors", {"limit": 1})["data"][0]
    sim.edits({"delete": {"resource": "vendors", "id": victim["id"], "purge": True}})
    state = db.session.scalar(select(SyncState).where(SyncState.object_name == "vendor"))
    state.last_deleted_check_at = utcnow() - timedelta(days=120)
    db.session.commit()
    calls = sim.stats()["requests"]
    doc = sync(["vendor"])
    run = objects_by_name(doc)["vendor"]
    assert run["deleted"] == 1
    row = db.session.scalar(select(Vendor).where(Vendor.qb_id == victim["id"]))
    assert row.qb_deleted_at is not None and row.is_active is False
    after = sim.stats()["requests"]
    assert after.get("GET /v1/quickbooks-desktop/deleted-list-objects", 0) == calls.get(
        "GET /v1/quickbooks-desktop/deleted-list-objects", 0)
    assert wms_count(Vendor) == sim.counts()["vendors"]  # the purged one is gone from both


def _break_the_parent_of_a_job(sim, qb) -> tuple[dict, str]:
    """Plant an unreadable balance on a customer that has a job; returns (job, parent id)."""
    customers = qb.list_page("customers", {"status": "all"})["data"]
    job = next(c for c in customers if c["parent"])
    parent_id = job["parent"]["id"]
    sim.edits({"resource": "customers", "id": parent_id, "raw": True,
               "fields": {"balance": "lots"}})
    return job, parent_id


def test_a_broken_parent_is_reported_once_and_its_jobs_say_why(sync_app, sim, qb):
    job, parent_id = _break_the_parent_of_a_job(sim, qb)
    doc = sync(["customer"])
    assert doc["status"] == "completed"
    errors = db.session.scalars(select(SyncError)).all()
    parent_errors = [e for e in errors if e.object_id == parent_id]
    assert [e.code for e in parent_errors] == ["mapping_error"]
    job_errors = [e for e in errors if e.object_id == job["id"]]
    assert [e.code for e in job_errors] == ["broken_reference"]
    assert "could not be synced" in job_errors[0].message


def test_records_that_failed_are_read_again_once_fixed_in_quickbooks(sync_app, sim, qb):
    job, parent_id = _break_the_parent_of_a_job(sim, qb)
    sync(["customer"])
    assert db.session.scalar(select(Customer).where(Customer.qb_id == job["id"])) is None
    # When the parent is mended in QuickBooks (the job itself is not touched)
    sim.edits({"resource": "customers", "id": parent_id, "raw": True,
               "fields": {"balance": "10.00"}})
    doc = sync(["customer"])
    # Then both arrive with the next incremental sync
    assert doc["error_count"] == 0
    row = db.session.scalar(select(Customer).where(Customer.qb_id == job["id"]))
    assert row is not None and row.parent_id is not None


def test_a_record_a_full_pull_missed_is_not_taken_for_deleted(sync_app, sim, qb):
    from webapp.sync.conductor import QuickBooks

    sync(["vendor"])
    victim, doomed = qb.list_page("vendors", {"limit": 2})["data"]
    sim.edits({"delete": {"resource": "vendors", "id": doomed["id"], "purge": True}})

    class Missing(QuickBooks):
        """Listings skip the victim, as a rename during a restarted listing could."""

        def list_page(self, resource, params, cursor=None):
            page = super().list_page(resource, params, cursor)
            if "ids" not in params:
                page["data"] = [r for r in page["data"] if r["id"] != victim["id"]]
            return page

    with Missing.from_config(sync_app.config) as missing:
        doc = sync(["vendor"], mode="full", qb=missing)
    assert objects_by_name(doc)["vendor"]["deleted"] == 1
    kept = db.session.scalar(select(Vendor).where(Vendor.qb_id == victim["id"]))
    assert kept.qb_deleted_at is None and kept.is_active is victim["isActive"]
    gone = db.session.scalar(select(Vendor).where(Vendor.qb_id == doomed["id"]))
    assert gone.qb_deleted_at is not None


def test_a_record_listed_twice_in_a_page_is_written_once(sync_app, sim, qb):
    sync(["customer", "item"])
    page = qb.list_page("invoices", {"limit": 3, "includeLineItems": True,
                                     "includeLinkedTransactions": True})["data"]
    resolver = RefResolver(qb, registry)
    writer = resolver.writer = PageWriter(resolver, lambda *args: None, now=utcnow())  # as wired
    result = writer.write(registry.get("invoice"), "invoices", [page[0], page[1], page[0]])
    db.session.commit()
    assert (result.created, result.unchanged) == (2, 0)
    invoice = db.session.scalar(select(Invoice).where(Invoice.qb_id == page[0]["id"]))
    assert len(invoice.lines) == len(page[0]["lines"])


def test_a_deactivated_record_is_inactive_not_deleted(sync_app, sim, qb):
    """QuickBooks (the simulator, as asked) lists a deactivation among the deleted list
    objects too; the record still exists, so the WMS must not mark it deleted."""
    sync(["customer"])
    customer, purged = [c for c in qb.list_page("customers", {"limit": 50})["data"]
                        if c["isActive"] and not c["parent"]][:2]
    sim.edits({"delete": {"resource": "customers", "id": customer["id"]}})
    sim.edits({"delete": {"resource": "customers", "id": purged["id"], "purge": True}})
    doc = sync(["customer"])
    assert objects_by_name(doc)["customer"]["deleted"] == 1
    row = db.session.scalar(select(Customer).where(Customer.qb_id == customer["id"]))
    assert row.is_active is False and row.qb_deleted_at is None
    gone = db.session.scalar(select(Customer).where(Customer.qb_id == purged["id"]))
    assert gone.qb_deleted_at is not None
    assert wms_count(Customer) == sim.counts()["customers"]


def test_a_row_marked_deleted_that_quickbooks_still_lists_is_restored(sync_app, sim, qb):
    """A mark left by an earlier version (which took deactivations for deletions) must not
    outlive the record's next listing just because its revision did not move."""
    sync(["customer"])
    customer = qb.list_page("customers", {"limit": 1})["data"][0]
    with sync_writer(db.session()):  # written as that earlier version of the sync did
        row = db.session.scalar(select(Customer).where(Customer.qb_id == customer["id"]))
        row.qb_deleted_at, row.is_active = utcnow(), False
        db.session.commit()
    sync(["customer"], mode="full")
    db.session.expire_all()
    row = db.session.scalar(select(Customer).where(Customer.qb_id == customer["id"]))
    assert row.qb_deleted_at is None and row.is_active is customer["isActive"]


def test_a_sub_item_whose_parent_fails_on_its_page_is_linked_once_the_parent_is_fixed(
        sync_app, sim, qb):
    """Parents on the same page are linked after the page is written; when the parent fails
    (a preferred vendor QuickBooks cannot find), its sub-item must fail too, or it is written
    without its parent and, its revision unchanged, never linked again."""
    items = qb.list_page("inventory-items", {"status": "all", "nameFrom": " "})["data"]
    child = next(i for i in items if i["parent"])
    parent_id = child["parent"]["id"]
    assert any(i["id"] == parent_id for i in items)  # on the same page
    sim.edits({"resource": "inventory-items", "id": parent_id, "raw": True,
               "fields": {"preferredVendor": {"id": "80000FFF-0000000000", "fullName": "Ghost"}}})
    sync(["item"])
    codes = {e.object_id: e.code for e in db.session.scalars(select(SyncError))}
    assert codes.get(parent_id) == codes.get(child["id"]) == "broken_reference"
    sim.edits({"resource": "inventory-items", "id": parent_id, "raw": True,
               "fields": {"preferredVendor": None}})
    sync(["item"])  # incremental: both are read again (the watermark waited for them)
    db.session.expire_all()
    row = db.session.scalar(select(Item).where(Item.qb_id == child["id"]))
    assert row.parent_qb_id == parent_id
    assert row.parent_id == db.session.scalar(select(Item.id).where(Item.qb_id == parent_id))
