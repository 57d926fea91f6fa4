"""Sessions over the API: start, history, current, one session, cancel (DESIGN §7; errors:
test_session_errors.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import SyncSession
from webapp.models.types import utcnow
from webapp.sync.manager import HISTORY, encode_cursor, errors_of

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CONTRACT_FIELDS = {
    "id", "status", "mode", "started_at", "completed_at", "duration_s", "selected_objects",
    "planned_objects", "current_object", "current_record_id", "total_records",
    "processed_records", "progress_percentage", "error_count", "cancel_requested", "objects",
}
OBJECT_FIELDS = {"name", "status", "total", "processed", "created", "updated", "unchanged",
                 "deleted", "pushed", "conflicts", "failed", "api_calls"}


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


# --- start ------------------------------------------------------------------------------


def test_start_with_a_token_returns_202_and_the_pending_session(token_client, bearer):
    # Given a script with an API token
    # When it starts a sync of sales orders
    response = token_client.post("/api/v1/sessions", headers=bearer,
                                 json={"objects": ["sales_order"], "mode": "full"})
    # Then the session is accepted, pending, with its dependencies planned first
    assert response.status_code == 202
    doc = response.get_json()
    assert set(doc) >= CONTRACT_FIELDS
    assert doc["status"] == "pending" and doc["mode"] == "full"
    assert doc["selected_objects"] == ["sales_order"]
    planned = {p["name"]: p["reason"] for p in doc["planned_objects"]}
    assert list(planned) == ["customer", "vendor", "item", "sales_order"]
    assert planned["customer"] == "needed by sales_order" and planned["vendor"] == "needed by item"
    assert [o["name"] for o in doc["objects"]] == list(planned)
    assert all(set(o) >= OBJECT_FIELDS for o in doc["objects"])
    assert doc["progress_percentage"] == 0 and doc["cancel_requested"] is False
    assert response.headers["Location"] == f"/api/v1/sessions/{doc['id']}"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("body", [None, {}, {"objects": []}, {"objects": None}])
def test_start_without_objects_syncs_everything_incrementally(token_client, bearer, body):
    kwargs = {"json": body} if body is not None else {}
    response = token_client.post("/api/v1/sessions", headers=bearer, **kwargs)
    assert response.status_code == 202
    doc = response.get_json()
    assert doc["mode"] == "incremental"
    assert len(doc["objects"]) == 7 and doc["objects"][0]["name"] == "customer"


def test_start_from_the_browser_needs_the_csrf_header(logged_in):
    # Given a logged-in browser session
    # When the dashboard posts without the CSRF header
    refused = logged_in.post("/api/v1/sessions", json={"objects": ["customer"]}, csrf=False)
    # Then it is refused, and nothing started
    assert refused.status_code == 400
    assert _error(refused)["code"] == "csrf_failed"
    assert db.session.scalar(db.select(db.func.count(SyncSession.id))) == 0
    # And with the header it starts, remembering who started it
    accepted = logged_in.post("/api/v1/sessions", json={"objects": ["customer"]})
    assert accepted.status_code == 202
    assert accepted.get_json()["created_by"] == "staff@example.com"


def test_start_without_auth_is_401(client):
    # Given a browser that is not logged in (it does hold a CSRF token)
    response = client.post("/api/v1/sessions", json={})
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert db.session.scalar(db.select(db.func.count(SyncSession.id))) == 0


def test_start_without_auth_or_csrf_token_is_401(token_client):
    # Given a script that sends neither a token nor a CSRF header
    response = token_client.post("/api/v1/sessions", json={})
    # Then it is told to authenticate
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/sessions/current",
                                  "/api/v1/sessions/1", "/api/v1/sessions/1/errors",
                                  "/api/v1/status", "/api/v1/objects", "/api/v1/openapi.json"])
def test_reading_without_auth_is_401(token_client, path):
    response = token_client.get(path)
    assert response.status_code == 401 and _error(response)["code"] == "unauthorized"


def test_start_while_one_is_active_is_409_naming_it(token_client, bearer):
    first = token_client.post("/api/v1/sessions", headers=bearer, json={}).get_json()
    response = token_client.post("/api/v1/sessions", headers=bearer, json={"mode": "full"})
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "session_active"
    assert f"session {first['id']}" in error["message"]


def test_start_while_one_no_worker_attends_is_409_saying_what_to_check(token_client, bearer,
                                                                        make_session):
    stuck = make_session("pending", age_s=600)
    response = token_client.post("/api/v1/sessions", headers=bearer, json={})
    assert response.status_code == 409
    message = _error(response)["message"]
    assert f"session {stuck.id} is pending" in message
    assert "no worker has reported on it for over 2 minutes" in message
    assert "check that a worker is running, or cancel it" in message
    current = token_client.get("/api/v1/sessions/current", headers=bearer).get_json()
    assert current["stalled"] is True


def test_start_after_the_last_one_ended_is_accepted(token_client, bearer, make_session):
    make_session("cancelled")
    assert token_client.post("/api/v1/sessions", headers=bearer, json={}).status_code == 202


@pytest.mark.parametrize(
    ("payload", "code", "in_message"),
    [
        ({"objects": ["customer", "widget", "gadget"]}, "unknown_object", "'widget', 'gadget'"),
        ({"mode": "everything"}, "invalid_mode", '"incremental" or "full"'),
        ({"mode": None}, "invalid_mode", "mode"),
        ({"objects": "customer"}, "invalid_request", "objects"),
        ({"objects": [1, 2]}, "invalid_request", "objects.0"),
        ({"objects": [""]}, "invalid_request", "objects.0"),
        ({"objects": ["customer"], "priority": "high"}, "invalid_request", "'priority'"),
        (["customer"], "invalid_request", "JSON object"),
        ("full", "invalid_request", "JSON object"),
    ],
)
def test_start_refuses_bad_requests_with_400(token_client, bearer, payload, code, in_message):
    response = token_client.post("/api/v1/sessions", headers=bearer, json=payload)
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == code
    assert in_message in error["message"]
    assert db.session.scalar(db.select(db.func.count(SyncSession.id))) == 0


@pytest.mark.parametrize("raw", ['{"objects": [', "{'mode': 'full'}", "\xff\xfe", "nul"])
def test_start_refuses_malformed_json_with_400(token_client, bearer, raw):
    response = token_client.post("/api/v1/sessions", headers={**bearer,
                                 "Content-Type": "application/json"}, data=raw)
    assert response.status_code == 400
    assert _error(response) == {"code": "malformed_json",
                                "message": "The request body is not valid JSON."}


# --- history ----------------------------------------------------------------------------


def test_history_is_newest_first_and_pages_with_an_opaque_cursor(token_client, bearer,
                                                                  make_session):
    # Given five finished sessions
    ids = [make_session("completed", age_s=600 - i).id for i in range(5)]
    # When a client pages through them two at a time
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/sessions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = token_client.get(url, headers=bearer).get_json()
        seen += [s["id"] for s in body["sessions"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()  # opaque, not a bare id
    # Then it sees every session once, newest first, in three pages
    assert seen == ids[::-1] and pages == 3


def test_history_defaults_to_twenty_per_page(token_client, bearer, make_session):
    for _ in range(21):
        make_session("completed")
    body = token_client.get("/api/v1/sessions", headers=bearer).get_json()
    assert len(body["sessions"]) == 20 and body["next_cursor"]


def test_history_of_a_new_install_is_empty(logged_in):
    assert logged_in.get("/api/v1/sessions").get_json() == {"sessions": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=-3", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("limit=", "invalid_limit"),
        ("cursor=not-a-cursor", "invalid_cursor"),
        ("cursor=" + "A" * 201, "invalid_cursor"),
        ("cursor=" + encode_cursor(2**70, HISTORY), "invalid_cursor"),
        ("cursor=" + encode_cursor(3, errors_of(1)), "invalid_cursor"),
        ("cursor=dj" + "Ii" * 3, "invalid_cursor"),
    ],
)
def test_history_refuses_bad_paging_with_400(token_client, bearer, query, code):
    response = token_client.get(f"/api/v1/sessions?{query}", headers=bearer)
    assert response.status_code == 400
    assert _error(response)["code"] == code


def test_history_accepts_the_largest_limit(token_client, bearer):
    assert token_client.get("/api/v1/sessions?limit=100", headers=bearer).status_code == 200


# --- current and one session ------------------------------------------------------------


def test_current_is_404_before_any_sync(token_client, bearer):
    response = token_client.get("/api/v1/sessions/current", headers=bearer)
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_current_is_the_running_session_else_the_latest(token_client, bearer, make_session):
    make_session("completed", age_s=500)
    latest = make_session("failed", age_s=100)
    assert token_client.get("/api/v1/sessions/current", headers=bearer).get_json()["id"] \
        == latest.id
    running = make_session("running", age_s=300)  # older start, but it is the one in progress
    doc = token_client.get("/api/v1/sessions/current", headers=bearer).get_json()
    assert doc["id"] == running.id and doc["status"] == "running"


def test_one_session_reports_progress_counts_and_times(logged_in, make_session):
    session = make_session("running", ("customer", "vendor"), total=200, processed=50,
                           counts={"created": 20, "updated": 10, "unchanged": 15, "failed": 5})
    doc = logged_in.get(f"/api/v1/sessions/{session.id}").get_json()
    assert doc["total_records"] == 400 and doc["processed_records"] == 100
    assert doc["progress_percentage"] == 25
    assert doc["objects"][0] | {"created": 20, "updated": 10, "unchanged": 15, "failed": 5} \
        == doc["objects"][0]
    assert ISO_Z.match(doc["started_at"]) and doc["completed_at"] is None
    assert doc["duration_s"] >= 60  # still running: measured to now


def test_a_finished_session_has_its_duration_and_a_full_bar(logged_in, make_session):
    doc = logged_in.get(f"/api/v1/sessions/{make_session('completed').id}").get_json()
    assert doc["duration_s"] == 30.0 and doc["progress_percentage"] == 100
    assert ISO_Z.match(doc["completed_at"])


def test_progress_never_goes_backwards_within_a_session(logged_in, make_session):
    # Given a session whose bar once reached 60 %
    session = make_session("running", total=100, processed=60)
    first = logged_in.get(f"/api/v1/sessions/{session.id}").get_json()["progress_percentage"]
    session.progress_percentage = first
    # When a retried page makes the object's total grow
    session.object_runs[0].total = 300
    db.session.commit()
    # Then the percentage holds instead of dropping to 20 %
    again = logged_in.get(f"/api/v1/sessions/{session.id}").get_json()["progress_percentage"]
    assert first == 60 and again == 60


@pytest.mark.parametrize("path", ["/api/v1/sessions/9999", "/api/v1/sessions/0",
                                  "/api/v1/sessions/99999999999999999999",
                                  "/api/v1/sessions/9999/errors",
                                  "/api/v1/sessions/abc"])
def test_unknown_session_is_404(token_client, bearer, path):
    response = token_client.get(path, headers=bearer)
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


# --- cancel -----------------------------------------------------------------------------


def test_cancel_with_a_token_is_202_and_marks_the_session_cancelling(token_client, bearer):
    started = token_client.post("/api/v1/sessions", headers=bearer, json={}).get_json()
    response = token_client.post(f"/api/v1/sessions/{started['id']}/cancel", headers=bearer)
    assert response.status_code == 202
    doc = response.get_json()
    assert doc["status"] == "cancelling" and doc["cancel_requested"] is True
    # asking twice is harmless
    again = token_client.post(f"/api/v1/sessions/{started['id']}/cancel", headers=bearer)
    assert again.status_code == 202


def test_cancel_from_the_browser_needs_the_csrf_header(logged_in, make_session):
    session = make_session("running")
    refused = logged_in.post(f"/api/v1/sessions/{session.id}/cancel", csrf=False)
    assert refused.status_code == 400 and _error(refused)["code"] == "csrf_failed"
    assert logged_in.post(f"/api/v1/sessions/{session.id}/cancel").status_code == 202


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_cancel_of_an_ended_session_is_409(token_client, bearer, make_session, status):
    session = make_session(status)
    response = token_client.post(f"/api/v1/sessions/{session.id}/cancel", headers=bearer)
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "session_ended" and status in error["message"]


def test_cancel_of_the_current_session_needs_no_id(token_client, bearer, make_session):
    # Given an older finished sync and a running one
    make_session("completed")
    running = make_session("running")
    # When a tool cancels "the current sync"
    response = token_client.post("/api/v1/sessions/current/cancel", headers=bearer)
    # Then the running one is cancelling, and the finished one is untouched
    assert response.status_code == 202
    assert response.get_json()["id"] == running.id
    assert response.get_json()["status"] == "cancelling"
    history = token_client.get("/api/v1/sessions", headers=bearer).get_json()["sessions"]
    assert [s["status"] for s in history] == ["cancelling", "completed"]


@pytest.mark.parametrize("earlier", [None, "completed", "cancelled"])
def test_cancel_of_the_current_session_when_none_runs_is_409(token_client, bearer, make_session,
                                                              earlier):
    if earlier:
        make_session(earlier)
    response = token_client.post("/api/v1/sessions/current/cancel", headers=bearer)
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "no_active_session" and "nothing to cancel" in error["message"]


def test_cancel_of_an_unknown_session_is_404(token_client, bearer):
    response = token_client.post("/api/v1/sessions/4242/cancel", headers=bearer)
    assert response.status_code == 404 and _error(response)["code"] == "not_found"


def test_a_session_whose_worker_went_quiet_is_marked_stalled(logged_in, make_session):
    # Given a running object whose worker last reported five minutes ago
    session = make_session("running")
    session.object_runs[0].heartbeat_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    # Then the API says so, on the session and on the object
    doc = logged_in.get(f"/api/v1/sessions/{session.id}").get_json()
    assert doc["stalled"] is True and doc["objects"][0]["stalled"] is True
