"""Every response of every simulated endpoint validates against Conductor's OpenAPI spec, and
the real conductor-py client parses every list with its own (strictly validated) models."""

from __future__ import annotations

import pytest

from qbdsim.resources import OTHER_ITEM_PATHS, QB_ONLY_TXN_PATHS, RESOURCES
from qbdsim.testing import assert_conforms

QBD = "/quickbooks-desktop"
PAGINATED = [path for path, res in RESOURCES.items() if res.paginated]
# Receipts and credit memos are never generated: test_sim_receipts lists and retrieves them.
ALL_LISTS = [path for path in RESOURCES if path not in QB_ONLY_TXN_PATHS]
WRITABLE = [path for path, res in RESOURCES.items() if res.writable]


def sdk_resource(client, path: str):
    """``client.qbd.<resource>`` for a Conductor path name."""
    return getattr(client.qbd, path.replace("-", "_"))


@pytest.mark.parametrize("path", ALL_LISTS)
def test_list_response_conforms_to_spec(shared_wire, path):
    # Given a generated company, when each resource is listed
    params = {"limit": 3} if RESOURCES[path].paginated else {}
    if RESOURCES[path].kind == "list":
        params["status"] = "all"
    response = shared_wire.get(path, params=params)
    # Then the envelope and every object match the spec
    assert response.status_code == 200
    body = assert_conforms(response, "GET", f"{QBD}/{path}")
    assert body["data"], f"{path} is empty"
    assert body["url"] == f"/v1{QBD}/{path}"


# The other item kinds have a handful of records each: test_sim_other_items pages them.
@pytest.mark.parametrize(
    "path", [path for path in PAGINATED if path not in (*OTHER_ITEM_PATHS, *QB_ONLY_TXN_PATHS)]
)
def test_cursor_page_conforms_to_spec(shared_wire, path):
    first = shared_wire.get(path, params={"limit": 2}).json()
    assert first["hasMore"] is True
    response = shared_wire.get(path, params={"limit": 2, "cursor": first["nextCursor"]})
    body = assert_conforms(response, "GET", f"{QBD}/{path}")
    assert body["nextCursor"] == first["nextCursor"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("customers", {"excludeAlternateShippingAddresses": "true"}),
        ("sales-orders", {"includeLineItems": "false"}),
        ("sales-orders", {"includeLinkedTransactions": "true"}),
        ("invoices", {"includeLinkedTransactions": "true", "paymentStatus": "not_paid"}),
        ("inventory-adjustments", {"includeLineItems": "false"}),
    ],
)
def test_list_variants_conform_to_spec(shared_wire, path, params):
    response = shared_wire.get(path, params={"limit": 20, **params})
    body = assert_conforms(response, "GET", f"{QBD}/{path}")
    if params.get("includeLineItems") == "false":
        assert all(row["lines"] == [] for row in body["data"])
    if "excludeAlternateShippingAddresses" in params:
        assert all(row["alternateShippingAddresses"] is None for row in body["data"])


@pytest.mark.parametrize("path", ALL_LISTS)
def test_sdk_parses_every_list_with_its_models(shared_client, eu, path):
    # When the real client lists the resource (strict response validation on)
    kwargs = {"conductor_end_user_id": eu}
    if RESOURCES[path].paginated:
        kwargs["limit"] = 25
    page = sdk_resource(shared_client, path).list(**kwargs)
    # Then it gets its own typed models back
    assert page.data
    model = type(page.data[0])
    assert model.__module__.startswith("conductor.types.qbd")
    assert all(row.object_type == RESOURCES[path].object_type for row in page.data)


@pytest.mark.parametrize("path", ALL_LISTS)
def test_retrieve_conforms_to_spec(shared_wire, shared_client, eu, path):
    record_id = shared_wire.get(path, params={"limit": 1} if RESOURCES[path].paginated else {})
    record_id = record_id.json()["data"][0]["id"]
    response = shared_wire.get(f"{path}/{record_id}")
    body = assert_conforms(response, "GET", f"{QBD}/{path}/{{id}}")
    assert body["id"] == record_id
    parsed = sdk_resource(shared_client, path).retrieve(record_id, conductor_end_user_id=eu)
    assert parsed.id == record_id


def test_deleted_lists_and_health_check_conform(shared_wire, shared_client, eu):
    response = shared_wire.get(
        "deleted-transactions",
        params=[("transactionTypes", t) for t in ("sales_order", "invoice", "purchase_order")],
    )
    body = assert_conforms(response, "GET", f"{QBD}/deleted-transactions")
    assert body["data"]
    response = shared_wire.get(
        "deleted-list-objects", params=[("objectTypes", "customer"), ("objectTypes", "vendor")]
    )
    body = assert_conforms(response, "GET", f"{QBD}/deleted-list-objects")
    assert body["data"]
    assert_conforms(shared_wire.get("health-check"), "GET", f"{QBD}/health-check")
    deleted = shared_client.qbd.deleted_list_objects.list(
        conductor_end_user_id=eu, object_types=["customer", "item_inventory"]
    )
    assert {row.list_type for row in deleted.data} <= {"customer", "item_inventory"}
    transactions = shared_client.qbd.deleted_transactions.list(
        conductor_end_user_id=eu, transaction_types=["invoice"]
    )
    assert all(row.transaction_type == "invoice" for row in transactions.data)
    assert shared_client.qbd.health_check(conductor_end_user_id=eu).status == "ok"


def _first(wire, path: str, **params) -> dict:
    return wire.get(path, params={"limit": 1, **params}).json()["data"][0]


