"""Fixtures for the worker tests: a simulator per test, embedded apps, real `dramatiq actors`
processes started as the Procfile starts them, and waiting on them with a deadline."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade

from actors import embedded
from qbdsim.testing import running_simulator
from tests.conftest import POSTGRES_URL, make_app, require_service
from webapp import PROJECT_ROOT
from webapp.extensions import db
from webapp.models.sync import SyncObjectRun, SyncSession

FAST_RETRIES = {"QBSYNC_RETRY_MIN_BACKOFF_MS": 5, "QBSYNC_RETRY_MAX_BACKOFF_MS": 50,
                "QBSYNC_MAX_RETRIES": 3}
WORKER_READY = "Worker process is ready for action."
WORKER_START_TIMEOUT_S = 30
SESSION_TIMEOUT_S = 60
POLL_S = 0.05


def conductor_settings(sim) -> dict[str, str]:
    """Settings that point the real Conductor client at the simulator."""
    return {"CONDUCTOR_BASE_URL": sim.base_url, "CONDUCTOR_SECRET_KEY": sim.config.secret_key,
            "CONDUCTOR_END_USER_ID": sim.config.end_user_id}


@pytest.fixture
def sim_size() -> int:
    return 600


@pytest.fixture
def sim(sim_size):
    with running_simulator(size=sim_size) as server:
        yield server


def on_request(sim, path_suffix: str, number: int, action: Callable[[], None]) -> None:
    """Run `action` once, in the simulator, when its `number`th request for a path ending in
    `path_suffix` arrives — before it is answered. With the one-page prefetch, request n + 1
    arrives while page n is being written: a moment inside an object, without timing guesses."""
    from flask import request

    seen = {"count": 0}
    lock = threading.Lock()

    @sim.app.before_request
    def _hook():
        if not request.path.endswith(path_suffix):
            return
        with lock:
            seen["count"] += 1
            fire = seen["count"] == number
        if fire:
            action()


def sim_total_requests(sim) -> int:
    return sim.simulator.stats()["total"]


@pytest.fixture
def embedded_app(sqlite_uri, sim):
    """An app over a migrated SQLite copy, pointed at the simulator; its in-process worker is
    started by the test (`embedded.start(app)`) and stopped here."""
    app = make_app(sqlite_uri, **conductor_settings(sim), **FAST_RETRIES)
    with app.app_context():
        yield app
        embedded.stop(app)
        db.session.remove()
        db.engine.dispose()


def reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def runs_by_name(session_id: int) -> dict[str, SyncObjectRun]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(SyncObjectRun).filter_by(session_id=session_id))
    return {run.object_name: run for run in rows}


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str):
    """Poll `predicate` until truthy — only for work another process does."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(POLL_S)


def wait_for_session(session_id: int, statuses=("completed", "failed", "cancelled"),
                     timeout_s: float = SESSION_TIMEOUT_S) -> SyncSession:
    return wait_for(lambda: _status_in(session_id, statuses), timeout_s,
                    f"session {session_id} to become {'/'.join(statuses)}")


def ended(doc: dict) -> dict | None:
    """A session document from the API, once its session has ended."""
    return doc if doc["status"] in ("completed", "failed", "cancelled") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status_in(session_id, statuses):
    session = reload(SyncSession, session_id)
    return session if session.status in statuses else None


# --- services -----------------------------------------------------------------------------


@pytest.fixture
def redis_db(redis_url) -> Iterator[str]:
    """The tests' Redis database, flushed before and after."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture
def fresh_postgres() -> Iterator[Callable[[], str]]:
    """Make migrated, empty PostgreSQL databases (dropped afterwards): `url = fresh_postgres()`."""
    require_service("PostgreSQL", POSTGRES_URL)
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"qbsync_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
        app = make_app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        return url

    yield make
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def procfile_command(process: str) -> str:
    """A Procfile line's command."""
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise LookupError(process)


def production_env(database_url: str, redis_url: str, sim, **extra) -> dict[str, str]:
    """The environment of a Heroku-style process: production mode, every required setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBSYNC_", "CONDUCTOR_"))}
    env.update({
        "QBSYNC_MODE": "production", "SECRET_KEY": uuid.uuid4().hex,
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        **conductor_settings(sim),
        **{k: str(v) for k, v in FAST_RETRIES.items()},
        # Idle consumers poll every 100 ms instead of every second: a pipeline's next step
        # starts sooner; nothing else changes.
        "dramatiq_worker_timeout": "100",
        **extra,
    })
    return env


class WorkerProcess:
    """`dramatiq actors`, run exactly as the Procfile's `worker` line, in its own process group
    (like a dyno: signals go to every process in it)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            ["sh", "-c", f"exec {procfile_command('worker')}"], cwd=PROJECT_ROOT, env=env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self) -> WorkerProcess:
        wait_for(lambda: WORKER_READY in self.output() or self.proc.poll() is not None,
                 WORKER_START_TIMEOUT_S, "the worker to start")
        assert self.proc.poll() is None, self.output()
        return self

    def signal(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def wait_exit(self, timeout_s: float = 30) -> int:
        return self.proc.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `dramatiq actors` processes; each is killed at the end if still running."""
    workers: list[WorkerProcess] = []

    def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers) + 1}.log")
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.close()


# --- the WMS mirror -------------------------------------------------------------------------

OUR_CLOCK = {"synced_at", "local_updated_at"}


def mirror_snapshot() -> dict[str, list[tuple]]:
    """Every mirror table's rows, comparable across databases: local ids (which a rolled-back
    page may shift) replaced by the QuickBooks ids they stand for, our own timestamps left out."""
    tables = [t for t in db.metadata.sorted_tables if t.name.startswith("wms_")]
    qb_ids = {t.name: dict(db.session.execute(sa.select(t.c.id, t.c.qb_id)).all())
              for t in tables if "qb_id" in t.c}
    snapshot = {}
    for table in tables:
        rows = []
        for row in db.session.execute(sa.select(table)).mappings():
            values = []
            for column in table.c:
                if column.primary_key or column.name in OUR_CLOCK:
                    continue
                value = row[column.name]
                for fk in column.foreign_keys:
                    value = qb_ids.get(fk.column.table.name, {}).get(value, value)
                values.append((column.name, json.dumps(value, sort_keys=True, default=str)))
            rows.append(tuple(values))
        snapshot[table.name] = sorted(rows)
    return snapshot
