"""``sim serve`` on the command line."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner

from qbdsim.cli import sim_cli
from qbdsim.config import SimConfig
from qbdsim.server import SimServer
from qbdsim.testing import running_simulator
from webapp import PROJECT_ROOT


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


def _curl(line: str) -> tuple[dict[str, str], str]:
    """The headers and URL of a documented `curl -H ... URL` command."""
    words = shlex.split(line.replace("\\\n", " "))
    assert words[0] == "curl"
    headers = dict(w.split(": ", 1) for w in words[1:-1] if w != "-H")
    return headers, words[-1]


def test_serve_prints_the_credentials_it_accepts_and_a_curl_that_reads_a_customer():
    # Given `qbsync sim serve` on a free port
    qbsync = Path(sys.executable).with_name("qbsync")
    proc = subprocess.Popen([str(qbsync), "sim", "serve", "--port", "0", "--size", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or "Press Ctrl+C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        banner = "".join(lines)
        # Then its banner names the key and the end user it accepts, as settings
        assert "CONDUCTOR_SECRET_KEY=sk_sim_qbsync_local" in banner
        assert "CONDUCTOR_END_USER_ID=end_usr_qbsim_local" in banner
        # And the curl it prints reads a customer, as printed
        (curl,) = [line.strip() for line in lines if line.strip().startswith("curl ")]
        headers, url = _curl(curl)
        answer = httpx.get(url, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["objectType"] == "qbd_customer"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_the_readme_documents_the_simulator_s_credentials_and_a_working_curl():
    # Given the README's simulator section
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## The QuickBooks simulator"):readme.index("## API")]
    assert f"`{SimConfig.secret_key}`" in section and f"`{SimConfig.end_user_id}`" in section
    curl = re.search(r"```sh\n(curl .*?)\n```", section, re.S).group(1)
    headers, url = _curl(curl)
    # When its curl is sent to a running simulator (on a free port, not 8765)
    with running_simulator(size=50) as server:
        url = url.replace(f"http://127.0.0.1:{SimConfig.port}", server.url)
        answer = httpx.get(url, headers=headers, timeout=10)
    # Then it reads a customer
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["objectType"] == "qbd_customer"
