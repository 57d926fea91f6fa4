"""How fast the QuickBooks simulator serves records, and how fast it generates a company.

    .venv/bin/python bench/sim_serve.py [--size 20000] [--generate 100000]

1. Generation time of a 100,000-record company.
2. Records per second served to the real conductor-py client through raw responses
   (``with_raw_response``, JSON parsed, cursor followed) over every paginated resource of a
   20,000-record company at zero latency, the simulator running in its own process as
   ``qbsync sim serve`` does (``--in-process``: in a thread). Target: at least 5,000 records/s.
3. For context, the round-trip rate of a trivial ``GET /_sim/counts``.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from conductor import Conductor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qbdsim.config import SimConfig  # noqa: E402
from qbdsim.contract import load_spec  # noqa: E402
from qbdsim.generate import generate_company  # noqa: E402
from qbdsim.resources import RESOURCES  # noqa: E402
from qbdsim.testing import running_simulator  # noqa: E402

TARGET_RECORDS_PER_S = 5_000


def time_generation(size: int) -> tuple[float, float]:
    """Wall and CPU seconds to generate a company of ``size`` records (spec parsed before)."""
    load_spec()
    started, cpu = time.perf_counter(), time.process_time()
    company = generate_company(SimConfig(size=size, seed=1))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert sum(company.counts().values()) >= size
    return elapsed, cpu


@contextmanager
def simulator_process(size: int):
    """``python -m qbdsim serve`` on a free port, as ``qbsync sim serve`` runs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "qbdsim", "serve", "--port", str(port), "--size", str(size)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/_sim/counts", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stderr.read().decode()) from None
                time.sleep(0.2)
        yield url, SimConfig()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


@contextmanager
def simulator_thread(size: int):
    """The simulator in a thread of this process (client and server share one GIL)."""
    with running_simulator(size=size, seed=1) as server:
        yield server.url, server.config


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
    parser.add_argument(
        "--in-process", action="store_true", help="serve from a thread of this process"
    )
    args = parser.parse_args()

    generation_s, generation_cpu = time_generation(args.generate)
    print(
        f"generation: {args.generate:,} records in {generation_s:.2f} s "
        f"({generation_cpu:.2f} s of CPU)"
    )

    serve = simulator_thread if args.in_process else simulator_process
    with serve(args.size) as (url, config):
        client = Conductor(api_key=config.secret_key, base_url=f"{url}/v1", max_retries=0)
        with client:
            cold_records, cold_s, _ = page_everything(client, config.end_user_id)
            records, elapsed, per_resource = page_everything(client, config.end_user_id)
        cold_rate, rate = cold_records / cold_s, records / elapsed
        where = "a thread of this process" if args.in_process else "its own process"
        print(
            f"serving a {args.size:,}-record company from {where} through conductor-py raw "
            "responses, zero latency:"
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
        print(f"baseline: GET /_sim/counts at {control_round_trips(url):,.0f} round trips/s")
    ok = min(rate, cold_rate) >= TARGET_RECORDS_PER_S
    print(f"target {TARGET_RECORDS_PER_S:,} records/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
