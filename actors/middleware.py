"""Cross-cutting behaviour of the sync actors, as small Dramatiq middleware.

* `AppContext` runs every message inside the Flask app's context (the pattern of
  Bogdanp/flask_dramatiq_example); in a `dramatiq actors` process it builds that app at boot.
* `GracefulShutdown` is `notify_shutdown`, gently: a stopping worker first asks running objects
  to stop at their next page (checkpoint committed, message handed back), and only interrupts
  them with Dramatiq's `Shutdown` if they are still running after a grace period.
* `Bookkeeping` marks a session failed exactly once — when Retries gives up on a message or an
  error is not worth retrying — with a reason a warehouse clerk can act on.
* `SyncRetries` is Dramatiq's Retries with its backoff read from the app's settings; with
  `should_retry` as `retry_when`, only transient failures come back, each resuming from the
  object's checkpoint.
* `ThrottledProgress` is the engine's per-page progress callback, limited to a few writes a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from dramatiq import Middleware, Retry
from dramatiq.middleware import Retries, Shutdown, ShutdownNotifications, TimeLimitExceeded
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.models.sync import SyncError, SyncObjectRun, SyncSession
from webapp.models.types import utcnow
from webapp.sync import lifecycle, manager
from webapp.sync.conductor import QB_NOT_RUNNING, QuickBooksError
from webapp.sync.lifecycle import OUTCOME

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0  # well inside the worker's 25 s shutdown timeout (Heroku allows 30 s)
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes a second per object

QB_NOT_RUNNING_GAVE_UP = (
    "QuickBooks Desktop could not be reached: it may be closed, the company file may not be "
    "open, or a QuickBooks window is waiting for someone to click OK. qbsync tried {attempts} "
    "times and has stopped. Open QuickBooks on the accounting computer, then start the sync again."
)
TRANSIENT_GAVE_UP = ("{message} qbsync tried {attempts} times and has stopped; start the sync "
                     "again later.")
TIME_LIMIT_GAVE_UP = (
    "Syncing {name} ran past its time limit {attempts} times and was stopped; start the sync "
    "again, and tell your administrator if it happens again."
)
DATABASE_DOWN = (
    "qbsync could not reach its database while syncing {name}; ask your administrator to "
    "check the database, then start the sync again."
)
REDIS_DOWN = (
    "qbsync could not reach its Redis server while syncing {name}; ask your administrator to "
    "check Redis, then start the sync again."
)
UNEXPECTED = "An unexpected error stopped the {name} sync; the worker's log has the details."


def is_transient(error: BaseException) -> bool:
    """Worth another attempt later: the next attempt resumes from the committed checkpoint."""
    if isinstance(error, QuickBooksError):
        return error.retryable
    return isinstance(error, TimeLimitExceeded | OperationalError | redis.RedisError)


def is_handled(error: BaseException) -> bool:
    """A failure qbsync expects and says in words (QuickBooks closed, Conductor unreachable, a
    refused key, a time limit): logged as one line, never as a traceback."""
    return isinstance(error, QuickBooksError) or is_transient(error)


def describe(error: BaseException) -> str:
    if isinstance(error, QuickBooksError):
        return error.message
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class HandledFailures(logging.Filter):
    """Keeps Dramatiq's own lines about a failed sync message out of the log when Bookkeeping
    says it better: its "unhandled exception" traceback for a handled failure (a chain of
    httpx, conductor and qbsync exceptions for "QuickBooks is closed"), and "Retries exceeded"
    (the session's failure is logged with its reason)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            return not is_handled(record.exc_info[1])
        return not str(record.msg).startswith("Retries exceeded for message")


HANDLED_FAILURES = HandledFailures()
DRAMATIQ_WORKER_LOGGER = "dramatiq.worker.WorkerThread"


def should_retry(retries: int, error: BaseException) -> bool:
    """`retry_when` of the sync actors: transient failures, up to QBSYNC_MAX_RETRIES times.

    A stopping worker's hand-back (`Retry`, or Dramatiq's `Shutdown`) always comes back: it is
    not a failure of the sync.
    """
    if isinstance(error, Retry | Shutdown):
        return True
    return is_transient(error) and retries < current_app.config["QBSYNC_MAX_RETRIES"]


def failure_reason(error: BaseException, name: str, attempts: int) -> str:
    """Why the session failed, in words for the people who start syncs."""
    if isinstance(error, QuickBooksError):
        if not error.retryable:
            return error.message
        if error.message == QB_NOT_RUNNING:
            return QB_NOT_RUNNING_GAVE_UP.format(attempts=attempts)
        return TRANSIENT_GAVE_UP.format(message=error.message.rstrip(".") + ".",
                                        attempts=attempts)
    if isinstance(error, TimeLimitExceeded):
        return TIME_LIMIT_GAVE_UP.format(name=name, attempts=attempts)
    if isinstance(error, OperationalError):
        return DATABASE_DOWN.format(name=name)
    if isinstance(error, redis.RedisError):
        return REDIS_DOWN.format(name=name)
    return UNEXPECTED.format(name=name)


class AppContext(Middleware):
    """Each message runs inside the app's context; `boot` builds the app at process boot."""

    def __init__(self, app: Flask | None = None, boot: Callable | None = None) -> None:
        self.app, self.boot = app, boot
        self.local = threading.local()

    def after_process_boot(self, broker) -> None:
        if self.app is None and self.boot is not None:
            self.app = self.boot(broker)
        from webapp.sync.engine import freeze_long_lived

        freeze_long_lived()  # the app and modules live as long as the process

    def before_process_message(self, broker, message) -> None:
        context = self.app.app_context()
        context.push()
        self.local.context = context

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        context, self.local.context = getattr(self.local, "context", None), None
        if context is not None:
            context.pop(exception)

    after_skip_message = after_process_message


class GracefulShutdown(ShutdownNotifications):
    """`notify_shutdown` that asks first: `stopping` is set at once, `Shutdown` comes later."""

    def __init__(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        super().__init__(notify_shutdown=False)
        self.grace_s = grace_s
        self.stopping = threading.Event()
        self._timer: threading.Timer | None = None

    def before_worker_boot(self, broker, worker) -> None:
        self.stopping.clear()

    def before_worker_shutdown(self, broker, worker) -> None:
        self.stopping.set()
        interrupt = super().before_worker_shutdown
        self._timer = threading.Timer(self.grace_s, interrupt, (broker, worker))
        self._timer.daemon = True
        self._timer.start()

    def after_worker_shutdown(self, broker, worker) -> None:
        if self._timer is not None:
            self._timer.cancel()


class SyncRetries(Retries):
    """Dramatiq's Retries; the backoff bounds come from the worker's settings.

    A stopping worker's hand-back (`Retry`, `Shutdown`) is not a failed attempt: it leaves the
    message's retry count as it was, so a sync that lives through a few deploys or dyno
    restarts keeps its whole QBSYNC_MAX_RETRIES for real trouble.
    """

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.logger.addFilter(HANDLED_FAILURES)
        logging.getLogger(DRAMATIQ_WORKER_LOGGER).addFilter(HANDLED_FAILURES)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is not None:
            config = current_app.config
            message.options.setdefault("min_backoff", config["QBSYNC_RETRY_MIN_BACKOFF_MS"])
            message.options.setdefault("max_backoff", config["QBSYNC_RETRY_MAX_BACKOFF_MS"])
        retries = message.options.get("retries", 0)
        if isinstance(exception, Retry | Shutdown):
            # Retries counts this one before requeueing; take it back first, so the message
            # goes out with its count unchanged (the backoff of a Shutdown starts low).
            message.options["retries"] = retries - 1
        super().after_process_message(broker, message, result=result, exception=exception)


class Bookkeeping(Middleware):
    """Session rows after a failed attempt: failed exactly once, or kept alive for the retry.

    Listed before SyncRetries, so its `after_process_message` runs after Retries has decided
    (Dramatiq calls `after_*` hooks in reverse order): `message.failed` means no more attempts.
    """

    ACTORS = ("sync_object", "finish_session")

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is None or message.actor_name not in self.ACTORS:
            return
        session_id = message.args[0]
        name = message.args[1] if len(message.args) > 1 else None
        db.session.rollback()
        attempt = message.options.get("retries", 1)
        if isinstance(exception, Retry | Shutdown) and not message.failed:
            log.info("session %s: %s handed back by a stopping worker", session_id, name)
            return
        if is_transient(exception):
            # One line per attempt: what went wrong, in the words staff would read
            log.warning("session %s: %s, attempt %d of %d failed%s: %s", session_id, name,
                        attempt, current_app.config["QBSYNC_MAX_RETRIES"] + 1,
                        "" if message.failed else ", retrying", describe(exception))
        if message.failed:
            self._fail(session_id, name, exception, attempt)
        else:
            self._touch(session_id, name)

    @staticmethod
    def _fail(session_id: int, name: str | None, error: BaseException, attempts: int) -> None:
        reason = failure_reason(error, name or "session", attempts)
        if not lifecycle.fail_session(session_id, reason, name):
            return
        db.session.add(SyncError(
            session_id=session_id, object_type=name or "session", phase="pull",
            code=getattr(error, "code", None) or type(error).__name__, message=reason,
        ))
        session = db.session.get(SyncSession, session_id)
        session.error_count = (session.error_count or 0) + 1
        db.session.commit()
        # A condition qbsync knows (QuickBooks closed, a refused key) is no bug: no alarm
        level = logging.WARNING if is_handled(error) else logging.ERROR
        log.log(level, "session %s failed: %s", session_id, reason, extra={OUTCOME: True})

    @staticmethod
    def _touch(session_id: int, name: str | None) -> None:
        """A retry is on its way: the object is waiting, not stalled."""
        run = db.session.scalar(db.select(SyncObjectRun).filter_by(
            session_id=session_id, object_name=name))
        if run is not None:
            run.heartbeat_at = utcnow()
            db.session.commit()


class ThrottledProgress:
    """The engine's progress callback: the session's percentage, written at most every
    `interval_s` (the engine already commits counts and the checkpoint with each page)."""

    def __init__(self, interval_s: float = PROGRESS_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self.clock = interval_s, clock
        self.last: float | None = None
        self.writes = 0

    def __call__(self, run: SyncObjectRun) -> None:
        now = self.clock()
        if self.last is not None and now - self.last < self.interval_s:
            return
        self.last = now
        session = run.session
        percentage = manager.progress_percentage(session)
        if percentage > (session.progress_percentage or 0):
            session.progress_percentage = percentage
            db.session.commit()
            self.writes += 1
