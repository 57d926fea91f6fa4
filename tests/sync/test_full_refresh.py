"""Figures QuickBooks recomputes without a new revision, after FULL pulls of transactions.

A full pull (the first one of an object, `mode=full`, or the 90-day id comparison) reads
every transaction, so it cannot tell which are new to the WMS; it reads again only the items,
customers and sales orders whose last read (`synced_at`) may predate a transaction it read
(webapp.sync.pull.refresh.stale). Invoices entered against orders synced in an earlier session are
seen, yet a first full sync of a fresh company reads nothing twice.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.sync.conftest import invoice_to_move, objects_by_name, sim_config, snapshot, sync
from webapp.extensions import db
from webapp.models import Customer, Item, SalesOrder, SyncSession
from webapp.sync import manager
from webapp.sync.conductor import QuickBooks
from webapp.sync.engine import run_object
from webapp.sync.objects import registry
from webapp.sync.pull import refresh

TODAY = date.today().isoformat()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sync_app(request, simulator):
    """The app on each backend: the choice of stale targets is made in SQL."""
    postgres = request.param == "postgresql"
    uri = request.getfixturevalue("postgres_url" if postgres else "sqlite_uri")
    application = make_app(uri, **sim_config(simulator))
    with application.app_context():
        if postgres:
            from flask_migrate import upgrade

            upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


class Crash(Exception):
    """A worker dying right after a checkpoint was committed."""


@pytest.fixture
def refreshes(monkeypatch):
    """[(object, api calls the refresh made, {target: ids it chose})], one per refresh."""
    seen = []
    chose = {}
    for name in ("stale", "affected"):
        original = getattr(refresh, name)

        def spy(ctx, original=original):
            targets = original(ctx)
            chose[ctx.obj.name] = {t: sorted(i for ids in r.values() for i in ids)
                                   for t, r in targets.items()}
            return targets

        monkeypatch.setattr(refresh, name, spy)
    run = refresh.refresh

    def counted(ctx):
        calls = ctx.qb.api_calls
        try:
            return run(ctx)
        finally:
            seen.append((ctx.obj.name, ctx.qb.api_calls - calls, chose.pop(ctx.obj.name, {})))

    monkeypatch.setattr(refresh, "refresh", counted)
    return seen


def _get(qb, resource, ids, **params):
    return qb.list_page(resource, {"ids": sorted(ids), **params})["data"]


def _open_orders(qb, count: int) -> list[dict]:
    """Sales orders with inventory lines left to invoice, each of another customer."""
    stocked = {i["id"] for i in qb.list_page("inventory-items", {"limit": 150})["data"]}
    orders, customers = [], set()
    for order in qb.list_page("sales-orders", {"limit": 150, "includeLineItems": True})["data"]:
        if order["isFullyInvoiced"] or order["isManuallyClosed"]:
            continue
        if order["customer"]["id"] in customers:
            continue
        if not any((line["item"] or {}).get("id") in stocked and not line["isManuallyClosed"]
                   and (line["quantity"] or 0) > (line["quantityInvoiced"] or 0)
                   for line in order["lines"]):
            continue
        orders.append(order)
        customers.add(order["customer"]["id"])
        if len(orders) == count:
            return orders
    raise AssertionError("the simulator has too few open sales orders")


def _invoice(sim, order) -> str:
    return sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": order["customer"]["id"], "transactionDate": TODAY,
        "linkToTransactionIds": [order["id"]]}}})[0]["id"]


def _items_on(qb, invoice_ids) -> set[str]:
    """Every item on the invoices' lines."""
    return {line["item"]["id"] for invoice in _get(qb, "invoices", invoice_ids)
            for line in invoice["lines"] if line["item"]}


def _stocked(item_ids) -> set[str]:
    """The inventory items among them (the others have no quantities)."""
    return set(db.session.scalars(select(Item.qb_id).where(
        Item.qb_id.in_(sorted(item_ids)), Item.item_type == "inventory")))


def _finish():
    """Sessions the test ran by hand are over."""
    db.session.execute(SyncSession.__table__.update().where(
        SyncSession.status.in_(["pending", "running"])).values(status="completed"))
    db.session.commit()


def _session(names, mode):
    """A new session whose objects the test runs itself."""
    _finish()
    session = manager.start_session(names, mode)
    return session, [p.name for p in registry.plan(names)]


def _wire_items(qb, ids) -> dict:
    return {i["id"]: tuple(Decimal(str(i[f] or 0)) for f in (
        "quantityOnHand", "quantityOnSalesOrder", "quantityOnPurchaseOrder"))
        for i in _get(qb, "inventory-items", ids)}


def _local_items(ids) -> dict:
    db.session.expire_all()
    rows = db.session.execute(select(
        Item.qb_id, Item.quantity_on_hand, Item.quantity_on_sales_order,
        Item.quantity_on_purchase_order).where(Item.qb_id.in_(sorted(ids))))
    return {qb_id: tuple(v or Decimal(0) for v in values) for qb_id, *values in rows}


