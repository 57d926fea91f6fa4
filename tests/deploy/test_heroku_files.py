"""The files Heroku reads: one lock for the Python buildpack, `.python-version`, the Procfile
and `app.json` (add-ons, config vars, formation), each checked against what the app needs."""

from __future__ import annotations

import json
import re
import secrets
import shlex
import subprocess
import tomllib
import zipfile

import pytest
from packaging.specifiers import SpecifierSet

from tests.actors.conftest import procfile_command
from tests.deploy.conftest import uv_path
from webapp import PROJECT_ROOT
from webapp.config import PRODUCTION_REQUIRED, ConfigError, load_settings

# What the heroku/python buildpack looks for, in its order; the first one found wins.
PACKAGE_MANAGER_FILES = ("Pipfile.lock", "Pipfile", "requirements.txt", "poetry.lock", "uv.lock")
ADDON_PLANS = {"heroku-postgresql": "DATABASE", "heroku-redis": "REDIS"}


@pytest.fixture
def app_json() -> dict:
    return json.loads((PROJECT_ROOT / "app.json").read_text())


def config_vars(app_json: dict) -> dict[str, str]:
    """The config vars Heroku sets from app.json, with what a person types for the required
    ones: add-on URLs (`as` + `_URL`), generated secrets, values, filled-in required vars."""
    env = {f"{addon['as']}_URL": f"{addon['plan']}://example" for addon in app_json["addons"]}
    for name, spec in app_json["env"].items():
        if spec.get("generator") == "secret":
            env[name] = secrets.token_hex(32)
        elif "value" in spec:
            env[name] = spec["value"]
        elif spec.get("required", True):
            env[name] = f"typed-{name.lower()}"
    return env


def test_app_json_names_every_setting_production_refuses_to_start_without(app_json, tmp_path):
    # Given the config vars a deploy from app.json sets
    env = config_vars(app_json)
    # Then each setting production requires is among them
    assert set(PRODUCTION_REQUIRED) <= set(env)
    # And production starts with them (as `postgres://`, the add-on's scheme), and without any
    # one of them it would not
    settings = load_settings({**env, "DATABASE_URL": "postgres://u:p@db:5432/d"}, str(tmp_path))
    assert settings["QBSYNC_MODE"] == "production"
    for name in PRODUCTION_REQUIRED:
        with pytest.raises(ConfigError, match=name):
            load_settings({k: v for k, v in env.items() if k != name}, str(tmp_path))


def test_app_json_generates_the_secret_key_and_asks_for_conductor_s(app_json):
    assert app_json["env"]["SECRET_KEY"] == {**app_json["env"]["SECRET_KEY"],
                                             "generator": "secret"}
    assert "value" not in app_json["env"]["SECRET_KEY"]
    for name in ("CONDUCTOR_SECRET_KEY", "CONDUCTOR_END_USER_ID"):
        assert app_json["env"][name]["required"] is True and "value" not in app_json["env"][name]
    for spec in app_json["env"].values():
        assert spec["description"]


def test_app_json_provisions_postgres_and_redis_and_one_web_and_one_worker(app_json):
    assert {addon["plan"].split(":")[0]: addon["as"] for addon in app_json["addons"]} \
        == ADDON_PLANS
    assert app_json["buildpacks"] == [{"url": "heroku/python"}]
    assert {name: spec["quantity"] for name, spec in app_json["formation"].items()} \
        == {"web": 1, "worker": 1}
    for process in app_json["formation"]:
        assert procfile_command(process)
    # The release phase is the Procfile's: migrations before each release goes live
    assert shlex.split(procfile_command("release")) == ["qbsync", "db", "upgrade"]


def test_the_buildpack_finds_uv_lock_and_nothing_else():
    # A requirements.txt beside uv.lock would win, silently, with whatever it says
    found = [name for name in PACKAGE_MANAGER_FILES if (PROJECT_ROOT / name).exists()]
    assert found == ["uv.lock"]


def test_python_version_is_a_major_version_the_project_and_the_lock_accept():
    # heroku/python needs .python-version with uv; a major version gets security releases
    version = (PROJECT_ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    for requires in (project["requires-python"], lock["requires-python"]):
        assert SpecifierSet(requires).contains(f"{version}.0")


def test_the_lock_is_current_and_covers_linux_x86_64():
    # Given uv.lock, when uv checks it against pyproject.toml, then nothing needs relocking
    check = subprocess.run([uv_path(), "lock", "--check"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # And every package was proven installable on Heroku's (and our machines') platform
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    assert lock["required-markers"] == ["platform_machine == 'x86_64' and sys_platform == 'linux'"]
    pinned = {p["name"] for p in lock["package"] if "registry" in p["source"]}
    assert {"flask", "gunicorn", "dramatiq", "psycopg-binary", "conductor-py"} <= pinned


@pytest.mark.slow
def test_the_project_builds_without_a_setuptools_warning(slug, tmp_path):
    # When the pushed files are built into a wheel, as every install of the app does
    built = subprocess.run([uv_path(), "build", "--wheel", "--no-progress", "--out-dir",
                            str(tmp_path / "dist")], cwd=slug, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    # Then setuptools has nothing to complain of, and the license is an SPDX expression
    assert "Warning" not in built.stdout + built.stderr, built.stderr
    (wheel,) = (tmp_path / "dist").glob("qbsync-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist()
                                     if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: LicenseRef-Proprietary" in metadata
