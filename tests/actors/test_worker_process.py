"""Heroku's shape on this machine: Redis, PostgreSQL and `dramatiq actors` processes started as
the Procfile starts them, syncing from the simulator over HTTP — then killed and terminated."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass

import httpx
import pytest
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from flask import Flask
from sqlalchemy import func, select

from actors.broker import close as close_broker
from actors.sync import QUEUE
from tests.actors.conftest import (
    FAST_RETRIES,
    conductor_settings,
    mirror_snapshot,
    on_request,
    production_env,
    runs_by_name,
    wait_for_session,
)
from tests.conftest import make_app
from webapp.extensions import db
from webapp.models.wms import Customer, Invoice, SalesOrder
from webapp.sync import manager, runner
from webapp.sync.pull.paging import PAGE_LIMIT

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Deployment:
    app: Flask  # the web side: starts sessions, which go to Redis
    env: dict[str, str]  # the worker processes' environment
    redis_url: str


@pytest.fixture
def deployment(redis_db, fresh_postgres, sim):
    database_url = fresh_postgres()
    app = make_app(database_url, REDIS_URL=redis_db, **conductor_settings(sim), **FAST_RETRIES)
    with app.app_context():
        yield Deployment(app, production_env(database_url, redis_db, sim), redis_db)
        close_broker(app)
        db.session.remove()
        db.engine.dispose()


def queued_messages(redis_url: str) -> int:
    """Messages Redis holds for the sync queue (and its delay queue), acknowledged or not."""
    broker = RedisBroker(url=redis_url)
    try:
        return broker.do_qsize(QUEUE)
    finally:
        broker.client.connection_pool.disconnect()


def force_maintenance(redis_url: str) -> None:
    """Run the broker's requeue of dead workers' messages now, as Dramatiq's own
    test_redis_unacked_messages_can_be_requeued does, instead of waiting for the heartbeat
    timeout and the maintenance dice (their production values: test_deployment.py)."""
    broker = RedisBroker(url=redis_url, heartbeat_timeout=0,
                         maintenance_chance=MAINTENANCE_SCALE)
    broker.broker_id = "qbsync-tests-maintenance"
    try:
        broker.do_qsize(QUEUE)  # any command runs maintenance for the queue it names
    finally:
        broker.client.connection_pool.disconnect()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_full_session_completes_in_a_worker_process(deployment, start_worker, sim):
    # Given a worker process, started as the Procfile starts it
    start_worker(deployment.env)
    # When the web side starts a session of every object
    session = manager.start_session(None)
    # Then the worker runs it to the end
    session = wait_for_session(session.id)
    assert session.status == "completed", session.failure_reason
    assert {run.status for run in runs_by_name(session.id).values()} == {"completed"}
    counts = httpx.get(f"{sim.url}/_sim/counts").json()
    assert count(Customer) == counts["customers"] and count(Invoice) == counts["invoices"]
    assert count(SalesOrder) == counts["sales-orders"]
    assert queued_messages(deployment.redis_url) == 0


@pytest.mark.parametrize("sim_size", [2000])  # 300 customers: two pages
def test_a_killed_worker_s_object_is_redelivered_and_the_tables_match_an_uninterrupted_run(
        deployment, start_worker, sim, fresh_postgres):
    # Given a worker that is killed (kill -9, the whole process group) in the middle of the
    # customers: while page 2 is being fetched
    first = start_worker(deployment.env)
    killed = threading.Event()
    on_request(sim, "/customers", 2, lambda: (first.signal(signal.SIGKILL), killed.set()))
    session = manager.start_session(None)
    assert killed.wait(timeout=30), "the customers' second page was never asked for"
    assert first.wait_exit() == -signal.SIGKILL
    # Then the object is left running, and its message is still in Redis, unacknowledged
    assert runs_by_name(session.id)["customer"].status == "running"
    assert queued_messages(deployment.redis_url) == 1
    # When a new worker starts, and the broker's maintenance requeues the dead worker's message
    start_worker(deployment.env)
    force_maintenance(deployment.redis_url)
    # Then the session completes
    session = wait_for_session(session.id)
    assert session.status == "completed", session.failure_reason
    assert runs_by_name(session.id)["customer"].attempts == 2
    interrupted = mirror_snapshot()
    # And its tables are the ones an uninterrupted run writes: same rows, no duplicates
    reference_app = make_app(fresh_postgres(), **conductor_settings(sim))
    with reference_app.app_context():
        reference = runner.run_session(manager.start_session(None).id)
        assert reference.status == "completed"
        uninterrupted = mirror_snapshot()
        db.session.remove()
        db.engine.dispose()
    for table, rows in uninterrupted.items():
        assert interrupted[table] == rows, table
    assert len(interrupted["wms_customer"]) == 300


@pytest.mark.parametrize("sim_size", [4000])  # 600 customers: four pages
def test_sigterm_hands_the_object_back_at_a_page_boundary_and_it_resumes(
        deployment, start_worker, sim):
    # Given a worker told to stop (SIGTERM to every process, as Heroku does) while page 3 of
    # the customers is being fetched, and QuickBooks takes longer to answer than Heroku waits
    first = start_worker(deployment.env)
    signalled = threading.Event()

    def terminate():
        sim.simulator.update_faults({"latency_ms": 60_000})
        first.signal(signal.SIGTERM)
        signalled.set()

    on_request(sim, "/customers", 3, terminate)
    session = manager.start_session(["customer"])
    assert signalled.wait(timeout=30), "the customers' third page was never asked for"
    # Then the worker stops gracefully, within the shutdown timeout (not waiting for the page)
    assert first.wait_exit(25) == 0, first.output()
    assert "Killing worker process" not in first.output()
    sim.simulator.update_faults({"latency_ms": 0})
    # And the object stopped at a page boundary with its checkpoint committed, and handed its
    # message back
    run = runs_by_name(session.id)["customer"]
    assert run.status == "running" and run.checkpoint["name_from"]
    assert 0 < run.processed < run.total and run.processed % PAGE_LIMIT == 0
    assert queued_messages(deployment.redis_url) == 1
    # When the next worker starts
    start_worker(deployment.env)
    session = wait_for_session(session.id)
    # Then the object resumed from its checkpoint: every customer once, no page read twice
    run = runs_by_name(session.id)["customer"]
    assert session.status == "completed" and run.attempts == 2
    assert run.processed == run.total == run.created == count(Customer) == 600
    assert run.unchanged == 0


def test_a_worker_killed_between_a_create_and_its_commit_creates_nothing_twice(
        deployment, start_worker, sim):
    """kill -9 of a real worker while QuickBooks has the create request in hand: the record is
    created, the worker never learns its id. The redelivered object finds it by the externalId
    committed before the request, and adopts it."""
    from flask import request
    from sqlalchemy import text

    # Given a worker that will be killed the moment a create reaches QuickBooks (which still
    # applies it), once armed
    armed, killed = threading.Event(), threading.Event()
    workers = []

    @sim.app.before_request
    def _kill_on_create():
        if armed.is_set() and request.method == "POST" and request.path.endswith(
                "/customers") and not killed.is_set():
            workers[0].signal(signal.SIGKILL)
            killed.set()

    # And a synced company, and a customer created in the WMS
    start = manager.start_session(["customer"])
    first = start_worker(deployment.env)
    workers.append(first)
    assert wait_for_session(start.id).status == "completed"
    db.session.execute(text("INSERT INTO wms_customer (name, full_name, sublevel, is_active)"
                            " VALUES ('Killed Mid Create', 'Killed Mid Create', 0, true)"))
    db.session.commit()
    armed.set()
    session = manager.start_session(["customer"])
    assert killed.wait(timeout=60), "the create was never sent"
    assert first.wait_exit() == -signal.SIGKILL
    db.session.expire_all()
    local = db.session.scalar(select(Customer).where(Customer.name == "Killed Mid Create"))
    assert local.qb_id is None and local.external_id is not None  # committed before the request
    # When a new worker takes the dead one's message
    start_worker(deployment.env)
    force_maintenance(deployment.redis_url)
    # Then the session completes with the record adopted, not created again
    session = wait_for_session(session.id)
    assert session.status == "completed", session.failure_reason
    db.session.expire_all()
    local = db.session.scalar(select(Customer).where(Customer.name == "Killed Mid Create"))
    headers = {"Authorization": f"Bearer {sim.config.secret_key}",
               "Conductor-End-User-Id": sim.config.end_user_id}
    named = httpx.get(f"{sim.base_url}/quickbooks-desktop/customers", headers=headers,
                      params={"fullNames": "Killed Mid Create"}).json()["data"]
    assert [r["id"] for r in named] == [local.qb_id]
    assert named[0]["externalId"] == local.external_id