def _create_bodies(wire) -> dict[str, dict]:
    accounts = {a["fullName"]: a["id"] for a in wire.get("accounts").json()["data"]}
    customer = _first(wire, "customers")["id"]
    vendor = _first(wire, "vendors")["id"]
    item = _first(wire, "inventory-items", nameFrom="a")["id"]
    service = _first(wire, "service-items")["id"]
    return {
        "customers": {"name": "Conformance Customer", "email": "c@example.com"},
        "vendors": {
            "name": "Conformance Vendor",
            "defaultExpenseAccountIds": [accounts["Utilities"]],
        },
        "inventory-items": {
            "name": "Conformance Widget",
            "incomeAccountId": accounts["Sales:Merchandise"],
            "cogsAccountId": accounts["Cost of Goods Sold"],
            "assetAccountId": accounts["Inventory Asset"],
            "salesPrice": "9.99",
            "quantityOnHand": 12,
        },
        "non-inventory-items": {
            "name": "Conformance Tape",
            "salesAndPurchaseDetails": {
                "incomeAccountId": accounts["Sales:Merchandise"],
                "expenseAccountId": accounts["Office Supplies"],
                "salesPrice": "3.50",
            },
        },
        "service-items": {
            "name": "Conformance Labor",
            "salesOrPurchaseDetails": {
                "postingAccountId": accounts["Sales:Services"],
                "price": "80",
            },
        },
        "other-charge-items": {
            "name": "Conformance Fee",
            "salesOrPurchaseDetails": {"postingAccountId": accounts["Sales:Shipping and Handling"]},
        },
        "accounts": {"name": "Conformance Bank", "accountType": "bank"},
        "sales-orders": {
            "customerId": customer,
            "transactionDate": "2026-01-10",
            "lines": [{"itemId": item, "quantity": 2}, {"itemId": service, "amount": "100.00"}],
        },
        "purchase-orders": {
            "vendorId": vendor,
            "transactionDate": "2026-01-10",
            "lines": [{"itemId": item, "quantity": 24, "rate": "4.25"}],
        },
        "invoices": {
            "customerId": customer,
            "transactionDate": "2026-01-11",
            "lines": [{"itemId": item, "quantity": 1}],
        },
        "inventory-adjustments": {
            "accountId": accounts["Inventory Adjustments"],
            "transactionDate": "2026-01-12",
            "lines": [{"itemId": item, "adjustQuantity": {"quantityDifference": 5}}],
        },
        "item-receipts": {
            "vendorId": vendor,
            "transactionDate": "2026-01-12",
            "itemLines": [{"itemId": item, "quantity": 6, "cost": "4.10"}],
            "expenseLines": [{"accountId": accounts["Freight and Shipping"], "amount": "12.00"}],
        },
        "sales-receipts": {
            "customerId": customer,
            "transactionDate": "2026-01-12",
            "lines": [{"itemId": item, "quantity": 2}, {"itemId": service, "amount": "40.00"}],
        },
        "credit-memos": {
            "customerId": customer,
            "transactionDate": "2026-01-12",
            "lines": [{"itemId": item, "quantity": 1}],
        },
    }


@pytest.mark.parametrize("path", WRITABLE)
def test_create_update_delete_void_conform_to_spec(wire, path):
    res = RESOURCES[path]
    # When a record is created
    response = wire.post(path, json=_create_bodies(wire)[path])
    assert response.status_code == 200, response.text
    created = assert_conforms(response, "POST", f"{QBD}/{path}")
    # And updated, where the simulator modifies the resource
    if res.updatable:
        update = {"revisionNumber": created["revisionNumber"]}
        update["memo" if res.kind == "txn" else "isActive"] = (
            "changed" if res.kind == "txn" else True
        )
        response = wire.post(f"{path}/{created['id']}", json=update)
        assert response.status_code == 200, response.text
        updated = assert_conforms(response, "POST", f"{QBD}/{path}/{{id}}")
        assert updated["revisionNumber"] != created["revisionNumber"]
    # And voided / deleted where the resource allows it
    if res.voidable:
        response = wire.post(f"{path}/{created['id']}/void")
        assert assert_conforms(response, "POST", f"{QBD}/{path}/{{id}}/void")["voided"] is True
    if res.deletable:
        response = wire.request("DELETE", f"{path}/{created['id']}")
        assert assert_conforms(response, "DELETE", f"{QBD}/{path}/{{id}}")["deleted"] is True


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "customers", {"headers": {"Authorization": "Bearer wrong"}}, 401),
        ("GET", "customers", {"headers": {"Conductor-End-User-Id": ""}}, 400),
        ("GET", "customers", {"headers": {"Conductor-End-User-Id": "end_usr_other"}}, 404),
        ("GET", "customers", {"params": {"limit": 151}}, 400),
        ("GET", "customers", {"params": {"ids": "80000001-0000000000"}}, 502),
        ("GET", "customers/80000001-0000000000", {}, 502),
        ("POST", "customers", {"json": {"name": "x" * 42}}, 400),
        ("POST", "customers", {"json": {"name": "Bad Ref", "termsId": "nope"}}, 502),
        (
            "POST",
            "sales-orders",
            {"json": {"customerId": "nope", "transactionDate": "2026-01-01"}},
            502,
        ),
        ("POST", "customers/80000001-0000000000", {"json": {"revisionNumber": "1"}}, 502),
        ("DELETE", "invoices/FFFF-0000000000", {}, 502),
        ("GET", "customers", {"params": {"cursor": "no-such-cursor"}}, 400),
        ("GET", "deleted-transactions", {}, 400),
        ("GET", "no-such-resource", {}, 404),
    ],
)
def test_errors_use_conductors_envelope(shared_wire, method, path, kwargs, status):
    response = shared_wire.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    body = assert_conforms(response, method, f"{QBD}/{path}")
    error = body["error"]
    assert ("integrationCode" in error) == (error["type"] == "INTEGRATION_ERROR")
