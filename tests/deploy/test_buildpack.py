"""What Heroku does with a push, done here: the Python buildpack's locked install into a fresh
environment, then the Procfile's release, web and worker commands against local PostgreSQL and
Redis, and a sync session over the API against the simulator (`qbsync sim serve`)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.actors.conftest import FAST_RETRIES, WORKER_READY, ended, free_port, wait_for
from tests.deploy.conftest import uv_path

INSTALL_TIMEOUT_S = 300
START_TIMEOUT_S = 60
SESSION_TIMEOUT_S = 90
SIM_SIZE = 300
SIM_SETTINGS = {"CONDUCTOR_BASE_URL": re.compile(r"CONDUCTOR_BASE_URL=(\S+)"),
                "CONDUCTOR_SECRET_KEY": re.compile(r"CONDUCTOR_SECRET_KEY=(\S+)"),
                "CONDUCTOR_END_USER_ID": re.compile(r"CONDUCTOR_END_USER_ID=(\S+)")}


def buildpack_install(app_dir: Path, venv: Path) -> Path:
    """`uv sync --locked --no-default-groups --compile-bytecode`, as heroku/python runs it for
    an app with uv.lock (into the dyno's Python there; a new environment here). uv's download
    cache, which `make test` filled, saves fetching the packages again."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    env.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=sys.executable,
               UV_PYTHON_DOWNLOADS="never")
    result = subprocess.run(
        [uv_path(), "sync", "--locked", "--no-default-groups", "--compile-bytecode",
         "--no-progress"],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    return venv / "bin"


def dyno_env(venv_bin: Path, **settings: str) -> dict[str, str]:
    """A dyno's environment: the installed environment's commands first on PATH, the tests'
    own nowhere on it, and only the settings given (Heroku's config vars)."""
    tests_bin = Path(sys.executable).parent.resolve()
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != tests_bin]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QBSYNC_", "CONDUCTOR_", "FLASK_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PATH=os.pathsep.join([str(venv_bin), *path]), PYTHONUNBUFFERED="1", **settings)
    return env


def heroku_database_url(url: str) -> str:
    """The URL as the heroku-postgresql add-on writes it: `postgres://…`."""
    return "postgres://" + url.split("://", 1)[1]


class Processes:
    """Processes started for one test, stopped (SIGTERM, then SIGKILL) at its end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], **kwargs) -> tuple[subprocess.Popen, Path]:
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, **kwargs)
        self.started.append((proc, log_path))
        return proc, log_path

    def stop(self, proc: subprocess.Popen, timeout_s: float = 30) -> int:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=10)

    def close(self) -> None:
        for proc, _log in reversed(self.started):
            self.stop(proc, timeout_s=10)


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.close()


def serve_simulator(processes: Processes, venv_bin: Path, env: dict[str, str]) -> dict:
    """`qbsync sim serve` on a free port; the Conductor settings it prints, and its URL."""
    proc, log = processes.start("sim", [str(venv_bin / "qbsync"), "sim", "serve", "--port",
                                        "0", "--size", str(SIM_SIZE)], env=env)
    wait_for(lambda: "Press Ctrl+C" in log.read_text() or proc.poll() is not None,
             START_TIMEOUT_S, "the simulator")
    output = log.read_text()
    assert proc.poll() is None, output
    settings = {name: pattern.search(output).group(1) for name, pattern in SIM_SETTINGS.items()}
    return {**settings, "url": re.search(r"Listening on (\S+)", output).group(1)}


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_buildpack_install_releases_serves_and_completes_a_sync(
        slug, postgres_url, redis_db, processes, tmp_path):
    # Given the pushed files installed from the lock as the buildpack does: runtime packages
    # only (no test packages), the app itself among them
    venv_bin = buildpack_install(slug, tmp_path / "dyno-python")
    assert (venv_bin / "gunicorn").exists() and (venv_bin / "qbsync").exists()
    assert not (venv_bin / "pytest").exists() and not (venv_bin / "honcho").exists()
    # And the config vars: the add-ons' URLs, a secret key, Conductor's settings (the simulator)
    sim = serve_simulator(processes, venv_bin, dyno_env(venv_bin))
    port = free_port()
    env = dyno_env(venv_bin, SECRET_KEY=uuid.uuid4().hex, REDIS_URL=redis_db,
                   DATABASE_URL=heroku_database_url(postgres_url), PORT=str(port),
                   WEB_CONCURRENCY="1", **{k: v for k, v in sim.items() if k != "url"},
                   **{k: str(v) for k, v in FAST_RETRIES.items()},
                   dramatiq_worker_timeout="100")  # idle consumers poll every 100 ms
    honcho = str(Path(sys.executable).with_name("honcho"))  # runs each Procfile line as is

    # When the release phase runs the Procfile's `release` command
    release = subprocess.run([honcho, "start", "release"], cwd=slug, env=env,
                             capture_output=True, text=True, timeout=120)
    # Then it succeeds and the database is migrated
    assert release.returncode == 0, release.stdout + release.stderr
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()

    # When an operator creates a login and a token (`heroku run qbsync …`), and the web and
    # worker processes start from the Procfile
    qbsync = str(venv_bin / "qbsync")
    subprocess.run([qbsync, "users", "create", "ops@example.com", "--password",
                    "a long password"], cwd=slug, env=env, check=True, capture_output=True)
    token = subprocess.run([qbsync, "tokens", "create", "ops@example.com", "--name", "erp"],
                           cwd=slug, env=env, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1]
    dynos, log_path = processes.start("honcho", [honcho, "start", "web", "worker"], cwd=slug,
                                      env=env)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    try:
        wait_for(lambda: _healthy(http) or dynos.poll() is not None, START_TIMEOUT_S,
                 "the web process")
        assert dynos.poll() is None, log_path.read_text()
        wait_for(lambda: WORKER_READY in log_path.read_text(), START_TIMEOUT_S,
                 "the worker process")
        # Then a session started over the API completes against the simulator
        begun = http.post("/api/v1/sessions", json={"objects": [], "mode": "incremental"})
        assert begun.status_code == 202, begun.text
        url = f"/api/v1/sessions/{begun.json()['id']}"
        doc = wait_for(lambda: ended(http.get(url).json()), SESSION_TIMEOUT_S,
                       "the session to end")
        assert doc["status"] == "completed", doc
        assert doc["progress_percentage"] == 100 and doc["processed_records"] > 0
        counts = httpx.get(f"{sim['url']}/_sim/counts").json()
        customers = next(o for o in doc["objects"] if o["name"] == "customer")
        assert customers["created"] == counts["customers"] > 0
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
        processes.stop(dynos)  # honcho stops every process it started, as a dyno is stopped
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
