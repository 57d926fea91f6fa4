"""`GET /api/v1/health`: is the database reachable, is the broker reachable."""

from __future__ import annotations

import logging

from flask import current_app, jsonify
from sqlalchemy import text

from webapp.api import bp
from webapp.extensions import db

log = logging.getLogger(__name__)
REDIS_PING_TIMEOUT_S = 2.0


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # any failure means "not reachable"; the log has the detail
        log.exception("health: database unreachable")
        db.session.rollback()
        return "unreachable"


def check_broker() -> str:
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


@bp.get("/health")
def health():
    """No authentication; 503 when the database or the broker cannot be reached."""
    database, broker = check_database(), check_broker()
    ok = database == "ok" and broker == "ok"
    body = {"status": "ok" if ok else "unavailable", "database": database, "broker": broker}
    return jsonify(body), 200 if ok else 503
