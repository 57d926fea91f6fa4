"""Running a whole session in this thread: for the CLI, tests and benchmarks.

The workers (actors/) run the same steps one object per message; this runner is their
in-line twin, with the same retry rule: transient failures are retried with backoff and
resume from the object's checkpoint, anything else fails the session with its reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import current_app
from redis import RedisError
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.models.sync import SyncSession
from webapp.sync import lifecycle
from webapp.sync.conductor import QuickBooks, QuickBooksError
from webapp.sync.contact import sync_client
from webapp.sync.engine import Cancelled, run_object

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


def run_session(session_id: int, qb: QuickBooks | None = None, *,
                max_attempts: int = MAX_ATTEMPTS, backoff_s: float = BACKOFF_S,
                on_progress: Callable | None = None) -> SyncSession:
    """Run every planned object of the session, then close it; returns the session."""
    own_client = qb is None
    qb = qb or sync_client(current_app.config)
    try:
        session = db.session.get(SyncSession, session_id)
        for name in [p["name"] for p in session.planned_objects]:
            if not _run_with_retries(session_id, name, qb, max_attempts, backoff_s, on_progress):
                break
        lifecycle.finish_session(session_id)
        return db.session.get(SyncSession, session_id)
    finally:
        if own_client:
            qb.close()


def _run_with_retries(session_id, name, qb, max_attempts, backoff_s, on_progress) -> bool:
    for attempt in range(1, max_attempts + 1):
        if lifecycle.begin_object(session_id, name) is None:
            session = db.session.get(SyncSession, session_id, populate_existing=True)
            return session.status not in ("cancelled", "failed")
        try:
            run_object(session_id, name, qb, on_progress=on_progress,
                       is_cancelled=lambda: lifecycle.cancel_requested(session_id),
                       settings=current_app.config)
        except Cancelled:
            db.session.rollback()
            lifecycle.end_cancelled(session_id)
            return False
        except (QuickBooksError, OperationalError, RedisError) as error:
            # QuickBooks, the database or Redis failing for a while: retried from the
            # object's checkpoint (the page in hand is rolled back), as the workers do
            db.session.rollback()
            retryable = error.retryable if isinstance(error, QuickBooksError) else True
            if retryable and attempt < max_attempts:
                delay = min(backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
                log.warning("%s: %s (attempt %d), retrying in %.1fs", name, error, attempt, delay)
                time.sleep(delay)
                continue
            lifecycle.fail_session(session_id, getattr(error, "message", None) or (
                f"qbsync could not reach its database or Redis while syncing {name}; start "
                "the sync again once they are back."), name)
            return False
        except Exception:
            log.exception("sync of %s failed unexpectedly", name)
            lifecycle.fail_session(
                session_id, f"An unexpected error stopped the {name} sync; see the logs.", name)
            return False
        lifecycle.complete_object(session_id, name)
        return True
    return False
