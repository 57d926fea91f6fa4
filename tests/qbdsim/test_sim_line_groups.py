"""Line groups (item groups used on sales orders, purchase orders and invoices): generated on a
few transactions of every company, and written through the API as QuickBooks does."""

from __future__ import annotations

from decimal import Decimal

import conductor
import pytest

from qbdsim import generate
from qbdsim.config import SimConfig
from qbdsim.generate import generate_company
from qbdsim.resources import ITEM_PATHS, RESOURCES
from qbdsim.testing import assert_conforms
from tests.qbdsim.test_sim_generate import NoLineGroups

ANCHOR = "2026-01-15T12:00:00"
QBD = "/quickbooks-desktop"
GROUPED = ("sales-orders", "purchase-orders", "invoices")
DERIVED = ("subtotal", "salesTaxTotal", "totalAmount", "appliedAmount", "balanceRemaining",
           "isFullyInvoiced", "isFullyReceived")


@pytest.fixture(scope="module")
def company():
    return generate_company(SimConfig(size=2000, seed=3, anchor=ANCHOR))


def _grouped(company, path: str) -> list:
    return [r for r in company.records[path].values() if r.data["lineGroups"]]


def _money(value) -> Decimal:
    return Decimal(value or "0")


@pytest.mark.parametrize("path", GROUPED)
def test_a_few_percent_of_orders_and_invoices_carry_a_line_group(company, path):
    records = list(company.records[path].values())
    grouped = _grouped(company, path)
    assert 0.02 * len(records) <= len(grouped) <= 0.07 * len(records)
    item_groups = company.records["item-groups"]
    for record in grouped:
        ids = [line["id"] for line in record.data["lines"]]
        for group in record.data["lineGroups"]:
            # Each group is one of the company's item groups, expanded into its components
            assert group["objectType"] == f"{RESOURCES[path].object_type}_line_group"
            source = item_groups[group["itemGroup"]["id"]].data
            assert group["itemGroup"]["fullName"] == source["name"]
            assert group["description"] == source["description"]
            assert group["quantity"] in (1, 2, 3)
            components = [(c["item"]["id"], c["quantity"] * group["quantity"])
                          for c in source["lines"]]
            assert [(x["item"]["id"], x["quantity"]) for x in group["lines"]] == components
            for line in group["lines"]:
                assert line["objectType"] == RESOURCES[path].line_type
                assert Decimal(line["rate"]) * line["quantity"] == Decimal(line["amount"])
                assert company.find(ITEM_PATHS, line["item"]["id"]) is not None
            assert Decimal(group["totalAmount"]) == sum(
                Decimal(x["amount"]) for x in group["lines"])
            ids += [group["id"], *(x["id"] for x in group["lines"])]
        assert len(ids) == len(set(ids))  # group and line ids are all distinct


@pytest.mark.parametrize("path", GROUPED)
def test_header_totals_include_the_groups(company, path):
    for record in _grouped(company, path):
        data = record.data
        groups = sum(_money(g["totalAmount"]) for g in data["lineGroups"])
        if path == "purchase-orders":
            plain = sum(_money(line["amount"]) for line in data["lines"])
            assert _money(data["totalAmount"]) == plain + groups
            continue
        assert _money(data["subtotal"]) >= groups  # discounts can only lower the plain lines
        total = _money(data["subtotal"]) + _money(data["salesTaxTotal"])
        if path == "sales-orders":
            assert _money(data["totalAmount"]) == total
        else:
            assert _money(data["balanceRemaining"]) == total + _money(data["appliedAmount"])


