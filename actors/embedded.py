"""The embedded mode's worker: a Dramatiq `Worker` thread inside the web process, over the app's
StubBroker (no Redis, no second process: `qbsync demo`, the CLI, tests).

It starts once per app — with the first request, the first dispatched session, or `qbsync
demo` — and stops gracefully at exit (the running object checkpoints). Its queue lives in this
process's memory, so a worker started for the web app first resumes the sessions an earlier
process left unfinished; they pick up from their checkpoints.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading

from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app
from sqlalchemy import select

from actors.broker import broker_for
from actors.sync import QUEUE, enqueue_session
from webapp.extensions import db
from webapp.models.sync import ACTIVE_STATUSES, SyncSession

log = logging.getLogger(__name__)

WORKER_KEY = "qbsync_worker"
WORKER_THREADS = 1  # QuickBooks answers one request at a time: objects run one after another
POLL_MS = 100  # how often the idle worker looks at its in-memory queues
STOP_TIMEOUT_MS = 20_000

_lock = threading.Lock()


class EmbeddedWorker:
    """A started Dramatiq worker and what it takes to stop it."""

    def __init__(self, app: Flask, broker: StubBroker) -> None:
        self.broker = broker
        self.worker = Worker(broker, worker_threads=WORKER_THREADS, worker_timeout=POLL_MS)
        self.at_exit = functools.partial(stop, app)

    def join(self, timeout_ms: int | None = None) -> None:
        """Wait until every queued message, retries included, has been processed."""
        self.broker.join(QUEUE, timeout=timeout_ms, fail_fast=False)
        self.worker.join()


def start(app: Flask, *, resume: bool = False) -> EmbeddedWorker:
    """Start the app's in-process worker unless it runs already; `resume` re-queues sessions
    that an earlier process left pending or running."""
    with _lock:
        embedded = app.extensions.get(WORKER_KEY)
        if embedded is not None:
            return embedded
        broker = broker_for(app)
        if not isinstance(broker, StubBroker):
            raise RuntimeError("REDIS_URL is set: the workers are `dramatiq actors` processes")
        if not app.extensions.get("qbsync_worker_booted"):
            broker.emit_after("process_boot")  # what `dramatiq` does in a worker process
            app.extensions["qbsync_worker_booted"] = True
        embedded = EmbeddedWorker(app, broker)
        embedded.worker.start()
        app.extensions[WORKER_KEY] = embedded
        atexit.register(embedded.at_exit)
    if resume:
        resume_unfinished(app)
    return embedded


def stop(app: Flask, timeout_ms: int = STOP_TIMEOUT_MS) -> None:
    """Stop the app's worker: the running object stops at its next page and checkpoints."""
    with _lock:
        embedded = app.extensions.pop(WORKER_KEY, None)
    if embedded is not None:
        atexit.unregister(embedded.at_exit)
        embedded.worker.stop(timeout=timeout_ms)


def resume_unfinished(app: Flask) -> list[int]:
    """Queue again every pending or running session (their objects resume from checkpoints)."""
    with app.app_context():
        ids = list(db.session.scalars(
            select(SyncSession.id).where(SyncSession.status.in_(ACTIVE_STATUSES))))
        for session_id in ids:
            log.info("resuming session %s, left unfinished by an earlier process", session_id)
            enqueue_session(broker_for(app), session_id)
    return ids


def start_with_first_request() -> None:
    """`before_request` hook of embedded apps (cheap once the worker runs)."""
    app = current_app._get_current_object()
    if WORKER_KEY not in app.extensions:
        start(app, resume=True)
