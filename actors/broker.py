"""The Dramatiq brokers, built before any actor is declared (actors/__init__.py imports this first).

Production (`REDIS_URL` set): a RedisBroker; the worker is `dramatiq actors` (Procfile `worker`).
Embedded (no `REDIS_URL`): a StubBroker with a Dramatiq `Worker` thread inside the web process
(actors/embedded.py).

Dramatiq declares actors on its global broker, and `dramatiq actors` runs that broker. So the
global broker is built here, at import, from the environment (`REDIS_URL` as `create_app()`
reads it); its AppContext middleware builds the worker's app with `create_app()` when the worker
process boots. Every other app — the web process, the CLI, each test — gets a broker of its own
from its settings on first use, with the same middleware and the same actors.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time

import dramatiq
import redis
from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Pipelines, TimeLimit
from flask import Flask, current_app

from actors.middleware import AppContext, Bookkeeping, GracefulShutdown, SyncRetries, should_retry
from actors.recovery import OrphanWatch

log = logging.getLogger(__name__)

BROKER_KEY = "qbsync_broker"
# A worker that sends no heartbeat for this long is dead, and its unacked messages go back on
# the queue. Dramatiq's default: live workers beat about once a second while they poll.
HEARTBEAT_TIMEOUT_MS = 60_000
# Requeuing a dead worker's messages happens during "maintenance", which Dramatiq runs on a random
# share of Redis commands naming that queue: 0.1 % by default, i.e. about a quarter of an hour of
# an idle worker's polling on average, with a long tail. At 10 % it happens within seconds of the
# heartbeat timeout, so a killed worker's object is back in the queue about a minute after a
# new worker starts. (Maintenance is two range queries unless some worker is dead.)
MAINTENANCE_CHANCE = 100_000  # out of dramatiq.brokers.redis.MAINTENANCE_SCALE (1,000,000)
# Heroku and honcho send SIGTERM to every process, and Dramatiq's main process forwards its own
# to the worker process, which would take the second one as "kill now".
DUPLICATE_TERM_WINDOW_S = 3.0
NOT_QUEUED = ("The sync could not be queued: the background workers' Redis server did not "
              "answer. Ask your administrator to check Redis, then start the sync again.")

_lock = threading.Lock()


def _middleware(app: Flask | None = None, boot=None) -> list:
    # Order matters: `before_*` hooks run top-down and `after_*` hooks bottom-up, so the app
    # context wraps everything and Bookkeeping sees what Retries decided.
    context = AppContext(app, boot)
    return [
        context,
        OrphanWatch(lambda: context.app),
        TimeLimit(),
        GracefulShutdown(),
        Pipelines(),
        Bookkeeping(),
        SyncRetries(retry_when=should_retry),
    ]


def build_broker(redis_url: str | None, *, app: Flask | None = None, boot=None) -> Broker:
    """A RedisBroker tuned for prompt recovery, or a StubBroker when there is no Redis."""
    middleware = _middleware(app, boot)
    if not redis_url:
        return StubBroker(middleware=middleware)
    return RedisBroker(url=redis_url, middleware=middleware,
                       heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
                       maintenance_chance=MAINTENANCE_CHANCE)


def broker_for(app: Flask) -> Broker:
    """The app's broker, built on first use, with the sync actors declared on it."""
    with _lock:
        broker = app.extensions.get(BROKER_KEY)
        if broker is None:
            from actors.sync import ACTORS

            broker = build_broker(app.config.get("REDIS_URL"), app=app)
            for actor in ACTORS:
                broker.declare_actor(actor)
            app.extensions[BROKER_KEY] = broker
        return broker


def close(app: Flask) -> None:
    """Let go of the app's Redis connections (tests; a web process keeps them for life)."""
    broker = app.extensions.get(BROKER_KEY)
    if isinstance(broker, RedisBroker):
        broker.client.connection_pool.disconnect()


def worker_stopping() -> bool:
    """Has the worker running the current message been asked to stop?"""
    broker = current_app.extensions[BROKER_KEY]
    return any(m.stopping.is_set() for m in broker.middleware if isinstance(m, GracefulShutdown))


def init_app(app: Flask) -> None:
    """Wire the workers into the app: the dispatcher, and the embedded worker when there is no
    Redis (started with the first request, or by `qbsync demo`; never automatically in tests)."""
    from actors import embedded
    from webapp.sync import manager

    app.config.setdefault("QBSYNC_EMBEDDED_WORKER",
                          not app.config.get("REDIS_URL") and not app.testing)
    manager.set_dispatcher(app, dispatch)
    if app.config.get("REDIS_URL"):  # a session Redis lost is noticed at the next start too
        manager.set_recoverer(app, lambda session_id: _requeue(app, session_id))
    if app.config["QBSYNC_EMBEDDED_WORKER"]:
        app.before_request(embedded.start_with_first_request)


def _requeue(app: Flask, session_id: int) -> bool:
    from actors.recovery import requeue_one

    broker = broker_for(app)
    try:
        return isinstance(broker, RedisBroker) and requeue_one(app, broker, session_id)
    except redis.RedisError:  # Redis still away: the workers' watch will do it
        log.warning("session %s could not be checked for a lost message", session_id)
        return False


def dispatch(session_id: int) -> None:
    """Queue a committed session (the manager calls this right after `start_session`)."""
    from actors import embedded
    from actors.sync import enqueue_session
    from webapp.sync import lifecycle

    app = current_app._get_current_object()
    if app.config["QBSYNC_EMBEDDED_WORKER"]:
        embedded.start(app)
    try:
        enqueue_session(broker_for(app), session_id)
    except redis.RedisError:
        log.exception("session %s could not be queued", session_id)
        with contextlib.suppress(redis.RedisError):  # clearing its cancel flag needs Redis too
            lifecycle.fail_session(session_id, NOT_QUEUED)


# --- the `dramatiq actors` process ---------------------------------------------------------


def _environment_redis_url() -> str | None:
    """REDIS_URL as `create_app()` will read it: the environment first, then `.env`."""
    from dotenv import dotenv_values

    from webapp import PROJECT_ROOT
    from webapp.config import redis_url_from

    dotenv = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    return redis_url_from({**dotenv, **os.environ})


def _boot_worker(broker: Broker) -> Flask:
    """Build the worker process's app (at `process_boot`) and run it on the global broker."""
    from webapp import ConfigError, create_app

    try:
        app = create_app()
    except ConfigError as error:
        raise SystemExit(f"qbsync worker: {error}") from None
    if not app.config.get("REDIS_URL"):
        raise SystemExit("qbsync worker: REDIS_URL is not set; `dramatiq actors` needs Redis "
                         "(without it, the web process runs its own worker)")
    app.extensions[BROKER_KEY] = broker
    _ignore_duplicate_term()
    log.info("qbsync worker ready (database %s)", app.config["SQLALCHEMY_DATABASE_URI"]
             .split("@")[-1])
    return app


def _ignore_duplicate_term() -> None:
    """Let a worker process see the first of two simultaneous SIGTERMs only (see above)."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        return
    last = [float("-inf")]

    def on_term(signum, frame):
        now = time.monotonic()
        if now - last[0] >= DUPLICATE_TERM_WINDOW_S:
            last[0] = now
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_term)


broker = build_broker(_environment_redis_url(), boot=_boot_worker)
dramatiq.set_broker(broker)
