"""`/api/v1/openapi.json` describes the whole API, and the API keeps to it (schemathesis)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import ALL_CHECKS
from schemathesis.constants import NOT_SET
from schemathesis.experimental import OPEN_API_3_1

from webapp.api.schemas import SessionDocument, SyncErrorDocument
from webapp.sync import manager

OPEN_API_3_1.enable()
# schemathesis 3.x still subclasses jsonschema's deprecated RefResolver when it loads a schema.
pytestmark = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)
EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def spec(token_client, bearer) -> dict:
    response = token_client.get("/api/v1/openapi.json", headers=bearer)
    assert response.status_code == 200
    return response.get_json()


def test_every_api_route_is_described(app, spec):
    # Given every route the app serves under /api/v1
    routes = {
        (method.lower(), rule.rule.replace("<int:", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # Then each one is in the description, and nothing else is
    described = {(m, path) for path, ops in spec["paths"].items() for m in ops}
    assert described == routes
    assert len(routes) == 11


def test_the_description_names_statuses_bodies_and_security(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API token from `qbsync tokens create EMAIL`.",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    paths = spec["paths"]
    assert paths["/api/v1/health"]["get"]["security"] == []
    start = paths["/api/v1/sessions"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StartSessionRequest"}
    assert set(start["responses"]) == {"202", "400", "401", "409", "500"}
    assert set(paths["/api/v1/sessions/{session_id}/cancel"]["post"]["responses"]) == {
        "202", "400", "401", "404", "409", "500"}
    assert set(paths["/api/v1/sessions/current"]["get"]["responses"]) >= {"200", "404"}
    history = paths["/api/v1/sessions"]["get"]
    assert [p["name"] for p in history["parameters"]] == ["limit", "cursor"]
    assert history["parameters"][0]["schema"]["maximum"] == 100
    mode = spec["components"]["schemas"]["StartSessionRequest"]["properties"]["mode"]
    assert mode["enum"] == ["incremental", "full"]
    error = spec["components"]["schemas"]["ErrorDocument"]
    assert error["required"] == ["error"]
    for path, operations in paths.items():
        for method, op in operations.items():
            assert op["summary"] and op["operationId"], (method, path)
            assert "500" in op["responses"], (method, path)


def test_response_models_cover_the_managers_documents(make_session):
    # The documents the manager builds and the models that describe them name the same fields,
    # so a field added on one side and not the other fails here, not in a client.
    session = make_session("running", errors=1)
    document = manager.session_document(session)
    assert set(document) == set(SessionDocument.model_fields)
    from webapp.api.schemas import ObjectRun

    assert set(document["objects"][0]) == set(ObjectRun.model_fields)
    error = manager.error_document(session_errors(session)[0])
    assert set(error) == set(SyncErrorDocument.model_fields)


def session_errors(session):
    rows, _ = manager.list_errors(session.id)
    return rows


@pytest.fixture
def api_schema(app, spec, make_session):
    # Some history and errors to read; the first generated start is accepted, later ones 409.
    make_session("completed", ("customer", "vendor"), errors=3)
    make_session("cancelled", ("item",), errors=2)
    return schemathesis.from_dict(spec, app=_isolated(app),
                                  data_generation_methods=DataGenerationMethod.all())


def _isolated(app):
    """Each call in a fresh app context, as under a real server (see tests.conftest)."""

    def wsgi(environ, start_response):
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


# (None, not the default, for the filters: schemathesis 3.39 warns about its own defaults.)
schema = schemathesis.from_pytest_fixture("api_schema", method=None, endpoint=None, tag=None,
                                          operation_id=None)


# Negative cases of operations without parameters are identical to positive ones, and the API
# deliberately ignores query parameters it does not know (cache busters), so schemathesis's
# "negative data rejected" check is replaced by the assertion below, where it means something.
CHECKS = tuple(check for check in ALL_CHECKS if check.__name__ != "negative_data_rejection")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_own_description(case, bearer):
    # No 500s, and every answer matches the status, content type and schema it declares.
    # `ignored_auth` also replays each call without the token and expects a 401.
    response = case.call_and_validate(headers=bearer, checks=CHECKS)
    if case.data_generation_method == DataGenerationMethod.negative and case.body is not NOT_SET:
        # A body that breaks the schema is refused, never half-accepted.
        assert response.status_code == 400, (case.body, response.text)