def test_quantities_on_orders_count_the_lines_in_groups(company):
    on_order = {"sales-orders": {}, "purchase-orders": {}}
    done = {"sales-orders": "quantityInvoiced", "purchase-orders": "receivedQuantity"}
    for path, totals in on_order.items():
        for record in company.records[path].values():
            if record.data["isManuallyClosed"]:
                continue
            lines = [*record.data["lines"], *(x for g in record.data["lineGroups"]
                                               for x in g["lines"])]
            for line in lines:
                if not line["isManuallyClosed"]:
                    open_quantity = (line["quantity"] or 0) - (line[done[path]] or 0)
                    key = line["item"]["id"]
                    totals[key] = totals.get(key, 0) + open_quantity
    in_groups = {x["item"]["id"] for p in GROUPED for r in _grouped(company, p)
                 for g in r.data["lineGroups"] for x in g["lines"]}
    items = company.records["inventory-items"]
    assert in_groups & items.keys()
    for item_id in in_groups & items.keys():
        data = items[item_id].data
        assert data["quantityOnSalesOrder"] == on_order["sales-orders"].get(item_id, 0)
        assert data["quantityOnPurchaseOrder"] == on_order["purchase-orders"].get(item_id, 0)


def test_line_groups_come_from_their_own_stream_and_leave_the_rest_as_the_seed_gave_it(
        monkeypatch):
    with_groups = generate_company(SimConfig(size=600, seed=3, anchor=ANCHOR))
    again = generate_company(SimConfig(size=600, seed=3, anchor=ANCHOR))
    assert [r.data for r in with_groups.records["invoices"].values()] == [
        r.data for r in again.records["invoices"].values()]
    monkeypatch.setattr(generate, "LineGroupMaker", NoLineGroups)
    without = generate_company(SimConfig(size=600, seed=3, anchor=ANCHOR))
    assert with_groups.counts() == without.counts()
    assert any(_grouped(with_groups, path) for path in GROUPED)
    unchanged = ("vendors", "non-inventory-items", "service-items", "other-charge-items",
                 "inventory-adjustments", "accounts", "item-groups", "discount-items")
    for path in unchanged:
        assert [r.data for r in with_groups.records[path].values()] == [
            r.data for r in without.records[path].values()], path
    # Inventory items differ only in the quantities the groups' lines move
    moved = ("quantityOnHand", "quantityOnSalesOrder", "quantityOnPurchaseOrder")
    for record in with_groups.records["inventory-items"].values():
        plain = {k: v for k, v in record.data.items() if k not in moved}
        other = without.records["inventory-items"][record.id].data
        assert plain == {k: v for k, v in other.items() if k not in moved}
    # Transactions keep their ids and lines; those without groups are exactly as before
    for path in GROUPED:
        assert list(with_groups.records[path]) == list(without.records[path])
        for record in with_groups.records[path].values():
            data, before = record.data, without.records[path][record.id].data
            if not data["lineGroups"]:
                assert data == before
                continue
            assert {k: v for k, v in data.items() if k not in (*DERIVED, "lineGroups")} == {
                k: v for k, v in before.items() if k not in (*DERIVED, "lineGroups")}


# -- writes over HTTP ----------------------------------------------------------------------


@pytest.fixture
def item_group(wire) -> dict:
    return wire.get("item-groups").json()["data"][0]


def _item(client, eu, item_id: str):
    return client.qbd.inventory_items.retrieve(item_id, conductor_end_user_id=eu)


