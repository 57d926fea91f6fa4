"""Every Conductor failure is classified once: transient, record or fatal (DESIGN §5)."""

import ctypes
import json
import sys
import threading
import time

import pytest
from dramatiq.middleware.time_limit import TimeLimitExceeded
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from webapp.sync.conductor import (
    BAD_KEY,
    CURSOR,
    FATAL,
    QB_NOT_RUNNING,
    RECORD,
    TRANSIENT,
    QuickBooks,
    QuickBooksError,
)


def _client(simulator, **overrides):
    settings = {"api_key": "sk_sim_qbsync_local", "end_user_id": "end_usr_qbsim_local",
                "base_url": simulator.base_url, "timeout_s": 10.0, **overrides}
    return QuickBooks(**settings)


def test_quickbooks_not_running_is_transient_and_says_so_plainly(simulator, sim):
    sim.faults(qb_running=False)
    with _client(simulator) as qb, pytest.raises(QuickBooksError) as caught:
        qb.list_page("customers", {"limit": 1})
    assert caught.value.kind == TRANSIENT and caught.value.retryable
    assert caught.value.message == QB_NOT_RUNNING


def test_throttling_is_transient(simulator, sim):
    sim.faults(fault_rate=1.0, fault_kinds=["429"])
    with _client(simulator) as qb, pytest.raises(QuickBooksError) as caught:
        qb.list_page("customers", {"limit": 1})
    assert caught.value.kind == TRANSIENT and caught.value.status == 429


def test_a_wrong_key_is_fatal(simulator, sim):
    with _client(simulator, api_key="sk_wrong") as qb, pytest.raises(QuickBooksError) as caught:
        qb.list_page("customers", {"limit": 1})
    assert caught.value.kind == FATAL and not caught.value.retryable
    assert caught.value.message == BAD_KEY


