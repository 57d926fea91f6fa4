"""`make audit` (tools/audit.py): every locked package checked, and a failure that says so when
no vulnerability database answers — pip-audit alone reports "No known vulnerabilities" then.
A stand-in OSV service on loopback answers here, as the simulator stands in for Conductor."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.actors.conftest import free_port
from webapp import PROJECT_ROOT

AUDIT = PROJECT_ROOT / "tools" / "audit.py"
UNREACHABLE = "no vulnerability database could be reached"


def locked_packages() -> set[str]:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    return {p["name"] for p in lock["package"] if "registry" in p["source"]}


def audit(osv_url: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(AUDIT), "--vulnerability-service", "osv", "--osv-url", osv_url,
         "--cache-dir", str(tmp_path / "cache"), "--timeout", "10"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def advisory(name: str) -> dict:
    return {"id": "GHSA-qbsy-test-0001", "summary": f"a test advisory for {name}",
            "affected": [{"package": {"name": name, "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "999.0"}]}]}]}


@pytest.fixture
def osv() -> Iterator[Callable[..., tuple[str, list[str]]]]:
    """`start(vulnerable=())`: a stand-in OSV query API; its URL and the names it was asked."""
    servers: list[ThreadingHTTPServer] = []

    def start(vulnerable: tuple[str, ...] = ()) -> tuple[str, list[str]]:
        asked: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name = query["package"]["name"]
                asked.append(name)
                found = {"vulns": [advisory(name)]} if name in vulnerable else {}
                body = json.dumps(found).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/v1/query", asked

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_audit_fails_and_says_so_when_no_vulnerability_database_answers(tmp_path):
    # Given a vulnerability service nobody listens at
    url = f"http://127.0.0.1:{free_port()}/v1/query"
    # When the audit runs, then it fails, and says nothing was checked, not that all is well
    result = audit(url, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert UNREACHABLE in result.stderr and "not a pass" in result.stderr
    assert "No known vulnerabilities" not in result.stdout + result.stderr


def test_the_audit_checks_every_locked_package_and_passes_when_none_is_known(osv, tmp_path):
    # Given a vulnerability database that knows of nothing
    url, asked = osv()
    # When the audit runs
    result = audit(url, tmp_path)
    # Then it passes, having asked about every package the lock pins, whatever its platform
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(asked) == locked_packages()
    assert f"{len(locked_packages())} locked packages checked" in result.stdout


def test_the_audit_fails_on_a_locked_package_with_a_known_vulnerability(osv, tmp_path):
    # Given a database with an advisory against the locked Flask
    url, _asked = osv(vulnerable=("flask",))
    # When the audit runs, then it fails, naming the package, the advisory and the fix
    result = audit(url, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "GHSA-qbsy-test-0001" in result.stdout and "fixed in: 999.0" in result.stdout
    assert result.stdout.startswith("flask ")
    assert UNREACHABLE not in result.stderr
