"""The sync actors: one object per message, then the message that closes the session.

A session runs as a Dramatiq pipeline — `sync_object` for each planned object in dependency
order, then `finish_session`. A cancelled or failed session turns the rest of its pipeline into
no-ops (the lifecycle functions see the session has ended), and a failed message stops the
pipeline after Bookkeeping has closed the session. Actors take ids only; bookkeeping, retries,
time limits and the app context are middleware (actors/middleware.py).
"""

from __future__ import annotations

import dramatiq
from dramatiq import Retry
from flask import current_app
from sqlalchemy import select

from actors.broker import worker_stopping  # first: the broker exists before any actor
from actors.middleware import ThrottledProgress, should_retry
from webapp.extensions import db
from webapp.models.sync import SyncSession
from webapp.sync import lifecycle
from webapp.sync.contact import sync_client
from webapp.sync.engine import Cancelled, run_object

QUEUE = "sync"
OBJECT_TIME_LIMIT_MS = 60 * 60 * 1000  # a safety net: every Conductor call has its own timeout
FINISH_TIME_LIMIT_MS = 60 * 1000
HAND_BACK_DELAY_MS = 0  # a stopping worker's object is for the next worker at once


# `retry_when` (transient errors, up to QBSYNC_MAX_RETRIES) replaces Dramatiq's `max_retries`.
@dramatiq.actor(queue_name=QUEUE, retry_when=should_retry, time_limit=OBJECT_TIME_LIMIT_MS,
                notify_shutdown=True)
def sync_object(session_id: int, object_name: str) -> None:
    """Pull one object of the session from QuickBooks, resuming from its checkpoint."""
    if worker_stopping():  # taken up by a worker on its way out: for the next one, untouched
        raise Retry(delay=HAND_BACK_DELAY_MS)
    if lifecycle.begin_object(session_id, object_name) is None:
        return  # ended, cancelled, or already done (a redelivery): the pipeline moves on

    def should_stop() -> bool:
        return (worker_stopping() or lifecycle.cancel_requested(session_id)
                or _cancel_recorded(session_id))

    qb = sync_client(current_app.config)
    try:
        run_object(session_id, object_name, qb, settings=current_app.config,
                   is_cancelled=should_stop, on_progress=ThrottledProgress())
    except Cancelled:
        db.session.rollback()
        if worker_stopping():
            raise Retry(delay=HAND_BACK_DELAY_MS) from None  # checkpoint committed: hand back
        lifecycle.end_cancelled(session_id)
        return
    finally:
        qb.close()
    lifecycle.complete_object(session_id, object_name)


@dramatiq.actor(queue_name=QUEUE, retry_when=should_retry, time_limit=FINISH_TIME_LIMIT_MS)
def finish_session(session_id: int) -> None:
    """Close the session after its last object: completed, or cancelled if asked to stop."""
    lifecycle.finish_session(session_id)


ACTORS = (sync_object, finish_session)


def _cancel_recorded(session_id: int) -> bool:
    """The cancel as the database has it: without Redis the flag lives in one process's memory,
    and `qbsync sync cancel` is another process."""
    return db.session.scalar(
        select(SyncSession.cancel_requested_at).where(SyncSession.id == session_id)) is not None


def enqueue_session(broker: dramatiq.Broker, session_id: int) -> None:
    """Queue the session's pipeline: its planned objects in order, then `finish_session`."""
    session = db.session.get(SyncSession, session_id)
    steps = [sync_object.message_with_options(args=(session_id, planned["name"]),
                                              pipe_ignore=True)
             for planned in session.planned_objects]
    steps.append(finish_session.message_with_options(args=(session_id,), pipe_ignore=True))
    dramatiq.pipeline(steps, broker=broker).run()
