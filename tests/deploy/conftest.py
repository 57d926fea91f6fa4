"""Fixtures for the deployment tests: the app as `git push` sends it, and a uv to install it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from webapp import PROJECT_ROOT


@pytest.fixture
def redis_db(redis_url) -> Iterator[str]:
    """The tests' Redis database (QBSYNC_TEST_REDIS_URL), flushed before and after."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


def uv_path() -> str:
    """The uv that `make` installed beside the tests' interpreter (else one on PATH)."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is not installed: `make test` installs it into .venv"
    return found


@pytest.fixture
def slug(tmp_path) -> Path:
    """A copy of the files git would push (tracked, or new and not ignored): no .venv, no
    instance/, no .env — what Heroku's build starts from."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    app_dir = tmp_path / "app"
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not pushed
            (app_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app_dir / name)
    return app_dir
