"""The middleware on its own: retry decisions and backoff, failure reasons, progress throttling,
the stalled flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dramatiq import Retry
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from actors.broker import broker_for
from actors.middleware import SyncRetries, ThrottledProgress, failure_reason, should_retry
from actors.sync import sync_object
from webapp.models.types import utcnow
from webapp.sync import manager
from webapp.sync.conductor import (
    CURSOR,
    FATAL,
    QB_NOT_RUNNING,
    RECORD,
    TRANSIENT,
    QuickBooksError,
)


def qb_error(kind: str, message: str = "QuickBooks did not answer in time.") -> QuickBooksError:
    return QuickBooksError(kind, "code", message)


@pytest.mark.parametrize(("error", "retried"), [
    (qb_error(TRANSIENT), True),
    (qb_error(CURSOR), True),
    (TimeLimitExceeded(), True),
    (qb_error(FATAL), False),
    (qb_error(RECORD), False),
    (KeyError("a bug"), False),
])
def test_only_transient_failures_are_retried_up_to_the_limit(embedded_app, error, retried):
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 3
    assert should_retry(0, error) is retried
    assert should_retry(2, error) is retried
    assert should_retry(3, error) is False


@pytest.mark.parametrize("hand_back", [Retry(delay=0), Shutdown()])
def test_a_stopping_worker_s_hand_back_always_comes_back(embedded_app, hand_back):
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 3
    assert should_retry(50, hand_back)


@pytest.mark.parametrize("hand_back", [Retry(delay=0), Shutdown()])
def test_hand_backs_leave_the_retry_count_for_real_trouble(embedded_app, monkeypatch,
                                                           hand_back):
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 2
    broker = broker_for(embedded_app)
    retries = next(m for m in broker.middleware if isinstance(m, SyncRetries))
    queued: list[int] = []
    monkeypatch.setattr(broker, "enqueue", lambda message, *, delay=None: queued.append(
        message.options["retries"]))
    message = MessageProxy(sync_object.message(1, "customer"))
    # A transient failure, then five deploys stopping the worker mid-object...
    retries.after_process_message(broker, message, exception=qb_error(TRANSIENT))
    for _ in range(5):
        retries.after_process_message(broker, message, exception=hand_back)
    # ...still leave one retry for the next transient failure; the one after that fails it
    retries.after_process_message(broker, message, exception=qb_error(TRANSIENT))
    assert queued == [1, 1, 1, 1, 1, 1, 2] and not message.failed
    retries.after_process_message(broker, message, exception=qb_error(TRANSIENT))
    assert message.failed


def test_retries_back_off_exponentially_within_the_configured_bounds(embedded_app,
                                                                     monkeypatch):
    # Given backoff settings of 100 ms to 1 s and eight retries
    embedded_app.config.update(QBSYNC_RETRY_MIN_BACKOFF_MS=100, QBSYNC_RETRY_MAX_BACKOFF_MS=1000,
                               QBSYNC_MAX_RETRIES=8)
    broker = broker_for(embedded_app)
    retries = next(m for m in broker.middleware if isinstance(m, SyncRetries))
    delays: list[int] = []
    monkeypatch.setattr(broker, "enqueue", lambda message, *, delay=None: delays.append(delay))
    message = MessageProxy(sync_object.message(1, "customer"))
    # When the object fails with a transient error nine times
    for _ in range(9):
        retries.after_process_message(broker, message, exception=qb_error(TRANSIENT))
    # Then eight retries were queued, each delay doubling from the minimum up to the cap
    assert len(delays) == 8 and message.failed
    for attempt, delay in enumerate(delays):
        doubled = 100 * 2**attempt
        low, high = (doubled, 2 * doubled) if 2 * doubled <= 1000 else (500, 1000)
        assert low <= delay <= high, (attempt, delay)


def test_failure_reasons_speak_to_people():
    assert failure_reason(qb_error(FATAL, "Conductor refused the key."), "item", 1) == (
        "Conductor refused the key.")
    not_running = failure_reason(qb_error(TRANSIENT, QB_NOT_RUNNING), "customer", 11)
    assert "QuickBooks Desktop could not be reached" in not_running
    assert "tried 11 times" in not_running and "then start the sync again" in not_running
    assert "retries by itself" not in not_running
    busy = failure_reason(qb_error(TRANSIENT, "Too many requests"), "vendor", 4)
    assert busy.startswith("Too many requests. qbsync tried 4 times")
    assert "time limit" in failure_reason(TimeLimitExceeded(), "invoice", 2)
    assert "worker's log" in failure_reason(KeyError("x"), "invoice", 1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_written_a_few_times_a_second_at_most(embedded_app):
    # Given a fast pull: a page every 10 ms for a second
    session = manager.start_session(["customer"])
    run = session.object_runs[0]
    run.total, run.status = 1000, "running"
    clock = FakeClock()
    progress = ThrottledProgress(interval_s=0.5, clock=clock)
    for page in range(100):
        run.processed = (page + 1) * 10
        progress(run)
        clock.now += 0.01
    # Then the session's percentage was written twice, and moved forward
    assert progress.writes == 2
    assert 0 < session.progress_percentage < 100


def test_a_running_object_without_a_heartbeat_for_two_minutes_is_stalled(embedded_app):
    session = manager.start_session(["customer"])
    run = session.object_runs[0]
    run.status, session.status = "running", "running"
    run.heartbeat_at = utcnow() - timedelta(seconds=119)
    assert not manager.session_document(session)["stalled"]
    run.heartbeat_at = utcnow() - timedelta(minutes=3)
    doc = manager.session_document(session)
    assert doc["stalled"] and doc["objects"][0]["stalled"]
    # A heartbeat again (the object resumed), or an ended session, is not stalled
    run.heartbeat_at = utcnow()
    assert not manager.session_document(session)["stalled"]
    run.heartbeat_at, run.status, session.status = utcnow() - timedelta(hours=1), "failed", "failed"
    assert not manager.session_document(session)["stalled"]