def test_nothing_listening_is_transient(sim):
    qb = QuickBooks(api_key="k", end_user_id="e", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with qb, pytest.raises(QuickBooksError) as caught:
        qb.health_check()
    assert caught.value.kind == TRANSIENT and caught.value.code == "connection"


@pytest.mark.parametrize(("status", "etype", "code", "kind"), [
    (408, "API_ERROR", None, TRANSIENT),  # a gateway that gave up waiting
    (409, "API_ERROR", None, TRANSIENT),  # a conflict Conductor names no cause for
    (409, "INTEGRATION_CONNECTION_ERROR", "INTEGRATION_CONNECTION_NOT_ACTIVE", TRANSIENT),
    (409, "INTEGRATION_CONNECTION_ERROR", "INTEGRATION_CONNECTION_NOT_SET_UP", FATAL),
    # throttling, whatever type it comes with: never a rejected record
    (429, "INVALID_REQUEST_ERROR", "TOO_MANY_REQUESTS", TRANSIENT),
    (418, "API_ERROR", None, FATAL),  # anything else unknown stops the sync, saying what
])
def test_408_409_and_429_are_transient_like_5xx(status, etype, code, kind):
    """408, 409, 429 and 5xx are what the SDK retries as temporary (FACTS §4.4); they reach
    the engine only from calls it makes without SDK retries, and are retried there too."""
    body = {"error": {"message": "try again", "type": etype, "httpStatusCode": status,
                      **({"code": code} if code else {})}}
    server = make_server("127.0.0.1", 0, Response(json.dumps(body), status=status,
                                                  mimetype="application/json"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    qb = QuickBooks(api_key="k", end_user_id="e", base_url=f"http://127.0.0.1:{server.port}/v1",
                    timeout_s=5)
    try:
        with qb, pytest.raises(QuickBooksError) as caught:
            qb.health_check()
    finally:
        server.shutdown()
        thread.join()
    assert caught.value.kind == kind and caught.value.status == status


def test_record_level_rejections_are_per_record(simulator, sim):
    with _client(simulator) as qb:
        customer = qb.list_page("customers", {"limit": 1})["data"][0]
        with pytest.raises(QuickBooksError) as stale:
            qb.update("customers", customer["id"], {"revisionNumber": "1", "note": "x"})
        with pytest.raises(QuickBooksError) as duplicate:
            qb.create("customers", {"name": customer["name"]})
        with pytest.raises(QuickBooksError) as dangling:
            qb.create("sales-orders", {"customerId": "80000FFF-0000000000",
                                       "transactionDate": "2026-01-05"})
        with pytest.raises(QuickBooksError) as unknown:
            qb.list_page("customers", {"ids": ["80000FFF-0000000000"]})
    assert (stale.value.kind, stale.value.code) == (RECORD, "qb_3200")
    assert (duplicate.value.kind, duplicate.value.code) == (RECORD, "qb_3100")
    assert (dangling.value.kind, dangling.value.code) == (RECORD, "qb_3140")
    assert (unknown.value.kind, unknown.value.code) == (RECORD, "qb_500")


def test_a_failed_cursor_request_restarts_the_listing(simulator, sim):
    sim.faults(cursor_ttl_s=0.01)
    with _client(simulator) as qb:
        first = qb.list_page("customers", {"limit": 10})
        import time

        time.sleep(0.05)
        with pytest.raises(QuickBooksError) as caught:
            qb.list_page("customers", {"limit": 10}, cursor=first["nextCursor"])
    assert caught.value.kind == CURSOR and caught.value.retryable


def test_writes_are_never_retried_inside_the_sdk(simulator, sim):
    sim.faults(fault_rate=1.0)
    with _client(simulator) as qb:
        before = qb.api_calls
        with pytest.raises(QuickBooksError):
            qb.create("customers", {"name": "Once Only"})
        assert qb.api_calls - before == 1
        before = qb.api_calls
        with pytest.raises(QuickBooksError):
            qb.list_page("customers", {"limit": 1})
        assert qb.api_calls - before == 3  # idempotent reads keep the SDK's two retries


def test_the_wire_tells_when_a_request_has_left_before_its_answer_comes(simulator, sim):
    """The prefetcher's signal (paging.Prefetcher): once per request, as soon as its last
    byte is sent, while QuickBooks still works on it (300 ms here)."""
    sim.faults(latency_ms=300)
    with _client(simulator) as qb:
        sent = []
        stop = qb.wire.listen(lambda: sent.append(time.monotonic()))
        qb.list_page("customers", {"limit": 1})
        answered = time.monotonic()
        qb.list_page("vendors", {"limit": 1})
        stop()
        qb.list_page("customers", {"limit": 1})
    assert len(sent) == 2  # one a request; none once stopped
    assert answered - sent[0] >= 0.25  # told before the answer, not with it


def test_a_time_limit_lands_while_waiting_for_the_company_file(simulator, sim):
    # Given one thread's request holding the company file: QuickBooks takes 8 s to answer
    # (cut short below, once the test has seen what it needs)
    sim.faults(latency_ms=8000)
    first, second = _client(simulator), _client(simulator)  # one company file: one turn
    holder = threading.Thread(target=first.health_check)
    holder.start()
    deadline = time.monotonic() + 5
    while simulator.simulator.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the request holds QuickBooks (a state, not work to join)
    # When another thread waiting for its turn gets Dramatiq's time limit, raised into it
    # the way Dramatiq raises it
    ended: list[tuple[str, bool]] = []

    def waiter():
        try:
            second.health_check()
            ended.append(("answered", holder.is_alive()))
        except TimeLimitExceeded:
            ended.append(("interrupted", holder.is_alive()))

    thread = threading.Thread(target=waiter)
    thread.start()
    _until_waiting_for_its_turn(thread)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                               ctypes.py_object(TimeLimitExceeded))
    thread.join(timeout=10)
    # Then it stopped while the other request was still being answered
    assert ended == [("interrupted", True)]
    # And the turn is not lost: once that request is answered, the next one goes
    sim.faults(latency_ms=0)
    holder.join(timeout=10)
    after = threading.Thread(target=lambda: ended.append(("next", second.health_check())))
    after.start()
    after.join(timeout=10)
    assert ended[-1][0] == "next" and ended[-1][1]["status"] == "ok"
    first.close()
    second.close()


def _until_waiting_for_its_turn(thread: threading.Thread) -> None:
    """Until `thread` is inside QuickBooks._send, waiting for the company file's lock (its
    own stack says so: no guess at how long getting there takes)."""
    deadline = time.monotonic() + 10
    while True:
        frame = sys._current_frames().get(thread.ident)
        while frame is not None and frame.f_code.co_name != "_send":
            frame = frame.f_back
        if frame is not None:
            return
        assert time.monotonic() < deadline, "the thread never reached the wait for its turn"
        time.sleep(0.01)


def test_a_closed_client_sends_nothing_and_reports_nothing(simulator, sim):
    heard = []
    qb = _client(simulator)
    qb.on_contact = heard.append
    qb.health_check()
    qb.close()
    calls = sim.stats()["total"]
    with pytest.raises(QuickBooksError) as caught:
        qb.health_check()
    assert caught.value.code == "closed" and caught.value.retryable
    assert sim.stats()["total"] == calls and heard == [True]
