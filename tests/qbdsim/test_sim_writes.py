"""Creates and updates validated like QuickBooks, through the real conductor-py client."""

from __future__ import annotations

from datetime import date

import conductor
import pytest

DAY = date(2026, 1, 10)


def _qb_error(caught) -> tuple[str, str]:
    error = caught.value.body["error"]
    assert caught.value.status_code == 502
    assert (error["type"], error["code"]) == ("INTEGRATION_ERROR", "QBD_REQUEST_ERROR")
    return error["integrationCode"], error["message"]


def test_update_moves_revision_and_updated_at_and_is_partial(client, eu, customer):
    updated = client.qbd.customers.update(
        customer.id,
        conductor_end_user_id=eu,
        revision_number=customer.revision_number,
        email="billing@example.com",
    )
    assert updated.revision_number != customer.revision_number
    assert int(updated.revision_number) > int(customer.revision_number)
    assert updated.updated_at >= customer.updated_at
    assert updated.email == "billing@example.com"
    assert updated.name == customer.name  # untouched fields stay


def test_stale_revision_number_is_error_3200(client, eu, customer):
    client.qbd.customers.update(
        customer.id, conductor_end_user_id=eu, revision_number=customer.revision_number, phone="1"
    )
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.update(
            customer.id,
            conductor_end_user_id=eu,
            revision_number=customer.revision_number,
            phone="2",
        )
    code, message = _qb_error(caught)
    assert code == "3200"
    assert message == (
        f"QBD Request Error (3200): The provided revision number (edit sequence) "
        f'"{customer.revision_number}" is out-of-date.'
    )


def test_customers_and_vendors_share_one_name_space(client, eu, customer):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.vendors.create(conductor_end_user_id=eu, name=customer.name.upper())
    assert _qb_error(caught)[0] == "3100"
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, name=customer.name)
    assert _qb_error(caught)[0] == "3100"
    # a job of the same name under a parent has another full name, so it is fine
    job = client.qbd.customers.create(
        conductor_end_user_id=eu, name=customer.name, parent_id=customer.id
    )
    assert job.full_name == f"{customer.name}:{customer.name}" and job.sublevel == 1


def test_item_full_names_are_unique_across_item_types(client, eu, widget):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.service_items.create(conductor_end_user_id=eu, name="test widget")
    assert _qb_error(caught)[0] == "3100"


def test_names_cannot_contain_a_colon(client, eu):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, name="Parent:Child")
    assert "colon" in _qb_error(caught)[1]


@pytest.mark.parametrize(
    ("kwargs", "target"),
    [
        ({"terms_id": "80FFFFFF-1700000000"}, "StandardTerms"),
        ({"parent_id": "80FFFFFF-1700000000"}, "Customer:Job"),
        ({"class_id": "nope"}, "Class"),
    ],
)
def test_reference_to_nothing_is_error_3140(client, eu, kwargs, target):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, name="Dangling", **kwargs)
    code, message = _qb_error(caught)
    assert code == "3140" and f"QuickBooks {target} " in message


def test_transaction_line_with_unknown_item_is_error_3140(client, eu, customer):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.sales_orders.create(
            conductor_end_user_id=eu,
            customer_id=customer.id,
            transaction_date=DAY,
            lines=[{"item_id": "80FFFFFF-1700000000", "quantity": 1}],
        )
    assert _qb_error(caught)[0] == "3140"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x" * 42, 'Too big: expected string to have <=41 characters at "name"'),
        ("first_name", "y" * 26, 'Too big: expected string to have <=25 characters at "firstName"'),
        ("phone", "5" * 22, 'Too big: expected string to have <=21 characters at "phone"'),
        ("job_status", "busy", 'Invalid option: expected one of "awarded"|"closed"'),
    ],
)
def test_field_limits_are_invalid_request_errors(client, eu, field, value, message):
    kwargs = {"name": "Valid Name", field: value}
    with pytest.raises(conductor.BadRequestError) as caught:
        client.qbd.customers.create(conductor_end_user_id=eu, **kwargs)
    error = caught.value.body["error"]
    assert error["type"] == "INVALID_REQUEST_ERROR" and error["httpStatusCode"] == 400
    assert error["message"].startswith(message)
    assert "integrationCode" not in error


