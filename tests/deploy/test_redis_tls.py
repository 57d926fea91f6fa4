"""Heroku's Redis add-on speaks TLS (`rediss://`) with a self-signed certificate: redis-py
refuses it unless told to accept it, which app.json does (QBSYNC_REDIS_VERIFY_TLS=false)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator

import pytest
import redis

from actors.broker import _environment_redis_url, build_broker
from tests.actors.conftest import free_port, wait_for
from webapp import PROJECT_ROOT
from webapp.config import load_settings

PRODUCTION = {"SECRET_KEY": "k" * 32, "DATABASE_URL": "postgres://u@db/d",
              "CONDUCTOR_SECRET_KEY": "sk_test", "CONDUCTOR_END_USER_ID": "end_usr_test"}


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def tls_redis(tmp_path) -> Iterator[str]:
    """A Redis that speaks only TLS, on a free port, with a self-signed certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=qbsync-test", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file",
         str(cert), "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
         "--requirepass", "secret", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _accepts(port) or server.poll() is not None, 10, "Redis over TLS")
        assert server.poll() is None, "redis-server did not start with TLS"
        yield f"rediss://:secret@127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def app_json_setting() -> str:
    return json.loads((PROJECT_ROOT / "app.json").read_text())["env"][
        "QBSYNC_REDIS_VERIFY_TLS"]["value"]


@pytest.mark.redis
def test_a_self_signed_redis_certificate_is_refused_by_default(tls_redis, tmp_path):
    # Given production settings with a TLS Redis and nothing said about its certificate
    url = load_settings({**PRODUCTION, "REDIS_URL": tls_redis}, str(tmp_path))["REDIS_URL"]
    # Then the URL is used as given, and the self-signed certificate is refused
    assert url == tls_redis
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        redis.Redis.from_url(url, socket_timeout=5).ping()


@pytest.mark.redis
def test_app_json_lets_web_and_worker_reach_a_self_signed_redis(tls_redis, tmp_path,
                                                                monkeypatch):
    # Given the setting app.json gives a Heroku app
    env = {**PRODUCTION, "REDIS_URL": tls_redis,
           "QBSYNC_REDIS_VERIFY_TLS": app_json_setting()}
    # Then the web process's Redis (health checks, cancel flags, queueing) answers
    url = load_settings(env, str(tmp_path))["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_timeout=5)
    assert client.ping()
    client.close()
    # And so does the worker's broker, built from the environment before any app exists
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    broker = build_broker(_environment_redis_url())
    try:
        assert broker.client.ping()
    finally:
        broker.client.connection_pool.disconnect()
