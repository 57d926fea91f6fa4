"""The services underneath failing mid-sync (issue 19), with the real worker process, a Redis
server of the test's own and PostgreSQL: Redis unreachable for seconds, Redis back but empty,
the worker's PostgreSQL connection dropped mid-page. Every session completes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from actors.broker import close
from tests.actors.conftest import (
    _status_in,
    conductor_settings,
    free_port,
    on_request,
    production_env,
    wait_for,
)
from tests.conftest import REDIS_URL, make_app, require_service
from webapp.extensions import db
from webapp.models.sync import SyncError
from webapp.sync import manager

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
OUTAGE_S = 3.0
SESSION_TIMEOUT_S = 120


@pytest.fixture
def sim_size() -> int:
    return 1500  # customers take two pages: the failures land between them


class OwnRedis:
    """A redis-server of this test's own, on a free port, that can be killed and restarted
    (with its data, as from a persistent disk, or empty, as after a failover)."""

    def __init__(self, folder: Path) -> None:
        require_service("Redis", REDIS_URL)  # CI has redis-server installed where Redis runs
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, empty: bool = False) -> None:
        if empty:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), 10, "the test's redis-server")
        client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def setup(fresh_postgres, own_redis, sim, start_worker):
    """A migrated PostgreSQL database, an app on it and on the test's Redis, and a way to
    start real `dramatiq actors` workers for them."""
    database = fresh_postgres()
    app = make_app(database, REDIS_URL=own_redis.url, **conductor_settings(sim),
                   QBSYNC_MAX_RETRIES=3, QBSYNC_RETRY_MIN_BACKOFF_MS=5,
                   QBSYNC_RETRY_MAX_BACKOFF_MS=50)

    def worker(**extra):
        return start_worker(production_env(database, own_redis.url, sim, **extra))

    with app.app_context():
        yield app, database, worker
        close(app)
        db.session.remove()
        db.engine.dispose()


def _start(app) -> int:
    session = manager.start_session(["customer", "vendor", "item"], "full")
    return session.id


def _ended(session_id: int):
    """The session once ended; a poll on a connection PostgreSQL dropped is polled again."""
    try:
        return _status_in(session_id, ("completed", "failed", "cancelled"))
    except OperationalError:
        db.session.rollback()
        return None


def _completed(session_id: int) -> None:
    session = wait_for(lambda: _ended(session_id), SESSION_TIMEOUT_S,
                       f"session {session_id} to end")
    errors = [e.message for e in db.session.scalars(
        sa.select(SyncError).where(SyncError.session_id == session_id))]
    assert session.status == "completed", (session.failure_reason, errors)


def test_redis_unreachable_for_seconds_mid_sync_the_session_completes(setup, own_redis, sim):
    app, _database, worker = setup
    # (a message Redis could not take meanwhile — the pipeline's next step — is queued again
    # by the orphan watch; its wait shortened from minutes)
    worker(QBSYNC_ORPHAN_AFTER_S="5", QBSYNC_ORPHAN_CHECK_S="1")

    fired = threading.Event()

    def outage():
        own_redis.kill()  # connection refused for everyone, the worker included
        threading.Timer(OUTAGE_S, own_redis.start).start()  # ... then back, with its data
        fired.set()

    on_request(sim, "/customers", 2, outage)
    session_id = _start(app)
    _completed(session_id)
    assert fired.is_set()


def test_redis_back_empty_a_stalled_session_is_queued_again_and_completes(setup, own_redis,
                                                                          sim):
    app, _database, worker = setup
    first = worker()
    killed = threading.Event()

    def worker_and_redis_lost():
        first.signal(signal.SIGKILL)  # the worker dies with its message ...
        own_redis.kill()
        own_redis.start(empty=True)  # ... and Redis comes back without any
        killed.set()

    on_request(sim, "/vendors", 1, worker_and_redis_lost)
    session_id = _start(app)
    wait_for(killed.is_set, SESSION_TIMEOUT_S, "the worker and Redis to be lost")
    time.sleep(1.5)  # no sign of life for longer than QBSYNC_ORPHAN_AFTER_S below
    # When a worker starts, it notices the session nobody runs and queues it again
    worker(QBSYNC_ORPHAN_AFTER_S="1", QBSYNC_ORPHAN_CHECK_S="0.5")
    _completed(session_id)
    db.session.expire_all()
    runs = manager.get_session(session_id).object_runs
    assert [run.status for run in runs] == ["completed"] * len(runs)


def test_the_worker_s_postgresql_connection_dropped_mid_page_rolls_back_and_resumes(setup, sim):
    app, database, worker = setup
    worker()
    admin = sa.create_engine(database, isolation_level="AUTOCOMMIT")

    fired = threading.Event()

    def drop_the_worker_s_connections():
        fired.set()
        with admin.connect() as conn:
            dropped = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name NOT LIKE 'pytest%'")).scalar()
        assert dropped

    on_request(sim, "/customers", 2, drop_the_worker_s_connections)
    session_id = _start(app)
    db.session.remove()
    _completed(session_id)
    assert fired.is_set()
    admin.dispose()