def test_create_expands_an_item_group_into_its_component_lines(client, eu, wire, customer,
                                                                widget, item_group):
    components = [(c["item"]["id"], c["quantity"]) for c in item_group["lines"]]
    before = {item_id: _item(client, eu, item_id).quantity_on_sales_order
              for item_id, _ in components}
    # When a sales order is entered with a plain line and two of an item group
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date="2026-01-12",
        lines=[{"item_id": widget.id, "quantity": 1, "rate": "10.00"}],
        line_groups=[{"item_group_id": item_group["id"], "quantity": 2}],
    )
    # Then QuickBooks lists the group's items, twice each component's quantity, priced
    (group,) = order.line_groups
    assert group.object_type == "qbd_sales_order_line_group"
    assert (group.item_group.id, group.quantity) == (item_group["id"], 2)
    assert group.description == item_group["description"]
    assert [(x.item.id, x.quantity) for x in group.lines] == [(i, q * 2) for i, q in components]
    assert Decimal(group.total_amount) == sum(Decimal(x.amount) for x in group.lines) > 0
    # And the header totals and the items' quantities on sales orders include them
    assert Decimal(order.subtotal) == Decimal("10.00") + Decimal(group.total_amount)
    for item_id, quantity in components:
        after = _item(client, eu, item_id).quantity_on_sales_order
        assert after == before[item_id] + quantity * 2
    # And the stored order reads back the same, conforming to the spec
    body = assert_conforms(wire.get(f"sales-orders/{order.id}"), "GET",
                           f"{QBD}/sales-orders/{{id}}")
    assert body["lineGroups"][0]["lines"][0]["id"] == group.lines[0].id


@pytest.mark.parametrize("path", ["purchase-orders", "invoices"])
def test_purchase_orders_and_invoices_take_line_groups_on_create(wire, customer, item_group,
                                                                  path):
    party = ({"customerId": customer.id} if path == "invoices"
             else {"vendorId": wire.get("vendors").json()["data"][0]["id"]})
    body = {**party, "transactionDate": "2026-01-12",
            "lineGroups": [{"itemGroupId": item_group["id"]}]}
    response = wire.post(path, json=body)
    assert response.status_code == 200, response.text
    record = assert_conforms(response, "POST", f"{QBD}/{path}")
    (group,) = record["lineGroups"]
    assert group["quantity"] == 1 and len(group["lines"]) == len(item_group["lines"])
    total = "totalAmount" if path == "purchase-orders" else "subtotal"
    assert record[total] == group["totalAmount"]


def test_an_unknown_item_group_is_refused_like_any_dangling_reference(client, eu, customer):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.sales_orders.create(
            conductor_end_user_id=eu, customer_id=customer.id, transaction_date="2026-01-12",
            line_groups=[{"item_group_id": "80000FFF-1234567890"}],
        )
    error = caught.value.body["error"]
    assert (error["type"], error["integrationCode"]) == ("INTEGRATION_ERROR", "3140")
    assert 'QuickBooks ItemGroup "80000FFF-1234567890" in the Sales Order' in error["message"]


