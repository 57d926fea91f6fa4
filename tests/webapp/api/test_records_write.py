"""The records API, writing (DESIGN §1, §7): creating and changing WMS records, the refusals
with the field named, lines replaced with their ids kept, nothing written for no change, the
pull-only invoice, and auth/CSRF on writes. Same company and backends as test_records."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.webapp.api.test_records import app, company, get  # noqa: F401 - fixtures
from webapp.extensions import db
from webapp.models import (
    Customer,
    Invoice,
    Item,
    PurchaseOrder,
    SalesOrder,
    SalesOrderLine,
    Vendor,
)

GUID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"


def first_id(model, *where):
    return db.session.scalar(select(model.id).where(model.qb_id.is_not(None), *where)
                             .order_by(model.id))


@pytest.fixture
def known(app):  # noqa: F811 - the module's app
    """Ids of pulled records the bodies below refer to."""
    two_line_orders = (select(SalesOrderLine.sales_order_id)
                       .where(SalesOrderLine.is_line_group.is_(False),
                              SalesOrderLine.group_qb_line_id.is_(None))
                       .group_by(SalesOrderLine.sales_order_id)
                       .having(func.count() >= 3))
    order = db.session.scalar(select(SalesOrder.id).where(SalesOrder.id.in_(two_line_orders))
                              .order_by(SalesOrder.id))
    other = db.session.scalar(select(SalesOrder.id).where(SalesOrder.id != order)
                              .order_by(SalesOrder.id))
    return {
        "customer": first_id(Customer), "vendor": first_id(Vendor), "item": first_id(Item),
        "order": order, "other_order": other, "invoice": first_id(Invoice),
        "other_line": db.session.scalar(select(SalesOrderLine.id).where(
            SalesOrderLine.sales_order_id == other)),
    }


def send(client, method, url, body, headers):
    return client.open(url, method=method, json=body, headers=headers)


# --- create --------------------------------------------------------------------------------


def test_a_created_customer_waits_for_the_sync_with_no_qb_id(token_client, bearer):
    # When a WMS creates a customer
    response = send(token_client, "POST", "/api/v1/records/customer",
                    {"fields": {"name": "Harbor Supply", "email": "ap@harbor.example",
                                "credit_limit": "2500.50",
                                "billing_address": {"line1": "1 Dock St", "city": "Oslo"}}},
                    bearer)
    # Then it is created in the WMS only, pending, with its fields as sent
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["qb_id"] is None and doc["sync_state"] == "pending"
    assert response.headers["Location"] == f"/api/v1/records/customer/{doc['id']}"
    assert doc["fields"]["full_name"] == "Harbor Supply" and doc["fields"]["sublevel"] == 0
    assert doc["fields"]["credit_limit"] == "2500.50"
    assert doc["fields"]["billing_address"] == {"line1": "1 Dock St", "city": "Oslo"}
    row = db.session.get(Customer, doc["id"])
    assert row.qb_id is None and row.wms_pending and row.local_updated_at is not None


def test_a_job_and_a_sub_item_take_their_parents_full_name(token_client, bearer, known):
    parent = db.session.get(Customer, known["customer"])
    job = send(token_client, "POST", "/api/v1/records/customer",
               {"fields": {"name": "Kitchen", "parent_id": parent.id}}, bearer).get_json()
    assert job["fields"]["full_name"] == f"{parent.full_name}:Kitchen"
    assert job["fields"]["sublevel"] == parent.sublevel + 1
    assert job["fields"]["parent_qb_id"] == parent.qb_id
    item = send(token_client, "POST", "/api/v1/records/item",
                {"fields": {"name": "Bolt", "sales_price": "0.125", "external_id": GUID}},
                bearer).get_json()
    assert item["fields"]["item_type"] == "inventory" and item["fields"]["full_name"] == "Bolt"
    assert item["fields"]["external_id"] == GUID
    sub = send(token_client, "POST", "/api/v1/records/item",
               {"fields": {"name": "M6", "item_type": "non_inventory",
                           "parent_id": item["id"]}}, bearer).get_json()
    assert sub["fields"]["full_name"] == "Bolt:M6" and sub["fields"]["sublevel"] == 1
    assert sub["fields"]["item_type"] == "non_inventory"


def test_a_created_order_keeps_its_lines_in_order(token_client, bearer, known):
    customer = db.session.get(Customer, known["customer"])
    response = send(token_client, "POST", "/api/v1/records/sales_order", {
        "fields": {"customer_id": customer.id, "transaction_date": "2025-03-01",
                   "memo": "WMS order"},
        "lines": [{"item_id": known["item"], "quantity": "2", "rate": "10.00"},
                  {"description": "Handling", "amount": "5.00"}],
    }, bearer)
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["fields"]["customer_qb_id"] == customer.qb_id
    assert [(x["item_id"], x["quantity"], x["description"]) for x in doc["lines"]] == [
        (known["item"], "2.00000", None), (None, None, "Handling")]
    assert doc["sync_state"] == "pending" and doc["label"] is None
    purchase = send(token_client, "POST", "/api/v1/records/purchase_order", {
        "fields": {"vendor_id": known["vendor"], "transaction_date": "2025-03-02"}}, bearer)
    assert purchase.status_code == 201
    assert db.session.get(PurchaseOrder, purchase.get_json()["id"]).vendor_id == known["vendor"]


# --- refusals ------------------------------------------------------------------------------

REFUSALS = [
    # (object, method, record, body, code, the field the message names)
    ("customer", "POST", None, {"fields": {"name": "A", "balance": "1.00"}},
     "read_only_field", "fields.balance"),
    ("customer", "POST", None, {"fields": {"name": "A", "full_name": "A"}},
     "read_only_field", "fields.full_name"),
    ("customer", "POST", None, {"fields": {"name": "A", "nickname": "Al"}},
     "unknown_field", "fields.nickname"),
    ("customer", "POST", None, {"fields": {"name": "A"}, "extra": 1}, "unknown_field", "extra"),
    ("customer", "POST", None, {"fields": {"name": "A"}, "lines": []}, "unknown_field", "lines"),
    ("customer", "POST", None, {"fields": {"name": "Acme:East"}}, "invalid_value",
     "fields.name"),
    ("customer", "POST", None, {"fields": {"name": "x" * 42}}, "invalid_value", "fields.name"),
    ("vendor", "POST", None, {"fields": {"name": "x" * 42}}, "invalid_value", "fields.name"),
    ("item", "POST", None, {"fields": {"name": "x" * 32}}, "invalid_value", "fields.name"),
    ("customer", "POST", None, {"fields": {"name": "A", "first_name": "x" * 26}},
     "invalid_value", "fields.first_name"),
    ("customer", "POST", None, {"fields": {"name": "A", "credit_limit": "1.234"}},
     "invalid_value", "fields.credit_limit"),
    ("customer", "POST", None, {"fields": {"name": "A", "credit_limit": 12}},
     "invalid_value", "fields.credit_limit"),
    ("customer", "POST", None, {"fields": {"name": "A", "is_active": "yes"}},
     "invalid_value", "fields.is_active"),
    ("customer", "POST", None, {"fields": {"name": "A", "billing_address": {"street": "1"}}},
     "invalid_value", "fields.billing_address.street"),
    ("customer", "POST", None, {"fields": {"email": "a@example.com"}}, "missing_field",
     "fields.name"),
    ("customer", "POST", None, {"fields": {"name": "A", "external_id": "not-a-guid"}},
     "invalid_value", "fields.external_id"),
    ("customer", "POST", None, {"fields": {"name": "A", "parent_id": 999999}},
     "unknown_reference", "fields.parent_id"),
    ("item", "POST", None, {"fields": {"name": "A", "item_type": "assembly"}},
     "invalid_value", "fields.item_type"),
    ("item", "POST", None, {"fields": {"name": "A", "quantity_on_hand": "5"}},
     "read_only_field", "fields.quantity_on_hand"),
    ("sales_order", "POST", None, {"fields": {"transaction_date": "2025-01-01"}},
     "missing_field", "fields.customer_id"),
    ("sales_order", "POST", None, {"fields": {"customer_id": "{customer}"}},
     "missing_field", "fields.transaction_date"),
    ("purchase_order", "POST", None, {"fields": {"transaction_date": "2025-01-01"}},
     "missing_field", "fields.vendor_id"),
    ("inventory_adjustment", "POST", None, {"fields": {"memo": "count"}},
     "missing_field", "fields.transaction_date"),
    ("sales_order", "POST", None,
     {"fields": {"customer_id": 999999, "transaction_date": "2025-01-01"}},
     "unknown_reference", "fields.customer_id"),
    ("sales_order", "POST", None,
     {"fields": {"customer_id": "{customer}", "transaction_date": "2025-02-30"}},
     "invalid_value", "fields.transaction_date"),
    ("sales_order", "POST", None,
     {"fields": {"customer_id": "{customer}", "transaction_date": "2025-01-01"},
      "lines": [{"item_id": 999999}]}, "unknown_reference", "lines[0].item_id"),
    ("sales_order", "POST", None,
     {"fields": {"customer_id": "{customer}", "transaction_date": "2025-01-01"},
      "lines": [{"quantity": "1"}, {"quantity": "x"}]}, "invalid_value", "lines[1].quantity"),
    ("sales_order", "POST", None,
     {"fields": {"customer_id": "{customer}", "transaction_date": "2025-01-01",
                 "total_amount": "1.00"}}, "read_only_field", "fields.total_amount"),
    ("customer", "PATCH", "customer", {"fields": {"external_id": GUID}},
     "read_only_field", "fields.external_id"),
    ("customer", "PATCH", "customer", {"fields": {"qb_id": "80000001-1"}},
     "read_only_field", "fields.qb_id"),
    ("customer", "PATCH", "customer", {"fields": {"sync_base": {}}},
     "read_only_field", "fields.sync_base"),
    ("customer", "PATCH", "customer", {"fields": {"local_updated_at": "2025-01-01"}},
     "read_only_field", "fields.local_updated_at"),
    ("customer", "PATCH", "customer", {"fields": {"parent_qb_id": "80000001-1"}},
     "read_only_field", "fields.parent_qb_id"),
    ("customer", "PATCH", "customer", {"fields": {"name": None}}, "invalid_value",
     "fields.name"),
    ("customer", "PATCH", "customer", {"fields": {"parent_id": "{customer}"}},
     "invalid_value", "fields.parent_id"),
    ("vendor", "PATCH", "vendor", {"fields": {"balance": "0.00"}}, "read_only_field",
     "fields.balance"),
    ("item", "PATCH", "item", {"fields": {"item_type": "service"}}, "read_only_field",
     "fields.item_type"),
    ("item", "PATCH", "item", {"fields": {"quantity_on_hand": "3"}}, "read_only_field",
     "fields.quantity_on_hand"),
    ("item", "PATCH", "item", {"fields": {"average_cost": "3"}}, "read_only_field",
     "fields.average_cost"),
    ("item", "PATCH", "item", {"fields": {"preferred_vendor_id": 999999}},
     "unknown_reference", "fields.preferred_vendor_id"),
    ("sales_order", "PATCH", "order", {"fields": {"is_fully_invoiced": True}},
     "read_only_field", "fields.is_fully_invoiced"),
    ("sales_order", "PATCH", "order", {"lines": [{"quantity_invoiced": "1"}]},
     "read_only_field", "lines[0].quantity_invoiced"),
    ("sales_order", "PATCH", "order", {"lines": [{"qb_line_id": "1-2"}]},
     "read_only_field", "lines[0].qb_line_id"),
    ("sales_order", "PATCH", "order", {"lines": [{"id": "{other_line}"}]},
     "unknown_reference", "lines[0].id"),
    ("sales_order", "PATCH", "order", {"lines": [{"colour": "red"}]},
     "unknown_field", "lines[0].colour"),
]


def _fill(value, known):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return known[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, known) for v in value]
    return value


@pytest.mark.parametrize(("obj", "method", "record", "body", "code", "field"), REFUSALS,
                         ids=[f"{r[0]}-{r[1]}-{r[4]}-{r[5]}" for r in REFUSALS])
def test_bad_input_is_refused_naming_the_field(token_client, bearer, known, obj, method,
                                               record, body, code, field):
    # Given the rows as pulled
    url = f"/api/v1/records/{obj}" + (f"/{known[record]}" if record else "")
    count = db.session.scalar(select(func.count()).select_from(Customer))
    # When a write breaks a rule
    response = send(token_client, method, url, _fill(body, known), bearer)
    # Then it is refused with the rule's code, the field named, and nothing written
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert field in error["message"], error
    assert db.session.scalar(select(func.count()).select_from(Customer)) == count
    if record:
        assert get(token_client, url, bearer)["sync_state"] == "synced"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_invoices_are_pull_only(token_client, bearer, known, method):
    url = "/api/v1/records/invoice" + (f"/{known['invoice']}" if method == "PATCH" else "")
    response = send(token_client, method, url, {"fields": {"memo": "x"}}, bearer)
    assert response.status_code == 405
    error = response.get_json()["error"]
    assert error["code"] == "pull_only" and "pull only" in error["message"]


# --- change --------------------------------------------------------------------------------


def test_a_patch_that_changes_nothing_writes_nothing(token_client, bearer, known):
    # Given a synced customer
    url = f"/api/v1/records/customer/{known['customer']}"
    before = get(token_client, url, bearer)
    same = {k: before["fields"][k] for k in ("name", "email", "phone", "credit_limit",
                                            "billing_address", "parent_id", "is_active")}
    # When it is patched with the values it already has, and with nothing at all
    for body in ({"fields": same}, {"fields": {}}, {}):
        response = send(token_client, "PATCH", url, body, bearer)
        assert response.status_code == 200, response.get_json()
        # Then nothing is stamped and it is still synced
        assert response.get_json()["sync"] == before["sync"]
        assert response.get_json()["sync_state"] == "synced"
    row = db.session.get(Customer, known["customer"])
    assert row.local_updated_at is None and not row.wms_pending


def test_a_patch_of_a_synced_field_stamps_the_row_pending(token_client, bearer, known):
    url = f"/api/v1/records/customer/{known['customer']}"
    response = send(token_client, "PATCH", url,
                    {"fields": {"email": "new@example.com", "credit_limit": "10"}}, bearer)
    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    assert doc["sync_state"] == "pending" and doc["sync"]["local_updated_at"] is not None
    assert doc["fields"]["email"] == "new@example.com" and doc["fields"]["credit_limit"] == "10.00"
    # And setting it back to what QuickBooks has makes it synced again (nothing to send)
    row = db.session.get(Customer, known["customer"])
    base = row.sync_base
    back = send(token_client, "PATCH", url, {"fields": {
        "email": base.get("email"), "credit_limit": base.get("credit_limit")}}, bearer)
    assert back.get_json()["sync_state"] == "synced"


def test_renaming_a_customer_recomputes_its_full_name(token_client, bearer, known):
    url = f"/api/v1/records/customer/{known['customer']}"
    doc = send(token_client, "PATCH", url, {"fields": {"name": "Renamed Co"}}, bearer).get_json()
    assert doc["fields"]["name"] == doc["fields"]["full_name"] == "Renamed Co"
    assert doc["sync_state"] == "pending"


def test_lines_are_replaced_keeping_the_ids_of_kept_lines(token_client, bearer, known):
    # Given an order with three or more lines
    url = f"/api/v1/records/sales_order/{known['order']}"
    before = get(token_client, url, bearer)
    plain = [x for x in before["lines"] if not x["is_line_group"] and not x["group_qb_line_id"]]
    first, second, dropped = plain[0], plain[1], plain[2]
    # When the second is changed and moved first, the first kept as is, a line added, and
    # the third left out
    body = {"lines": [{"id": second["id"], "quantity": "7"}, {"id": first["id"]},
                      {"item_id": known["item"], "quantity": "1", "rate": "3.50"}]}
    response = send(token_client, "PATCH", url, body, bearer)
    # Then the kept lines keep their ids (and their QuickBooks line ids), in the given order
    assert response.status_code == 200, response.get_json()
    lines = response.get_json()["lines"]
    assert [x["id"] for x in lines[:2]] == [second["id"], first["id"]]
    assert lines[0]["qb_line_id"] == second["qb_line_id"] and lines[0]["quantity"] == "7.00000"
    assert lines[1] == first
    assert lines[2]["id"] not in {x["id"] for x in before["lines"]}
    assert lines[2]["qb_line_id"] is None and lines[2]["item_id"] == known["item"]
    assert dropped["id"] not in {x["id"] for x in lines}
    assert db.session.get(SalesOrderLine, dropped["id"]) is None
    assert response.get_json()["sync_state"] == "pending"


def test_the_same_lines_again_write_nothing(token_client, bearer, known):
    url = f"/api/v1/records/sales_order/{known['order']}"
    before = get(token_client, url, bearer)
    response = send(token_client, "PATCH", url,
                    {"lines": [{"id": x["id"]} for x in before["lines"]]}, bearer)
    assert response.get_json() == before
    assert db.session.get(SalesOrder, known["order"]).local_updated_at is None


def test_patching_a_record_that_does_not_exist_is_404(token_client, bearer):
    response = send(token_client, "PATCH", "/api/v1/records/customer/999999",
                    {"fields": {"email": "x@example.com"}}, bearer)
    assert response.status_code == 404


# --- auth ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [("POST", "/api/v1/records/customer"),
                                              ("PATCH", "/api/v1/records/customer/1")])
def test_writes_need_a_login_or_a_token(token_client, method, url):
    response = send(token_client, method, url, {"fields": {"name": "Nobody"}}, {})
    assert response.status_code == 401
    assert db.session.scalar(select(Customer.id).where(Customer.name == "Nobody")) is None


def test_a_browser_write_without_the_csrf_token_is_refused(logged_in, known):
    url = f"/api/v1/records/customer/{known['customer']}"
    refused = logged_in.patch(url, json={"fields": {"email": "csrf@example.com"}}, csrf=False)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert db.session.get(Customer, known["customer"]).email != "csrf@example.com"
    # With the header, as the dashboard sends it, the same write goes through
    accepted = logged_in.patch(url, json={"fields": {"email": "csrf@example.com"}})
    assert accepted.status_code == 200
    created = logged_in.post("/api/v1/records/vendor", json={"fields": {"name": "Web Vendor"}})
    assert created.status_code == 201
