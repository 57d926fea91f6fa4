"""Benchmark: the records pages' API on a 100,000-row table under 20 pollers (issue 18).

Served by gunicorn as the Procfile does (see bench/status_api.py, whose machinery this reuses):
20 concurrent pollers (asyncio + httpx, keep-alive, a bearer token) each ask, in turn, for the
first page of customers, the state counts, the pending / error / deleted filters, a search by
name and the second page by cursor, paced every 2 s (20 open records pages) and flat-out.
Reports p50/p95/p99 per request kind, on SQLite and PostgreSQL. Not run by tests.

Usage: python bench/records_api.py [--rows 100000] [--seconds 20] [--pollers 20]
                                   [--db sqlite,postgres] [--modes paced,flat-out]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.status_api import (  # noqa: E402
    PACED_INTERVAL_S,
    WARMUP_S,
    free_port,
    percentile,
    postgres_scratch,
    settings,
    start_gunicorn,
    stop_gunicorn,
)

KINDS = {
    "list": "/api/v1/records/customer?limit=50",
    "counts": "/api/v1/records/customer/counts",
    "pending": "/api/v1/records/customer?state=pending&limit=50",
    "error": "/api/v1/records/customer?state=error&limit=50",
    "deleted": "/api/v1/records/customer?state=deleted&limit=50",
    "search": "/api/v1/records/customer?q=Hartmann%2077&limit=50",
}


def prepare(database_url: str, rows: int) -> str:
    """Migrate, a token, and `rows` synced customers (1 % pending, 0.5 % refused, 1 % deleted),
    written as the sync writes (no trigger stamps them)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.cli import create_or_update_user
    from webapp.extensions import db
    from webapp.models import Customer
    from webapp.models.auth import ApiToken
    from webapp.models.types import utcnow
    from webapp.sync.writing import sync_writer

    os.environ.update(settings(database_url))
    app = create_app()
    with app.app_context():
        upgrade()
        user = create_or_update_user("bench@example.com", "bench password 123")
        _row, token = ApiToken.issue(user, "bench")
        db.session.commit()
        now = utcnow()
        with sync_writer(db.session()):
            for start in range(0, rows, 5000):
                batch = []
                for n in range(start, min(start + 5000, rows)):
                    name = f"Hartmann {n} Supply"
                    batch.append({
                        "qb_id": f"8{n:07d}-1700000000", "qb_revision": "1", "name": name,
                        "full_name": name, "sublevel": 0, "is_active": n % 100 != 1,
                        "synced_at": now, "qb_updated_at": now, "sync_hash": "x",
                        "sync_base": {"name": name, "full_name": name},
                        "wms_pending": n % 100 == 0, "email": f"buyer{n}@example.com",
                        "push_error": "refused" if n % 200 == 3 else None,
                        "qb_deleted_at": now if n % 100 == 1 else None,
                    })
                db.session.execute(insert(Customer), batch)
                db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


async def poll(base: str, token: str, pollers: int, seconds: float, interval_s: float,
               cursor: str) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {kind: [] for kind in (*KINDS, "next page")}
    urls = [*KINDS.items(), ("next page", f"/api/v1/records/customer?limit=50&cursor={cursor}")]
    start = time.perf_counter()
    measure_from, stop_at = start + WARMUP_S, start + WARMUP_S + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=pollers, max_keepalive_connections=pollers)

    async def poller(client: httpx.AsyncClient, index: int) -> None:
        turn = index
        next_at = start + interval_s * index / pollers
        while (now := time.perf_counter()) < stop_at:
            if interval_s:
                await asyncio.sleep(max(0.0, next_at - now))
                next_at += interval_s
                now = time.perf_counter()
            kind, url = urls[turn % len(urls)]
            turn += 1
            response = await client.get(base + url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
            if now >= measure_from:
                latencies[kind].append((time.perf_counter() - now) * 1000)

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(poller(client, i) for i in range(pollers)))
    return latencies


def bench(name: str, database_url: str, args) -> None:
    token = prepare(database_url, args.rows)
    port = free_port()
    proc = start_gunicorn(database_url, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        first = httpx.get(base + KINDS["list"], headers={"Authorization": f"Bearer {token}"},
                          timeout=30).json()
        for mode in args.modes.split(","):
            interval = PACED_INTERVAL_S if mode == "paced" else 0.0
            latencies = asyncio.run(poll(base, token, args.pollers, args.seconds, interval,
                                         first["next_cursor"]))
            for kind, ms in latencies.items():
                print(f"{name:8} {mode:8} {kind:10} n={len(ms):5} p50={percentile(ms, 50):7.1f}"
                      f" p95={percentile(ms, 95):7.1f} p99={percentile(ms, 99):7.1f} ms")
    finally:
        stop_gunicorn(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--modes", default="paced,flat-out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    for name in args.db.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench("sqlite", f"sqlite:///{tmp}/records.db", args)
        else:
            url, drop = postgres_scratch()
            try:
                bench("postgres", url, args)
            finally:
                drop()


if __name__ == "__main__":
    main()
