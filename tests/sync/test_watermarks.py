"""Watermarks come from QuickBooks' clock, whichever way it is off from ours, and a bookmark
in the future (this server's clock was wrong when it was set) does not freeze the sync."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from qbdsim.testing import running_simulator
from tests.conftest import make_app
from tests.sync.conftest import SIM_SEED, SIM_SIZE, Sim, objects_by_name, sim_config, sync
from webapp.extensions import db
from webapp.models import Customer, SyncState
from webapp.models.types import utcnow


def _watermark(name: str) -> str:
    return db.session.scalar(select(SyncState.watermark).where(SyncState.object_name == name))


def test_a_watermark_in_the_future_is_no_error_and_is_read_past(sync_app, sim):
    # Given customers synced, then their watermark set in the future
    sync(["customer"])
    total = db.session.scalar(select(db.func.count()).select_from(Customer))
    state = db.session.scalar(select(SyncState).where(SyncState.object_name == "customer"))
    state.watermark = state.deleted_watermark = "2099-01-01T00:00:00+00:00"
    db.session.commit()
    # and two customers edited in QuickBooks since (stamped before that watermark)
    ids = db.session.scalars(select(Customer.qb_id).order_by(Customer.id).limit(2)).all()
    before = {qb_id: _revision(qb_id) for qb_id in ids}
    for qb_id in ids:
        _edit(sim, qb_id, "555-0100")
    # When the next incremental sync runs
    doc = sync(["customer"])
    # Then it completes and reads every customer, as a full pull: the edits are in
    run = objects_by_name(doc)["customer"]
    assert run["processed"] == total and run["updated"] == 2
    for qb_id in ids:
        row = db.session.scalar(select(Customer).where(Customer.qb_id == qb_id))
        assert row.qb_revision != before[qb_id] and row.phone == "555-0100"
    # and the watermark is back behind this server's clock
    assert datetime.fromisoformat(_watermark("customer")) < utcnow()
    # so the sync after that is incremental again, and finds the next edit
    _edit(sim, ids[0], "555-0199")
    doc = sync(["customer"])
    run = objects_by_name(doc)["customer"]
    assert run["updated"] == 1 and run["processed"] < total


def _edit(sim, qb_id: str, phone: str) -> None:
    """Edit a customer's phone as a QuickBooks user would (its revision moves)."""
    sim.edits({"resource": "customers", "id": qb_id, "fields": {"phone": phone}})


def _revision(qb_id: str) -> str:
    return db.session.scalar(select(Customer.qb_revision).where(Customer.qb_id == qb_id))


@pytest.mark.parametrize("offset_s", [3600, -3600])
def test_edits_are_found_whichever_way_quickbooks_clock_is_off(sqlite_uri, offset_s):
    # Given QuickBooks whose clock is an hour ahead of this server's, or behind (its history
    # stamped by that clock too)
    anchor = (datetime.now().astimezone() + timedelta(seconds=offset_s)).isoformat()
    with running_simulator(size=SIM_SIZE, seed=SIM_SEED, anchor=anchor) as server:
        control = Sim(server)
        control.faults(clock_offset_s=offset_s)
        app = make_app(sqlite_uri, **sim_config(server))
        with app.app_context():
            sync(["customer"])
            ids = db.session.scalars(select(Customer.qb_id).order_by(Customer.id).limit(2)).all()
            for round_, qb_id in enumerate(ids):
                # When a customer is edited in QuickBooks and the next sync runs
                control.edits({"resource": "customers", "id": qb_id,
                               "fields": {"phone": f"555-010{round_}"}})
                doc = sync(["customer"])
                # Then it is found, by an incremental pull
                run = objects_by_name(doc)["customer"]
                assert run["updated"] == 1 and run["processed"] < 90
                row = db.session.scalar(select(Customer).where(Customer.qb_id == qb_id))
                assert row.phone == f"555-010{round_}"
                # and the watermark never passes this server's clock
                assert datetime.fromisoformat(_watermark("customer")) < utcnow()
            db.session.remove()
            db.engine.dispose()
        control.http.close()
