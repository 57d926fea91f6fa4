"""Benchmark: dashboards polling `GET /api/v1/sessions/current` while a sync runs (issue 6).

20 concurrent pollers (asyncio + httpx, keep-alive, a bearer token) for 30 s against gunicorn
serving `wsgi:app` on 127.0.0.1 as the Procfile does (2 workers x 4 threads by default), while a
thread in this process plays the worker: it writes progress to the running session's rows every
50 ms. Reports requests/s and p50/p95/p99 latency on SQLite and on PostgreSQL (a scratch
database on 127.0.0.1:5432, dropped afterwards). Target: p95 under 50 ms. Not run by tests.

Two ways of polling, both reported:
- paced: each poller asks every 2 s, as the dashboard does (20 open dashboards);
- flat-out: each poller asks again the moment it has its answer — the server's capacity, and
  its latency when saturated (then mostly time spent queueing: 20 requests in flight).

Usage: python bench/status_api.py [--seconds 30] [--pollers 20] [--db sqlite,postgres]
                                  [--modes paced,flat-out] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_ADMIN = os.environ.get("QBSYNC_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
END_USER = "end_usr_bench"
WARMUP_S = 2.0
PROGRESS_EVERY_S = 0.05
PACED_INTERVAL_S = 2.0  # the dashboard's polling interval
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings(database_url: str) -> dict[str, str]:
    """Production settings: what gunicorn runs with on Heroku, minus the real secrets."""
    return {
        "QBSYNC_MODE": "production",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("QBSYNC_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        "CONDUCTOR_SECRET_KEY": "sk_bench_unused",
        "CONDUCTOR_END_USER_ID": END_USER,
        "QBSYNC_PROXY_COUNT": "0",
    }


def prepare(database_url: str) -> tuple[str, int]:
    """Migrate the database, create a user and token, and start a running session."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.cli import create_or_update_user
    from webapp.extensions import db
    from webapp.models.auth import ApiToken
    from webapp.sync import lifecycle, manager

    os.environ.update(settings(database_url))
    app = create_app()
    with app.app_context():
        upgrade()
        user = create_or_update_user("bench@example.com", "bench password 123")
        _row, token = ApiToken.issue(user, "bench")
        db.session.commit()
        session = manager.start_session(["sales_order"], "incremental", created_by="bench")
        run = lifecycle.begin_object(session.id, "customer")
        run.total = 10_000_000
        db.session.commit()
        session_id = session.id
        db.session.remove()
        db.engine.dispose()
    return token, session_id


class ProgressWriter(threading.Thread):
    """Plays the worker: one small progress commit every PROGRESS_EVERY_S."""

    def __init__(self, database_url: str, session_id: int):
        super().__init__(daemon=True)
        self.database_url, self.session_id = database_url, session_id
        self.stop = threading.Event()
        self.commits = 0

    def run(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url.replace("postgres://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            while not self.stop.wait(PROGRESS_EVERY_S):
                self.commits += 1
                conn.execute(text(
                    "UPDATE sync_object_run SET processed = processed + 150,"
                    " created = created + 100, unchanged = unchanged + 50"
                    " WHERE session_id = :sid AND object_name = 'customer'"),
                    {"sid": self.session_id})
                record = f"80000{self.commits:06d}-1700000000"
                conn.execute(
                    text("UPDATE sync_session SET current_record_id = :rec WHERE id = :sid"),
                    {"sid": self.session_id, "rec": record})
                conn.commit()
        engine.dispose()


def start_gunicorn(database_url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, **settings(database_url)}
    proc = subprocess.Popen(
        [str(gunicorn), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not answer its health check")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


async def poll(url: str, token: str, pollers: int, seconds: float,
               interval_s: float) -> tuple[list[float], int]:
    """Each poller asks every `interval_s` (0: as soon as it has its answer); latencies are
    kept after the warm-up."""
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter()
    measure_from, stop_at = start + WARMUP_S, start + WARMUP_S + seconds
    limits = httpx.Limits(max_connections=pollers, max_keepalive_connections=pollers)
    headers = {"Authorization": f"Bearer {token}"}

    async def poller(client: httpx.AsyncClient, index: int) -> None:
        nonlocal failures
        next_at = start + interval_s * index / pollers  # spread, as real dashboards are
        while (now := time.perf_counter()) < stop_at:
            if interval_s:
                await asyncio.sleep(max(0.0, next_at - now))
                next_at += interval_s
                now = time.perf_counter()
            try:
                response = await client.get(url, headers=headers)
                ok = response.status_code == 200 and response.json()["status"] == "running"
            except httpx.HTTPError as error:  # counted, not fatal: the figures say how many
                print(f"  poller: {type(error).__name__}: {error}", file=sys.stderr)
                ok = False
            done = time.perf_counter()
            if now >= measure_from:
                if ok:
                    latencies.append(done - now)
                else:
                    failures += 1

    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await asyncio.gather(*(poller(client, i) for i in range(pollers)))
    return latencies, failures


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 \
        else (values[0] if values else float("nan"))


def bench(name: str, database_url: str, args) -> list[dict]:
    token, session_id = prepare(database_url)
    writer = ProgressWriter(database_url, session_id)
    port = free_port()
    proc = start_gunicorn(database_url, port, args.workers, args.threads)
    results = []
    try:
        writer.start()
        url = f"http://127.0.0.1:{port}/api/v1/sessions/current"
        for mode in args.modes.split(","):
            interval = PACED_INTERVAL_S if mode == "paced" else 0.0
            commits = writer.commits
            latencies, failures = asyncio.run(
                poll(url, token, args.pollers, args.seconds, interval))
            ms = [x * 1000 for x in latencies]
            results.append({
                "database": name, "mode": mode, "requests": len(ms), "failures": failures,
                "rps": len(ms) / args.seconds, "p50": percentile(ms, 50),
                "p95": percentile(ms, 95), "p99": percentile(ms, 99),
                "max": max(ms) if ms else float("nan"),
                "progress_commits": writer.commits - commits,
            })
    finally:
        writer.stop.set()
        writer.join(timeout=10)
        stop_gunicorn(proc)
    return results


def postgres_scratch():
    import sqlalchemy as sa

    name = f"qbsync_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.replace("postgresql+psycopg://", "postgres://"), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--modes", default="paced,flat-out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(f"{args.pollers} pollers x {args.seconds:.0f} s on GET /api/v1/sessions/current; "
          f"gunicorn {args.workers} workers x {args.threads} threads; {os.cpu_count()} CPUs "
          "shared by server, pollers and the progress writer")
    results = []
    for name in args.db.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results += bench("SQLite", f"sqlite:///{tmp}/bench.db", args)
        elif name == "postgres":
            url, drop = postgres_scratch()
            try:
                results += bench("PostgreSQL", url, args)
            finally:
                drop()
    print(f"{'database':<11} {'polling':<9} {'requests':>8} {'req/s':>7} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'failed':>6} {'writes':>6}")
    for r in results:
        print(f"{r['database']:<11} {r['mode']:<9} {r['requests']:>8} {r['rps']:>7.1f} "
              f"{r['p50']:>7.1f} "
              f"{r['p95']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} {r['failures']:>6} "
              f"{r['progress_commits']:>6}")


if __name__ == "__main__":
    main()
