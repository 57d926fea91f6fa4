"""A QuickBooks that cannot be reached, as a newcomer meets it: the CLI says where it looked and
what to set, once per attempt, then the plain reason; the log has one WARNING line per handled
failure, never an ERROR with a chain of tracebacks."""

from __future__ import annotations

import logging

from click.testing import CliRunner
from flask.cli import ScriptInfo

from actors import embedded
from tests.actors.conftest import free_port, reload
from webapp.cli import cli
from webapp.models.sync import SyncSession
from webapp.sync import manager


def _nobody_listens(app) -> str:
    """Point the app at a port where nothing listens (a demo on another SIM_PORT, say)."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    app.config["CONDUCTOR_BASE_URL"] = url
    return url


def test_a_cli_sync_that_cannot_reach_quickbooks_says_where_it_looked_each_attempt(
        embedded_app):
    # Given `qbsync sync start --wait` pointed where nothing listens, with two retries
    url = _nobody_listens(embedded_app)
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 2
    # When it runs
    result = CliRunner().invoke(cli, ["sync", "start", "--objects", "vendor", "--wait"],
                                obj=ScriptInfo(create_app=lambda: embedded_app),
                                catch_exceptions=False)
    # Then it fails, printing one line per attempt that names the URL and what to set ...
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    attempts = [line for line in lines if " attempt " in line]
    assert len(attempts) == 3, result.output
    for number, line in enumerate(attempts, start=1):
        assert f"attempt {number} of 3 failed" in line
        assert f"Conductor could not be reached at {url} (Connection refused)" in line
        assert "Set CONDUCTOR_BASE_URL" in line
    # ... then the plain reason, and no traceback anywhere
    assert lines[-2].startswith(f"reason: Conductor could not be reached at {url}")
    assert "qbsync tried 3 times" in lines[-2]
    assert "Traceback" not in result.output and "unhandled exception" not in result.output
    assert len(lines) < 12, result.output


def test_a_handled_failure_is_one_warning_line_per_attempt_without_a_traceback(
        embedded_app, sim, caplog):
    # Given QuickBooks Desktop is closed, and one retry is allowed
    sim.simulator.update_faults({"qb_running": False})
    embedded_app.config["QBSYNC_MAX_RETRIES"] = 1
    caplog.set_level(logging.INFO)
    # When the demo's in-process worker runs a session
    session = manager.start_session(["customer"])
    embedded.start(embedded_app).join()
    assert reload(SyncSession, session.id).status == "failed"
    # Then each attempt is one WARNING line saying what is wrong, and nothing is an ERROR
    # or carries a traceback
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in loud] == [logging.WARNING] * len(loud)
    assert all(r.exc_info is None for r in caplog.records)
    attempts = [r.getMessage() for r in loud if " attempt " in r.getMessage()]
    assert len(attempts) == 2
    assert all("QuickBooks Desktop is not reachable" in a for a in attempts)
    assert not any("unhandled exception" in r.getMessage() for r in caplog.records)
    assert not any("Retries exceeded" in r.getMessage() for r in caplog.records)