def _order_with_group(wire, customer, item_group) -> dict:
    widget = wire.get("inventory-items", params={"limit": 1}).json()["data"][0]
    body = {"customerId": customer.id, "transactionDate": "2026-01-12",
            "lines": [{"itemId": widget["id"], "quantity": 1}],
            "lineGroups": [{"itemGroupId": item_group["id"], "quantity": 1}]}
    response = wire.post("sales-orders", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _update(wire, order: dict, **fields) -> dict:
    response = wire.post(f"sales-orders/{order['id']}",
                         json={"revisionNumber": order["revisionNumber"], **fields})
    assert response.status_code == 200, response.text
    return assert_conforms(response, "POST", f"{QBD}/sales-orders/{{id}}")


def test_update_follows_the_lines_rules_for_groups(wire, customer, item_group):
    order = _order_with_group(wire, customer, item_group)
    group = order["lineGroups"][0]
    # Omitted: the groups stay as they are
    kept = _update(wire, order, memo="No change to groups")
    assert kept["lineGroups"] == order["lineGroups"]
    # An existing id with a new quantity is kept and expanded again; "-1" adds a group
    grown = _update(wire, kept, lineGroups=[
        {"id": group["id"], "quantity": 3},
        {"id": "-1", "itemGroupId": item_group["id"]},
    ])
    first, added = grown["lineGroups"]
    assert first["id"] == group["id"] and first["quantity"] == 3
    assert [x["quantity"] for x in first["lines"]] == [c["quantity"] * 3
                                                      for c in item_group["lines"]]
    assert added["id"] not in (group["id"], "-1") and added["quantity"] == 1
    plain = sum(Decimal(x["amount"]) for x in grown["lines"])
    groups = Decimal(first["totalAmount"]) + Decimal(added["totalAmount"])
    assert Decimal(grown["subtotal"]) == plain + groups
    # Lines inside a group: kept by id (and modified), the rest removed
    line = first["lines"][0]
    trimmed = _update(wire, grown, lineGroups=[
        {"id": first["id"], "lines": [{"id": line["id"], "quantity": 7}]},
    ])
    (only,) = trimmed["lineGroups"]
    assert [(x["id"], x["quantity"]) for x in only["lines"]] == [(line["id"], 7)]
    assert only["totalAmount"] == only["lines"][0]["amount"]
    # Leaving a group out removes it (with its lines)
    widget_line = trimmed["lines"][0]
    dropped = _update(wire, trimmed, lineGroups=[{"id": "-1", "itemGroupId": item_group["id"]}])
    (fresh,) = dropped["lineGroups"]
    assert fresh["id"] != only["id"] and dropped["lines"] == [widget_line]
    assert Decimal(dropped["subtotal"]) == Decimal(widget_line["amount"]) + Decimal(
        fresh["totalAmount"])
    # An empty array is refused by Conductor's validation (the spec's minItems: 1), as for lines
    response = wire.post(f"sales-orders/{order['id']}",
                         json={"revisionNumber": dropped["revisionNumber"], "lineGroups": []})
    assert response.status_code == 400
    assert "Too small: expected array to have >=1 items" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("groups", "status", "code"),
    [
        ([{"id": "20FFF-1234567890", "quantity": 2}], 502, "3120"),  # no such group
        ([{"id": "-1", "quantity": 2}], 400, None),  # a new group names no item group
        ([{"id": "-1", "itemGroupId": "80000FFF-1234567890"}], 502, "3140"),
        ([{"quantity": 2}], 400, None),  # every group names its id
    ],
)
def test_update_refuses_bad_groups_as_conductor_does(wire, customer, item_group, groups, status,
                                                     code):
    order = _order_with_group(wire, customer, item_group)
    response = wire.post(f"sales-orders/{order['id']}",
                         json={"revisionNumber": order["revisionNumber"], "lineGroups": groups})
    assert response.status_code == status
    error = assert_conforms(response, "POST", f"{QBD}/sales-orders/{{id}}")["error"]
    if code is None:
        assert error["type"] == "INVALID_REQUEST_ERROR"
    else:
        assert error["integrationCode"] == code
    # And the order is unchanged
    assert wire.get(f"sales-orders/{order['id']}").json()["lineGroups"] == order["lineGroups"]


def test_an_invoice_linked_to_an_order_takes_over_its_groups_too(client, eu, wire, customer,
                                                                 item_group):
    order = _order_with_group(wire, customer, item_group)
    (group,) = order["lineGroups"]
    ordered: dict[str, float] = {}  # per item, over the plain lines and the group's
    for line in order["lines"] + group["lines"]:
        ordered[line["item"]["id"]] = ordered.get(line["item"]["id"], 0) + line["quantity"]
    on_order = {item_id: _item(client, eu, item_id).quantity_on_sales_order
                for item_id in ordered}
    # When the order is invoiced whole (linkToTransactionIds)
    invoice = _invoice_of(wire, customer, order)
    # Then the invoice holds the plain line and the group, as the order has them
    assert [line["item"]["id"] for line in invoice["lines"]] == [
        line["item"]["id"] for line in order["lines"]]
    (copied,) = invoice["lineGroups"]
    assert copied["objectType"] == "qbd_invoice_line_group" and copied["id"] != group["id"]
    assert (copied["itemGroup"], copied["quantity"]) == (group["itemGroup"], group["quantity"])
    assert [(x["item"]["id"], x["quantity"], x["amount"]) for x in copied["lines"]] == [
        (x["item"]["id"], x["quantity"], x["amount"]) for x in group["lines"]]
    assert copied["totalAmount"] == group["totalAmount"]
    assert invoice["subtotal"] == order["subtotal"]
    # And the order is invoiced in full, its group's lines included; nothing is left on order
    after = wire.get(f"sales-orders/{order['id']}").json()
    assert after["isFullyInvoiced"]
    assert [x["quantityInvoiced"] for x in after["lineGroups"][0]["lines"]] == [
        x["quantity"] for x in group["lines"]]
    for item_id, quantity in ordered.items():
        assert _item(client, eu, item_id).quantity_on_sales_order == on_order[item_id] - quantity


