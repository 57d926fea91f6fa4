"""Rounds of mixed QuickBooks edits, each followed by an incremental sync, end with the same
mirror as a fresh full sync of the same company.

Each feature has its own tests; this one lets them meet: renames and moves of jobs, orders
and invoices moved between customers and items, deletions, new orders, deactivations and
QuickBooks' own random edits, some rounds under faults. The fresh sync reads everything
as QuickBooks has it now, so any figure an incremental pull missed (a stock level, a
balance, an invoiced quantity, a job's name) shows up as a difference.
"""

from __future__ import annotations

import random
import shutil

from sqlalchemy import select

from tests.conftest import make_app
from tests.sync.conftest import invoice_to_move, sim_config, sync
from webapp.extensions import db
from webapp.models import Customer, Item, SalesOrder, wms

MODELS = (wms.Customer, wms.Vendor, wms.Item, wms.SalesOrder, wms.SalesOrderLine,
          wms.PurchaseOrder, wms.PurchaseOrderLine, wms.Invoice, wms.InvoiceLine,
          wms.InventoryAdjustment, wms.InventoryAdjustmentLine)
ROUNDS = 4  # (seeds 1-8 with 4 rounds and 4-6 with 8 passed too when this was written)


def mirror() -> dict[str, list[tuple]]:
    """The rows QuickBooks still has, each local id replaced by the QuickBooks id of the row
    it points to (comparable across databases); lines only of such headers. Not `sync_hash`:
    renaming a customer changes the name in its orders' references (QuickBooks does not touch
    them either), which no column keeps, so their fingerprint may be the older one.)"""
    tables = {}
    for model in MODELS:
        table = model.__table__
        columns, joins, live = [], [], []
        for column in table.c:
            if column.name in ("id", "synced_at", "sync_hash"):
                continue
            fk = next(iter(column.foreign_keys), None)
            if fk is None:
                columns.append(column)
                continue
            target = fk.column.table.alias(f"{column.name}_target")
            joins.append((target, target.c.id == column))
            columns.append(target.c.qb_id.label(column.name))
            if fk.column.table.name == table.name.removesuffix("_line") != table.name:
                live.append(target.c.qb_deleted_at.is_(None))  # a line of a live header
        query = select(*columns).select_from(table)
        for target, on in joins:
            query = query.outerjoin(target, on)
        if "qb_deleted_at" in table.c:
            live.append(table.c.qb_deleted_at.is_(None))
        rows = db.session.execute(query.where(*live)).all()
        tables[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
        tables[table.name + ".columns"] = [c.name for c in columns]
    return tables


def differences(kept: list[tuple], fresh: list[tuple], names: list[str]) -> list:
    """The first few rows that differ, as {column: (kept, fresh)} by the row's qb_id."""
    key = names.index("qb_id") if "qb_id" in names else names.index("qb_line_id")
    by_kept = {row[key]: row for row in kept}
    by_fresh = {row[key]: row for row in fresh}
    found = []
    for qb_id in sorted(set(by_kept) | set(by_fresh)):
        a, b = by_kept.get(qb_id), by_fresh.get(qb_id)
        if a != b:
            found.append((qb_id, "only fresh" if a is None else "only kept" if b is None else {
                name: (x, y) for name, x, y in zip(names, a, b, strict=True) if x != y}))
    return found[:4]


def _edit_round(sim, qb, rng: random.Random, n: int) -> None:
    customers = qb.list_page("customers", {"limit": 150})["data"]
    by_id = {c["id"]: c for c in customers}
    with_jobs = sorted({c["parent"]["id"] for c in customers if c["parent"]} & set(by_id))
    sim.edits({"resource": "customers", "id": rng.choice(with_jobs),
               "fields": {"name": f"Renamed Customer {n}"}})
    jobs = [c for c in customers if c["parent"]]
    job = rng.choice(jobs)
    tops = [c["id"] for c in customers if not c["parent"] and c["id"] != job["parent"]["id"]]
    sim.edits({"resource": "customers", "id": job["id"], "fields": {"parentId": rng.choice(tops)}})
    items = qb.list_page("inventory-items", {"limit": 150})["data"]
    parents = sorted({i["parent"]["id"] for i in items if i["parent"]})
    if parents:
        sim.edits({"resource": "inventory-items", "id": rng.choice(parents),
                   "fields": {"name": f"Renamed Item {n}"}})
    invoice, _, _, new_item, new_customer = invoice_to_move(qb)
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {
        "customerId": new_customer,
        "lines": [{"id": "-1", "itemId": new_item, "quantity": rng.randint(1, 4),
                   "rate": "10.00"}]}})
    orders = qb.list_page("sales-orders", {"limit": 150})["data"]
    for order in rng.sample(orders, len(orders)):  # QuickBooks keeps an invoiced one
        answer = sim.http.post("/_sim/edits", json={
            "delete": {"resource": "sales-orders", "id": order["id"]}})
        if answer.is_success:
            break
        assert "linked" in answer.text or "in use" in answer.text, answer.text
    stocked = [i["id"] for i in items if i["isActive"]]
    buyer = rng.choice([c["id"] for c in customers if c["isActive"]])
    sim.edits({"create": {"resource": "sales-orders", "fields": {
        "customerId": buyer, "transactionDate": "2026-11-20",
        "lines": [{"itemId": rng.choice(stocked), "quantity": rng.randint(1, 9)}]}}})
    sim.edits({"resource": "customers", "id": rng.choice(tops), "fields": {"isActive": False}})
    open_orders = [o for o in orders if not o["isFullyInvoiced"] and not o["isManuallyClosed"]
                   and any(line["item"] for line in o["lines"])
                   and o["id"] != order["id"]]  # not the one just deleted
    order = rng.choice(open_orders)  # invoiced: its invoiced quantities change, not its revision
    sim.edits({"create": {"resource": "invoices", "fields": {
        "customerId": order["customer"]["id"], "transactionDate": "2026-11-21",
        "linkToTransactionIds": [order["id"]]}}})
    adjustment = qb.list_all("inventory-adjustments", {"limit": 1})[0]
    sim.edits({"create": {"resource": "inventory-adjustments", "fields": {
        "accountId": adjustment["account"]["id"], "transactionDate": "2026-11-22",
        "lines": [{"itemId": item, "adjustQuantity": {"quantityDifference": rng.randint(-3, 9)}}
                  for item in rng.sample(stocked, 2)]}}})
    sim.edits({"resource": "inventory-items", "id": rng.choice(stocked),
               "fields": {"isActive": False}})
    sim.edits({"random": 15})