def test_unknown_body_fields_and_bad_money_are_refused(wire, customer):
    response = wire.post("customers", json={"name": "Extra", "nickname": "x"})
    assert response.status_code == 400
    assert 'Unrecognized key: "nickname"' in response.json()["error"]["message"]
    body = {
        "customerId": customer.id,
        "transactionDate": "2026-01-10",
        "lines": [{"amount": "12.345"}],
    }
    response = wire.post("sales-orders", json=body)
    assert response.status_code == 400 and "lines[0].amount" in response.json()["error"]["message"]


def test_lines_price_from_item_and_totals_are_computed(client, eu, customer, widget):
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[
            {"item_id": widget.id, "quantity": 3},  # rate from the item
            {"item_id": widget.id, "quantity": 2, "rate": "10.00"},
            {"item_id": widget.id, "quantity": 4, "amount": "30.00"},  # rate follows the amount
            {"item_id": widget.id},  # quantity 1
        ],
    )
    amounts = [(line.quantity, line.rate, line.amount) for line in order.lines]
    assert amounts == [
        (3, "12.50", "37.50"),
        (2, "10.00", "20.00"),
        (4, "7.50", "30.00"),
        (1, "12.50", "12.50"),
    ]
    assert order.subtotal == "100.00" and order.total_amount == "100.00"
    assert order.lines[0].item.full_name == "Test Widget"
    assert order.ref_number  # assigned although none was sent


def test_ref_numbers_are_assigned_in_sequence(client, eu, customer):
    first = client.qbd.invoices.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY
    )
    second = client.qbd.invoices.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY
    )
    assert int(second.ref_number) == int(first.ref_number) + 1
    client.qbd.invoices.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY, ref_number="W-0099"
    )
    after_manual = client.qbd.invoices.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY
    )
    assert after_manual.ref_number == "W-0100"


def test_lines_on_update_replace_all_lines(client, eu, customer, widget):
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": q} for q in (1, 2, 3)],
    )
    kept, dropped = order.lines[0], order.lines[1:]
    updated = client.qbd.sales_orders.update(
        order.id,
        conductor_end_user_id=eu,
        revision_number=order.revision_number,
        lines=[{"id": kept.id, "quantity": 5}, {"id": "-1", "item_id": widget.id, "quantity": 7}],
    )
    ids = [line.id for line in updated.lines]
    assert ids[0] == kept.id and updated.lines[0].quantity == 5
    assert ids[1] not in {"-1", *(line.id for line in order.lines)}
    assert not {line.id for line in dropped} & set(ids)
    assert updated.total_amount == "150.00"
    # without lines, an update leaves them alone
    memo_only = client.qbd.sales_orders.update(
        order.id, conductor_end_user_id=eu, revision_number=updated.revision_number, memo="note"
    )
    assert [line.id for line in memo_only.lines] == ids


def test_deletes_and_deactivations_are_listed_as_deleted(client, eu, customer):
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY
    )
    deleted = client.qbd.sales_orders.delete(order.id, conductor_end_user_id=eu)
    assert (deleted.id, deleted.deleted, deleted.ref_number) == (order.id, True, order.ref_number)
    rows = client.qbd.deleted_transactions.list(
        conductor_end_user_id=eu, transaction_types=["sales_order"]
    ).data
    assert rows[-1].id == order.id and rows[-1].ref_number == order.ref_number
    with pytest.raises(conductor.InternalServerError):
        client.qbd.sales_orders.retrieve(order.id, conductor_end_user_id=eu)
    client.qbd.customers.update(
        customer.id,
        conductor_end_user_id=eu,
        revision_number=customer.revision_number,
        is_active=False,
    )
    rows = client.qbd.deleted_list_objects.list(
        conductor_end_user_id=eu, object_types=["customer"]
    ).data
    assert rows[-1].id == customer.id and rows[-1].full_name == customer.full_name
    assert rows == sorted(rows, key=lambda row: row.deleted_at)


