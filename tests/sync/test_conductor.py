"""Every Conductor failure is classified once: transient, record or fatal (DESIGN §5)."""

import time

import pytest

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
