"""Ctrl+C on `qbsync sync start` without Redis, where the command itself is the worker: its
session ends at once, cancelled, and the next sync carries on from its checkpoint — nobody is
left waiting on a session no worker will ever take up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from tests.actors.conftest import conductor_settings, on_request, reload, runs_by_name
from webapp.cli import cli
from webapp.extensions import db
from webapp.models.sync import SyncSession
from webapp.models.wms import Customer
from webapp.sync import manager
from webapp.sync.pull.paging import PAGE_LIMIT

EXIT_TIMEOUT_S = 60


def _cli_env(sqlite_uri: str, sim, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QBSYNC_", "CONDUCTOR_")) and k not in ("DATABASE_URL",
                                                                         "REDIS_URL")}
    env.update(QBSYNC_MODE="demo", DATABASE_URL=sqlite_uri, QBSYNC_INSTANCE_PATH=str(instance),
               **conductor_settings(sim))
    return env


@pytest.mark.parametrize("sim_size", [3000])  # 450 customers: three pages
def test_ctrl_c_on_an_embedded_cli_sync_ends_it_cancelled_and_the_next_sync_resumes(
        embedded_app, sim, sqlite_uri, tmp_path):
    # Given `qbsync sync start` running as its own worker (no REDIS_URL), pulling customers,
    # held at the moment it asks QuickBooks for the second page
    reached, release = threading.Event(), threading.Event()
    on_request(sim, "/customers", 2, lambda: (reached.set(), release.wait(timeout=30)))
    qbsync = Path(sys.executable).with_name("qbsync")
    proc = subprocess.Popen([str(qbsync), "sync", "start", "--objects", "customer"],
                            env=_cli_env(sqlite_uri, sim, tmp_path), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert reached.wait(timeout=EXIT_TIMEOUT_S), "the second page was never asked for"
        # When the person presses Ctrl+C
        proc.send_signal(signal.SIGINT)
        release.set()
        output, _ = proc.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # Then the command says the session is cancelled, that nothing else could take it over,
    # and that the next sync carries on from where it stopped
    assert proc.returncode == 1, output
    assert "session 1 cancelled: no REDIS_URL, so no other worker can take it over" in output
    assert "the next sync carries on with customer from where it stopped" in output
    assert "the next worker resumes" not in output
    # And the session ended at once (nothing holds the next start off), its checkpoint kept
    session = reload(SyncSession, 1)
    first = runs_by_name(1)["customer"]
    assert session.status == "cancelled" and first.status == "cancelled"
    assert first.processed in (PAGE_LIMIT, 2 * PAGE_LIMIT) and first.checkpoint["name_from"]
    assert manager.active_session() is None
    db.session.remove()
    # When the next sync runs
    result = CliRunner().invoke(cli, ["sync", "start", "--objects", "customer", "--wait"],
                                obj=ScriptInfo(create_app=lambda: embedded_app),
                                catch_exceptions=False)
    # Then it carries on from the checkpoint: each customer read once over the two sessions
    assert result.exit_code == 0, result.output
    assert "customer carries on where session 1 was cancelled" in result.output
    second = runs_by_name(2)["customer"]
    assert second.status == "completed"
    assert first.created + second.created == db.session.query(Customer).count() == 450
    assert second.processed == 450 - first.processed and second.unchanged == 0