def test_renaming_a_parent_renames_its_jobs_and_references(client, eu, customer):
    job = client.qbd.customers.create(conductor_end_user_id=eu, name="Roof", parent_id=customer.id)
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu, customer_id=job.id, transaction_date=DAY
    )
    client.qbd.customers.update(
        customer.id,
        conductor_end_user_id=eu,
        revision_number=customer.revision_number,
        name="Renamed Ltd",
    )
    assert client.qbd.customers.retrieve(job.id, conductor_end_user_id=eu).full_name == (
        "Renamed Ltd:Roof"
    )
    order = client.qbd.sales_orders.retrieve(order.id, conductor_end_user_id=eu)
    assert order.customer.full_name == "Renamed Ltd:Roof"


def test_update_of_a_missing_object_is_error_3120(client, eu):
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.vendors.update(
            "80FFFFFF-1700000000", conductor_end_user_id=eu, revision_number="1"
        )
    assert _qb_error(caught)[0] == "3120"


# -- what QuickBooks (and Conductor before it) refuses on writes -------------------------------

GUID = "3F2B8A4E-1C2D-4E5F-9A8B-7C6D5E4F3A2B"


def _refused(response, message: str) -> None:
    """A 400 ``INVALID_REQUEST_ERROR`` whose message starts with ``message``."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["httpStatusCode"]) == (
        "INVALID_REQUEST_ERROR",
        "INVALID_REQUEST",
        400,
    )
    assert error["message"].startswith(message), error["message"]
    assert "integrationCode" not in error


@pytest.fixture
def records(wire, customer, widget) -> dict[str, dict]:
    """A customer, a vendor, an inventory item and a sales order, as JSON, by resource."""
    vendor = wire.post("vendors", json={"name": "Test Vendor Inc"}).json()
    order = wire.post(
        "sales-orders",
        json={
            "customerId": customer.id,
            "transactionDate": "2026-01-10",
            "lines": [{"itemId": widget.id, "quantity": 2}, {"itemId": widget.id, "quantity": 1}],
        },
    ).json()
    return {
        "customers": wire.get(f"customers/{customer.id}").json(),
        "vendors": vendor,
        "inventory-items": wire.get(f"inventory-items/{widget.id}").json(),
        "sales-orders": order,
    }


@pytest.mark.parametrize(
    ("resource", "field", "value"),
    [
        ("customers", "externalId", "3f2b8a4e-1c2d-4e5f-9a8b-7c6d5e4f3a2c"),
        ("customers", "fullName", "Someone Else"),
        ("customers", "balance", "100.00"),
        ("customers", "totalBalance", "100.00"),
        ("vendors", "balance", "100.00"),
        ("vendors", "externalId", "3f2b8a4e-1c2d-4e5f-9a8b-7c6d5e4f3a2c"),
        ("inventory-items", "fullName", "Other Widget"),
        ("inventory-items", "quantityOnHand", 99),
        ("inventory-items", "averageCost", "1.00"),
        ("inventory-items", "totalAmount", "1.00"),
        ("inventory-items", "externalId", "3f2b8a4e-1c2d-4e5f-9a8b-7c6d5e4f3a2c"),
        ("sales-orders", "totalAmount", "1.00"),
        ("sales-orders", "subtotal", "1.00"),
        ("sales-orders", "externalId", "3f2b8a4e-1c2d-4e5f-9a8b-7c6d5e4f3a2c"),
    ],
)
def test_read_only_fields_in_an_update_are_refused_by_name(wire, records, resource, field, value):
    record = records[resource]
    body = {"revisionNumber": record["revisionNumber"], field: value}
    _refused(wire.post(f"{resource}/{record['id']}", json=body), f'Unrecognized key: "{field}"')
    # nothing changed
    after = wire.get(f"{resource}/{record['id']}").json()
    assert after["revisionNumber"] == record["revisionNumber"]
    assert after.get(field) == record.get(field)


@pytest.mark.parametrize("field", ["quantity", "rate"])
def test_a_line_update_cannot_clear_quantity_or_rate(wire, records, field):
    order = records["sales-orders"]
    kept, other = order["lines"]
    kind = "number" if field == "quantity" else "string"
    lines = [{"id": kept["id"], field: None}, {"id": other["id"]}]
    body = {"revisionNumber": order["revisionNumber"], "lines": lines}
    response = wire.post(f"sales-orders/{order['id']}", json=body)
    _refused(response, f'Invalid input: expected {kind}, received null at "lines[0].{field}"')
    # a new line cannot be sent without one either
    lines = [{"id": "-1", "itemId": kept["item"]["id"], field: None}]
    body = {"revisionNumber": order["revisionNumber"], "lines": lines}
    response = wire.post(f"sales-orders/{order['id']}", json=body)
    _refused(response, f'Invalid input: expected {kind}, received null at "lines[0].{field}"')
    after = wire.get(f"sales-orders/{order['id']}").json()
    assert after["revisionNumber"] == order["revisionNumber"]
    assert [(line["id"], line[field]) for line in after["lines"]] == [
        (line["id"], line[field]) for line in order["lines"]
    ]


def test_a_line_in_a_group_cannot_clear_its_quantity_either(wire, customer):
    item_group = wire.get("item-groups").json()["data"][0]
    body = {
        "customerId": customer.id,
        "transactionDate": "2026-01-12",
        "lineGroups": [{"itemGroupId": item_group["id"], "quantity": 1}],
    }
    order = wire.post("sales-orders", json=body).json()
    (group,) = order["lineGroups"]
    lines = [{"id": line["id"], "quantity": None} for line in group["lines"]]
    groups = [{"id": group["id"], "lines": lines}]
    body = {"revisionNumber": order["revisionNumber"], "lineGroups": groups}
    _refused(
        wire.post(f"sales-orders/{order['id']}", json=body),
        'Invalid input: expected number, received null at "lineGroups[0].lines[0].quantity"',
    )


@pytest.mark.parametrize(
    ("resource", "limit", "extra"),
    [
        ("customers", 41, {}),
        ("vendors", 41, {}),
        ("service-items", 31, {}),
        ("non-inventory-items", 31, {}),
        ("other-charge-items", 31, {}),
        ("inventory-items", 31, None),  # accounts filled in below
    ],
)
def test_names_over_quickbooks_limits_are_refused_on_create_and_update(
    wire, accounts, resource, limit, extra
):
    if extra is None:
        extra = {
            "incomeAccountId": accounts["Sales:Merchandise"],
            "cogsAccountId": accounts["Cost of Goods Sold"],
            "assetAccountId": accounts["Inventory Asset"],
        }
    too_long = f'Too big: expected string to have <={limit} characters at "name"'
    before = wire.sim("GET", "counts").json()[resource]
    _refused(wire.post(resource, json={"name": "N" * (limit + 1), **extra}), too_long)
    assert wire.sim("GET", "counts").json()[resource] == before
    # the limit itself is fine
    created = wire.post(resource, json={"name": "M" * limit, **extra})
    assert created.status_code == 200, created.text
    record = created.json()
    assert record["name"] == "M" * limit
    body = {"revisionNumber": record["revisionNumber"], "name": "U" * (limit + 1)}
    _refused(wire.post(f"{resource}/{record['id']}", json=body), too_long)
    assert wire.get(f"{resource}/{record['id']}").json()["name"] == "M" * limit


@pytest.mark.parametrize(
    "external_id",
    [
        "not-a-guid",
        "12345",
        f"{{{GUID}}}",  # braces, as QuickBooks prints GUIDs
        GUID.replace("-", ""),  # no dashes
        "--" + GUID.replace("-", "") + "--",  # dashes in the wrong places
        f"{GUID}\n",
        f"urn:uuid:{GUID}",
        GUID[:-1] + "G",
        "",
    ],
)
@pytest.mark.parametrize("resource", ["customers", "service-items", "sales-orders"])
def test_an_external_id_that_is_not_a_guid_is_refused_on_create(
    wire, customer, resource, external_id
):
    body = {"name": "Has External Id", "externalId": external_id}
    if resource == "sales-orders":
        body = {"customerId": customer.id, "transactionDate": "2026-01-10"}
        body["externalId"] = external_id
    before = wire.sim("GET", "counts").json()[resource]
    _refused(wire.post(resource, json=body), 'Invalid UUID at "externalId"')
    assert wire.sim("GET", "counts").json()[resource] == before


def test_the_external_id_is_kept_as_sent_and_not_deduplicated(client, eu, wire, customer):
    lower = "3f2b8a4e-1c2d-4e5f-9a8b-7c6d5e4f3a2b"
    created = wire.post("customers", json={"name": "External Upper", "externalId": GUID}).json()
    assert created["externalId"] == GUID
    assert client.qbd.customers.retrieve(created["id"], conductor_end_user_id=eu).external_id == (
        GUID
    )
    vendor = client.qbd.vendors.create(conductor_end_user_id=eu, name="Ext", external_id=lower)
    assert vendor.external_id == lower
    listed = client.qbd.vendors.list(conductor_end_user_id=eu, ids=[vendor.id]).data
    assert listed[0].external_id == lower
    # Conductor does not deduplicate externalId (FACTS §8): two orders may carry the same one
    orders = [
        client.qbd.sales_orders.create(
            conductor_end_user_id=eu,
            customer_id=customer.id,
            transaction_date=DAY,
            external_id=GUID,
        )
        for _ in range(2)
    ]
    assert orders[0].id != orders[1].id
    assert [order.external_id for order in orders] == [GUID, GUID]
    # without one, none is made up
    plain = client.qbd.customers.create(conductor_end_user_id=eu, name="No External Id")
    assert plain.external_id is None


def test_updates_are_refused_like_creates_name_in_use_colon_and_dangling_reference(
    client, eu, customer, widget
):
    vendor = client.qbd.vendors.create(conductor_end_user_id=eu, name="Shared Space Supply")
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.update(
            customer.id,
            conductor_end_user_id=eu,
            revision_number=customer.revision_number,
            name="shared space supply",
        )
    code, message = _qb_error(caught)
    assert code == "3100" and '"shared space supply"' in message
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.inventory_items.update(
            widget.id,
            conductor_end_user_id=eu,
            revision_number=widget.revision_number,
            name="Widgets:Blue",
        )
    code, message = _qb_error(caught)
    assert code == "3090" and "cannot contain a colon" in message
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.vendors.update(
            vendor.id,
            conductor_end_user_id=eu,
            revision_number=vendor.revision_number,
            terms_id="80FFFFFF-1700000000",
        )
    code, message = _qb_error(caught)
    assert code == "3140" and "QuickBooks StandardTerms " in message
    # none of them changed anything
    assert client.qbd.customers.retrieve(customer.id, conductor_end_user_id=eu).revision_number == (
        customer.revision_number
    )
    assert client.qbd.inventory_items.retrieve(widget.id, conductor_end_user_id=eu).name == (
        "Test Widget"
    )
    assert client.qbd.vendors.retrieve(vendor.id, conductor_end_user_id=eu).terms is None
