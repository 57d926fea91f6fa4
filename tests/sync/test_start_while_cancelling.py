"""A start that meets a session being cancelled: it ends that session only when no worker
attends it (manager.start_session's `unattended` check). With a live worker — a fresh
heartbeat — ending it would leave the worker writing under a closed session while a second
session starts beside it (issue 23: dropping the check survived every other test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models.sync import CANCELLING, RUNNING, SyncSession
from webapp.models.types import utcnow
from webapp.sync import manager


def _cancelling_with_a_live_worker() -> SyncSession:
    """A session started minutes ago whose worker is inside its object now (fresh heartbeat),
    asked to cancel."""
    session = manager.start_session(["customer"])
    long_ago = utcnow() - timedelta(minutes=10)
    session.status, session.created_at, session.started_at = RUNNING, long_ago, long_ago
    run = session.object_runs[0]
    run.status, run.started_at, run.heartbeat_at = RUNNING, long_ago, utcnow()
    db.session.commit()
    assert manager.cancel_session(session.id).status == CANCELLING
    return session


def test_a_start_while_a_live_worker_honours_a_cancel_is_refused_and_ends_nothing(
        any_sync_app):
    # Given a session being cancelled whose worker is alive (it beat just now)
    session = _cancelling_with_a_live_worker()
    # When another sync is started
    with pytest.raises(manager.SessionAlreadyActive) as refused:
        manager.start_session(["vendor"])
    # Then it is refused, saying which session holds it and that it is being cancelled ...
    assert str(refused.value) == (
        f"a sync is already pending or running (session {session.id}, cancelling)")
    assert refused.value.unattended is False
    # ... the session is left to its worker: still cancelling, not ended under it ...
    db.session.expire_all()
    held = db.session.get(SyncSession, session.id)
    assert held.status == CANCELLING and held.completed_at is None
    assert [run.status for run in held.object_runs] == [RUNNING]
    # ... and no second session exists beside it
    assert db.session.scalar(select(func.count()).select_from(SyncSession)) == 1
    assert manager.active_session().id == session.id


def test_the_same_start_ends_the_cancel_once_the_worker_has_gone_quiet(any_sync_app):
    # Given the same session, whose worker then stopped beating three minutes ago
    session = _cancelling_with_a_live_worker()
    run = session.object_runs[0]
    run.heartbeat_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    # When another sync is started, it ends that one cancelled and starts
    started = manager.start_session(["vendor"])
    assert started.id != session.id
    assert db.session.get(SyncSession, session.id, populate_existing=True).status == "cancelled"
