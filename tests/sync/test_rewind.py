"""A QuickBooks company that went back in time — restored from a backup, replaced, or the
simulator restarted with a fresh company — is noticed by the next incremental sync, from what
its listings read anyway (no extra request), and the session says to run a full sync."""

from __future__ import annotations

import re

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from qbdsim.testing import running_simulator
from tests.conftest import make_app
from tests.sync.conftest import SIM_SEED, SIM_SIZE, Sim, objects_by_name, sim_config, sync
from webapp.cli import cli
from webapp.extensions import db
from webapp.models import Customer, SalesOrder, SyncError
from webapp.sync.pull import rewind

ANCHOR = "2025-03-14T15:00:00-05:00"  # as `qbsync demo` does: a restart makes the same company
OBJECTS = ["customer", "sales_order"]


def _went_back(doc) -> dict[str, str]:
    return dict(db.session.execute(select(SyncError.object_type, SyncError.message).where(
        SyncError.session_id == doc["id"], SyncError.code == rewind.CODE)).all())


def _calls(doc) -> int:
    return sum(o["api_calls"] for o in doc["objects"])


def test_an_incremental_sync_says_when_quickbooks_went_back_in_time(sqlite_uri):
    with running_simulator(size=SIM_SIZE, seed=SIM_SEED, anchor=ANCHOR) as server:
        control = Sim(server)
        app = make_app(sqlite_uri, **sim_config(server))
        with app.app_context():
            # Given the WMS in step with QuickBooks, including 20 customers and 2 sales orders
            # edited in QuickBooks since the first sync
            sync(OBJECTS)
            customers = db.session.scalars(select(Customer.qb_id).order_by(Customer.id)
                                           .limit(20)).all()
            for number, qb_id in enumerate(customers):
                control.edits({"resource": "customers", "id": qb_id,
                               "fields": {"phone": f"555-01{number:02d}"}})
            orders = db.session.scalars(select(SalesOrder.qb_id).order_by(SalesOrder.id)
                                        .limit(2)).all()
            for qb_id in orders:
                control.edits({"resource": "sales-orders", "id": qb_id,
                               "fields": {"memo": "changed in QuickBooks"}})
            doc = sync(OBJECTS)
            assert objects_by_name(doc)["customer"]["updated"] >= 20 and not _went_back(doc)
            quiet = sync(OBJECTS)  # what an incremental sync asks of an unchanged company
            assert not _went_back(quiet)
            # When QuickBooks goes back to before those edits (the simulator restarts)
            control.reset()
            doc = sync(OBJECTS)
            # Then the session completes, saying for each object that QuickBooks went back in
            # time and that a full sync brings the WMS back in step
            assert doc["status"] == "completed" and doc["error_count"] == 2
            warnings = _went_back(doc)
            assert set(warnings) == {"customer", "sales_order"}
            assert "QuickBooks no longer has 20 customers as the WMS last synced them" in (
                warnings["customer"])
            assert "no longer has 2 sales orders" in warnings["sales_order"]
            for message in warnings.values():
                assert "went back in time" in message and "run a full sync" in message
                assert re.search(r"revision \d+ here, gone from QuickBooks", message)
            # And so does `qbsync sync status`
            status = CliRunner().invoke(cli, ["sync", "status"],
                                        obj=ScriptInfo(create_app=lambda: app))
            assert "warning: QuickBooks no longer has 20 customers" in status.output
            # And it asked QuickBooks nothing more than an incremental sync does
            # but one request per object that went back, to tell a deletion made after the
            # session's deleted list was asked from a record QuickBooks lost
            assert _calls(doc) <= _calls(quiet) + len(warnings)
            # When a full sync runs, the WMS is back in step, and incremental syncs are quiet
            full = sync(OBJECTS, "full")
            assert not _went_back(full)
            phone = db.session.scalar(select(Customer.phone).where(
                Customer.qb_id == customers[0]))
            assert phone != "555-0100"
            assert not _went_back(sync(OBJECTS))
            db.session.remove()
            db.engine.dispose()


def test_a_record_listed_with_an_older_revision_than_the_wms_holds_is_a_step_back(sync_app,
                                                                                   sim):
    # Given customers in step, and one whose revision the WMS holds higher than QuickBooks'
    # (as after a restore: QuickBooks' edit sequence only grows)
    sync(["customer"])
    row = db.session.scalar(select(Customer).order_by(Customer.qb_updated_at.desc()).limit(1))
    row.qb_revision = str(int(row.qb_revision) + 1000)
    db.session.commit()
    # When the next incremental sync lists it again (it is the newest the WMS holds)
    doc = sync(["customer"])
    # Then the session says QuickBooks went back in time for it
    (message,) = _went_back(doc).values()
    assert "QuickBooks no longer has 1 customer as the WMS last synced it" in message
    assert f"revision {int(row.qb_revision)} here, revision" in message
