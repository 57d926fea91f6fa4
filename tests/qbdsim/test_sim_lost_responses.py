"""``lost_response_rate``: a write is applied to the company, then its answer fails — a 502
connection error or a connection closed without an answer — the case that makes blind retries
create duplicates (FACTS §8, DESIGN §10)."""

from __future__ import annotations

import time
import uuid
from datetime import date

import conductor
import httpx
import pytest

from qbdsim.testing import SimHttp, conductor_client, running_simulator

DAY = date(2026, 1, 10)


def _lose_every_write(wire: SimHttp) -> None:
    settings = wire.sim("POST", "faults", {"lost_response_rate": 1.0}).json()
    assert settings["lost_response_rate"] == 1.0


def _outcome(send) -> str:
    """``"ok"``, ``"502"`` (a connection error in Conductor's envelope) or ``"dropped"``."""
    try:
        response = send()
    except httpx.RemoteProtocolError:
        return "dropped"
    if response.status_code == 200:
        return "ok"
    error = response.json()["error"]
    assert response.status_code == 502 == error["httpStatusCode"], error
    assert error["type"] == "INTEGRATION_CONNECTION_ERROR"
    assert error["code"] == "QBD_CONNECTION_ERROR"
    assert response.headers["Conductor-Request-Id"] == error["requestId"]
    return "502"


def _named(client, eu, resource: str, name: str) -> list:
    """Every record of ``resource`` called ``name``, inactive ones included."""
    listing = getattr(client.qbd, resource).list(
        conductor_end_user_id=eu, name_contains=name, status="all"
    )
    return [record for record in listing.data if record.name == name]


def test_a_lost_create_answers_an_error_yet_the_record_exists_once(client, wire, eu):
    # Given every write's answer is lost
    _lose_every_write(wire)
    failures = set()
    names = [f"Lost Answer {n}" for n in range(8)]
    for name in names:
        # When a customer is created
        with pytest.raises(conductor.APIError) as caught:
            client.qbd.customers.create(conductor_end_user_id=eu, name=name)
        # Then the client sees a failure: a 502 connection error or a closed connection
        if isinstance(caught.value, conductor.APIStatusError):
            assert caught.value.status_code == 502
            assert caught.value.body["error"]["code"] == "QBD_CONNECTION_ERROR"
            failures.add("502")
        else:
            assert type(caught.value) is conductor.APIConnectionError
            failures.add("dropped")
    # both ways of losing an answer happen
    assert failures == {"502", "dropped"}
    # and yet each customer exists, exactly once, found by name (reads are never lost)
    for name in names:
        found = _named(client, eu, "customers", name)
        assert [c.name for c in found] == [name]
    # a blind retry of the create is refused as a duplicate name (3100): the first one landed
    wire.sim("POST", "faults", {"lost_response_rate": 0.0})
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, name=names[0])
    assert caught.value.body["error"]["integrationCode"] == "3100"


@pytest.mark.parametrize("resource", ["vendors", "service_items"])
def test_lost_creates_of_other_list_objects_are_applied(client, wire, eu, resource):
    _lose_every_write(wire)
    with pytest.raises(conductor.APIError):
        getattr(client.qbd, resource).create(conductor_end_user_id=eu, name="Kept Anyway")
    assert [r.name for r in _named(client, eu, resource, "Kept Anyway")] == ["Kept Anyway"]


def test_a_lost_transaction_create_is_found_by_its_external_id(client, wire, eu, customer, widget):
    _lose_every_write(wire)
    external_id = str(uuid.uuid4())
    with pytest.raises(conductor.APIError):
        client.qbd.sales_orders.create(
            conductor_end_user_id=eu,
            customer_id=customer.id,
            transaction_date=DAY,
            external_id=external_id,
            lines=[{"item_id": widget.id, "quantity": 2}],
        )
    # looked up as the sync does: by customer and a narrow date window, matched on externalId
    orders = client.qbd.sales_orders.list(
        conductor_end_user_id=eu,
        customer_ids=[customer.id],
        transaction_date_from=DAY,
        transaction_date_to=DAY,
    ).data
    matches = [order for order in orders if order.external_id == external_id]
    assert len(matches) == 1
    assert matches[0].lines[0].item.id == widget.id and matches[0].total_amount == "25.00"


def test_a_lost_update_is_applied_and_its_revision_moves(client, wire, eu, customer):
    _lose_every_write(wire)
    with pytest.raises(conductor.APIError):
        client.qbd.customers.update(
            customer.id,
            conductor_end_user_id=eu,
            revision_number=customer.revision_number,
            email="lost@example.com",
        )
    stored = client.qbd.customers.retrieve(customer.id, conductor_end_user_id=eu)
    assert stored.email == "lost@example.com"
    assert stored.revision_number != customer.revision_number
    # replaying the same update is stale now (3200), as in QuickBooks
    wire.sim("POST", "faults", {"lost_response_rate": 0.0})
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.update(
            customer.id,
            conductor_end_user_id=eu,
            revision_number=customer.revision_number,
            email="lost@example.com",
        )
    assert caught.value.body["error"]["integrationCode"] == "3200"


