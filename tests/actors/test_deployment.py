"""The Heroku shape: the Procfile's worker settings and the broker's recovery settings.
(The Procfile run end to end, from a buildpack-style install: tests/deploy/test_buildpack.py.)"""

from __future__ import annotations

import shlex

from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware.retries import DEFAULT_MAX_BACKOFF

from actors.broker import HEARTBEAT_TIMEOUT_MS, MAINTENANCE_CHANCE, broker_for
from tests.actors.conftest import procfile_command
from tests.conftest import make_app
from webapp.sync.flags import CANCEL_FLAG_TTL_S

HEROKU_SHUTDOWN_S = 30
RECOVERY_PROMISE_S = 5 * 60


def test_the_procfile_worker_fits_heroku():
    words = shlex.split(procfile_command("worker"))
    assert words[:2] == ["env", "dramatiq_queue_prefetch=1"]  # a kill strands one message
    assert words[2:4] == ["dramatiq", "actors"]
    timeout_ms = int(words[words.index("--worker-shutdown-timeout") + 1])
    assert timeout_ms < HEROKU_SHUTDOWN_S * 1000
    assert words[words.index("--threads") + 1] == "1"


def test_the_redis_broker_requeues_a_dead_worker_s_messages_promptly(sqlite_uri):
    # Given the production broker
    app = make_app(sqlite_uri, REDIS_URL="redis://127.0.0.1:6379/15")
    broker = broker_for(app)
    assert isinstance(broker, RedisBroker)
    assert broker.heartbeat_timeout == HEARTBEAT_TIMEOUT_MS
    assert broker.maintenance_chance == MAINTENANCE_CHANCE
    # Then a dead worker is noticed after a minute, and a live worker, polling its queue at
    # least once a second, runs the requeue within the next four minutes except with a
    # vanishing chance: recovery within five minutes of the new worker starting
    polls = RECOVERY_PROMISE_S - HEARTBEAT_TIMEOUT_MS // 1000
    miss = (1 - MAINTENANCE_CHANCE / MAINTENANCE_SCALE) ** polls
    assert miss < 1e-9
    assert MAINTENANCE_SCALE / MAINTENANCE_CHANCE <= 10  # seconds of polling, on average


def test_a_cancel_flag_outlives_any_queue_wait():
    # Dramatiq delays a message by a week at most; the flag is deleted when the session ends
    # (and the actors also read the cancel from the session row)
    assert CANCEL_FLAG_TTL_S * 1000 >= DEFAULT_MAX_BACKOFF
