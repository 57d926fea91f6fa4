"""The Heroku shape: the Procfile's worker settings, the broker's recovery settings, and
`honcho start` serving the app and completing a session over the API."""

from __future__ import annotations

import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware.retries import DEFAULT_MAX_BACKOFF

from actors.broker import HEARTBEAT_TIMEOUT_MS, MAINTENANCE_CHANCE, broker_for
from tests.actors.conftest import (
    WORKER_READY,
    ended,
    free_port,
    procfile_command,
    production_env,
    wait_for,
)
from tests.conftest import make_app
from webapp import PROJECT_ROOT
from webapp.cli import create_or_update_user
from webapp.extensions import db
from webapp.models.auth import ApiToken
from webapp.sync.flags import CANCEL_FLAG_TTL_S

HEROKU_SHUTDOWN_S = 30
RECOVERY_PROMISE_S = 5 * 60
SESSION_TIMEOUT_S = 90


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



@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_honcho_start_serves_the_app_and_a_session_completes_over_the_api(
        redis_db, fresh_postgres, sim, tmp_path):
    # Given a database migrated by the release step, a login and an API token
    database_url = fresh_postgres()
    app = make_app(database_url)
    with app.app_context():
        user = create_or_update_user("ops@example.com", "a long password")
        _row, token = ApiToken.issue(user, "erp")
        db.session.commit()
        db.engine.dispose()
    # When `honcho start` runs the Procfile's web and worker processes
    port = free_port()
    env = production_env(database_url, redis_db, sim, PORT=str(port), WEB_CONCURRENCY="1")
    log_path = tmp_path / "honcho.log"
    honcho = Path(sys.executable).with_name("honcho")
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(honcho), "start", "web", "worker"], cwd=PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    try:
        wait_for(lambda: _healthy(http), 60, "the web process")
        wait_for(lambda: WORKER_READY in log_path.read_text(), 60, "the worker process")
        # Then the app serves, and a session started over the API completes
        started = http.post("/api/v1/sessions", json={"objects": [], "mode": "incremental"})
        assert started.status_code == 202, started.text
        url = f"/api/v1/sessions/{started.json()['id']}"
        doc = wait_for(lambda: ended(http.get(url).json()), SESSION_TIMEOUT_S,
                       "the session to end")
        assert doc["status"] == "completed", doc
        assert doc["progress_percentage"] == 100 and doc["processed_records"] > 0
        counts = httpx.get(f"{sim.url}/_sim/counts").json()
        customers = next(o for o in doc["objects"] if o["name"] == "customer")
        assert customers["created"] == counts["customers"]
        # And a connection a dashboard polls on every 2 s stays open between polls (gunicorn's
        # default keep-alive of 2 s closed it just as the next poll came: a reset now and then)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            assert _get_health(conn).startswith(b"HTTP/1.1 200")
            time.sleep(3)
            assert _get_health(conn).startswith(b"HTTP/1.1 200")
        # And a token wrongly sent in a query string is refused, and not written to the log
        leaked = httpx.get(f"http://127.0.0.1:{port}/api/v1/status?token={token}", timeout=10)
        assert leaked.status_code in (400, 401)
    finally:
        http.close()
        proc.send_signal(signal.SIGTERM)  # honcho stops every process it started
        proc.wait(timeout=30)
    log = log_path.read_text()
    assert "Killing worker process" not in log
    assert '"GET /api/v1/status HTTP/1.1"' in log and token not in log


def _get_health(conn: socket.socket) -> bytes:
    """One keep-alive request on `conn`; the whole response (b"" if the server closed it)."""
    conn.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: qbsync.test\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += conn.recv(4096)
    return data


def _healthy(http: httpx.Client) -> bool:
    try:
        response = http.get("/api/v1/health")
    except httpx.TransportError:
        return False
    return response.status_code == 200 and response.json()["broker"] == "ok"

