"""Hold and the state counts of the records API (issue 18): a record QuickBooks keeps refusing
is held back from the push until the WMS changes it again or the hold is lifted; counts per
state come from indexes. A small simulated company is pulled, then the WMS side changed with
SQL as a WMS would, and syncs run inline against the simulator."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from qbdsim.testing import SimHttp, running_simulator
from tests.conftest import make_app
from tests.sync.conftest import sim_config, sync
from webapp.extensions import db
from webapp.models import Customer, SyncRecordEvent
from webapp.sync.conductor import QuickBooks

COMPANY_SIZE = 40


@pytest.fixture
def company():
    with running_simulator(size=COMPANY_SIZE, seed=5) as server:
        yield server


@pytest.fixture
def app(sqlite_uri, company):
    application = make_app(sqlite_uri, **sim_config(company))
    with application.app_context():
        run_sync(application, mode="full")
        yield application
        db.session.remove()
        db.engine.dispose()


def run_sync(app, **kwargs):
    qb = QuickBooks.from_config(app.config)
    try:
        return sync(qb=qb, **kwargs)
    finally:
        qb.close()


def a_customer() -> Customer:
    """A top-level customer with no jobs, so renaming it renames nothing else."""
    parents = select(Customer.parent_id).where(Customer.parent_id.is_not(None))
    return db.session.scalars(select(Customer).where(
        Customer.parent_id.is_(None), Customer.id.not_in(parents)).order_by(Customer.id)).first()


def quickbooks_name(company, qb_id: str) -> str:
    with SimHttp(company) as sim:
        response = sim.get(f"customers/{qb_id}")
        response.raise_for_status()
        return response.json()["name"]


def events(record_id: int, session_id: int) -> list[str]:
    return list(db.session.scalars(select(SyncRecordEvent.action).where(
        SyncRecordEvent.record_id == record_id, SyncRecordEvent.object_type == "customer",
        SyncRecordEvent.session_id == session_id)))


def test_a_held_record_is_left_by_the_push_until_it_is_edited(app, company, client, logged_in):
    # Given a customer renamed in the WMS with a colon, which QuickBooks refuses
    customer = a_customer()
    record_id, qb_id, name = customer.id, customer.qb_id, customer.name
    db.session.execute(update(Customer).where(Customer.id == record_id)
                       .values(name="Bad:Name"))
    db.session.commit()
    refused = run_sync(app, objects=["customer"])
    doc = client.get(f"/api/v1/records/customer/{record_id}").get_json()
    assert doc["sync_state"] == "error" and "Bad:Name" in doc["push_error"]
    assert events(record_id, refused["id"]) == ["error"]
    # When staff hold it
    response = client.post(f"/api/v1/records/customer/{record_id}/hold")
    assert response.status_code == 200, response.get_json()
    held = response.get_json()
    # Then it shows held, its state still the contract's "error"
    assert held["held"] is True and held["sync_state"] == "error"
    counts = client.get("/api/v1/records/customer/counts").get_json()
    assert counts["held"] == 1 and counts["error"] == 1
    # And the next sync leaves it: nothing sent, nothing logged, QuickBooks unchanged
    left = run_sync(app, objects=["customer"])
    assert left["error_count"] == 0 and events(record_id, left["id"]) == []
    assert quickbooks_name(company, qb_id) == name
    # When the WMS fixes the name through the records API
    response = client.patch(f"/api/v1/records/customer/{record_id}",
                            json={"fields": {"name": "Good Name"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["held"] is False
    # Then the next sync sends it
    pushed = run_sync(app, objects=["customer"])
    assert "pushed_updated" in events(record_id, pushed["id"])
    assert quickbooks_name(company, qb_id) == "Good Name"
    doc = client.get(f"/api/v1/records/customer/{record_id}").get_json()
    assert doc["sync_state"] == "synced" and doc["held"] is False and doc["push_error"] is None


def test_an_sql_edit_after_the_hold_releases_it(app, company, client, logged_in):
    # Given a held customer whose phone the WMS changed before the hold
    customer = a_customer()
    record_id, qb_id = customer.id, customer.qb_id
    db.session.execute(update(Customer).where(Customer.id == record_id).values(phone="555-0100"))
    db.session.commit()
    assert client.post(f"/api/v1/records/customer/{record_id}/hold").get_json()["held"]
    assert run_sync(app, objects=["customer"])["objects"][0]["pushed"] == 0
    # When the WMS changes it again with SQL (the trigger stamps local_updated_at)
    db.session.execute(update(Customer).where(Customer.id == record_id).values(phone="555-0101"))
    db.session.commit()
    # Then it is no longer held, and the next sync sends it
    assert client.get(f"/api/v1/records/customer/{record_id}").get_json()["held"] is False
    doc = run_sync(app, objects=["customer"])
    assert doc["objects"][0]["pushed"] == 1
    with SimHttp(company) as sim:
        assert sim.get(f"customers/{qb_id}").json()["phone"] == "555-0101"


def test_lifting_a_hold_sends_the_record_again(app, client, logged_in):
    # Given a held pending customer
    customer = a_customer()
    record_id = customer.id
    client.patch(f"/api/v1/records/customer/{record_id}", json={"fields": {"fax": "555-0199"}})
    client.post(f"/api/v1/records/customer/{record_id}/hold")
    # When the hold is lifted
    response = client.delete(f"/api/v1/records/customer/{record_id}/hold")
    # Then the record is pending and not held, and the next sync pushes it
    assert response.status_code == 200
    assert response.get_json()["held"] is False
    assert response.get_json()["sync_state"] == "pending"
    assert run_sync(app, objects=["customer"])["objects"][0]["pushed"] == 1


def test_hold_refusals_and_auth(app, client, logged_in, token_client):
    invoice = client.get("/api/v1/records/invoice?limit=1").get_json()["records"][0]
    response = client.post(f"/api/v1/records/invoice/{invoice['id']}/hold")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "pull_only"
    assert client.post("/api/v1/records/customer/999999/hold").status_code == 404
    assert client.delete("/api/v1/records/customer/999999/hold").status_code == 404
    # no login, no token: refused
    customer = a_customer()
    assert token_client.post(f"/api/v1/records/customer/{customer.id}/hold").status_code == 401


def test_counts_per_state(app, client, logged_in):
    # Given one customer changed, one created, one deleted in QuickBooks and one refused
    ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    client.patch(f"/api/v1/records/customer/{ids[0]}", json={"fields": {"fax": "555-0198"}})
    client.post("/api/v1/records/customer", json={"fields": {"name": "Counted New"}})
    db.session.execute(update(Customer).where(Customer.id == ids[1])
                       .values(qb_deleted_at=db.func.now()))
    db.session.execute(update(Customer).where(Customer.id == ids[2])
                       .values(push_error="refused"))
    db.session.commit()
    # When the counts are read
    counts = client.get("/api/v1/records/customer/counts").get_json()
    # Then each state has its rows
    assert counts == {"all": len(ids) + 1, "pending": 2, "pending_exact": True, "error": 1,
                      "deleted": 1, "held": 0}
    # And the pending count is what the state filter lists
    listed = client.get("/api/v1/records/customer?state=pending&limit=100").get_json()
    assert len(listed["records"]) == counts["pending"]
