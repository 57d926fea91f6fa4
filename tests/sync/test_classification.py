"""The classification table (webapp.sync.conductor.classify) over real HTTP: the simulator
answers each status and QuickBooks code (`/_sim/answers`), the real conductor-py client raises
what it raises, and the failure comes out transient, per record or fatal as DESIGN §5 and
FACTS §4 say. A cursor request that fails restarts its listing, whatever the failure, except
a refused key or permission."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.sync.conftest import SIM_END_USER, SIM_KEY, sync
from webapp.extensions import db
from webapp.models import SyncSession
from webapp.sync import manager, runner
from webapp.sync.conductor import (
    BAD_KEY,
    CURSOR,
    FATAL,
    NOT_SET_UP,
    QB_NOT_RUNNING,
    RECORD,
    TRANSIENT,
    QuickBooks,
    QuickBooksError,
)

CONNECTION = "INTEGRATION_CONNECTION_ERROR"
QBD_ERROR = {"status": 502, "type": "INTEGRATION_ERROR", "code": "QBD_REQUEST_ERROR"}

# (scripted answer, kind, code of the QuickBooksError)
TABLE = [
    # Conductor or the way to QuickBooks failing: wait and try again
    ({"status": 500}, TRANSIENT, "INTERNAL_SERVER_ERROR"),
    ({"status": 502, "type": CONNECTION, "code": "QBD_CONNECTION_ERROR",
      "integrationCode": "0x80040408"}, TRANSIENT, "QBD_CONNECTION_ERROR"),
    ({"status": 502}, TRANSIENT, "BAD_GATEWAY"),
    ({"status": 503}, TRANSIENT, "SERVICE_UNAVAILABLE"),
    ({"status": 504, "type": CONNECTION, "code": "QBD_REQUEST_TIMEOUT"}, TRANSIENT,
     "QBD_REQUEST_TIMEOUT"),
    ({"status": 409, "type": CONNECTION, "code": "INTEGRATION_CONNECTION_NOT_ACTIVE"},
     TRANSIENT, "INTEGRATION_CONNECTION_NOT_ACTIVE"),
    # What the SDK itself retries (FACTS §4.4), whatever the type says
    ({"status": 408}, TRANSIENT, "REQUEST_TIMEOUT"),
    ({"status": 409}, TRANSIENT, "CONFLICT"),
    ({"status": 429, "code": "TOO_MANY_REQUESTS"}, TRANSIENT, "TOO_MANY_REQUESTS"),
    # QuickBooks busy with the record ("in use"): the identical request again, later
    ({**QBD_ERROR, "integrationCode": "3170"}, TRANSIENT, "qb_3170"),
    ({**QBD_ERROR, "integrationCode": "3175"}, TRANSIENT, "qb_3175"),
    # This record: QuickBooks refuses it, the others go on
    ({**QBD_ERROR, "integrationCode": "3100"}, RECORD, "qb_3100"),
    ({**QBD_ERROR, "integrationCode": "3140"}, RECORD, "qb_3140"),
    ({**QBD_ERROR, "integrationCode": "3090"}, RECORD, "qb_3090"),
    ({**QBD_ERROR, "integrationCode": "3200"}, RECORD, "qb_3200"),
    ({"status": 400}, RECORD, "INVALID_REQUEST"),
    ({"status": 404, "code": "RESOURCE_MISSING"}, RECORD, "RESOURCE_MISSING"),
    ({"status": 422}, RECORD, "UNPROCESSABLE_ENTITY"),
    # Nothing will change by itself: the session fails, saying why
    ({"status": 401}, FATAL, "API_KEY_INVALID"),
    ({"status": 403}, FATAL, "PERMISSION_DENIED"),
    ({"status": 409, "type": CONNECTION, "code": "INTEGRATION_CONNECTION_NOT_SET_UP"}, FATAL,
     "INTEGRATION_CONNECTION_NOT_SET_UP"),
]


def _label(case) -> str:
    answer = case[0]
    return "-".join(str(v) for k, v in answer.items() if k in ("status", "code",
                                                                 "integrationCode"))


def _client(simulator, timeout_s: float = 30.0) -> QuickBooks:
    return QuickBooks(api_key=SIM_KEY, end_user_id=SIM_END_USER,
                      base_url=simulator.base_url, timeout_s=timeout_s)


def _script(sim, *answers) -> None:
    sim.http.post("/_sim/answers", json={"answers": list(answers)}).raise_for_status()


def _failure(call) -> QuickBooksError:
    with pytest.raises(QuickBooksError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(("answer", "kind", "code"), TABLE, ids=[_label(c) for c in TABLE])
def test_each_status_and_quickbooks_code_is_classified(simulator, sim, answer, kind, code):
    _script(sim, answer)
    with _client(simulator) as qb:
        failure = _failure(lambda: qb.lookup("customers", {"ids": "80000001-1234567890"}))
    assert (failure.kind, failure.code, failure.status) == (kind, code, answer["status"])
    assert failure.retryable is (kind == TRANSIENT)
    assert sim.http.get("/_sim/answers").json()["answers"] == []  # one request, no retry


@pytest.mark.parametrize(("answer", "message"), [
    ({"status": 502, "type": CONNECTION, "code": "QBD_CONNECTION_ERROR"}, QB_NOT_RUNNING),
    ({"status": 401}, BAD_KEY),
    ({"status": 409, "type": CONNECTION, "code": "INTEGRATION_CONNECTION_NOT_SET_UP"},
     NOT_SET_UP),
])
def test_the_failures_people_must_act_on_say_what_to_do(simulator, sim, answer, message):
    _script(sim, answer)
    with _client(simulator) as qb:
        assert _failure(qb.health_check).message == message


def test_a_timeout_is_transient(simulator, sim):
    _script(sim, {"delay_ms": 1500})
    with _client(simulator, timeout_s=0.3) as qb:
        failure = _failure(lambda: qb.lookup("customers", {"ids": "80000001-1234567890"}))
    assert (failure.kind, failure.code) == (TRANSIENT, "timeout")


def test_a_dropped_connection_is_transient(simulator, sim):
    _script(sim, {"drop": True})
    with _client(simulator) as qb:
        failure = _failure(lambda: qb.lookup("customers", {"ids": "80000001-1234567890"}))
    assert (failure.kind, failure.code) == (TRANSIENT, "connection")
    assert "could not be reached" in failure.message


@pytest.mark.parametrize(("answer", "kind", "code"), TABLE, ids=[_label(c) for c in TABLE])
def test_a_failed_cursor_request_restarts_unless_the_key_or_permission_is_refused(
        simulator, sim, answer, kind, code):
    _script(sim, answer)
    with _client(simulator) as qb:
        failure = _failure(lambda: qb.list_page("customers", {"limit": 5}, cursor="c_any"))
    refused = answer["status"] in (401, 403)
    assert failure.kind == (FATAL if refused else CURSOR)
    assert failure.retryable is not refused


@pytest.mark.parametrize("answer", [{"delay_ms": 1500}, {"drop": True}])
def test_a_cursor_request_that_times_out_or_drops_restarts_the_listing(simulator, sim, answer):
    _script(sim, answer)
    with _client(simulator, timeout_s=0.3) as qb:
        failure = _failure(lambda: qb.list_page("customers", {"limit": 5}, cursor="c_any"))
    assert failure.kind == CURSOR and failure.retryable


# --- what a session does with each kind --------------------------------------------------


def test_a_transient_failure_is_retried_and_the_session_completes(sync_app, sim):
    # Given three transient answers: the SDK's own three attempts at the first page fail
    _script(sim, {"status": 503}, {**QBD_ERROR, "integrationCode": "3175"},
            {"status": 504, "type": CONNECTION, "code": "QBD_REQUEST_TIMEOUT"})
    # Then the object is tried again, from its checkpoint, and the session completes
    doc = sync(["customer"])
    assert doc["objects"][0]["processed"] > 0
    assert sim.http.get("/_sim/answers").json()["answers"] == []


@pytest.mark.parametrize(("answer", "reason"), [
    ({"status": 403, "message": "This end-user is not yours."},
     "Conductor refused the request: This end-user is not yours."),
    ({"status": 401}, BAD_KEY),
    ({"status": 400, "message": 'Invalid enum value at "status"'},
     'Invalid enum value at "status"'),  # an invalid request on a list: the listing cannot go on
])
def test_a_fatal_failure_fails_the_session_with_its_reason_at_once(sync_app, sim, answer,
                                                                   reason):
    _script(sim, answer)
    session = manager.start_session(["customer"])
    with QuickBooks.from_config(sync_app.config) as qb:
        runner.run_session(session.id, qb, backoff_s=0.01)
    db.session.expire_all()
    ended = db.session.scalar(select(SyncSession).where(SyncSession.id == session.id))
    assert ended.status == "failed" and ended.failure_reason == reason
    assert sim.stats()["total"] == 1  # not retried
