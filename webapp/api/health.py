"""`GET /api/v1/health`: is the database reachable, is the broker reachable."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from webapp.api import bp
from webapp.api.layer import operation
from webapp.api.schemas import Health
from webapp.extensions import db

log = logging.getLogger(__name__)
REDIS_PING_TIMEOUT_S = 2.0


def check_database() -> str:
    """`ok` when the database answers a trivial query, else `unreachable`."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # any failure means "not reachable"; the log has the detail
        log.exception("health: database unreachable")
        db.session.rollback()
        return "unreachable"


def check_broker() -> str:
    """`ok` when Redis answers a ping (or runs in-process), else `unreachable`."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "ok"  # embedded mode: the in-process broker lives inside this process
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_PING_TIMEOUT_S, socket_connect_timeout=REDIS_PING_TIMEOUT_S
        )
        client.ping()
        client.close()
        return "ok"
    except redis.RedisError:
        log.warning("health: broker unreachable at the configured REDIS_URL")
        return "unreachable"


@operation(bp, "GET", "/health", tag="health", summary="Health check", public=True,
           responses={200: (Health, "Database and broker answer."),
                      503: (Health, "The database or the broker does not answer.")})
def health():
    """No authentication; 503 when the database or the broker cannot be reached."""
    database, broker = check_database(), check_broker()
    ok = database == "ok" and broker == "ok"
    body = {"status": "ok" if ok else "unavailable", "database": database, "broker": broker}
    return (200 if ok else 503), body
