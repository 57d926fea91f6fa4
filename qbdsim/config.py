"""Settings of one simulated QuickBooks Desktop company and of the server that speaks for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import timedelta, timezone

FAULT_KINDS = ("502", "504", "429")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass
class SimConfig:
    """Everything that shapes a simulator run.

    The company is generated from ``size`` (total records, accounts excluded) and ``seed``;
    ``anchor`` (an ISO datetime) pins the "now" that generated timestamps lead up to, which
    makes the whole company reproducible; ``None`` means the moment of generation.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    size: int = 2000
    seed: int = 1
    latency_ms: float = 0
    latency_jitter_ms: float = 0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    lost_response_rate: float = 0.0
    qb_running: bool = True
    cursor_ttl_s: float = 10.0
    tz_offset: str = "-05:00"
    # Not a secret: the simulator's well-known local key, printed by ``sim serve``.
    secret_key: str = "sk_sim_qbsync_local"  # noqa: S105
    end_user_id: str = "end_usr_qbsim_local"
    anchor: str | None = None
    deleted_retention_days: int = 90

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("size must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if not 0.0 <= self.lost_response_rate <= 1.0:
            raise ValueError("lost_response_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency must be >= 0")
        self.fault_kinds = tuple(str(kind) for kind in self.fault_kinds)
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown or not self.fault_kinds:
            raise ValueError(f"fault_kinds must be a non-empty subset of {FAULT_KINDS}")
        parse_offset(self.tz_offset)

    @property
    def tzinfo(self) -> timezone:
        """The fixed UTC offset of the simulated QuickBooks computer."""
        return parse_offset(self.tz_offset)

    def with_overrides(self, **overrides) -> SimConfig:
        """A copy with some settings replaced (unknown names raise ``TypeError``)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SimConfig settings: {sorted(unknown)}")
        return replace(self, **overrides)


def parse_offset(text: str) -> timezone:
    """``"-05:00"`` -> ``timezone(timedelta(hours=-5))``."""
    match = _OFFSET_RE.match(text)
    if not match:
        raise ValueError(f"tz_offset must look like -05:00, got {text!r}")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