def _wire_customers(qb, ids) -> dict:
    return {c["id"]: (Decimal(c["balance"]), Decimal(c["totalBalance"]))
            for c in _get(qb, "customers", ids)}


def _local_customers(ids) -> dict:
    db.session.expire_all()
    rows = db.session.execute(select(Customer.qb_id, Customer.balance, Customer.total_balance)
                              .where(Customer.qb_id.in_(sorted(ids))))
    return {qb_id: (balance, total) for qb_id, balance, total in rows}


def _with_parents(qb, ids) -> set[str]:
    found, level = set(ids), set(ids)
    while level:
        level = {c["parent"]["id"] for c in _get(qb, "customers", level) if c["parent"]} - found
        found |= level
    return found


def _wire_orders(qb, ids) -> dict:
    return {o["id"]: (o["isFullyInvoiced"], sorted(
        (line["id"], Decimal(str(line["quantityInvoiced"] or 0))) for line in o["lines"]))
        for o in _get(qb, "sales-orders", ids, includeLineItems=True)}


def _local_orders(ids) -> dict:
    db.session.expire_all()
    orders = db.session.scalars(select(SalesOrder).where(SalesOrder.qb_id.in_(sorted(ids))))
    return {o.qb_id: (o.is_fully_invoiced, sorted(
        (line.qb_line_id, line.quantity_invoiced or Decimal(0)) for line in o.lines))
        for o in orders}


def _invoiced_after_the_orders_were_synced(sim, qb):
    """Session 1 syncs sales orders (customers, items); then invoices are entered in
    QuickBooks against three of them. Returns (order ids, ids of the items on the invoices,
    of those the inventory ones, customer ids with their parents), having checked the WMS
    does not have QuickBooks' new figures yet."""
    sync(["sales_order"])
    orders = _open_orders(qb, 3)
    invoices = {_invoice(sim, order) for order in orders}
    order_ids = {o["id"] for o in orders}
    on_lines = _items_on(qb, invoices)
    items = _stocked(on_lines)
    customers = _with_parents(qb, {o["customer"]["id"] for o in orders})
    assert _local_orders(order_ids) != _wire_orders(qb, order_ids)
    assert _local_items(items) != _wire_items(qb, items)
    assert _local_customers(customers) != _wire_customers(qb, customers)
    return order_ids, on_lines, items, customers


def test_a_first_full_pull_of_invoices_reads_the_orders_they_invoice_again(
        sync_app, sim, qb, refreshes):
    order_ids, on_lines, items, customers = _invoiced_after_the_orders_were_synced(sim, qb)
    refreshes.clear()
    doc = sync(["invoice"])  # invoices: no watermark yet, so a full pull
    assert "sales_order" not in objects_by_name(doc)
    db.session.expire_all()
    run = next(r for r in db.session.get(SyncSession, doc["id"]).object_runs
               if r.object_name == "invoice")
    assert run.checkpoint["full"] is True
    assert _local_orders(order_ids) == _wire_orders(qb, order_ids)
    assert _local_items(items) == _wire_items(qb, items)
    assert _local_customers(customers) == _wire_customers(qb, customers)
    # only what the three new invoices touched was read again, not every order and item
    (name, calls, chose), = refreshes
    assert name == "invoice"
    assert set(chose["sales_order"]) == order_ids
    assert set(chose["item"]) == on_lines
    assert set(chose["customer"]) == customers
    assert 0 < calls <= 6  # a call per item resource, one for customers, one for orders
    # and the WMS now holds exactly what a full sync of all of it would read
    after = snapshot()
    sync(["invoice", "sales_order"], mode="full")
    assert snapshot() == after


def _stock_changes(sim, qb) -> set[str]:
    """A purchase order and an inventory adjustment entered in QuickBooks now; returns the
    inventory items whose quantities they changed."""
    items = [i["id"] for i in qb.list_page("inventory-items", {"limit": 10})["data"]]
    vendor = qb.list_page("vendors", {"limit": 1})["data"][0]["id"]
    account = next(a["id"] for a in qb.list_page("accounts", {})["data"]
                   if a["accountType"] == "cost_of_goods_sold")
    sim.edits({"create": {"resource": "purchase-orders", "fields": {
        "vendorId": vendor, "transactionDate": TODAY,
        "lines": [{"itemId": items[0], "quantity": 7, "rate": "3.00"},
                  {"itemId": items[1], "quantity": 2, "rate": "5.00"}]}}})
    sim.edits({"create": {"resource": "inventory-adjustments", "fields": {
        "accountId": account, "transactionDate": TODAY,
        "lines": [{"itemId": items[2], "adjustQuantity": {"quantityDifference": 4}},
                  {"itemId": items[1], "adjustQuantity": {"quantityDifference": -1}}]}}})
    return items[:3]


