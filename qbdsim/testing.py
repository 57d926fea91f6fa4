"""Helpers for tests anywhere in the project: a simulator on a free port, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qbdsim.config import SimConfig
from qbdsim.server import SimServer


@contextmanager
def running_simulator(**config_overrides) -> Iterator[SimServer]:
    """A started :class:`SimServer` (port 0 unless given), stopped on exit.

    ``config_overrides`` are :class:`SimConfig` fields, e.g. ``size=300, latency_ms=50``.
    """
    config = SimConfig(port=0).with_overrides(**config_overrides)
    server = SimServer(config).start()
    try:
        yield server
    finally:
        server.stop()


def conductor_client(server: SimServer, **options):
    """A real ``conductor.Conductor`` pointed at ``server`` (close it, or use it as a context).

    ``options`` go to the constructor, e.g. ``max_retries=0``.
    """
    from conductor import Conductor

    return Conductor(api_key=server.config.secret_key, base_url=server.base_url, **options)
