"""`GET /api/v1/status`: last success, current session, and the QuickBooks connection."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import make_app
from webapp.api.quickbooks import (
    ReachabilityCache,
    connection_mode,
    health_check,
)
from webapp.api.status import EXTENSION, reachability
from webapp.sync import manager
from webapp.sync.contact import CONTACT_KEY, CONTACT_TTL_S, MemoryContact, RedisContact

SIM_SETTINGS = {"CONDUCTOR_SECRET_KEY": "sk_sim_qbsync_local",
                "CONDUCTOR_END_USER_ID": "end_usr_qbsim_local"}


def test_status_of_a_new_install(logged_in):
    body = logged_in.get("/api/v1/status").get_json()
    assert body == {
        "last_successful_sync_at": None,
        "current_session": None,
        "quickbooks": {"mode": "conductor", "reachable": False},  # no Conductor key set
    }


def test_status_shows_the_last_success_and_the_current_session(logged_in, make_session):
    done = make_session("completed", age_s=900, duration_s=30)
    make_session("failed", age_s=300)
    running = make_session("running", age_s=60)
    body = logged_in.get("/api/v1/status").get_json()
    assert body["current_session"]["id"] == running.id
    assert body["current_session"]["status"] == "running"
    expected = done.completed_at.strftime("%Y-%m-%dT%H:%M:%S")
    assert body["last_successful_sync_at"].startswith(expected)
    assert body["last_successful_sync_at"].endswith("Z")


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("http://127.0.0.1:8765/v1", "simulator"),
        ("http://localhost:8765/v1", "simulator"),
        ("http://[::1]:8765/v1", "simulator"),
        ("http://127.0.0.2:9000/v1", "simulator"),
        (None, "conductor"),
        ("https://api.conductor.is/v1", "conductor"),
        ("https://conductor.example.com/v1", "conductor"),
        ("http://10.0.0.5:8765/v1", "conductor"),
        ("http://localhost.evil.example/v1", "conductor"),
    ],
)
def test_mode_is_simulator_only_for_a_loopback_base_url(url, mode):
    assert connection_mode({"CONDUCTOR_BASE_URL": url}) == mode


def test_reachable_comes_from_conductors_health_check(sqlite_uri, user, fake_conductor):
    # Given the app pointed at a (fake) simulator that answers its health check
    app = make_app(sqlite_uri, CONDUCTOR_BASE_URL=fake_conductor.base_url, **SIM_SETTINGS)
    client = _logged_in(app)
    # When the dashboard polls the status three times
    bodies = [client.get("/api/v1/status").get_json() for _ in range(3)]
    # Then QuickBooks is reachable through the simulator, asked once (the answer is cached)
    assert bodies[0]["quickbooks"] == {"mode": "simulator", "reachable": True}
    assert bodies == [bodies[0]] * 3
    assert len(fake_conductor.calls) == 1
    call = fake_conductor.calls[0]
    assert call["path"] == "/v1/quickbooks-desktop/health-check"
    assert call["auth"] == "Bearer sk_sim_qbsync_local"
    assert call["end_user"] == "end_usr_qbsim_local"


@pytest.mark.parametrize("status", [401, 404, 500, 503])
def test_a_failed_health_check_is_unreachable_and_its_payload_never_shown(
    sqlite_uri, user, fake_conductor, status
):
    fake_conductor.status = status
    fake_conductor.body = (b'{"error": {"message": "QBD not running: secret detail",'
                           b' "code": "QBD_CONNECTION_ERROR", "httpStatusCode": 503}}')
    app = make_app(sqlite_uri, CONDUCTOR_BASE_URL=fake_conductor.base_url, **SIM_SETTINGS)
    response = _logged_in(app).get("/api/v1/status")
    assert response.status_code == 200
    assert response.get_json()["quickbooks"] == {"mode": "simulator", "reachable": False}
    assert b"secret detail" not in response.data and b"QBD_" not in response.data
    assert len(fake_conductor.calls) == 1  # no retries


def test_a_health_check_that_is_not_ok_is_unreachable(fake_conductor):
    fake_conductor.body = b'{"duration": 3, "status": "error"}'
    assert health_check({"CONDUCTOR_BASE_URL": fake_conductor.base_url, **SIM_SETTINGS}) is False


def test_nothing_listening_is_unreachable():
    config = {"CONDUCTOR_BASE_URL": "http://127.0.0.1:1/v1", **SIM_SETTINGS}
    assert health_check(config) is False


@pytest.mark.parametrize("missing", ["CONDUCTOR_SECRET_KEY", "CONDUCTOR_END_USER_ID"])
def test_missing_settings_are_unreachable_without_a_call(fake_conductor, missing):
    config = {"CONDUCTOR_BASE_URL": fake_conductor.base_url, **SIM_SETTINGS, missing: None}
    assert health_check(config) is False
    assert fake_conductor.calls == []


def test_a_malformed_base_url_is_unreachable_not_an_error():
    assert health_check({"CONDUCTOR_BASE_URL": "not a url", **SIM_SETTINGS}) is False


def test_the_cached_answer_expires_after_its_ttl():
    now, answers = [0.0], iter([True, False])
    cache = ReachabilityCache(check=lambda _config: next(answers), ttl_s=15, clock=lambda: now[0])
    assert cache.reachable({}) is True
    now[0] = 14.9
    assert cache.reachable({}) is True
    now[0] = 15.0
    assert cache.reachable({}) is False


def test_the_cache_is_per_settings():
    cache = ReachabilityCache(check=lambda config: config["CONDUCTOR_BASE_URL"].endswith("up"))
    assert cache.reachable({"CONDUCTOR_BASE_URL": "http://127.0.0.1/up"}) is True
    assert cache.reachable({"CONDUCTOR_BASE_URL": "http://127.0.0.1/down"}) is False


def test_pollers_do_not_queue_behind_a_slow_refresh():
    # Given a cached answer that has gone stale, and a health check that hangs
    now, entered, release, calls = [0.0], threading.Event(), threading.Event(), []

    def slow_check(_config):
        calls.append(1)
        if len(calls) > 1:
            entered.set()
            release.wait(5)
        return True

    cache = ReachabilityCache(check=slow_check, ttl_s=15, clock=lambda: now[0])
    cache.reachable({})
    now[0] = 100.0
    refresher = threading.Thread(target=cache.reachable, args=({},))
    refresher.start()
    assert entered.wait(5)
    # When other pollers ask meanwhile, they get the previous answer at once
    assert [cache.reachable({}) for _ in range(5)] == [True] * 5
    release.set()
    refresher.join()
    # And QuickBooks was asked only twice in all
    assert len(calls) == 2


def test_what_the_sync_heard_answers_for_quickbooks(sqlite_uri, user, fake_conductor):
    # Given an app whose sync records what it hears from QuickBooks (on a clock of our own)
    app = make_app(sqlite_uri, CONDUCTOR_BASE_URL=fake_conductor.base_url, **SIM_SETTINGS)
    now = [1000.0]
    heard = app.extensions["qbsync_contact"] = MemoryContact(clock=lambda: now[0])
    app.extensions[EXTENSION] = ReachabilityCache(clock=lambda: now[0])
    client = _logged_in(app)
    end_user = SIM_SETTINGS["CONDUCTOR_END_USER_ID"]

    def reachable() -> bool:
        return client.get("/api/v1/status").get_json()["quickbooks"]["reachable"]

    # When the sync has just read a page, or just failed to reach QuickBooks, that is the
    # answer, and Conductor is not asked
    heard.record(end_user, True)
    assert reachable() is True
    heard.record(end_user, False)
    assert reachable() is False
    assert fake_conductor.calls == []
    # A minute later, with no sync running, Conductor's health check is asked instead
    now[0] += 60
    assert reachable() is True and len(fake_conductor.calls) == 1
    # While a sync runs, what it heard last stands for as long as a request may take (the
    # worker may be waiting on a slow QuickBooks; a health check would queue behind it) ...
    heard.record(end_user, False)
    with app.app_context():
        manager.start_session(["customer"])
    now[0] += CONTACT_TTL_S - 1
    assert reachable() is False and len(fake_conductor.calls) == 1
    # ... and past that, the sync is not talking to QuickBooks: the health check asks again
    now[0] += 2
    assert reachable() is True and len(fake_conductor.calls) == 2
    # When a sync starts before it has heard anything, a health check of that age stands too
    # (its first request may be in flight), and an older one is asked again
    now[0] += 60
    assert reachable() is True and len(fake_conductor.calls) == 2
    now[0] += CONTACT_TTL_S
    assert reachable() is True and len(fake_conductor.calls) == 3


def test_the_sync_s_record_is_shared_through_redis(redis_url):
    import redis

    contact = RedisContact(redis_url)
    contact.record("end_usr_a", False)
    age_s, reachable = contact.last("end_usr_a")
    assert reachable is False and 0 <= age_s < 5
    assert contact.last("end_usr_b") is None
    key = CONTACT_KEY.format(end_user="end_usr_a")
    server = redis.Redis.from_url(redis_url)
    assert 0 < server.ttl(key) <= CONTACT_TTL_S
    server.delete(key)
    # and with Redis out of reach, nothing was heard (the status falls back on a health check)
    assert RedisContact("redis://127.0.0.1:1/0").last("end_usr_a") is None


def test_status_uses_the_apps_cache(app):
    assert isinstance(reachability(), ReachabilityCache)


def _logged_in(app):
    from tests.conftest import CSRFClient, log_in

    app.test_client_class = CSRFClient
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client
