"""The item kinds the simulator lists but does not write (discount, subtotal, sales-tax,
sales-tax-group, inventory-assembly items and item groups), and the sales lines that use them."""

from __future__ import annotations

from decimal import Decimal

import conductor
import pytest

from qbdsim.resources import OTHER_ITEM_PATHS, RESOURCES
from qbdsim.testing import assert_conforms

QBD = "/quickbooks-desktop"


@pytest.mark.parametrize("path", OTHER_ITEM_PATHS)
def test_cursor_paging_walks_every_record_and_conforms(shared_wire, path):
    # When the resource is paged one record at a time
    seen, params = [], {"limit": 1, "status": "all"}
    while True:
        response = shared_wire.get(path, params=params)
        body = assert_conforms(response, "GET", f"{QBD}/{path}")
        seen += [row["id"] for row in body["data"]]
        if not body["hasMore"]:
            assert body["nextCursor"] is None and body["remainingCount"] == 0
            break
        assert "cursor" not in params or body["nextCursor"] == params["cursor"]
        params = {"limit": 1, "cursor": body["nextCursor"]}
    # Then every record comes once, in the number /_sim/counts gives
    counts = shared_wire.sim("GET", "counts").json()
    assert len(seen) == len(set(seen)) == counts[path] >= 1
    assert all(
        row["objectType"] == RESOURCES[path].object_type
        for row in shared_wire.get(path).json()["data"]
    )


@pytest.mark.parametrize("path", OTHER_ITEM_PATHS)
def test_ids_retrieve_and_status_filters(shared_wire, shared_client, eu, path):
    rows = shared_wire.get(path).json()["data"]
    wanted = list(dict.fromkeys([rows[-1]["id"], rows[0]["id"]]))  # one sales-tax group
    # ids= answers in request order; retrieve gives the same object
    body = assert_conforms(shared_wire.get(path, params={"ids": wanted}), "GET", f"{QBD}/{path}")
    assert [row["id"] for row in body["data"]] == wanted
    one = assert_conforms(shared_wire.get(f"{path}/{wanted[0]}"), "GET", f"{QBD}/{path}/{{id}}")
    assert one == rows[-1]
    sdk = getattr(shared_client.qbd, path.replace("-", "_"))
    assert sdk.retrieve(wanted[0], conductor_end_user_id=eu).id == wanted[0]
    assert [r.id for r in sdk.list(conductor_end_user_id=eu, ids=wanted).data] == wanted
    # an unknown id fails the whole request, as for every list resource
    with pytest.raises(conductor.InternalServerError):
        sdk.list(conductor_end_user_id=eu, ids=[wanted[0], "80000FFF-1234567890"])
    inactive = shared_wire.get(path, params={"status": "inactive"}).json()["data"]
    assert inactive == []
    # they are not written here: no create or update route
    assert shared_wire.post(path, json={"name": "New"}).status_code == 404


def test_deleted_list_objects_accept_their_list_types(shared_wire):
    types = ["item_discount", "item_subtotal", "item_sales_tax", "item_inventory_assembly"]
    response = shared_wire.get("deleted-list-objects", params=[("objectTypes", t) for t in types])
    assert assert_conforms(response, "GET", f"{QBD}/deleted-list-objects")["data"] == []


def _kinds(wire) -> dict[str, str]:
    return {row["id"]: path for path in OTHER_ITEM_PATHS for row in wire.get(path).json()["data"]}


def test_generated_sales_carry_discount_subtotal_and_assembly_lines(shared_wire):
    kinds = _kinds(shared_wire)
    found = set()
    for path in ("sales-orders", "invoices"):
        params = {"limit": 150}
        while True:
            body = assert_conforms(shared_wire.get(path, params=params), "GET", f"{QBD}/{path}")
            for row in body["data"]:
                for line in row["lines"]:
                    kind = kinds.get(line["item"]["id"])
                    found.add(kind)
                    if kind in ("discount-items", "subtotal-items"):
                        assert line["quantity"] is None
                    if kind == "discount-items":
                        assert Decimal(line["amount"]) < 0
            if not body["hasMore"]:
                break
            params = {"limit": 150, "cursor": body["nextCursor"]}
    assert {"discount-items", "subtotal-items", "inventory-assembly-items"} <= found


def test_lines_may_name_other_item_kinds(wire, customer):
    kinds = {path: wire.get(path).json()["data"] for path in OTHER_ITEM_PATHS}
    widget = wire.get("inventory-items", params={"limit": 1}).json()["data"][0]
    percent = next(r for r in kinds["discount-items"] if r["discountRatePercent"])
    assembly = kinds["inventory-assembly-items"][0]
    body = {
        "customerId": customer.id,
        "transactionDate": "2026-01-12",
        "lines": [
            {"itemId": widget["id"], "quantity": 2, "rate": "50.00"},
            {"itemId": assembly["id"], "quantity": 1},
            {"itemId": kinds["subtotal-items"][0]["id"]},
            {"itemId": percent["id"]},
        ],
    }
    # When an invoice is entered with an assembly, a subtotal and a percentage discount
    response = wire.post("invoices", json=body)
    assert response.status_code == 200, response.text
    invoice = assert_conforms(response, "POST", f"{QBD}/invoices")
    lines = invoice["lines"]
    # Then QuickBooks prices them: the subtotal sums the lines above, the discount takes its
    # percentage of the subtotal, and the subtotal line does not count twice in the total
    above = Decimal("100.00") + Decimal(assembly["salesPrice"])
    assert Decimal(lines[2]["amount"]) == above and lines[2]["quantity"] is None
    discount = -(above * Decimal(percent["discountRatePercent"]) / 100).quantize(Decimal("0.01"))
    assert Decimal(lines[3]["amount"]) == discount and lines[3]["quantity"] is None
    assert Decimal(invoice["subtotal"]) == above + discount
    # And an item id no resource knows is still refused
    body["lines"] = [{"itemId": "80000FFF-1234567890", "quantity": 1}]
    assert wire.post("invoices", json=body).status_code == 502
