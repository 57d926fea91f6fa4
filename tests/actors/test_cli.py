"""`qbsync sync start|status|cancel` over the workers, and `qbsync demo`: the simulator, the web
app and its in-process worker in one command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from flask_migrate import upgrade

from actors import embedded
from tests.actors.conftest import conductor_settings, ended, free_port, reload, wait_for
from tests.conftest import make_app
from webapp.cli import cli, create_or_update_user
from webapp.extensions import db
from webapp.models.auth import ApiToken
from webapp.models.sync import SyncSession
from webapp.sync import manager
from webapp.sync.conductor import BAD_KEY

DEMO_START_TIMEOUT_S = 60
DEMO_SESSION_TIMEOUT_S = 60
CSRF_META = r'name="csrf-token" content="([^"]+)"'


def run(app, *args: str):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def test_sync_start_wait_prints_progress_and_exits_0_once_completed(embedded_app):
    result = run(embedded_app, "sync", "start", "--objects", "customer,vendor", "--wait")
    assert result.exit_code == 0, result.output
    assert "session 1 started (incremental): customer, vendor" in result.output
    assert "session 1: completed 100%" in result.output
    assert re.search(r"customer\s+completed\s+created 90", result.output)


def test_sync_start_without_redis_waits_even_without_wait(embedded_app):
    result = run(embedded_app, "sync", "start", "--objects", "vendor", "--full")
    assert result.exit_code == 0, result.output
    assert "this command is the worker" in result.output
    assert reload(SyncSession, 1).mode == "full"


def test_sync_start_wait_exits_1_with_the_reason_when_the_sync_failed(embedded_app):
    embedded_app.config["CONDUCTOR_SECRET_KEY"] = "sk_sim_wrong"
    result = run(embedded_app, "sync", "start", "--wait")
    assert result.exit_code == 1
    assert "session 1: failed" in result.output and BAD_KEY in result.output


def test_sync_start_refuses_an_unknown_object(embedded_app):
    result = run(embedded_app, "sync", "start", "--objects", "customer,widget")
    assert result.exit_code == 2 and "unknown object(s): widget" in result.output


def test_sync_start_is_refused_while_another_sync_is_active(embedded_app):
    active = manager.start_session(["customer"])
    result = run(embedded_app, "sync", "start")
    assert result.exit_code == 1
    assert f"session {active.id}, pending" in result.output and "sync cancel" in result.output


def test_a_scheduled_start_skips_quietly_while_a_sync_runs_but_not_a_stuck_one(embedded_app):
    # Given a sync under way, started a moment ago
    active = manager.start_session(["customer"])
    # When a scheduler runs `sync start --if-idle`
    result = run(embedded_app, "sync", "start", "--if-idle")
    # Then nothing starts, and that is no failure
    assert result.exit_code == 0, result.output
    assert f"session {active.id} is pending; nothing started" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(SyncSession)) == 1
    # But once no worker has shown a sign of life on it for minutes, it says so and fails
    session = reload(SyncSession, active.id)
    session.created_at -= manager.STALLED_AFTER * 2
    db.session.commit()
    for args in (("--if-idle",), ()):
        result = run(embedded_app, "sync", "start", *args)
        assert result.exit_code == 1
        assert "no worker has reported on it" in result.output
        assert "check that a worker is running" in result.output
    # And cancelling it says it ended at once, since no worker would ever end it
    result = run(embedded_app, "sync", "cancel")
    assert result.exit_code == 0
    assert f"session {active.id}: cancelled (no worker had reported on it" in result.output


def test_sync_status_shows_the_latest_session(embedded_app):
    assert "no sync has been started yet" in run(embedded_app, "sync", "status").output
    run(embedded_app, "sync", "start", "--objects", "vendor", "--wait")
    result = run(embedded_app, "sync", "status")
    assert result.exit_code == 0
    assert "session 1: completed 100%" in result.output and "vendor" in result.output


def test_sync_status_of_a_running_sync_gives_totals_as_floors(embedded_app):
    from webapp.sync import lifecycle

    session = manager.start_session(["item"])
    run_ = lifecycle.begin_object(session.id, "vendor")
    run_.total, run_.processed = 280, 150
    db.session.commit()
    result = run(embedded_app, "sync", "status")
    # items and adjustments announce their totals a part at a time: what is known is a floor
    assert "vendor 150 of at least 280" in result.output


def test_sync_cancel_stops_the_active_sync(embedded_app, sim):
    assert run(embedded_app, "sync", "cancel").exit_code == 1  # nothing to cancel
    session = manager.start_session(None)  # queued; no worker yet
    result = run(embedded_app, "sync", "cancel")
    assert result.exit_code == 0 and "cancel requested" in result.output
    embedded.start(embedded_app).join()
    assert reload(SyncSession, session.id).status == "cancelled"
    assert sim.simulator.stats()["total"] == 0



@pytest.mark.slow
def test_demo_serves_the_app_with_its_simulator_and_a_session_completes(tmp_path):
    # Given `qbsync demo` with nothing else running: no Redis, no simulator, no database
    port, sim_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QBSYNC_", "CONDUCTOR_")) and k not in ("DATABASE_URL",
                                                                         "REDIS_URL")}
    env.update(QBSYNC_INSTANCE_PATH=str(tmp_path), QBSYNC_ADMIN_EMAIL="boss@example.com",
               QBSYNC_ADMIN_PASSWORD="a long password")
    qbsync = Path(sys.executable).with_name("qbsync")
    proc = subprocess.Popen([str(qbsync), "demo", "--port", str(port), "--sim-port",
                             str(sim_port), "--size", "300"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output = _read_until(proc, "log in as", DEMO_START_TIMEOUT_S)
        assert f"http://127.0.0.1:{port}/" in output and f"127.0.0.1:{sim_port}" in output
        # When someone logs in and starts a sync from the browser (the dashboard's API calls)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            page = wait_for(lambda: _get(http, "/login"), DEMO_START_TIMEOUT_S, "the demo")
            token = re.search(CSRF_META, page.text).group(1)
            login = http.post("/login", data={"email": "boss@example.com",
                                              "password": "a long password",
                                              "csrf_token": token})
            assert login.status_code == 302
            dashboard = http.get("/").text  # the session changed at login: a fresh CSRF token
            csrf = {"X-CSRFToken": re.search(CSRF_META, dashboard).group(1)}
            started = http.post("/api/v1/sessions", json={"objects": []}, headers=csrf)
            assert started.status_code == 202, started.text
            url = f"/api/v1/sessions/{started.json()['id']}"
            # Then the in-process worker runs it against the simulator to the end
            doc = wait_for(lambda: ended(http.get(url).json()), DEMO_SESSION_TIMEOUT_S,
                           "the session to end")
        assert doc["status"] == "completed", doc
        counts = httpx.get(f"http://127.0.0.1:{sim_port}/_sim/counts").json()
        customers = next(o for o in doc["objects"] if o["name"] == "customer")
        assert customers["created"] == counts["customers"]
    finally:
        proc.terminate()
        remaining, _ = proc.communicate(timeout=30)
    # And it stops cleanly
    assert proc.returncode == 0, remaining


@pytest.mark.slow
def test_the_flask_dev_server_with_its_reloader_runs_the_worker_once(tmp_path, sim):
    # Given the Flask dev server, reloader on (a watcher process and a serving child), in demo
    # mode without Redis, pointed at the simulator
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QBSYNC_", "CONDUCTOR_")) and k not in ("DATABASE_URL",
                                                                         "REDIS_URL")}
    env.update(QBSYNC_INSTANCE_PATH=str(tmp_path), QBSYNC_MODE="demo",
               **conductor_settings(sim))
    token = _migrated_database_with_token(f"sqlite:///{tmp_path / 'qbsync.db'}")
    qbsync = Path(sys.executable).with_name("qbsync")
    proc = subprocess.Popen([str(qbsync), "run", "--port", str(port), "--reload"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            wait_for(lambda: _get(http, "/api/v1/health"), DEMO_START_TIMEOUT_S, "the server")
            # When a session is started over the API
            started = http.post("/api/v1/sessions", json={"objects": ["customer", "vendor"]})
            assert started.status_code == 202, started.text
            url = f"/api/v1/sessions/{started.json()['id']}"
            doc = wait_for(lambda: ended(http.get(url).json()), DEMO_SESSION_TIMEOUT_S,
                           "the session to end")
        # Then the serving process's worker ran it, once
        assert doc["status"] == "completed", doc
        assert [o["api_calls"] for o in doc["objects"]] == [1, 1]
        assert sim.simulator.stats()["total"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _migrated_database_with_token(url: str) -> str:
    app = make_app(url)
    with app.app_context():
        upgrade()
        _row, token = ApiToken.issue(create_or_update_user("dev@example.com", "a long password"),
                                     "tests")
        db.session.commit()
        db.engine.dispose()
    return token


def _read_until(proc: subprocess.Popen, marker: str, timeout_s: float) -> str:
    lines: list[str] = []
    wait_for(lambda: (lines.append(proc.stdout.readline()) or marker in lines[-1]
                      or proc.poll() is not None), timeout_s, f"{marker!r} from the demo")
    return "".join(lines)


def _get(http: httpx.Client, path: str):
    try:
        return http.get(path)
    except httpx.ConnectError:
        return None

