"""What the sync last heard from QuickBooks: `qbsync:qb-contact:<end user>` in Redis, or in
memory in embedded mode.

A sync's own requests tell whether QuickBooks answers better than a health check can. A health
check sent while a sync runs would also queue behind the sync's request (QuickBooks serves one
request at a time, FACTS §5), take QuickBooks seconds of its own, and time out. So the worker
records how each request went, and `GET /api/v1/status` reports that while it is recent,
sending a health check only when nothing has been heard lately.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app

from webapp.sync.conductor import QuickBooks

log = logging.getLogger(__name__)

CONTACT_KEY = "qbsync:qb-contact:{end_user}"
# Kept as long as a request may take (QBSYNC_REQUEST_TIMEOUT_S's default), so a sync waiting
# on a slow QuickBooks still speaks for it.
CONTACT_TTL_S = 120


class MemoryContact:
    """Embedded mode: the worker is a thread of the web process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._heard: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def record(self, end_user: str, reachable: bool) -> None:
        with self._lock:
            self._heard[end_user] = (self._clock(), reachable)

    def last(self, end_user: str) -> tuple[float, bool] | None:
        """(seconds since, whether QuickBooks answered), or None if nothing was heard."""
        with self._lock:
            heard = self._heard.get(end_user)
        if heard is None or self._clock() - heard[0] > CONTACT_TTL_S:
            return None
        return self._clock() - heard[0], heard[1]


class RedisContact:
    """Shared by the web and worker processes through Redis."""

    def __init__(self, url: str) -> None:
        import redis

        # Short: a status poll asks this, and must not hang on a Redis that does not answer
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def record(self, end_user: str, reachable: bool) -> None:
        key = CONTACT_KEY.format(end_user=end_user)
        self._redis.set(key, f"{int(reachable)} {time.time()}", ex=CONTACT_TTL_S)

    def last(self, end_user: str) -> tuple[float, bool] | None:
        """As `MemoryContact.last`; None too when Redis cannot be asked (the status page then
        falls back on a health check rather than failing)."""
        import redis

        try:
            raw = self._redis.get(CONTACT_KEY.format(end_user=end_user))
        except redis.RedisError as error:
            log.warning("could not read QuickBooks contact: %s", type(error).__name__)
            return None
        if raw is None:
            return None
        reachable, at = raw.decode().split()
        return max(time.time() - float(at), 0.0), reachable == "1"


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["qbsync_contact"] = RedisContact(url) if url else MemoryContact()


def contact_log() -> MemoryContact | RedisContact:
    """The current app's record of what the sync heard from QuickBooks."""
    return current_app.extensions["qbsync_contact"]


def sync_client(config: Mapping[str, Any]) -> QuickBooks:
    """The worker's QuickBooks client, recording whether each request reached QuickBooks
    (from whichever thread made it: the record is taken along, not looked up)."""
    qb = QuickBooks.from_config(config)
    record, end_user = contact_log().record, qb.end_user_id

    def heard(reachable: bool) -> None:
        try:
            record(end_user, reachable)
        except Exception as error:  # noqa: BLE001 - a status hint never stops a sync
            log.warning("could not record QuickBooks contact: %s", type(error).__name__)

    qb.on_contact = heard
    return qb
