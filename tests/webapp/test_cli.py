"""The `qbsync` command line: users, tokens, migrations and the demo."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from webapp.cli import cli
from webapp.extensions import db
from webapp.models.auth import ApiToken, User

DEMO_START_TIMEOUT_S = 60


def run(app, *args, input=None):
    result = CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                                input=input, catch_exceptions=False)
    return result


def test_users_create_with_password_then_log_in(app, client):
    result = run(app, "users", "create", "Clerk@Example.com", "--password", "a long password")
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"email": "clerk@example.com",
                                       "password": "a long password"}).status_code == 302


def test_users_create_prompts_for_the_password(app):
    result = run(app, "users", "create", "p@example.com", input="prompted pw 1\nprompted pw 1\n")
    assert result.exit_code == 0, result.output
    assert User.by_email("p@example.com").check_password("prompted pw 1")


def test_users_create_refuses_a_short_password(app):
    result = run(app, "users", "create", "s@example.com", "--password", "short")
    assert result.exit_code == 2 and "at least 8 characters" in result.output


def test_tokens_create_prints_a_working_token_on_the_last_line(app):
    run(app, "users", "create", "bot@example.com", "--password", "a long password")
    result = run(app, "tokens", "create", "bot@example.com", "--name", "erp")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"qbs_[A-Za-z0-9_-]{40,}", token)
    assert db.session.scalar(db.select(ApiToken)).name == "erp"
    auth = {"Authorization": f"Bearer {token}"}
    response = app.test_client().get("/api/v1/objects", headers=auth)
    assert response.status_code == 200


def test_tokens_create_for_an_unknown_user_fails_clearly(app):
    result = run(app, "tokens", "create", "ghost@example.com")
    assert result.exit_code == 1 and "there is no user 'ghost@example.com'" in result.output


def test_users_create_leaves_an_existing_login_alone(app, client):
    # Given a staff login
    run(app, "users", "create", "clerk@example.com", "--password", "the first password")
    # When someone runs `users create` for the same email (any case)
    result = run(app, "users", "create", "Clerk@example.com", "--password", "another password")
    # Then it is refused, saying how to change the password, and the old password still works
    assert result.exit_code == 1
    assert "already exists" in result.output and "users set-password" in result.output
    assert User.by_email("clerk@example.com").check_password("the first password")


def test_set_password_ends_existing_logins(app, client):
    run(app, "users", "create", "clerk@example.com", "--password", "the first password")
    client.post("/login", data={"email": "clerk@example.com", "password": "the first password"})
    assert client.get("/").status_code == 200
    result = run(app, "users", "set-password", "clerk@example.com",
                 input="the second password\nthe second password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302  # logged out
    assert User.by_email("clerk@example.com").check_password("the second password")
    assert run(app, "users", "set-password", "nobody@example.com",
               "--password", "whatever long").exit_code == 1


def test_disabling_a_user_logs_them_out_and_refuses_their_tokens(app, client):
    # Given a clerk logged in, with an API token for a script
    run(app, "users", "create", "clerk@example.com", "--password", "a long password")
    token = run(app, "tokens", "create", "clerk@example.com").output.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    client.post("/login", data={"email": "clerk@example.com", "password": "a long password"})
    assert client.get("/").status_code == 200
    # When they leave and are disabled
    result = run(app, "users", "disable", "clerk@example.com")
    assert result.exit_code == 0, result.output
    # Then their browser login and their token stop working, and listings say so
    assert client.get("/").status_code == 302
    assert app.test_client().get("/api/v1/objects", headers=auth).status_code == 401
    assert re.search(r"clerk@example.com\s+disabled", run(app, "users", "list").output)
    assert re.search(r"clerk@example.com\s+revoked", run(app, "tokens", "list").output)
    refused = run(app, "users", "create", "clerk@example.com", "--password", "a long password")
    assert refused.exit_code == 1 and "users enable" in refused.output
    refused = run(app, "tokens", "create", "clerk@example.com")
    assert refused.exit_code == 1 and "is disabled" in refused.output
    reset = run(app, "users", "set-password", "clerk@example.com", "--password", "new long pw")
    assert reset.exit_code == 0 and "still disabled" in reset.output
    # And enabling them lets them log in, but their old token stays revoked for good
    enabled = run(app, "users", "enable", "clerk@example.com")
    assert enabled.exit_code == 0 and "were revoked" in enabled.output
    assert app.test_client().get("/api/v1/objects", headers=auth).status_code == 401
    fresh = run(app, "tokens", "create", "clerk@example.com").output.strip().splitlines()[-1]
    assert app.test_client().get(
        "/api/v1/objects", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_set_password_with_revoke_tokens_ends_logins_and_tokens(app, client):
    # Given a clerk with two API tokens, whose password leaked
    run(app, "users", "create", "clerk@example.com", "--password", "a long password")
    tokens = [run(app, "tokens", "create", "clerk@example.com").output.strip().splitlines()[-1]
              for _ in range(2)]
    # When the password is reset with --revoke-tokens
    reset = run(app, "users", "set-password", "clerk@example.com", "--password",
                "another long one", "--revoke-tokens")
    assert reset.exit_code == 0, reset.output
    assert "2 API token(s) of theirs revoked" in reset.output
    # Then neither token works any more; without the flag tokens are left alone
    for token in tokens:
        assert app.test_client().get(
            "/api/v1/objects", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    kept = run(app, "tokens", "create", "clerk@example.com").output.strip().splitlines()[-1]
    assert run(app, "users", "set-password", "clerk@example.com", "--password",
               "yet another long one").exit_code == 0
    assert app.test_client().get(
        "/api/v1/objects", headers={"Authorization": f"Bearer {kept}"}).status_code == 200


@pytest.mark.parametrize("password", ["password123", "Qwerty2024!", "  LETMEIN1  ", "short"])
def test_common_or_short_passwords_are_refused(app, password):
    result = run(app, "users", "create", "clerk@example.com", "--password", password)
    assert result.exit_code == 2
    assert "common" in result.output or "at least 8 characters" in result.output


def test_users_list_shows_everyone_without_secrets(app):
    assert "no users yet" in run(app, "users", "list").output
    run(app, "users", "create", "b@example.com", "--password", "a long password")
    run(app, "users", "create", "a@example.com", "--password", "a long password")
    lines = run(app, "users", "list").output.splitlines()
    assert lines[0].split() == ["EMAIL", "STATUS", "CREATED", "LAST", "LOGIN"]
    assert [line.split()[:2] for line in lines[1:]] == [["a@example.com", "active"],
                                                        ["b@example.com", "active"]]
    assert "never" in lines[1] and "scrypt" not in "".join(lines)


def test_a_revoked_token_is_refused_and_listed_as_revoked(app):
    # Given two tokens for two tools
    run(app, "users", "create", "bot@example.com", "--password", "a long password")
    first = run(app, "tokens", "create", "bot@example.com", "--name", "erp").output
    second = run(app, "tokens", "create", "bot@example.com", "--name", "bi").output
    erp_id = int(re.search(r"token (\d+) 'erp'", first).group(1))
    erp, bi = (o.strip().splitlines()[-1] for o in (first, second))
    # When the ERP's token leaks and is revoked by its id
    result = run(app, "tokens", "revoke", str(erp_id))
    assert result.exit_code == 0 and "revoked" in result.output
    # Then it is refused, the other still works, and the list tells them apart (no secrets)
    api = app.test_client()
    assert api.get("/api/v1/objects", headers={"Authorization": f"Bearer {erp}"}).status_code == 401
    assert api.get("/api/v1/objects", headers={"Authorization": f"Bearer {bi}"}).status_code == 200
    listing = run(app, "tokens", "list", "bot@example.com").output
    assert re.search(rf"{erp_id}\s+erp\s+bot@example.com\s+revoked", listing)
    assert re.search(r"bi\s+bot@example.com\s+live", listing)
    assert erp not in listing and bi not in listing
    # And revoking again, or an unknown id, says so
    assert "already revoked" in run(app, "tokens", "revoke", str(erp_id)).output
    assert run(app, "tokens", "revoke", "999").exit_code == 1
    assert run(app, "tokens", "revoke", str(2**70)).exit_code == 2  # a usage error, no traceback


def test_db_upgrade_on_an_empty_database(tmp_path):
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path}/fresh.db")
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_migrates_creates_the_login_and_serves_the_login_page(tmp_path):
    port, sim_port = _free_port(), _free_port()
    proc, output, deadline = _start_demo(tmp_path, port, sim_port)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        assert f"http://127.0.0.1:{port}/" in output
        password = re.search(r"log in as boss@example.com with password (\S+)", output).group(1)
        page = _get_when_up(http, "/login", deadline)
        assert page.status_code == 200 and "Log in to qbsync" in page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        login = http.post("/login", data={"email": "boss@example.com", "password": password,
                                          "csrf_token": token})
        assert login.status_code == 302 and login.headers["location"] == "/"
        first = _demo_customers(sim_port)
    finally:
        _stop(proc)
    assert (tmp_path / "qbsync.db").exists()
    # A restarted demo serves the same QuickBooks company (same ids): the WMS it mirrored
    # before still matches it; it keeps the password, and so the browser stays logged in
    proc, output, deadline = _start_demo(tmp_path, port, sim_port)
    try:
        assert f"log in as boss@example.com with password {password}" in output
        assert _get_when_up(http, "/", deadline).status_code == 200
        assert _demo_customers(sim_port) == first
    finally:
        _stop(proc)
        http.close()


def test_a_restarted_demo_keeps_its_login_unless_qbsync_admin_password_changes_it(
        app, client, monkeypatch, tmp_path):
    from webapp.cli import demo_login

    # Given the demo's first start made its login, and a browser logged in with it
    email, password = demo_login(str(tmp_path))
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302
    # When the demo starts again
    assert demo_login(str(tmp_path)) == (email, password)
    # Then the browser is still logged in
    assert client.get("/").status_code == 200
    # But when QBSYNC_ADMIN_PASSWORD names another password, that one is set, and logins end
    monkeypatch.setitem(app.config, "QBSYNC_ADMIN_PASSWORD", "a brand new password")
    assert demo_login(str(tmp_path)) == (email, "a brand new password")
    assert client.get("/").status_code == 302
    # And a password its owner changed since (`users set-password`) is theirs to keep
    monkeypatch.setitem(app.config, "QBSYNC_ADMIN_PASSWORD", None)
    run(app, "users", "set-password", email, "--password", "the owner's own one")
    assert demo_login(str(tmp_path)) == (email, None)
    assert User.by_email(email).check_password("the owner's own one")


def _start_demo(instance, port: int, sim_port: int):
    env = {**os.environ, "QBSYNC_INSTANCE_PATH": str(instance), "QBSYNC_MODE": "demo",
           "QBSYNC_ADMIN_EMAIL": "boss@example.com"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    qbsync = Path(sys.executable).with_name("qbsync")
    proc = subprocess.Popen([str(qbsync), "demo", "--port", str(port), "--sim-port",
                             str(sim_port), "--size", "200"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + DEMO_START_TIMEOUT_S
    lines = []
    while time.monotonic() < deadline and not any("password" in x for x in lines):
        lines.append(proc.stdout.readline())
    return proc, "".join(lines), deadline


def _demo_customers(sim_port: int) -> list[tuple[str, str]]:
    with httpx.Client(base_url=f"http://127.0.0.1:{sim_port}", timeout=10) as sim:
        page = sim.get("/v1/quickbooks-desktop/customers", params={"limit": 20}, headers={
            "Authorization": "Bearer sk_sim_qbsync_local",
            "Conductor-End-User-Id": "end_usr_qbsim_local"})
    page.raise_for_status()
    return [(c["id"], c["fullName"]) for c in page.json()["data"]]


def _stop(proc) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


def _get_when_up(http, path, deadline):
    while True:
        try:
            return http.get(path)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_without_settings_help_still_lists_commands_and_commands_name_the_setting(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("QBSYNC_MODE", "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    env["QBSYNC_INSTANCE_PATH"] = str(tmp_path)
    qbsync = str(Path(sys.executable).with_name("qbsync"))
    helped = subprocess.run([qbsync, "--help"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0
    for command in ("demo", "db", "users", "tokens", "sync", "sim"):
        assert f"  {command} " in helped.stdout
    refused = subprocess.run([qbsync, "users", "create", "a@example.com", "--password",
                              "long enough"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    # said plainly: no usage block, as if the command line were wrong
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: SECRET_KEY is not set")
    assert "Usage:" not in refused.stderr and "Traceback" not in refused.stderr
