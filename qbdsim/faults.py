"""Injected trouble: latency with jitter, a rate of 502/504/429 answers, QuickBooks closed,
lost responses to writes, and the cursor window — all changeable at run time through
``POST /_sim/faults``."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from qbdsim.config import FAULT_KINDS, SimConfig
from qbdsim.errors import (
    ResponseLost,
    SimError,
    connection_lost,
    invalid_request,
    rate_limited,
    request_timeout,
)

_MAKERS = {"502": connection_lost, "504": request_timeout, "429": rate_limited}


@dataclass
class Faults:
    """The current fault settings."""

    latency_ms: float
    latency_jitter_ms: float
    fault_rate: float
    fault_kinds: tuple[str, ...]
    qb_running: bool
    cursor_ttl_s: float
    clock_offset_s: float = 0.0  # QuickBooks' clock ahead (+) of this machine's, or behind (-)
    # Share of writes (creates, updates) applied to the company whose answer then fails.
    lost_response_rate: float = 0.0

    @classmethod
    def from_config(cls, config: SimConfig) -> Faults:
        """The settings a run starts with."""
        return cls(
            latency_ms=float(config.latency_ms),
            latency_jitter_ms=float(config.latency_jitter_ms),
            fault_rate=float(config.fault_rate),
            fault_kinds=tuple(config.fault_kinds),
            qb_running=bool(config.qb_running),
            cursor_ttl_s=float(config.cursor_ttl_s),
            lost_response_rate=float(config.lost_response_rate),
        )

    def as_dict(self) -> dict:
        """JSON-ready settings."""
        out = asdict(self)
        out["fault_kinds"] = list(self.fault_kinds)
        return out

    def update(self, changes: dict) -> None:
        """Apply any subset of the settings (validated; nothing changes on error)."""
        if not isinstance(changes, dict):
            raise invalid_request("Expected a JSON object of fault settings")
        unknown = set(changes) - set(self.as_dict())
        if unknown:
            raise invalid_request(f"Unknown fault settings: {sorted(unknown)}")
        staged = self.as_dict()
        rates = ("fault_rate", "lost_response_rate")
        for name in ("latency_ms", "latency_jitter_ms", "cursor_ttl_s", *rates):
            if name in changes:
                value = changes[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise invalid_request(f"{name} must be a number >= 0")
                staged[name] = float(value)
        if "clock_offset_s" in changes:
            value = changes["clock_offset_s"]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise invalid_request("clock_offset_s must be a number of seconds")
            staged["clock_offset_s"] = float(value)
        for name in rates:
            if staged[name] > 1:
                raise invalid_request(f"{name} must be between 0 and 1")
        if "qb_running" in changes:
            if not isinstance(changes["qb_running"], bool):
                raise invalid_request("qb_running must be true or false")
            staged["qb_running"] = changes["qb_running"]
        if "fault_kinds" in changes:
            kinds = [str(kind) for kind in changes["fault_kinds"] or ()]
            if not kinds or set(kinds) - set(FAULT_KINDS):
                raise invalid_request(f"fault_kinds must be a non-empty subset of {FAULT_KINDS}")
            staged["fault_kinds"] = kinds
        staged["fault_kinds"] = tuple(staged["fault_kinds"])
        for name, value in staged.items():
            setattr(self, name, value)

    def delay_s(self, rng: random.Random) -> float:
        """This request's latency: the base plus a uniform jitter of up to ``±jitter``."""
        delay = self.latency_ms
        if self.latency_jitter_ms:
            delay += rng.uniform(-self.latency_jitter_ms, self.latency_jitter_ms)
        return max(0.0, delay) / 1000.0

    def longest_delay_s(self) -> float:
        """The most a request may take at the present settings."""
        return (self.latency_ms + self.latency_jitter_ms) / 1000.0

    def roll(self, rng: random.Random) -> SimError | None:
        """An injected error for this request, or ``None``."""
        if self.fault_rate and rng.random() < self.fault_rate:
            return _MAKERS[rng.choice(self.fault_kinds)]()
        return None

    def lose(self, rng: random.Random) -> SimError | ResponseLost | None:
        """How this write's answer is lost once the write is applied, or ``None``: half the
        time a 502 connection error (as an injected 502 looks), half the time the connection
        closed without an answer. Draws nothing while the rate is 0, so the other faults of
        a seed come out as they did before this fault existed."""
        if self.lost_response_rate and rng.random() < self.lost_response_rate:
            return connection_lost() if rng.random() < 0.5 else ResponseLost()
        return None
