"""A session Redis lost (it came back empty) is noticed at the next start, not only by the
workers' watch: the start is refused, the session is queued again from its checkpoints, and
the refusal says so (issue 19). Real Redis and PostgreSQL; no worker needed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import update

from actors.broker import close
from actors.recovery import queued_sessions
from tests.conftest import make_app
from webapp.extensions import db
from webapp.models.sync import SyncSession
from webapp.models.types import utcnow
from webapp.sync import manager

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def redis_app(redis_db, fresh_postgres):
    app = make_app(fresh_postgres(), REDIS_URL=redis_db, QBSYNC_ORPHAN_AFTER_S=60)
    with app.app_context():
        yield app
        close(app)
        db.session.remove()
        db.engine.dispose()


def _queued(redis_url: str) -> set[int]:
    broker = RedisBroker(url=redis_url)
    try:
        return queued_sessions(broker)
    finally:
        broker.client.connection_pool.disconnect()


def _quiet_for(session_id: int, minutes: int) -> None:
    long_ago = utcnow() - timedelta(minutes=minutes)
    db.session.execute(update(SyncSession).where(SyncSession.id == session_id)
                       .values(created_at=long_ago))
    db.session.commit()


def test_a_start_requeues_a_session_redis_lost(redis_app, redis_db):
    # Given a session queued in Redis, then Redis emptied, and nobody on it for 10 minutes
    lost = manager.start_session(["customer"])
    assert lost.id in _queued(redis_db)
    redis.Redis.from_url(redis_db).flushdb()
    _quiet_for(lost.id, 10)
    # When someone starts a sync
    with pytest.raises(manager.SessionAlreadyActive) as refused:
        manager.start_session(["vendor"])
    # Then the start is refused saying the lost one was queued again, and it is
    assert "queued again" in str(refused.value) and not refused.value.unattended
    assert lost.id in _queued(redis_db)
    # And a second start right after does not queue it twice
    with pytest.raises(manager.SessionAlreadyActive):
        manager.start_session(["vendor"])
    broker = RedisBroker(url=redis_db)
    try:
        assert broker.do_qsize("sync") == 1
    finally:
        broker.client.connection_pool.disconnect()


def test_a_quiet_session_whose_message_is_still_queued_is_left_alone(redis_app, redis_db):
    # Given a session still queued (the workers are busy or down), quiet for 10 minutes
    waiting = manager.start_session(["customer"])
    _quiet_for(waiting.id, 10)
    # When someone starts a sync, then it is refused as before, and nothing is queued twice
    with pytest.raises(manager.SessionAlreadyActive) as refused:
        manager.start_session(["vendor"])
    assert refused.value.unattended and "check that a worker is running" in str(refused.value)
    broker = RedisBroker(url=redis_db)
    try:
        assert broker.do_qsize("sync") == 1
    finally:
        broker.client.connection_pool.disconnect()
