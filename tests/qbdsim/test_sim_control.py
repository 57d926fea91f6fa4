"""The ``/_sim/`` control endpoints."""

from __future__ import annotations

import conductor
import pytest

from qbdsim.resources import OTHER_ITEM_PATHS, RESOURCES, SIZED_PATHS
from qbdsim.testing import assert_conforms


def test_stats_count_requests_by_method_and_path_template(wire, client, eu):
    client.qbd.customers.list(conductor_end_user_id=eu, limit=5)
    customer = client.qbd.customers.list(conductor_end_user_id=eu, limit=1).data[0]
    client.qbd.customers.update(
        customer.id, conductor_end_user_id=eu, revision_number=customer.revision_number, note="x"
    )
    wire.sim("GET", "counts")  # not counted
    stats = wire.sim("GET", "stats").json()
    assert stats["requests"] == {
        "GET /v1/quickbooks-desktop/customers": 2,
        "POST /v1/quickbooks-desktop/customers/{id}": 1,
    }
    assert stats["total"] == 3


def test_counts_hold_every_resource_inactive_included(wire, server):
    counts = wire.sim("GET", "counts").json()
    assert set(counts) == set(RESOURCES)
    # the size is made of the sized resources; accounts and the other item kinds come on top
    assert sum(counts[path] for path in SIZED_PATHS) == server.config.size
    assert counts["accounts"] > 0 and all(counts[path] > 0 for path in OTHER_ITEM_PATHS)
    active = wire.get("customers", params={"limit": 150}).json()
    assert counts["customers"] > len(active["data"]) + active["remainingCount"]


def test_reset_regenerates_the_company_and_zeroes_stats(wire, client, eu):
    original = [c.id for c in client.qbd.customers.list(conductor_end_user_id=eu, limit=5).data]
    client.qbd.customers.create(conductor_end_user_id=eu, name="Temporary")
    assert wire.sim("POST", "reset").json()["reset"] is True
    assert wire.sim("GET", "stats").json() == {"total": 0, "requests": {}}
    again = [c.id for c in client.qbd.customers.list(conductor_end_user_id=eu, limit=5).data]
    assert again == original
    with pytest.raises(conductor.InternalServerError):
        client.qbd.customers.list(conductor_end_user_id=eu, full_names=["Temporary"])


def test_reset_can_change_size_and_seed(wire):
    body = wire.sim("POST", "reset", {"size": 50, "seed": 9}).json()
    assert (body["size"], body["seed"]) == (50, 9)
    counts = wire.sim("GET", "counts").json()
    assert sum(counts[path] for path in SIZED_PATHS) == 50
    assert wire.sim("POST", "reset", {"size": "big"}).status_code == 400


def test_edit_moves_revision_and_updated_at(wire):
    customer = wire.get("customers", params={"limit": 1}).json()["data"][0]
    edit = {"resource": "customers", "id": customer["id"], "fields": {"email": "new@example.com"}}
    body = wire.sim("POST", "edits", edit).json()
    assert body == {"touched": [{"resource": "customers", "id": customer["id"]}]}
    edited = wire.get(f"customers/{customer['id']}").json()
    assert edited["email"] == "new@example.com"
    assert edited["revisionNumber"] != customer["revisionNumber"]
    assert edited["updatedAt"] > customer["updatedAt"]  # generated history is older than now


def test_edit_is_validated_like_the_api(wire):
    customer = wire.get("customers", params={"limit": 1}).json()["data"][0]
    response = wire.sim(
        "POST",
        "edits",
        {"resource": "customers", "id": customer["id"], "fields": {"name": "x" * 42}},
    )
    assert response.status_code == 400
    response = wire.sim("POST", "edits", {"resource": "customers", "id": "nope", "fields": {}})
    assert response.status_code == 404


def test_raw_edit_plants_a_broken_reference(wire):
    order = wire.get("sales-orders", params={"limit": 1}).json()["data"][0]
    line = order["lines"][0]
    ghost = {"id": "80FFFFFF-1700000000", "fullName": "Ghost Item"}
    body = {
        "resource": "sales-orders",
        "id": order["id"],
        "raw": True,
        "fields": {
            "customer": {"id": "nope", "fullName": "Ghost"},
            "lines": [{"id": line["id"], "item": ghost}],
        },
    }
    assert wire.sim("POST", "edits", body).status_code == 200
    broken = wire.get(f"sales-orders/{order['id']}").json()
    assert broken["customer"] == {"id": "nope", "fullName": "Ghost"}
    assert broken["lines"][0]["item"] == ghost and broken["lines"][0]["id"] == line["id"]
    assert broken["lines"][0]["quantity"] == line["quantity"]  # other line fields kept
    assert broken["revisionNumber"] != order["revisionNumber"]
    assert wire.sim("POST", "edits", {**body, "fields": {"nonsense": 1}}).status_code == 400
    # the broken order is still listed, and still editable through the API
    listed = wire.get("sales-orders", params={"ids": order["id"]})
    assert assert_conforms(listed, "GET", "/quickbooks-desktop/sales-orders")["data"][0] == broken
    update = {"revisionNumber": broken["revisionNumber"], "memo": "seen by the sync"}
    assert wire.post(f"sales-orders/{order['id']}", json=update).status_code == 200


def test_random_edits_touch_that_many_records(wire):
    before = wire.sim("GET", "counts").json()
    touched = wire.sim("POST", "edits", {"random": 12}).json()["touched"]
    assert len(touched) >= 12
    for entry in touched[:5]:
        record = wire.get(f"{entry['resource']}/{entry['id']}").json()
        assert record["id"] == entry["id"]
    assert wire.sim("GET", "counts").json() == before


def test_delete_edit_deletes_transactions_and_deactivates_list_objects(wire):
    invoice = wire.get("invoices", params={"limit": 1}).json()["data"][0]
    vendor = wire.get("vendors", params={"limit": 1}).json()["data"][0]
    for resource, record in (("invoices", invoice), ("vendors", vendor)):
        response = wire.sim("POST", "edits", {"delete": {"resource": resource, "id": record["id"]}})
        assert response.json()["touched"][0] == {"resource": resource, "id": record["id"]}
    assert wire.get(f"invoices/{invoice['id']}").status_code == 502
    assert wire.get(f"vendors/{vendor['id']}").json()["isActive"] is False
    deleted = wire.get("deleted-transactions", params={"transactionTypes": "invoice"}).json()
    assert invoice["id"] in {row["id"] for row in deleted["data"]}
    deleted = wire.get("deleted-list-objects", params={"objectTypes": "vendor"}).json()
    assert vendor["id"] in {row["id"] for row in deleted["data"]}


def test_create_edit_validates_like_the_api(wire):
    body = {"create": {"resource": "vendors", "fields": {"name": "Made In QuickBooks"}}}
    touched = wire.sim("POST", "edits", body).json()["touched"]
    vendor = wire.get(f"vendors/{touched[0]['id']}").json()
    assert vendor["name"] == "Made In QuickBooks"
    response = wire.sim("POST", "edits", body)
    assert response.status_code == 502  # the name is taken now
    assert response.json()["error"]["integrationCode"] == "3100"


def test_control_endpoints_need_no_auth_and_refuse_garbage(wire):
    assert wire.http.get("/_sim/stats").status_code == 200
    assert wire.sim("POST", "edits", {"what": 1}).status_code == 400
    response = wire.http.post(
        "/_sim/faults", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
