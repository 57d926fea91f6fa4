"""Is QuickBooks reachable, and through what: Conductor itself or the local simulator.

Reachability is Conductor's own health check, made with the real conductor-py client. Its
answer is kept for `REACHABILITY_TTL_S` per process, so dashboards polling `/status` every two
seconds cost QuickBooks (which serves one request at a time) one call every fifteen seconds.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.conductor.is/v1"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
REACHABILITY_TTL_S = 15.0
HEALTH_CHECK_TIMEOUT_S = 5.0


def base_url(config: Mapping[str, Any]) -> str:
    """Where the Conductor API is: the configured base URL, else Conductor's own."""
    return config.get("CONDUCTOR_BASE_URL") or DEFAULT_BASE_URL


def connection_mode(config: Mapping[str, Any]) -> str:
    """`simulator` when the base URL points at this machine (loopback), else `conductor`."""
    host = (urlsplit(base_url(config)).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return "simulator"
    try:
        return "simulator" if ipaddress.ip_address(host).is_loopback else "conductor"
    except ValueError:
        return "conductor"


def health_check(config: Mapping[str, Any]) -> bool:
    """Ask Conductor whether QuickBooks Desktop answers; False on any failure or missing setting.

    Nothing from the answer is kept but yes or no: Conductor's error payloads never leave here.
    """
    secret, end_user = config.get("CONDUCTOR_SECRET_KEY"), config.get("CONDUCTOR_END_USER_ID")
    if not secret or not end_user:
        return False
    import conductor

    client = conductor.Conductor(
        api_key=secret,
        base_url=base_url(config),
        max_retries=0,
        timeout=HEALTH_CHECK_TIMEOUT_S,
    )
    try:
        answer = client.qbd.health_check(conductor_end_user_id=end_user)
        return getattr(answer, "status", None) == "ok"
    except conductor.APIStatusError as error:
        log.warning("QuickBooks health check answered HTTP %s", error.status_code)
    except conductor.ConductorError as error:
        log.warning("QuickBooks health check failed: %s", type(error).__name__)
    except Exception as error:  # a bad URL or a broken answer is "not reachable", never a 500
        log.warning("QuickBooks health check failed unexpectedly: %s", type(error).__name__)
    finally:
        client.close()
    return False


class ReachabilityCache:
    """The last health-check answer per settings, refreshed at most once per `ttl_s`.

    While one request refreshes a stale answer, others keep getting the previous one instead of
    queueing behind a slow QuickBooks; only the very first check is waited for.
    """

    def __init__(
        self,
        check: Callable[[Mapping[str, Any]], bool] = health_check,
        ttl_s: float = REACHABILITY_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check, self._ttl_s, self._clock = check, ttl_s, clock
        self._lock = threading.Lock()
        self._refresh = threading.Lock()
        self._answers: dict[tuple, tuple[float, bool]] = {}

    @staticmethod
    def _key(config: Mapping[str, Any]) -> tuple:
        return (base_url(config), config.get("CONDUCTOR_SECRET_KEY"),
                config.get("CONDUCTOR_END_USER_ID"))

    def reachable(self, config: Mapping[str, Any]) -> bool:
        """The cached answer when fresh, else a new health check."""
        key = self._key(config)
        with self._lock:
            cached = self._answers.get(key)
        if cached and self._clock() - cached[0] < self._ttl_s:
            return cached[1]
        if cached and not self._refresh.acquire(blocking=False):
            return cached[1]  # someone else is refreshing it right now
        if not cached:
            self._refresh.acquire()
        try:
            with self._lock:
                again = self._answers.get(key)
            if again and self._clock() - again[0] < self._ttl_s:
                return again[1]
            answer = self._check(config)
            with self._lock:
                self._answers[key] = (self._clock(), answer)
            return answer
        finally:
            self._refresh.release()

    def last(self, config: Mapping[str, Any]) -> tuple[float, bool] | None:
        """(seconds since, the answer) of the last check for these settings; None if never."""
        with self._lock:
            cached = self._answers.get(self._key(config))
        return (self._clock() - cached[0], cached[1]) if cached else None

    def clear(self) -> None:
        """Forget every answer (tests, or after settings change)."""
        with self._lock:
            self._answers.clear()