def test_at_rate_zero_no_answer_is_lost(client, wire, eu):
    settings = wire.sim("POST", "faults", {"lost_response_rate": 0.0}).json()
    assert settings["lost_response_rate"] == 0.0
    created = [
        client.qbd.vendors.create(conductor_end_user_id=eu, name=f"Kept Vendor {n}")
        for n in range(25)
    ]
    for vendor in created:
        updated = client.qbd.vendors.update(
            vendor.id, conductor_end_user_id=eu, revision_number=vendor.revision_number, phone="1"
        )
        assert updated.phone == "1"
    assert wire.sim("GET", "stats").json()["requests"]["POST /v1/quickbooks-desktop/vendors"] == 25


def test_reads_are_never_lost_and_every_request_is_counted(server, wire, customer):
    _lose_every_write(wire)
    reads = [
        ("customers", {}),
        (f"customers/{customer.id}", {}),
        ("sales-orders", {"limit": 5}),
        ("deleted-list-objects", {"objectTypes": "customer"}),
        ("deleted-transactions", {"transactionTypes": "sales_order"}),
        ("health-check", {}),
    ]
    for _ in range(5):
        for path, params in reads:
            assert wire.get(path, params=params).status_code == 200, path
    assert _outcome(lambda: wire.post("customers", json={"name": "Counted"})) != "ok"
    requests = wire.sim("GET", "stats").json()["requests"]
    assert requests["GET /v1/quickbooks-desktop/customers"] == 5
    assert requests["GET /v1/quickbooks-desktop/customers/{id}"] == 5
    assert requests["GET /v1/quickbooks-desktop/health-check"] == 5
    # the fixture's create and the lost one
    assert requests["POST /v1/quickbooks-desktop/customers"] == 2


def test_a_refused_write_answers_its_refusal_and_changes_nothing(client, wire, eu, customer):
    _lose_every_write(wire)
    before = wire.sim("GET", "counts").json()["customers"]
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, name=customer.name)
    assert caught.value.body["error"]["integrationCode"] == "3100"
    with pytest.raises(conductor.BadRequestError):
        client.qbd.customers.create(conductor_end_user_id=eu, name="x" * 42)
    assert wire.sim("GET", "counts").json()["customers"] == before


def test_an_injected_fault_comes_before_the_work_so_nothing_is_applied(client, wire, eu):
    # fault_rate answers before QuickBooks does anything; lost responses after it did
    wire.sim("POST", "faults", {"fault_rate": 1.0, "fault_kinds": ["502"], "lost_response_rate": 1})
    with pytest.raises(conductor.InternalServerError):
        client.qbd.customers.create(conductor_end_user_id=eu, name="Never Written")
    wire.sim("POST", "faults", {"fault_rate": 0.0})
    assert _named(client, eu, "customers", "Never Written") == []


def test_a_lost_answer_still_takes_the_latency(wire):
    wire.sim("POST", "faults", {"lost_response_rate": 1.0, "latency_ms": 150})
    for name in ("Slow One", "Slow Two", "Slow Three"):
        started = time.perf_counter()
        assert _outcome(lambda n=name: wire.post("vendors", json={"name": n})) != "ok"
        assert time.perf_counter() - started >= 0.15


def test_which_answers_are_lost_follows_the_seed(server, wire):
    def run() -> list[str]:
        wire.sim("POST", "reset")
        wire.sim("POST", "faults", {"lost_response_rate": 0.5})
        before = wire.sim("GET", "counts").json()["customers"]
        outcomes = [
            _outcome(lambda n=n: wire.post("customers", json={"name": f"Seeded {n}"}))
            for n in range(24)
        ]
        # every write was applied, its answer lost or not
        assert wire.sim("GET", "counts").json()["customers"] == before + 24
        return outcomes

    first = run()
    assert first == run()
    assert set(first) == {"ok", "502", "dropped"}
    assert 5 <= first.count("ok") <= 19


def test_reset_restores_the_configured_rate(wire):
    _lose_every_write(wire)
    assert wire.sim("GET", "faults").json()["lost_response_rate"] == 1.0
    wire.sim("POST", "reset")
    assert wire.sim("GET", "faults").json()["lost_response_rate"] == 0.0
    assert _outcome(lambda: wire.post("customers", json={"name": "After Reset"})) == "ok"


def test_the_rate_can_be_configured_at_start():
    with running_simulator(size=50, lost_response_rate=1.0) as server, SimHttp(server) as wire:
        assert wire.sim("GET", "faults").json()["lost_response_rate"] == 1.0
        assert _outcome(lambda: wire.post("vendors", json={"name": "Configured"})) != "ok"
        wire.sim("POST", "reset")  # back to the configured rate, not to zero
        assert wire.sim("GET", "faults").json()["lost_response_rate"] == 1.0
        with conductor_client(server, max_retries=0) as client:
            assert client.qbd.health_check(conductor_end_user_id=server.config.end_user_id)


@pytest.mark.parametrize("value", [1.5, -0.1, "often", True])
def test_the_rate_is_validated(wire, value):
    response = wire.sim("POST", "faults", {"lost_response_rate": value})
    assert response.status_code == 400
    assert "lost_response_rate" in response.json()["error"]["message"]
    assert wire.sim("GET", "faults").json()["lost_response_rate"] == 0.0