def test_an_invoice_line_can_link_to_a_line_inside_an_order_group(wire, customer, item_group):
    order = _order_with_group(wire, customer, item_group)
    inner = order["lineGroups"][0]["lines"][0]
    response = _post_invoice(wire, customer, lines=[_line_link(order, inner)])
    assert response.status_code == 200, response.text
    (line,) = response.json()["lines"]
    assert (line["item"], line["quantity"]) == (inner["item"], inner["quantity"])
    after = wire.get(f"sales-orders/{order['id']}").json()
    assert after["lineGroups"][0]["lines"][0]["quantityInvoiced"] == inner["quantity"]
    assert not after["isFullyInvoiced"]  # the plain line and the group's others are open


def _post_invoice(wire, customer, **fields):
    return wire.post("invoices", json={"customerId": customer.id,
                                       "transactionDate": "2026-01-13", **fields})


def _line_link(order: dict, line: dict) -> dict:
    return {"linkToTransactionLine": {"transactionId": order["id"],
                                      "transactionLineId": line["id"]}}


def _invoice_of(wire, customer, order: dict) -> dict:
    response = _post_invoice(wire, customer, linkToTransactionIds=[order["id"]])
    assert response.status_code == 200, response.text
    return assert_conforms(response, "POST", f"{QBD}/invoices")


def _group_invoiced(wire, order: dict) -> tuple[bool, list]:
    after = wire.get(f"sales-orders/{order['id']}").json()
    lines = after["lineGroups"][0]["lines"]
    return after["isFullyInvoiced"], [x["quantityInvoiced"] for x in lines]


@pytest.mark.parametrize("groups_sent", [False, True])
def test_updating_a_linked_invoice_keeps_its_group_lines_invoiced(wire, customer, item_group,
                                                                  groups_sent):
    order = _order_with_group(wire, customer, item_group)
    invoice = _invoice_of(wire, customer, order)
    full = [x["quantity"] for x in order["lineGroups"][0]["lines"]]
    assert _group_invoiced(wire, order) == (True, full)
    # Every line kept as it is; the groups omitted (kept) or sent back unchanged
    body = {"revisionNumber": invoice["revisionNumber"],
            "lines": [{"id": line["id"]} for line in invoice["lines"]]}
    if groups_sent:
        body["lineGroups"] = [{"id": g["id"], "lines": [{"id": x["id"]} for x in g["lines"]]}
                              for g in invoice["lineGroups"]]
    response = wire.post(f"invoices/{invoice['id']}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["lineGroups"] == invoice["lineGroups"]
    assert _group_invoiced(wire, order) == (True, full)


def test_an_order_linked_both_by_a_line_and_whole_is_refused(wire, customer, item_group):
    """FACTS §5: the same transaction cannot be linked both ways."""
    order = _order_with_group(wire, customer, item_group)
    inner = order["lineGroups"][0]["lines"][0]
    response = _post_invoice(wire, customer, lines=[_line_link(order, inner)],
                             linkToTransactionIds=[order["id"]])
    assert response.status_code == 502 and "both" in response.json()["error"]["message"]
    assert _group_invoiced(wire, order) == (False, [0] * len(order["lineGroups"][0]["lines"]))
