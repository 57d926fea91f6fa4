"""Auth, injected faults, QuickBooks closed, latency, and one request at a time."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import conductor
import pytest

from qbdsim.testing import SimHttp, conductor_client, running_simulator


def test_wrong_secret_key_is_an_authentication_error(server, eu):
    bad = conductor.Conductor(api_key="sk_wrong", base_url=server.base_url, max_retries=0)
    with bad, pytest.raises(conductor.AuthenticationError) as caught:
        bad.qbd.customers.list(conductor_end_user_id=eu)
    assert caught.value.body["error"]["type"] == "AUTHENTICATION_ERROR"


def test_end_user_header_is_required_and_checked(wire):
    missing = wire.get("customers", headers={"Conductor-End-User-Id": ""})
    assert missing.status_code == 400
    assert "Conductor-End-User-Id" in missing.json()["error"]["message"]
    other = wire.get("customers", headers={"Conductor-End-User-Id": "end_usr_someone_else"})
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "RESOURCE_MISSING"
    no_auth = wire.http.get("/v1/quickbooks-desktop/customers")
    assert no_auth.status_code == 401
    assert no_auth.headers["Conductor-Request-Id"].startswith("req_")


@pytest.mark.parametrize(
    ("kind", "exception", "code"),
    [
        ("502", conductor.InternalServerError, "QBD_CONNECTION_ERROR"),
        ("504", conductor.InternalServerError, "QBD_REQUEST_TIMEOUT"),
        ("429", conductor.RateLimitError, "TOO_MANY_REQUESTS"),
    ],
)
def test_injected_faults_map_to_sdk_exceptions(server, client, wire, eu, kind, exception, code):
    wire.sim("POST", "faults", {"fault_rate": 1.0, "fault_kinds": [kind]})
    with pytest.raises(exception) as caught:
        client.qbd.invoices.list(conductor_end_user_id=eu)
    assert caught.value.status_code == int(kind)
    assert caught.value.body["error"]["code"] == code
    # the control endpoints are never faulted
    assert wire.sim("GET", "counts").status_code == 200


def test_fault_rate_mixes_kinds_and_leaves_other_requests_alone(wire):
    wire.sim("POST", "faults", {"fault_rate": 0.5})
    statuses = [wire.get("health-check").status_code for _ in range(60)]
    assert {200, 502, 504, 429} <= set(statuses)
    assert 15 <= statuses.count(200) <= 45


def test_sdk_retries_injected_faults_when_allowed(server, wire, eu):
    wire.sim("POST", "faults", {"fault_rate": 1.0, "fault_kinds": ["502"]})
    retrying = conductor_client(server, max_retries=1)
    with retrying, pytest.raises(conductor.InternalServerError):
        retrying.qbd.health_check(conductor_end_user_id=eu)
    key = "GET /v1/quickbooks-desktop/health-check"
    assert wire.sim("GET", "stats").json()["requests"][key] == 2


def test_quickbooks_not_running_is_a_connection_error(wire, client, eu):
    settings = wire.sim("POST", "faults", {"qb_running": False}).json()
    assert settings["qb_running"] is False
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.health_check(conductor_end_user_id=eu)
    error = caught.value.body["error"]
    assert caught.value.status_code == 502
    assert (error["type"], error["code"], error["integrationCode"]) == (
        "INTEGRATION_CONNECTION_ERROR",
        "QBD_CONNECTION_ERROR",
        "0x80040408",
    )
    assert "QuickBooks Desktop is not running" in error["userFacingMessage"]
    wire.sim("POST", "faults", {"qb_running": True})
    assert client.qbd.health_check(conductor_end_user_id=eu).status == "ok"


def test_latency_is_applied_to_conductor_requests_only(server, wire):
    wire.sim("POST", "faults", {"latency_ms": 150})
    started = time.perf_counter()
    assert wire.get("health-check").status_code == 200
    assert time.perf_counter() - started >= 0.15
    # while a slow QuickBooks request holds the company (for a minute, unless the latency is
    # lowered), the control endpoints still answer
    wire.sim("POST", "faults", {"latency_ms": 60_000})
    slow = SimHttp(server)
    in_flight = threading.Thread(target=slow.get, args=("health-check",))
    in_flight.start()
    try:
        deadline = time.monotonic() + 10
        while server.simulator.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the request holds QuickBooks (a state, not work to join)
        assert server.simulator.in_flight == 1
        assert wire.sim("GET", "counts").status_code == 200
        assert wire.sim("GET", "stats").status_code == 200
        # answered while QuickBooks was still busy with that request
        assert server.simulator.in_flight == 1 and in_flight.is_alive()
    finally:
        wire.sim("POST", "faults", {"latency_ms": 0})  # cuts the waiting request short
        in_flight.join()
        slow.close()


def test_lowering_the_latency_cuts_short_a_request_already_waiting(server, wire):
    # Given a request waiting out a minute of latency
    wire.sim("POST", "faults", {"latency_ms": 60_000})
    slow = SimHttp(server)
    answers = []
    in_flight = threading.Thread(target=lambda: answers.append(slow.get("health-check")))
    in_flight.start()
    try:
        deadline = time.monotonic() + 5
        while server.simulator.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the request holds QuickBooks (a state, not work to join)
        assert server.simulator.in_flight == 1
        # When the latency is set back to nothing
        wire.sim("POST", "faults", {"latency_ms": 0})
        # Then the waiting request is answered now, not a minute later
        in_flight.join(timeout=10)
        assert not in_flight.is_alive()
        assert answers[0].status_code == 200
    finally:
        wire.sim("POST", "faults", {"latency_ms": 0})
        in_flight.join()
        slow.close()


def test_quickbooks_clock_can_run_ahead_or_behind(server, wire):
    """`clock_offset_s`: QuickBooks stamps what it changes by its own clock, not ours."""
    customer = wire.get("customers", params={"limit": 1}).json()["data"][0]
    try:
        for offset in (3600, -3600):
            wire.sim("POST", "faults", {"clock_offset_s": offset})
            before = time.time()
            wire.sim("POST", "edits", {"resource": "customers", "id": customer["id"],
                                       "fields": {"phone": f"555-{offset % 10000:04d}"}})
            stamp = wire.get(f"customers/{customer['id']}").json()["updatedAt"]
            drift = datetime.fromisoformat(stamp).timestamp() - before
            assert offset - 5 < drift < offset + 5, (offset, stamp)
    finally:
        wire.sim("POST", "faults", {"clock_offset_s": 0})


def test_concurrent_requests_are_answered_one_at_a_time():
    with running_simulator(size=100, latency_ms=100) as server:
        clients = [SimHttp(server) for _ in range(4)]
        finished: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(clients))

        def call(raw: SimHttp) -> None:
            barrier.wait()
            response = raw.get("customers", params={"limit": 5})
            with lock:
                finished.append(time.perf_counter())
                statuses.append(response.status_code)

        threads = [threading.Thread(target=call, args=(raw,)) for raw in clients]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for raw in clients:
            raw.close()
        assert statuses == [200] * 4
        # the four requests were in the server together...
        assert server.simulator.peak_received >= 2
        # ...yet QuickBooks held one at a time (the simulator's own count of requests inside
        # it), so 4 x 100 ms of latency took at least 400 ms (a lower bound: a busy machine
        # only makes it longer)
        assert server.simulator.peak_in_flight == 1
        assert max(finished) - started >= 0.4


def test_fault_settings_are_validated(wire):
    assert wire.sim("POST", "faults", {"fault_rate": 2}).status_code == 400
    assert wire.sim("POST", "faults", {"latency": 5}).status_code == 400
    assert wire.sim("POST", "faults", {"fault_kinds": ["418"]}).status_code == 400
    current = wire.sim("POST", "faults", {}).json()
    assert set(current) == {
        "latency_ms",
        "latency_jitter_ms",
        "fault_rate",
        "fault_kinds",
        "qb_running",
        "cursor_ttl_s",
        "clock_offset_s",
        "lost_response_rate",
    }
    assert current["fault_rate"] == 0.0 and current["lost_response_rate"] == 0.0
    assert wire.sim("POST", "faults", {"clock_offset_s": "soon"}).status_code == 400
