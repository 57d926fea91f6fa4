"""The running simulator: one company, its iterators, faults, statistics, and the serial lock."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace

from qbdsim.config import SimConfig
from qbdsim.errors import qb_not_running
from qbdsim.faults import Faults
from qbdsim.generate import generate_company
from qbdsim.paging import Cursors
from qbdsim.scripted import Script


class Simulator:
    """State shared by every request to one simulated QuickBooks company.

    ``quickbooks()`` is QuickBooks itself: one request at a time per company file, with the
    configured latency spent while holding it. ``company.lock`` only guards the data, so the
    ``/_sim/`` endpoints never queue behind a slow QuickBooks request.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.faults = Faults.from_config(config)
        self.cursors = Cursors(config.cursor_ttl_s)
        self.script = Script()  # answers given in turn before any fault or work (/_sim/answers)
        self.company = generate_company(config)
        self.rng = random.Random(config.seed ^ 0x5EED)
        self.edit_rng = random.Random(config.seed ^ 0xED17)
        self._qb_lock = threading.Lock()
        self._faults_changed = threading.Condition()
        self._stats_lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.in_flight = 0  # requests holding QuickBooks (never more than one)
        self.peak_in_flight = 0
        self.received = 0  # Conductor requests being handled, queued ones included
        self.peak_received = 0

    def count(self, key: str) -> None:
        """Count one Conductor request under its method and path template."""
        with self._stats_lock:
            self.requests[key] += 1

    def stats(self) -> dict:
        """``{"total": n, "requests": {"GET /v1/...": n}}``."""
        with self._stats_lock:
            return {"total": sum(self.requests.values()), "requests": dict(self.requests)}

    def reset(self, size: int | None = None, seed: int | None = None) -> None:
        """Regenerate the company (optionally at a new size or seed); zero the statistics."""
        changes = {k: v for k, v in (("size", size), ("seed", seed)) if v is not None}
        config = replace(self.config, **changes) if changes else self.config
        company = generate_company(config)
        with self.company.lock:
            self.config = config
            self.company = company
            self.faults = Faults.from_config(config)
            self.cursors.ttl_s = self.faults.cursor_ttl_s
            self.cursors.clear()
            self.script.clear()
            self.rng = random.Random(config.seed ^ 0x5EED)
            self.edit_rng = random.Random(config.seed ^ 0xED17)
        with self._stats_lock:
            self.requests.clear()
            self.peak_in_flight = 0
            self.peak_received = 0

    def update_faults(self, changes: dict) -> dict:
        """Apply new fault settings; answers all of them."""
        self.faults.update(changes)
        self.cursors.ttl_s = self.faults.cursor_ttl_s
        self.company.clock.offset_s = round(self.faults.clock_offset_s)
        with self._faults_changed:  # a lower latency shortens requests already waiting
            self._faults_changed.notify_all()
        return self.faults.as_dict()

    @contextmanager
    def request(self):
        """Track one Conductor request from arrival to answer (queueing included)."""
        with self._stats_lock:
            self.received += 1
            self.peak_received = max(self.peak_received, self.received)
        try:
            yield
        finally:
            with self._stats_lock:
                self.received -= 1

    @contextmanager
    def quickbooks(self, write: bool = False):
        """Hold QuickBooks for one request: closed -> error at once; else the next scripted
        answer (qbdsim.scripted) or faults, the work, and the latency: a request takes the
        configured latency in all, its own work included, as a QuickBooks request's time is
        QuickBooks' work. Lowering the latency also cuts short a request waiting out a longer
        one.

        A ``write`` (create, update) may have its answer lost (``lost_response_rate``): the
        work is done and kept, then the request fails after the same wait. A write QuickBooks
        refuses is answered with its refusal."""
        with self._qb_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            started = time.monotonic()
            delay = 0.0
            try:
                if not self.faults.qb_running:
                    raise qb_not_running()
                delay = self.faults.delay_s(self.rng)
                scripted = self.script.take()
                if isinstance(scripted, float):
                    delay = scripted
                elif scripted is not None:
                    raise scripted
                error = self.faults.roll(self.rng)
                if error is not None:
                    raise error
                lost = self.faults.lose(self.rng) if write else None
                yield
                if lost is not None:
                    raise lost
            finally:
                with self._faults_changed:
                    while (remaining := delay - (time.monotonic() - started)) > 0:
                        self._faults_changed.wait(remaining)
                        delay = min(delay, self.faults.longest_delay_s())
                self.in_flight -= 1
