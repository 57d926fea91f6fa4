"""``qbsync sim ...``: run the QuickBooks Desktop simulator standalone."""

from __future__ import annotations

import time

import click

from qbdsim.config import SimConfig
from qbdsim.server import SimServer

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def read_a_customer(server: SimServer) -> str:
    """A `curl` that reads one of the company's customers, credentials and all."""
    company = server.simulator.company
    with company.lock:
        first = next(iter(company.records["customers"]), None)
    path = f"customers/{first}" if first else "customers?limit=1"
    config = server.config
    return (f"curl -H 'Authorization: Bearer {config.secret_key}' "
            f"-H 'Conductor-End-User-Id: {config.end_user_id}' "
            f"'{server.base_url}/quickbooks-desktop/{path}'")


@click.group("sim")
def sim_cli() -> None:
    """A simulated QuickBooks Desktop company speaking Conductor's REST API."""


@sim_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--size",
    default=2000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Total records in the generated company (accounts not counted).",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Generation seed.")
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Latency added to every Conductor request.",
)
@click.option(
    "--latency-jitter-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Random +/- jitter on the latency.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of requests answered with a 502, 504 or 429.",
)
@click.option(
    "--lost-response-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of creates and updates applied whose answer is then lost (502 or dropped).",
)
@click.option(
    "--cursor-ttl-s",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a pagination cursor stays valid after each page.",
)
def serve(
    host: str,
    port: int,
    size: int,
    seed: int,
    latency_ms: float,
    latency_jitter_ms: float,
    fault_rate: float,
    lost_response_rate: float,
    cursor_ttl_s: float,
) -> None:
    """Generate a company and serve it until Ctrl+C."""
    config = SimConfig(
        host=host,
        port=port,
        size=size,
        seed=seed,
        latency_ms=latency_ms,
        latency_jitter_ms=latency_jitter_ms,
        fault_rate=fault_rate,
        lost_response_rate=lost_response_rate,
        cursor_ttl_s=cursor_ttl_s,
    )
    started = time.perf_counter()
    server = SimServer(config).bind()
    elapsed = time.perf_counter() - started
    click.echo(
        f"qbdsim: generated a QuickBooks Desktop company of {size} records (seed {seed}) "
        f"in {elapsed:.1f} s"
    )
    click.echo(f"Listening on {server.url} (bound to {host} only)")
    if host not in LOOPBACK:
        click.secho(
            f"WARNING: {host} is reachable from other machines, and /_sim/ has no authentication.",
            fg="yellow",
            err=True,
        )
    click.echo("Point conductor-py (or qbsync) at it with:")
    click.echo(f"  CONDUCTOR_BASE_URL={server.base_url}")
    click.echo(f"  CONDUCTOR_SECRET_KEY={config.secret_key}")
    click.echo(f"  CONDUCTOR_END_USER_ID={config.end_user_id}")
    click.echo("It accepts that key only (header Authorization: Bearer <key>), and that end "
               "user id only (header Conductor-End-User-Id). Read a customer:")
    click.echo(f"  {read_a_customer(server)}")
    click.echo(
        f"Control endpoints (no authentication): {server.url}/_sim/stats, /_sim/counts, "
        "/_sim/reset, /_sim/faults, /_sim/answers, /_sim/edits"
    )
    click.echo("Press Ctrl+C to stop.")
    server.serve_forever()
