"""Scripted answers (`/_sim/answers`): the next requests answered with a given status and
QuickBooks code, a dropped connection or a delay — in turn, one each, in Conductor's envelope."""

from __future__ import annotations

import conductor
import httpx
import pytest

from qbdsim.testing import assert_conforms


def _script(wire, *answers, replace=False):
    body = {"answers": list(answers), **({"replace": True} if replace else {})}
    response = wire.sim("POST", "answers", body)
    assert response.status_code == 200, response.text
    return response.json()["pending"]


@pytest.mark.parametrize(("answer", "status", "etype", "code", "integration"), [
    ({"status": 503}, 503, "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", None),
    ({"status": 500}, 500, "INTERNAL_ERROR", "INTERNAL_SERVER_ERROR", None),
    ({"status": 401}, 401, "AUTHENTICATION_ERROR", "API_KEY_INVALID", None),
    ({"status": 403}, 403, "PERMISSION_ERROR", "PERMISSION_DENIED", None),
    ({"status": 422}, 422, "INVALID_REQUEST_ERROR", "UNPROCESSABLE_ENTITY", None),
    ({"status": 502, "integrationCode": "3175"}, 502, "INTEGRATION_ERROR", "QBD_REQUEST_ERROR",
     "3175"),
    ({"status": 409, "type": "INTEGRATION_CONNECTION_ERROR",
      "code": "INTEGRATION_CONNECTION_NOT_SET_UP"}, 409, "INTEGRATION_CONNECTION_ERROR",
     "INTEGRATION_CONNECTION_NOT_SET_UP", None),
])
def test_an_error_answer_comes_in_conductors_envelope(wire, answer, status, etype, code,
                                                       integration):
    _script(wire, answer)
    response = wire.get("customers", params={"limit": 1})
    assert response.status_code == status
    body = assert_conforms(response, "GET", "/quickbooks-desktop/customers")["error"]
    assert (body["type"], body["code"]) == (etype, code)
    assert body.get("integrationCode") == integration
    if integration:
        assert body["message"].startswith(f"QBD Request Error ({integration}): ")
    # One answer, once: the next request is served
    assert wire.get("customers", params={"limit": 1}).status_code == 200


def test_answers_are_given_in_turn_and_listed_until_given(wire):
    assert _script(wire, {"status": 429}, {"status": 504, "code": "QBD_REQUEST_TIMEOUT",
                                           "type": "INTEGRATION_CONNECTION_ERROR"}) == 2
    assert [a["status"] for a in wire.sim("GET", "answers").json()["answers"]] == [429, 504]
    assert wire.get("vendors").status_code == 429
    second = wire.get("customers")
    assert second.status_code == 504 and second.json()["error"]["code"] == "QBD_REQUEST_TIMEOUT"
    assert wire.sim("GET", "answers").json()["answers"] == []
    assert wire.get("customers").status_code == 200


def test_replace_starts_the_script_over_and_reset_empties_it(wire):
    _script(wire, {"status": 500}, {"status": 500})
    assert _script(wire, {"status": 403}, replace=True) == 1
    assert wire.get("customers").status_code == 403
    _script(wire, {"status": 500})
    assert wire.sim("POST", "reset").status_code == 200
    assert wire.get("customers").status_code == 200


def test_a_sdk_retry_takes_the_next_answer(server, eu):
    wire_answers = [{"status": 503}, {"status": 502, "integrationCode": "3170"}]
    with httpx.Client(base_url=server.url) as http:
        http.post("/_sim/answers", json={"answers": wire_answers}).raise_for_status()
    retrying = conductor.Conductor(api_key=server.config.secret_key, base_url=server.base_url,
                                   max_retries=2)
    with retrying:
        page = retrying.qbd.customers.list(conductor_end_user_id=eu, limit=1)
    assert len(page.data) == 1  # two failures, then the third attempt is served
    assert server.simulator.stats()["requests"]["GET /v1/quickbooks-desktop/customers"] == 3


def test_a_dropped_answer_closes_the_connection_before_any_work(server, client, eu):
    with httpx.Client(base_url=server.url) as http:
        http.post("/_sim/answers", json={"answers": [{"drop": True}]}).raise_for_status()
        before = http.get("/_sim/counts").json()
        with pytest.raises(conductor.APIConnectionError) as caught:
            client.qbd.customers.create(conductor_end_user_id=eu, name="Dropped Before Work")
        assert not isinstance(caught.value, conductor.APITimeoutError)
        assert http.get("/_sim/counts").json() == before  # nothing was created


def test_a_delayed_answer_runs_into_the_clients_timeout(server, eu):
    with httpx.Client(base_url=server.url) as http:
        http.post("/_sim/answers", json={"answers": [{"delay_ms": 3000}]}).raise_for_status()
    hasty = conductor.Conductor(api_key=server.config.secret_key, base_url=server.base_url,
                                max_retries=0, timeout=0.3)
    with hasty, pytest.raises(conductor.APITimeoutError):
        hasty.qbd.customers.list(conductor_end_user_id=eu, limit=1)


@pytest.mark.parametrize("body", [
    {},
    {"answers": "503"},
    {"answers": [503]},
    {"answers": [{}]},
    {"answers": [{"status": 200}]},
    {"answers": [{"status": True}]},
    {"answers": [{"status": 503, "drop": True}]},
    {"answers": [{"drop": False}]},
    {"answers": [{"delay_ms": -1}]},
    {"answers": [{"delay_ms": 5, "code": "X"}]},
    {"answers": [{"status": 500, "type": "RATE_LIMIT_ERROR"}]},
    {"answers": [{"status": 502, "integrationCode": 3170}]},
    {"answers": [{"status": 502, "colour": "red"}]},
    {"answers": [{"status": 500}, {"status": 99}]},
])
def test_a_bad_script_is_refused_whole(wire, body):
    response = wire.sim("POST", "answers", body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "INVALID_REQUEST_ERROR"
    assert wire.sim("GET", "answers").json()["answers"] == []
