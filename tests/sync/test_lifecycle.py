"""Status changes that race: a cancel from the web against the worker ending the session."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models.sync import COMPLETED, PENDING, RUNNING, SyncObjectRun, SyncSession
from webapp.models.types import utcnow
from webapp.sync import lifecycle, manager
from webapp.sync.flags import cancel_flags


def _running_session_with_its_objects_done() -> int:
    session = manager.start_session(["customer"])
    session.status = RUNNING
    for run in session.object_runs:
        run.status = COMPLETED
    db.session.commit()
    return session.id


def _as_the_worker(app, step, session_id: int) -> None:
    """`step(session_id)` in another thread with its own database session, to its end."""

    def work():
        with app.app_context():
            step(session_id)
            db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_cancel_racing_the_end_of_the_session_does_not_hold_it_open(any_sync_app,
                                                                       monkeypatch):
    # Given a session whose worker has done every object
    session_id = _running_session_with_its_objects_done()
    # When a cancel request reads it as running, and the worker closes it before the
    # request writes anything
    read = manager.get_session

    def read_then_the_worker_finishes(sid):
        session = read(sid)
        _as_the_worker(any_sync_app, lifecycle.finish_session, sid)
        return session

    monkeypatch.setattr(manager, "get_session", read_then_the_worker_finishes)
    # Then the cancel is refused as too late (the API's 409) ...
    with pytest.raises(manager.SessionEnded):
        manager.cancel_session(session_id)
    monkeypatch.undo()
    # ... the session stays completed, with no cancel flag left behind ...
    db.session.expire_all()
    session = db.session.get(SyncSession, session_id)
    assert session.status == COMPLETED and session.cancel_requested_at is None
    assert not cancel_flags().is_set(session_id)
    # ... and the next sync can start (`cancelling` would have held the one-active rule)
    assert manager.start_session(["customer"]).status == PENDING


def test_a_cancel_that_lands_first_ends_the_session_cancelled(any_sync_app):
    session_id = _running_session_with_its_objects_done()
    assert manager.cancel_session(session_id).status == "cancelling"
    assert cancel_flags().is_set(session_id)
    _as_the_worker(any_sync_app, lifecycle.finish_session, session_id)
    db.session.expire_all()
    assert db.session.get(SyncSession, session_id).status == "cancelled"
    assert not cancel_flags().is_set(session_id)


def test_a_cancel_with_no_worker_left_ends_the_session_at_once(any_sync_app):
    # Given a session whose worker died mid-object three minutes ago (no heartbeat since),
    # with nothing to resume it (an interrupted `qbsync sync start`, no worker process)
    session = manager.start_session(["customer", "vendor"])
    long_ago = utcnow() - timedelta(minutes=3)
    session.status, session.created_at, session.started_at = RUNNING, long_ago, long_ago
    run = session.object_runs[0]
    run.status, run.started_at, run.heartbeat_at = RUNNING, long_ago, long_ago
    db.session.commit()
    # When it is cancelled
    doc = manager.session_document(manager.cancel_session(session.id))
    # Then it ends cancelled now, rather than waiting for a worker that will not come
    assert doc["status"] == "cancelled" and doc["cancel_requested"]
    assert [o["status"] for o in doc["objects"]] == ["cancelled", "skipped"]
    assert not cancel_flags().is_set(session.id)
    assert manager.start_session(["customer"]).status == PENDING


def _running_with_a_live_worker() -> SyncSession:
    session = manager.start_session(["customer"])
    session.status = RUNNING
    run = session.object_runs[0]
    run.status, run.started_at, run.heartbeat_at = RUNNING, utcnow(), utcnow()
    db.session.commit()
    return session


def test_a_cancel_of_a_session_with_a_live_worker_waits_for_it(any_sync_app):
    session = _running_with_a_live_worker()
    assert manager.cancel_session(session.id).status == "cancelling"


def _age(session_id: int, minutes: float) -> None:
    """Every sign of a worker on the session moved `minutes` into the past."""
    session = db.session.get(SyncSession, session_id)
    for obj in [session, *session.object_runs]:
        for name in ("created_at", "started_at", "heartbeat_at", "finished_at"):
            if getattr(obj, name, None) is not None:
                setattr(obj, name, getattr(obj, name) - timedelta(minutes=minutes))
    db.session.commit()


def test_a_cancel_whose_worker_then_died_ends_once_nobody_attends_it(any_sync_app):
    # Given a running session with a live worker, asked to cancel (so it waits for the worker)
    session = _running_with_a_live_worker()
    assert manager.cancel_session(session.id).status == "cancelling"
    assert manager.active_session().id == session.id  # the worker may still end it
    # When the worker dies then, and nothing is heard of it for minutes
    _age(session.id, 3)
    # Then looking at it changes nothing (reads never write: a poll must not wait on a lock)
    assert manager.active_session().status == "cancelling"
    assert manager.session_document(manager.active_session())["stalled"] is True
    # But the next start ends it cancelled, and starts
    assert manager.start_session(["customer"]).status == PENDING
    assert db.session.get(SyncSession, session.id).status == "cancelled"


def test_cancelling_again_ends_a_cancel_nobody_attends(any_sync_app):
    session = manager.start_session(["customer"])
    manager.cancel_session(session.id)
    _age(session.id, 3)
    assert manager.cancel_session(session.id).status == "cancelled"


def test_a_late_cancel_does_not_overwrite_how_the_session_ended(any_sync_app):
    # Given a session its worker has just failed (retries used up)
    session = manager.start_session(["customer"])
    lifecycle.fail_session(session.id, "QuickBooks could not be reached.")
    # When a cancel read just before that ends it "cancelled"
    lifecycle.end_cancelled(session.id)
    # Then it stays failed, with its reason
    ended = db.session.get(SyncSession, session.id, populate_existing=True)
    assert ended.status == "failed" and ended.failure_reason == "QuickBooks could not be reached."


def test_a_session_no_worker_picked_up_is_marked_stalled_and_refusals_say_why(any_sync_app):
    # Given a sync queued three minutes ago that no worker has picked up
    session = manager.start_session(["customer"])
    assert manager.session_document(session)["stalled"] is False
    _age(session.id, 3)
    # Then its document says stalled, and a second start is refused saying what to check
    assert manager.session_document(manager.active_session())["stalled"] is True
    with pytest.raises(manager.SessionAlreadyActive, match="check that a worker is running"):
        manager.start_session(["vendor"])
    # And the refusal used up no session number
    manager.cancel_session(session.id)
    assert manager.start_session(["vendor"]).id == session.id + 1


def test_a_running_object_beats_while_its_worker_waits_on_quickbooks(any_sync_app):
    # Given an object whose worker is inside one long QuickBooks request (no page for minutes)
    from webapp.sync.engine import HeartbeatTicker

    session = manager.start_session(["customer"])
    run = lifecycle.begin_object(session.id, "customer")
    _age(session.id, 3)
    assert manager.unattended(db.session.get(SyncSession, session.id, populate_existing=True))

    def heartbeat():
        db.session.expire_all()
        return db.session.get(SyncObjectRun, run.id).heartbeat_at

    stale = heartbeat()
    # When its heartbeat ticks from the side (here every 50 ms, in life every 30 s)
    with HeartbeatTicker(db.engine, run.id, every=0.05):
        deadline = utcnow() + timedelta(seconds=10)
        while heartbeat() == stale and utcnow() < deadline:
            threading.Event().wait(0.05)
        # Then the session does not look abandoned, and a cancel waits for the worker
        assert heartbeat() > stale
        session = db.session.get(SyncSession, session.id, populate_existing=True)
        assert not manager.unattended(session)
        assert manager.session_document(session)["stalled"] is False
    # And once the object is done (or its process gone) the beats stop
    beaten = heartbeat()
    threading.Event().wait(0.2)
    assert heartbeat() == beaten
