"""Cancel flags: `qbsync:cancel:<session_id>` in Redis, or in memory in embedded mode.

A flag is set by a cancel request and read by the engine between pages and by queued object
actors before they start. It outlives any queue wait (a week, longer than Dramatiq's longest
delay) and is deleted when the session ends.

Redis may be unreachable for a while (a restart, a failover): then a flag reads as not set and
setting or clearing one is skipped, with a warning. The cancel is recorded in the database as
well (`cancel_requested_at`), which the workers read too, so it still lands; a sync does not
fail because Redis blinked.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

log = logging.getLogger(__name__)

CANCEL_KEY = "qbsync:cancel:{session_id}"
CANCEL_FLAG_TTL_S = 7 * 24 * 3600


class MemoryFlags:
    """Flags for the embedded mode, where the worker is a thread of the web process."""

    def __init__(self) -> None:
        self._set: set[int] = set()
        self._lock = threading.Lock()

    def set(self, session_id: int) -> None:
        with self._lock:
            self._set.add(session_id)

    def is_set(self, session_id: int) -> bool:
        with self._lock:
            return session_id in self._set

    def clear(self, session_id: int) -> None:
        with self._lock:
            self._set.discard(session_id)


class RedisFlags:
    """Flags shared by the web and worker processes through Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    @staticmethod
    def key(session_id: int) -> str:
        return CANCEL_KEY.format(session_id=session_id)

    def set(self, session_id: int) -> None:
        self._tolerant("set", lambda: self._redis.set(self.key(session_id), "1",
                                                      ex=CANCEL_FLAG_TTL_S))

    def is_set(self, session_id: int) -> bool:
        return bool(self._tolerant("read", lambda: self._redis.exists(self.key(session_id))))

    def clear(self, session_id: int) -> None:
        self._tolerant("cleared", lambda: self._redis.delete(self.key(session_id)))

    @staticmethod
    def _tolerant(what: str, call):
        import redis

        try:
            return call()
        except redis.RedisError as error:
            log.warning("cancel flag not %s: Redis did not answer (%s); the database's record "
                        "of a cancel stands in", what, type(error).__name__)
            return None


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["qbsync_flags"] = RedisFlags(url) if url else MemoryFlags()


def cancel_flags() -> MemoryFlags | RedisFlags:
    """The flag store of the current app."""
    return current_app.extensions["qbsync_flags"]
