"""Sessions whose messages Redis lost: noticed and queued again from their checkpoints.

Redis may come back empty (a failover, a restart without persistence): the database still says
a session is pending or running, but no message is left to run it and no worker beats for it.
Every `dramatiq actors` process looks for such sessions when it starts and then every
QBSYNC_ORPHAN_CHECK_S seconds: a session with no sign of life (its creation, start or an object's
heartbeat) for QBSYNC_ORPHAN_AFTER_S and no message of its own in the queue (waiting, delayed or
being processed) gets its pipeline again. Objects already done are skipped by their actor, and
the one that was running resumes from its checkpoint. A short-lived Redis key makes sure one
worker, once, re-queues each.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

import redis
from dramatiq import Middleware
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from flask import Flask
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models.sync import PENDING, RUNNING, SyncObjectRun, SyncSession
from webapp.models.types import utcnow

log = logging.getLogger(__name__)

REQUEUE_KEY = "qbsync:requeued:{session_id}"
QUEUE = "sync"


def queued_sessions(broker: RedisBroker) -> set[int]:
    """Ids of the sessions with a message in the sync queue (waiting, delayed or unacked)."""
    found: set[int] = set()
    for queue in (QUEUE, dq_name(QUEUE)):
        for payload in broker.client.hvals(f"{broker.namespace}:{queue}.msgs"):
            try:
                args = json.loads(payload).get("args") or []
                found.add(int(args[0]))
            except (ValueError, TypeError, IndexError, AttributeError):
                continue
    return found


def orphans(broker: RedisBroker, quiet_s: float) -> list[int]:
    """Pending or running sessions with no sign of life for `quiet_s` and no message."""
    since = utcnow() - timedelta(seconds=quiet_s)
    beat = (select(func.max(SyncObjectRun.heartbeat_at))
            .where(SyncObjectRun.session_id == SyncSession.id).scalar_subquery())
    quiet = db.session.scalars(select(SyncSession.id).where(
        SyncSession.status.in_((PENDING, RUNNING)),
        SyncSession.created_at < since,
        func.coalesce(SyncSession.started_at, SyncSession.created_at) < since,
        func.coalesce(beat, SyncSession.created_at) < since)).all()
    db.session.rollback()
    if not quiet:
        return []
    queued = queued_sessions(broker)
    return [session_id for session_id in quiet if session_id not in queued]


def requeue_orphans(app: Flask, broker: RedisBroker) -> list[int]:
    """Queue the pipeline of every orphaned session again; returns their ids."""
    from actors.sync import enqueue_session

    quiet_s = float(app.config["QBSYNC_ORPHAN_AFTER_S"])
    requeued = []
    with app.app_context():
        for session_id in orphans(broker, quiet_s):
            key = REQUEUE_KEY.format(session_id=session_id)
            if not broker.client.set(key, "1", nx=True, ex=max(int(quiet_s), 1)):
                continue  # another worker has just done it
            log.warning("session %s: no message left for it in Redis and no worker on it for "
                        "%ds; queued again, resuming from its checkpoints", session_id, quiet_s)
            enqueue_session(broker, session_id)
            requeued.append(session_id)
        db.session.remove()
    return requeued


def requeue_one(app: Flask, broker: RedisBroker, session_id: int) -> bool:
    """At a start refused because of `session_id`: queue it again if Redis lost it (the same
    test as the workers' watch, and the same once-only key); inside the caller's context."""
    from actors.sync import enqueue_session

    quiet_s = float(app.config["QBSYNC_ORPHAN_AFTER_S"])
    if session_id not in orphans(broker, quiet_s):
        return False
    if not broker.client.set(REQUEUE_KEY.format(session_id=session_id), "1", nx=True,
                             ex=max(int(quiet_s), 1)):
        return False
    log.warning("session %s: noticed at a start with no message left for it in Redis; queued "
                "again, resuming from its checkpoints", session_id)
    enqueue_session(broker, session_id)
    return True


class OrphanWatch(Middleware):
    """Looks for orphaned sessions at worker boot and then periodically (Redis brokers only)."""

    def __init__(self, app_of) -> None:
        self.app_of = app_of  # the worker's app, once booted
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        if not isinstance(broker, RedisBroker):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, args=(broker,), daemon=True,
                                        name="qbsync-orphan-watch")
        self._thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _watch(self, broker: RedisBroker) -> None:
        while True:
            app = self.app_of()
            every = float(app.config["QBSYNC_ORPHAN_CHECK_S"]) if app is not None else 1.0
            if app is not None:
                try:
                    requeue_orphans(app, broker)
                except (redis.RedisError, OSError) as error:
                    log.warning("looking for sessions Redis lost: Redis did not answer (%s)",
                                type(error).__name__)
                except Exception:  # noqa: BLE001 - the watch must outlive one bad look
                    log.exception("looking for sessions Redis lost failed")
            if self._stop.wait(every):
                return
