"""Fixtures for engine tests: a real simulator over HTTP and an app pointed at it."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from qbdsim.testing import running_simulator
from tests.conftest import make_app
from webapp.extensions import db
from webapp.sync import manager, runner
from webapp.sync.conductor import QuickBooks

SIM_SIZE = 600
SIM_SEED = 7
SIM_KEY = "sk_sim_qbsync_local"
SIM_END_USER = "end_usr_qbsim_local"


@pytest.fixture(scope="session")
def simulator():
    with running_simulator(size=SIM_SIZE, seed=SIM_SEED) as server:
        yield server


class Sim:
    """The simulator's control endpoints, as tests use them."""

    def __init__(self, server):
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)

    def reset(self, **body):
        self.http.post("/_sim/reset", json=body).raise_for_status()
        self.faults(latency_ms=0, fault_rate=0.0, qb_running=True, cursor_ttl_s=10.0)

    def faults(self, **body):
        return self.http.post("/_sim/faults", json=body).raise_for_status().json()

    def edits(self, body) -> list[dict]:
        return self.http.post("/_sim/edits", json=body).raise_for_status().json()["touched"]

    def counts(self) -> dict:
        return self.http.get("/_sim/counts").raise_for_status().json()

    def stats(self) -> dict:
        return self.http.get("/_sim/stats").raise_for_status().json()


@pytest.fixture
def sim(simulator):
    control = Sim(simulator)
    control.reset(size=SIM_SIZE, seed=SIM_SEED)  # a test may have asked for another company
    yield control
    control.http.close()


# Accounts of the simulator's company, for items created in the WMS (the push needs them)
SIM_ACCOUNTS = {"QBSYNC_DEFAULT_INCOME_ACCOUNT": "Sales:Merchandise",
                "QBSYNC_DEFAULT_COGS_ACCOUNT": "Cost of Goods Sold",
                "QBSYNC_DEFAULT_ASSET_ACCOUNT": "Inventory Asset",
                "QBSYNC_ADJUSTMENT_ACCOUNT": "Inventory Adjustments"}


def sim_config(server, **extra):
    return {"CONDUCTOR_BASE_URL": server.base_url, "CONDUCTOR_SECRET_KEY": SIM_KEY,
            "CONDUCTOR_END_USER_ID": SIM_END_USER, **SIM_ACCOUNTS, **extra}


@pytest.fixture
def sync_app(sqlite_uri, simulator):
    application = make_app(sqlite_uri, **sim_config(simulator))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_sync_app(request, simulator):
    """`sync_app` on SQLite and, as a second case, on a fresh migrated PostgreSQL database:
    the two write rows differently (webapp.sync.bulk)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sync_app")
        return
    from flask_migrate import upgrade

    application = make_app(request.getfixturevalue("postgres_url"), **sim_config(simulator))
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def any_qb(any_sync_app):
    client = QuickBooks.from_config(any_sync_app.config)
    yield client
    client.close()


@pytest.fixture
def qb(sync_app):
    client = QuickBooks.from_config(sync_app.config)
    yield client
    client.close()


def sync(objects=None, mode="incremental", qb=None, expect="completed", **kwargs):
    """Start a session and run it inline; returns its document (asserting how it ended)."""
    session = manager.start_session(objects, mode)
    session = runner.run_session(session.id, qb, backoff_s=0.01, **kwargs)
    db.session.expire_all()
    doc = manager.session_document(session)
    if expect is not None:
        assert doc["status"] == expect, doc["failure_reason"]
    return doc


def objects_by_name(doc) -> dict:
    return {o["name"]: o for o in doc["objects"]}


VOLATILE = {"id", "synced_at", "parent_id", "customer_id", "vendor_id", "item_id",
            "preferred_vendor_id", "sales_order_id", "purchase_order_id", "invoice_id",
            "inventory_adjustment_id"}


def snapshot() -> dict[str, list[tuple]]:
    """Every WMS table's rows without local ids and sync timestamps, sorted: comparable."""
    from webapp.models import wms

    tables = {}
    for model in (wms.Customer, wms.Vendor, wms.Item, wms.SalesOrder, wms.SalesOrderLine,
                  wms.PurchaseOrder, wms.PurchaseOrderLine, wms.Invoice, wms.InvoiceLine,
                  wms.InventoryAdjustment, wms.InventoryAdjustmentLine):
        table = model.__table__
        columns = [c for c in table.c if c.name not in VOLATILE]
        rows = db.session.execute(select(*columns)).all()
        tables[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return tables


def invoice_to_move(qb) -> tuple[dict, str, str, str, str]:
    """An open one-line invoice of a stocked item, and where to move it: (invoice, its item,
    its customer, another stocked item, another top-level customer)."""
    stocked = {i["id"] for i in qb.list_page("inventory-items", {"limit": 150})["data"]}
    invoice = next(i for i in qb.list_page("invoices", {"limit": 150})["data"]
                   if len(i["lines"]) == 1 and i["lines"][0]["quantity"]
                   and (i["lines"][0]["item"] or {}).get("id") in stocked
                   and Decimal(i["balanceRemaining"]) != 0)
    old_item, old_customer = invoice["lines"][0]["item"]["id"], invoice["customer"]["id"]
    new_item = next(i for i in sorted(stocked) if i != old_item)
    new_customer = next(c["id"] for c in qb.list_page("customers", {"limit": 50})["data"]
                        if c["id"] != old_customer and not c["parent"])
    return invoice, old_item, old_customer, new_item, new_customer