def test_a_first_full_pull_of_orders_and_adjustments_reads_their_items_again(
        sync_app, sim, qb, refreshes):
    sync(["item", "vendor"])
    items = _stock_changes(sim, qb)
    assert _local_items(items) != _wire_items(qb, items)
    refreshes.clear()
    sync(["purchase_order", "inventory_adjustment"])  # both: no watermark, a full pull
    assert _local_items(items) == _wire_items(qb, items)
    chose = {name: set(targets.get("item", ())) for name, _calls, targets in refreshes}
    # (the item both changed is read twice: its first read was within the clock margin of
    # the adjustment, so may have been before it)
    assert chose == {"purchase_order": set(items[:2]), "inventory_adjustment": set(items[1:])}


def test_a_full_sync_reads_again_what_a_transaction_entered_meanwhile_changed(
        sync_app, sim, qb, refreshes):
    """`mode=full`: the items are read first; a purchase order and an adjustment entered in
    QuickBooks before the transactions' turn change them, and are read with them."""
    sync(["purchase_order", "inventory_adjustment"])
    session, plan = _session(["purchase_order", "inventory_adjustment"], "full")
    refreshes.clear()
    with QuickBooks.from_config(sync_app.config) as client:
        for name in plan:
            if registry.get(name).kind == "list":
                run_object(session.id, name, client, settings=sync_app.config)
        items = _stock_changes(sim, qb)
        assert _local_items(items) != _wire_items(qb, items)
        for name in plan:
            if registry.get(name).kind != "list":
                run_object(session.id, name, client, settings=sync_app.config)
    assert _local_items(items) == _wire_items(qb, items)
    chose = {name: set(targets.get("item", ())) for name, _calls, targets in refreshes}
    assert chose == {"purchase_order": set(items[:2]), "inventory_adjustment": set(items[1:])}


def test_a_full_pull_reads_again_what_an_edited_invoice_no_longer_refers_to(
        sync_app, sim, qb, refreshes):
    """As after an incremental pull: the invoice's row is rewritten, and nothing else
    remembers its former item and customer (their other invoices are older than their
    last read)."""
    sync(["invoice"])
    invoice, old_item, old_customer, new_item, new_customer = invoice_to_move(qb)
    session, plan = _session(["invoice"], "full")
    with QuickBooks.from_config(sync_app.config) as client:
        for name in plan[:-1]:
            run_object(session.id, name, client, settings=sync_app.config)
        sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {
            "customerId": new_customer,
            "lines": [{"id": "-1", "itemId": new_item, "quantity": 2, "rate": "10.00"}]}})
        run_object(session.id, "invoice", client, settings=sync_app.config)
    assert _local_items({old_item, new_item}) == _wire_items(qb, {old_item, new_item})
    customers = _with_parents(qb, {old_customer, new_customer})
    assert _local_customers(customers) == _wire_customers(qb, customers)


def test_a_first_full_sync_of_a_fresh_company_reads_nothing_again(sync_app, sim, refreshes):
    sync()  # everything, into an empty WMS: every pull is a full one
    assert sorted(name for name, _, _ in refreshes) == sorted(
        o.name for o in registry.all() if o.kind != "list")
    assert [(name, calls, chose) for name, calls, chose in refreshes if calls or chose] == []
    refreshes.clear()
    sync(mode="full")  # again: the lists are read first, and after every transaction
    assert [(name, calls, chose) for name, calls, chose in refreshes if calls or chose] == []


def test_a_crash_during_the_refresh_after_a_full_pull_resumes(sync_app, sim, qb, refreshes):
    order_ids, _on_lines, items, customers = _invoiced_after_the_orders_were_synced(sim, qb)
    session, plan = _session(["invoice"], "full")
    refreshes.clear()
    places = []

    def crash(run):
        place = (run.checkpoint or {}).get("refresh_at")
        if place and place not in places:
            places.append(place)
            if len(places) == 2:  # two batches of the refresh are committed
                raise Crash()

    with QuickBooks.from_config(sync_app.config) as client:
        for name in plan[:-1]:
            run_object(session.id, name, client, settings=sync_app.config)
        with pytest.raises(Crash):
            run_object(session.id, "invoice", client, on_progress=crash,
                       settings=sync_app.config)
        db.session.rollback()
        run_object(session.id, "invoice", client, on_progress=crash, settings=sync_app.config)
    assert len(places) > 2  # the resumed attempt went on with the batches after those
    (_, _, first), (_, resumed_calls, resumed) = refreshes
    assert first == resumed  # the same choice: nothing was left out by the crash
    assert resumed_calls == len(places) - 2  # one call a batch; none read twice
    _finish()
    assert _local_orders(order_ids) == _wire_orders(qb, order_ids)
    assert _local_items(items) == _wire_items(qb, items)
    assert _local_customers(customers) == _wire_customers(qb, customers)
    after = snapshot()
    sync(["invoice", "sales_order"], mode="full")
    assert snapshot() == after
