"""``sim serve`` on the command line."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from qbdsim.cli import sim_cli
from qbdsim.server import SimServer


def test_serve_help_lists_the_options():
    result = CliRunner().invoke(sim_cli, ["serve", "--help"])
    assert result.exit_code == 0
    options = ("--host", "--port", "--size", "--seed", "--latency-ms", "--fault-rate")
    for option in (*options, "--lost-response-rate"):
        assert option in result.output


def test_group_is_named_sim():
    assert sim_cli.name == "sim"
    assert "serve" in sim_cli.commands


def test_python_dash_m_qbdsim_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "qbdsim", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--fault-rate" in result.stdout


def test_serve_prints_where_to_point_conductor(monkeypatch):
    # Bind a free port, then stop instead of blocking: Ctrl+C is what ends a real session
    calls = []

    def serve_once(self):
        calls.append(self.base_url)
        self.stop()

    monkeypatch.setattr(SimServer, "serve_forever", serve_once)
    result = CliRunner().invoke(sim_cli, ["serve", "--port", "0", "--size", "50"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0].startswith("http://127.0.0.1:") and calls[0].endswith("/v1")
    assert f"CONDUCTOR_BASE_URL={calls[0]}" in result.output
    assert "sk_sim_qbsync_local" in result.output and "end_usr_qbsim_local" in result.output
    assert "127.0.0.1" in result.output and "no authentication" in result.output
