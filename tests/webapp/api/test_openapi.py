"""`/api/v1/openapi.json` describes the whole API, and the API keeps to it (schemathesis)."""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import ALL_CHECKS
from schemathesis.constants import NOT_SET
from schemathesis.experimental import OPEN_API_3_1

from webapp.api.schemas import MAX_ID, SessionDocument, SyncErrorDocument
from webapp.extensions import db
from webapp.models import (
    Customer,
    InventoryAdjustment,
    Invoice,
    Item,
    PurchaseOrder,
    SalesOrder,
    SalesOrderLine,
    SyncRecordEvent,
    Vendor,
)
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
    # 11 for sessions and the rest, 1 for conflicts, and per object of the records API a list,
    # a record and its history, plus create and change (invoices: refused, declared so), and
    # counts, hold, lift the hold, and sync this record now
    assert len(routes) == 11 + 1 + 7 * (5 + 4)


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
    assert set(start["responses"]) == {"202", "400", "401", "409", "411", "413", "415", "500"}
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


def test_the_records_api_is_described_per_object(spec):
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    create = paths["/api/v1/records/customer"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerCreate"}
    fields = schemas["CustomerCreateFields"]
    assert fields["required"] == ["name"] and fields["additionalProperties"] is False
    assert fields["properties"]["name"]["maxLength"] == 41
    assert "balance" not in fields["properties"]
    assert schemas["ItemCreateFields"]["properties"]["name"]["maxLength"] == 31
    assert set(paths["/api/v1/records/invoice"]["post"]["responses"]) >= {"405"}
    assert "lines" in schemas["SalesOrderRecord"]["properties"]
    assert "lines" not in schemas["CustomerRecord"]["properties"]
    conflicts = paths["/api/v1/sessions/{session_id}/conflicts"]["get"]
    assert conflicts["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConflictPage"}


@pytest.fixture
def api_schema(app, spec, make_session):
    # Some history and errors to read; the first generated start is accepted, later ones 409.
    make_session("completed", ("customer", "vendor"), errors=3)
    session = make_session("cancelled", ("item",), errors=2)
    _some_records(session.id)
    return schemathesis.from_dict(spec, app=_isolated(app),
                                  data_generation_methods=DataGenerationMethod.all())


def _some_records(session_id: int) -> None:
    """A few WMS rows of each kind (as pulled, and as created in the WMS) and a conflict, so
    the records endpoints have something to read and change."""
    customer = Customer(name="Acme", full_name="Acme", qb_id="80000001-1", sync_base={})
    vendor = Vendor(name="Parts Co", qb_id="80000002-1")
    item = Item(name="Widget", full_name="Widget", item_type="inventory")
    db.session.add_all([customer, vendor, item])
    db.session.flush()
    day = date(2025, 1, 2)
    order = SalesOrder(customer_id=customer.id, transaction_date=day, ref_number="S-1")
    order.lines.append(SalesOrderLine(item_id=item.id, quantity=2, position=0))
    db.session.add_all([
        order, PurchaseOrder(vendor_id=vendor.id, transaction_date=day),
        Invoice(customer_id=customer.id, transaction_date=day, qb_id="80000003-1"),
        InventoryAdjustment(transaction_date=day),
        SyncRecordEvent(session_id=session_id, object_type="customer", record_id=customer.id,
                        action="conflict", field="email",
                        detail={"base": None, "wms_value": "a@example.com",
                                "quickbooks_value": "b@example.com", "winner": "wms",
                                "rule": "contact fields: the WMS wins conflicts"}),
    ])
    db.session.commit()


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
        # A body that breaks the schema is refused, never half-accepted (an id in the path
        # that cannot name a row is a 404 first: there is nothing to change).
        expected = 400 if _valid_ids(case.path_parameters) else 404
        assert response.status_code == expected, (case.body, response.text)


def _valid_ids(path_parameters) -> bool:
    values = [str(v) for v in (path_parameters or {}).values() if not isinstance(v, bool)]
    return len(values) == len(path_parameters or {}) and all(
        v.isascii() and v.isdigit() and 1 <= int(v) <= MAX_ID for v in values)
