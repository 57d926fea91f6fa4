"""Sessions run by the in-process worker (StubBroker + Dramatiq Worker thread) against the
simulator over HTTP: completion, cancel, concurrent starts, retries and failures."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import func, select

from actors import embedded
from actors.broker import broker_for
from actors.middleware import QB_NOT_RUNNING_GAVE_UP, TIME_LIMIT_GAVE_UP
from actors.sync import QUEUE, sync_object
from tests.actors.conftest import (
    conductor_settings,
    on_request,
    reload,
    runs_by_name,
    sim_total_requests,
)
from tests.conftest import make_app
from webapp.cli import create_or_update_user
from webapp.extensions import db
from webapp.models.auth import ApiToken
from webapp.models.sync import SyncError, SyncSession
from webapp.models.wms import Customer, Invoice, Item, SalesOrder
from webapp.sync import manager
from webapp.sync.conductor import BAD_KEY
from webapp.sync.flags import cancel_flags
from webapp.sync.pull.paging import PAGE_LIMIT

MIRROR = {Customer: "customers", SalesOrder: "sales-orders", Invoice: "invoices"}


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sim_counts(sim) -> dict[str, int]:
    return httpx.get(f"{sim.url}/_sim/counts").json()


def test_a_session_completes_in_embedded_mode(embedded_app, sim):
    # Given no Redis: the app's broker is a StubBroker and its worker a thread of this process
    worker = embedded.start(embedded_app)
    assert isinstance(broker_for(embedded_app), StubBroker)
    # When a session of every object is started through the manager
    session = manager.start_session(None)
    worker.join()
    # Then it completed object by object, and the mirror holds the whole company
    session = reload(SyncSession, session.id)
    doc = manager.session_document(session)
    assert session.status == "completed" and session.failure_reason is None
    assert doc["progress_percentage"] == 100 and not doc["stalled"]
    assert [o["status"] for o in doc["objects"]] == ["completed"] * len(doc["objects"])
    counts = sim_counts(sim)
    for model, resource in MIRROR.items():
        assert rows(model) == counts[resource]
    items = ("inventory-items", "non-inventory-items", "service-items", "other-charge-items")
    assert rows(Item) == sum(counts[r] for r in items)
    assert not cancel_flags().is_set(session.id)


@pytest.mark.parametrize("sim_size", [3000])  # 450 customers: three pages
def test_cancel_while_running_lands_within_one_page(embedded_app, sim):
    # Given a cancel that arrives while customers are being pulled: when page 2 is asked for
    started = {}

    def cancel():
        with embedded_app.app_context():
            manager.cancel_session(started["id"])

    on_request(sim, "/customers", 2, cancel)
    started["id"] = manager.start_session(None).id
    # When the worker runs the session
    embedded.start(embedded_app).join()
    # Then the page in hand at most was written, nothing after it, and the session says so
    session = reload(SyncSession, started["id"])
    runs = runs_by_name(session.id)
    customer = runs.pop("customer")
    assert session.status == "cancelled" and customer.status == "cancelled"
    assert customer.processed in (PAGE_LIMIT, 2 * PAGE_LIMIT) and customer.total == 450
    assert rows(Customer) == customer.processed == customer.created
    assert {run.status for run in runs.values()} == {"skipped"}
    requested = sim.simulator.stats()["requests"]
    assert set(requested) == {"GET /v1/quickbooks-desktop/customers"}
    assert requested["GET /v1/quickbooks-desktop/customers"] <= 3
    doc = manager.session_document(session)
    assert doc["processed_records"] == customer.processed and doc["cancel_requested"]
    # And the cancel flag is gone with the session
    assert not cancel_flags().is_set(session.id)


@pytest.mark.parametrize("sim_size", [3000])
def test_a_cancel_from_another_process_reaches_the_in_process_worker(embedded_app, sim,
                                                                     sqlite_uri):
    # Given no Redis, so each process keeps its own cancel flags, and the cancel comes from
    # another process (`qbsync sync cancel`) while customers are being pulled
    other = make_app(sqlite_uri)
    started = {}

    def cancel_elsewhere():
        with other.app_context():
            manager.cancel_session(started["id"])
            db.session.remove()

    on_request(sim, "/customers", 2, cancel_elsewhere)
    started["id"] = manager.start_session(None).id
    # When the worker runs the session
    embedded.start(embedded_app).join()
    # Then the cancel, read from the session row, still lands within one page
    session = reload(SyncSession, started["id"])
    customer = runs_by_name(session.id)["customer"]
    assert session.status == "cancelled" and customer.status == "cancelled"
    assert customer.processed in (PAGE_LIMIT, 2 * PAGE_LIMIT)
    with other.app_context():
        db.engine.dispose()


def test_cancel_while_queued_runs_nothing(embedded_app, sim):
    # Given a session still in the queue (no worker yet) is cancelled
    session = manager.start_session(None)
    manager.cancel_session(session.id)
    assert cancel_flags().is_set(session.id)
    # When the worker gets to it
    embedded.start(embedded_app).join()
    # Then nothing ran, nothing reached QuickBooks, and the flag is gone
    session = reload(SyncSession, session.id)
    assert session.status == "cancelled"
    assert {run.status for run in runs_by_name(session.id).values()} == {"skipped"}
    assert sim_total_requests(sim) == 0
    assert not cancel_flags().is_set(session.id)


def test_two_starts_at_the_same_moment_make_one_session(embedded_app):
    # Given two API clients that press Start at the same moment
    user = create_or_update_user("clerk@example.com", "a long password")
    _row, token = ApiToken.issue(user, "tests")
    db.session.commit()
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def start():
        client = embedded_app.test_client()
        barrier.wait()
        answers.append(client.post("/api/v1/sessions", json={"objects": ["customer"]},
                                   headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one session was created, and the other start was refused
    assert sorted(answers) == [202, 409]
    assert db.session.scalar(select(func.count()).select_from(SyncSession)) == 1


@pytest.mark.parametrize("sim_size", [300])
def test_transient_faults_are_retried_and_the_session_completes(embedded_app, sim):
    # Given QuickBooks answers every request with a 502/504/429 at first (the client's own two
    # retries included), then one request in five
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 10
    sim.simulator.update_faults({"fault_rate": 1.0})
    on_request(sim, "/customers", 4, lambda: sim.simulator.update_faults({"fault_rate": 0.2}))
    # When a session runs
    session = manager.start_session(None)
    embedded.start(embedded_app).join()
    # Then the failed attempt was retried, and everything arrived
    session = reload(SyncSession, session.id)
    assert session.status == "completed", session.failure_reason
    assert runs_by_name(session.id)["customer"].attempts >= 2
    counts = sim_counts(sim)
    for model, resource in MIRROR.items():
        assert rows(model) == counts[resource]


def test_an_authentication_error_fails_the_session_once_without_retrying(embedded_app, sim):
    # Given a wrong Conductor key
    embedded_app.config["CONDUCTOR_SECRET_KEY"] = "sk_sim_wrong"
    # When a session runs
    session = manager.start_session(None)
    embedded.start(embedded_app).join()
    # Then one request was made, the session failed once, with the reason in plain words
    session = reload(SyncSession, session.id)
    runs = runs_by_name(session.id)
    assert session.status == "failed" and session.failure_reason == BAD_KEY
    assert sim_total_requests(sim) == 1 and runs["customer"].attempts == 1
    assert runs.pop("customer").status == "failed"
    assert {run.status for run in runs.values()} == {"skipped"}
    errors = db.session.scalars(select(SyncError).filter_by(session_id=session.id)).all()
    assert [e.message for e in errors] == [BAD_KEY] and session.error_count == 1
    assert len(broker_for(embedded_app).dead_letters) == 1


def test_quickbooks_not_running_is_retried_with_backoff_then_fails_plainly(embedded_app, sim):
    # Given QuickBooks Desktop is closed, and two retries are allowed
    sim.simulator.update_faults({"qb_running": False})
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 2
    # When a session runs
    session = manager.start_session(["customer"])
    embedded.start(embedded_app).join()
    # Then the object was tried three times, with backoff, and the clerk is told what to do
    session = reload(SyncSession, session.id)
    assert session.status == "failed"
    assert session.failure_reason == QB_NOT_RUNNING_GAVE_UP.format(attempts=3)
    assert "Open QuickBooks" in session.failure_reason
    assert runs_by_name(session.id)["customer"].attempts == 3
    (message,) = broker_for(embedded_app).dead_letters
    assert message.options["retries"] == 3 and message.options["min_backoff"] == 5


def test_an_object_past_its_time_limit_is_retried_then_fails(embedded_app, sim):
    # Given QuickBooks takes 20 s to answer and the object's message has a short time limit
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 1
    sim.simulator.update_faults({"latency_ms": 20_000})
    session = manager.start_session(["customer"])
    broker = broker_for(embedded_app)
    broker.flush_all()
    broker.enqueue(sync_object.message_with_options(args=(session.id, "customer"),
                                                    time_limit=300))
    # When the worker runs it
    started = time.monotonic()
    embedded.start(embedded_app).join()
    # Then it was interrupted and retried once, then the session failed saying why ...
    session = reload(SyncSession, session.id)
    assert session.status == "failed"
    assert session.failure_reason == TIME_LIMIT_GAVE_UP.format(name="customer", attempts=2)
    assert runs_by_name(session.id)["customer"].attempts == 2
    # ... without waiting for QuickBooks: the limit lands while the worker waits for the page
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("sim_size", [3000])
def test_a_stopped_worker_checkpoints_and_the_next_process_resumes(embedded_app, sim,
                                                                   sqlite_uri):
    # Given the worker is stopped (Ctrl+C on `qbsync demo`) while customers are being pulled
    app = embedded_app
    stopper, fired = threading.Thread(target=embedded.stop, args=(app,)), threading.Event()
    on_request(sim, "/customers", 2, lambda: (stopper.start(), fired.set()))
    session = manager.start_session(["customer"])
    embedded.start(app)
    assert fired.wait(timeout=30), "page 2 was never asked for"
    stopper.join()
    # Then the object stopped at a page boundary, with its checkpoint committed
    run = runs_by_name(session.id)["customer"]
    assert run.status == "running" and run.checkpoint.get("name_from")
    assert 0 < run.processed < run.total
    # When the next process starts its worker
    app2 = make_app(sqlite_uri, **conductor_settings(sim))
    with app2.app_context():
        resumed = embedded.start(app2, resume=True)
        try:
            resumed.join()
        finally:
            embedded.stop(app2)
        db.session.remove()
    # Then the object resumed from its checkpoint: every customer once, nothing read twice
    session = reload(SyncSession, session.id)
    run = runs_by_name(session.id)["customer"]
    assert session.status == "completed" and run.attempts == 2
    assert run.processed == run.total == run.created == rows(Customer) == 450
    assert run.unchanged == 0


def test_a_session_that_cannot_be_queued_fails_with_a_reason(sqlite_uri, sim):
    # Given Redis is configured but does not answer
    app = make_app(sqlite_uri, REDIS_URL="redis://127.0.0.1:1/0", **conductor_settings(sim))
    with app.app_context():
        # When a session is started
        session = manager.start_session(None)
        # Then it is failed at once, with a reason, rather than left pending forever
        session = reload(SyncSession, session.id)
        assert session.status == "failed" and "Redis" in session.failure_reason
        db.session.remove()
        db.engine.dispose()


def test_the_queue_is_the_sync_queue(embedded_app):
    assert QUEUE in broker_for(embedded_app).get_declared_queues()
