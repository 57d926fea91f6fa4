""""Sync this record now" (issue 18): `POST /api/v1/records/<object>/<id>/sync` starts a
session limited to one record — read again by id from QuickBooks, then pushed if pending —
under the one-session rule. Sessions run inline against the simulator."""

from __future__ import annotations

from sqlalchemy import select

from qbdsim.testing import SimHttp
from tests.webapp.api.test_records_hold import (  # noqa: F401 - fixtures
    a_customer,
    app,
    company,
    events,
    run_sync,
)
from webapp.extensions import db
from webapp.models import Customer, SyncError
from webapp.sync import manager, runner
from webapp.sync.conductor import QuickBooks


def run_started(app, session_id: int) -> dict:  # noqa: F811 - the module's app
    qb = QuickBooks.from_config(app.config)
    try:
        session = runner.run_session(session_id, qb, backoff_s=0.01)
    finally:
        qb.close()
    db.session.expire_all()
    return manager.session_document(session)


def start_record_sync(client, record_id: int) -> dict:
    response = client.post(f"/api/v1/records/customer/{record_id}/sync")
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_one_pending_record_is_pushed_alone(app, company, client, logged_in):  # noqa: F811
    # Given two customers whose phones the WMS changed
    first, second = db.session.scalars(select(Customer).where(Customer.parent_id.is_(None))
                                       .order_by(Customer.id).limit(2)).all()
    first_id, first_qb, second_id = first.id, first.qb_id, second.id
    for record_id, phone in ((first_id, "555-0111"), (second_id, "555-0122")):
        client.patch(f"/api/v1/records/customer/{record_id}", json={"fields": {"phone": phone}})
    # When staff sync the first one now
    started = start_record_sync(client, first_id)
    # Then the session names that record and plans its object alone
    assert started["only_record"] == {"object": "customer", "id": first_id}
    assert started["selected_objects"] == ["customer"]
    assert [p["name"] for p in started["planned_objects"]] == ["customer"]
    doc = run_started(app, started["id"])
    assert doc["status"] == "completed" and doc["error_count"] == 0
    assert doc["objects"][0]["pushed"] == 1
    # And QuickBooks has its phone, its history says pushed; the other one still waits
    with SimHttp(company) as sim:
        assert sim.get(f"customers/{first_qb}").json()["phone"] == "555-0111"
    assert "pushed_updated" in events(first_id, started["id"])
    assert events(second_id, started["id"]) == []
    states = {r: client.get(f"/api/v1/records/customer/{r}").get_json()["sync_state"]
              for r in (first_id, second_id)}
    assert states == {first_id: "synced", second_id: "pending"}


def test_a_record_with_a_pull_error_is_read_again_by_id(app, company, client, logged_in):  # noqa: F811
    # Given a customer QuickBooks now holds with a balance nobody could type
    customer = a_customer()
    record_id, qb_id = customer.id, customer.qb_id
    with SimHttp(company) as sim:
        sim.sim("POST", "edits", {"resource": "customers", "id": qb_id, "raw": True,
                                  "fields": {"balance": "about forty dollars"}}
                ).raise_for_status()
    # When staff sync it now
    broken = run_started(app, start_record_sync(client, record_id)["id"])
    # Then the session has its pull error, in the record's history too
    errors = list(db.session.scalars(select(SyncError).where(
        SyncError.session_id == broken["id"])))
    assert [(e.phase, e.object_id) for e in errors] == [("pull", qb_id)]
    assert events(record_id, broken["id"]) == ["error"]
    # When it is fixed in QuickBooks (and renamed) and synced now again
    with SimHttp(company) as sim:
        sim.sim("POST", "edits", {"resource": "customers", "id": qb_id, "raw": True,
                                  "fields": {"balance": "40.00", "name": "Fixed Again"}}
                ).raise_for_status()
    fixed = run_started(app, start_record_sync(client, record_id)["id"])
    # Then it is read and written, and nothing else was listed
    assert fixed["status"] == "completed" and fixed["error_count"] == 0
    assert events(record_id, fixed["id"]) == ["pulled_updated"]
    doc = client.get(f"/api/v1/records/customer/{record_id}").get_json()
    assert doc["fields"]["name"] == "Fixed Again" and doc["sync_state"] == "synced"
    assert fixed["objects"][0]["api_calls"] == 1


def test_refused_while_another_session_runs(app, client, logged_in):  # noqa: F811
    # Given a sync in progress
    other = manager.start_session(["vendor"])
    # When staff ask to sync one record now
    customer = a_customer()
    response = client.post(f"/api/v1/records/customer/{customer.id}/sync")
    # Then it is refused, saying which sync and what to do
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "session_active"
    assert f"sync #{other.id} is pending" in error["message"]
    assert "wait for it to end" in error["message"]
    # And an unknown record is a 404
    assert client.post("/api/v1/records/customer/999999/sync").status_code == 404


def test_a_record_sync_moves_no_watermark_and_keeps_a_held_record(app, client, logged_in):  # noqa: F811
    # Given a customer changed and held
    customer = a_customer()
    record_id = customer.id
    client.patch(f"/api/v1/records/customer/{record_id}", json={"fields": {"fax": "555-0177"}})
    client.post(f"/api/v1/records/customer/{record_id}/hold")
    from webapp.models import SyncState

    mark = db.session.scalar(select(SyncState.watermark).where(
        SyncState.object_name == "customer"))
    # When it is synced now
    doc = run_started(app, start_record_sync(client, record_id)["id"])
    # Then it was read but not sent, and the object's watermark did not move
    assert doc["status"] == "completed" and doc["objects"][0]["pushed"] == 0
    db.session.expire_all()
    assert db.session.scalar(select(SyncState.watermark).where(
        SyncState.object_name == "customer")) == mark
    record = client.get(f"/api/v1/records/customer/{record_id}").get_json()
    assert record["held"] is True and record["sync_state"] == "pending"