def test_rounds_of_edits_and_incremental_syncs_end_equal_to_a_fresh_full_sync(
        sync_app, sim, qb, simulator, tmp_path, migrated_sqlite_template):
    rng = random.Random(2026)
    sync()
    for n in range(ROUNDS):
        _edit_round(sim, qb, rng, n)
        if n % 2:  # every other round: one request in ten fails, the engine's caller retries
            sim.faults(fault_rate=0.1)
        doc = sync(max_attempts=30)
        sim.faults(fault_rate=0.0)
        assert doc["status"] == "completed", doc["failure_reason"]
        assert doc["error_count"] == 0
    db.session.expire_all()
    kept = mirror()
    assert db.session.scalar(select(SalesOrder.id).where(SalesOrder.qb_deleted_at.is_not(None)))
    assert db.session.scalar(select(Customer.id).where(Customer.full_name.like("Renamed%")))
    assert db.session.scalar(select(Item.id).where(Item.full_name.like("Renamed Item%")))

    fresh_path = tmp_path / "fresh.db"
    shutil.copy(migrated_sqlite_template, fresh_path)
    fresh_app = make_app(f"sqlite:///{fresh_path}", **sim_config(simulator))
    with fresh_app.app_context():
        sync(mode="full")
        fresh = mirror()
        db.session.remove()
        db.engine.dispose()
    for table in (model.__table__.name for model in MODELS):
        assert kept[table] == fresh[table], (table, differences(
            kept[table], fresh[table], kept[table + ".columns"]))
