"""How fast the QuickBooks simulator serves records, and how fast it generates a company.

    .venv/bin/python bench/sim_serve.py [--size 20000] [--generate 100000]

1. Generation time of a 100,000-record company.
2. Records per second served to the real conductor-py client through raw responses
   (``with_raw_response``, JSON parsed, cursor followed) over every paginated resource of a
   20,000-record company at zero latency. Target: at least 5,000 records/s.
3. For context, the round-trip rate of a trivial ``GET /_sim/counts``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qbdsim.config import SimConfig  # noqa: E402
from qbdsim.contract import load_spec  # noqa: E402
from qbdsim.generate import generate_company  # noqa: E402
from qbdsim.resources import RESOURCES  # noqa: E402
from qbdsim.testing import conductor_client, running_simulator  # noqa: E402

TARGET_RECORDS_PER_S = 5_000


def time_generation(size: int) -> float:
    """Seconds to generate a company of ``size`` records (the spec parsed beforehand)."""
    load_spec()
    started = time.perf_counter()
    company = generate_company(SimConfig(size=size, seed=1))
    elapsed = time.perf_counter() - started
    assert sum(company.counts().values()) >= size
    return elapsed


def page_everything(client, end_user: str) -> tuple[int, float, dict[str, int]]:
    """Records, seconds and per-resource counts for raw paging through every resource."""
    per_resource: dict[str, int] = {}
    started = time.perf_counter()
    for path, res in RESOURCES.items():
        if not res.paginated:
            continue
        raw_list = getattr(client.qbd, path.replace("-", "_")).with_raw_response.list
        params = {"conductor_end_user_id": end_user, "limit": 150}
        if res.kind == "list":
            params["status"] = "all"
        count = 0
        cursor = None
        while True:
            response = raw_list(**params, **({"cursor": cursor} if cursor else {}))
            body = json.loads(response.http_response.content)
            count += len(body["data"])
            cursor = body["nextCursor"]
            if not cursor:
                break
        per_resource[path] = count
    return sum(per_resource.values()), time.perf_counter() - started, per_resource


def control_round_trips(url: str, count: int = 500) -> float:
    """Round trips per second of ``GET /_sim/counts`` on one keep-alive connection."""
    with httpx.Client(base_url=url) as http:
        http.get("/_sim/counts")
        started = time.perf_counter()
        for _ in range(count):
            http.get("/_sim/counts").raise_for_status()
        return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="company served")
    parser.add_argument("--generate", type=int, default=100_000, help="company generated")
    args = parser.parse_args()

    generation_s = time_generation(args.generate)
    print(f"generation: {args.generate:,} records in {generation_s:.2f} s")

    with running_simulator(size=args.size, seed=1) as server:
        with conductor_client(server, max_retries=0) as client:
            end_user = server.config.end_user_id
            cold_records, cold_s, _ = page_everything(client, end_user)  # JSON cache empty
            records, elapsed, per_resource = page_everything(client, end_user)
        cold_rate, rate = cold_records / cold_s, records / elapsed
        print(
            f"serving a {args.size:,}-record company through conductor-py raw responses, "
            "zero latency:"
        )
        print(
            f"  first pass (nothing cached): {cold_records:,} records in {cold_s:.2f} s"
            f" = {cold_rate:,.0f} records/s"
        )
        print(
            f"  second pass (JSON cached):   {records:,} records in {elapsed:.2f} s"
            f" = {rate:,.0f} records/s"
        )
        for path, count in per_resource.items():
            print(f"  {path:22} {count:>7,}")
        print(f"baseline: GET /_sim/counts at {control_round_trips(server.url):,.0f} round trips/s")
    ok = min(rate, cold_rate) >= TARGET_RECORDS_PER_S
    print(f"target {TARGET_RECORDS_PER_S:,} records/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
