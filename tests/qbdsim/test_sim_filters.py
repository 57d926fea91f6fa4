"""List filters as QuickBooks applies them through Conductor."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from qbdsim.query import qb_sort_key


def _rows(wire, path, **params) -> list[dict]:
    response = wire.get(path, params={"limit": 150, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _all(wire, path, **params) -> list[dict]:
    body = wire.get(path, params={"limit": 150, **params}).json()
    rows = body["data"]
    while body.get("nextCursor"):
        body = wire.get(path, params={"limit": 150, **params, "cursor": body["nextCursor"]}).json()
        rows += body["data"]
    return rows


def test_status_defaults_to_active(shared_wire):
    everything = _all(shared_wire, "customers", status="all")
    active = _all(shared_wire, "customers")
    inactive = _all(shared_wire, "customers", status="inactive")
    assert all(row["isActive"] for row in active)
    assert inactive and not any(row["isActive"] for row in inactive)
    assert len(active) + len(inactive) == len(everything)


def test_updated_after_and_before_are_inclusive(shared_wire):
    rows = _all(shared_wire, "invoices")
    stamp = sorted(row["updatedAt"] for row in rows)[len(rows) // 2]
    after = _all(shared_wire, "invoices", updatedAfter=stamp)
    before = _all(shared_wire, "invoices", updatedBefore=stamp)
    assert stamp in {row["updatedAt"] for row in after} & {row["updatedAt"] for row in before}
    assert len(after) + len(before) == len(rows) + sum(r["updatedAt"] == stamp for r in rows)


def test_updated_after_accepts_date_only_and_other_offsets(shared_wire):
    rows = _all(shared_wire, "sales-orders")
    stamp = sorted(row["updatedAt"] for row in rows)[len(rows) // 3]
    moment = datetime.fromisoformat(stamp)
    expected = {r["id"] for r in rows if datetime.fromisoformat(r["updatedAt"]) >= moment}
    # the same instant written in UTC, and without an offset (read as QuickBooks' local time)
    in_utc = moment.astimezone(datetime.fromisoformat("2020-01-01T00:00:00+00:00").tzinfo)
    for value in (in_utc.isoformat(), stamp[:19]):
        assert {r["id"] for r in _all(shared_wire, "sales-orders", updatedAfter=value)} == expected
    # a date alone means the start of that local day (after) or its end (before)
    day = stamp[:10]
    same_day = {r["id"] for r in rows if r["updatedAt"][:10] == day}
    after = {r["id"] for r in _all(shared_wire, "sales-orders", updatedAfter=day)}
    before = {r["id"] for r in _all(shared_wire, "sales-orders", updatedBefore=day)}
    assert same_day <= after and same_day <= before


def test_malformed_dates_are_refused(shared_wire):
    response = shared_wire.get("invoices", params={"updatedAfter": "last tuesday"})
    assert response.status_code == 400


def test_name_range_uses_quickbooks_order_and_sorts_output(shared_wire):
    rows = _rows(shared_wire, "customers", status="all", nameFrom="", nameTo="m")
    names = [row["fullName"] for row in rows]
    assert names == sorted(names, key=qb_sort_key)
    assert all(qb_sort_key(name) <= qb_sort_key("m") for name in names)
    # punctuation sorts before digits, digits before letters, case does not matter
    assert qb_sort_key("#1 Plumbing") < qb_sort_key("3M Supply") < qb_sort_key("abc")
    assert qb_sort_key("ABC") == qb_sort_key("abc")
    assert qb_sort_key("Émile") == qb_sort_key("emile")


def test_vendors_name_range_compares_names(shared_wire):
    names = [row["name"] for row in _rows(shared_wire, "vendors", status="all", nameFrom="h")]
    assert names and names == sorted(names, key=qb_sort_key)
    assert all(qb_sort_key(name) >= qb_sort_key("h") for name in names)


def test_name_from_after_name_to_is_a_quickbooks_error(shared_wire):
    response = shared_wire.get("customers", params={"nameFrom": "z", "nameTo": "a"})
    assert response.status_code == 502
    assert response.json()["error"]["integrationCode"] == "3031"


def test_name_contains_is_case_insensitive(shared_wire):
    rows = _rows(shared_wire, "customers", status="all", nameContains="LLC")
    assert rows and all("llc" in row["fullName"].lower() for row in rows)
    response = shared_wire.get("customers", params={"nameContains": "a", "nameFrom": "b"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "param", "field"),
    [
        ("customers", "fullNames", "fullName"),
        ("vendors", "names", "name"),
        ("inventory-items", "fullNames", "fullName"),
        ("invoices", "refNumbers", "refNumber"),
    ],
)
def test_lookups_ignore_other_filters(shared_wire, path, param, field):
    inactive = {"status": "inactive"} if path != "invoices" else {}
    sample = _rows(shared_wire, path, **inactive)[:2] or _rows(shared_wire, path)[:2]
    ids = [row["id"] for row in sample]
    values = [row[field].upper() if field != "refNumber" else row[field] for row in sample]
    # status=active and a date in the future would exclude them, but lookups ignore both
    noise = {"updatedAfter": "2100-01-01"}
    if path != "invoices":
        noise["status"] = "active"
    by_id = _rows(shared_wire, path, ids=ids, **noise)
    assert [row["id"] for row in by_id] == ids
    by_value = _rows(shared_wire, path, **{param: values}, **noise)
    assert {row["id"] for row in by_value} >= set(ids)


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("customers", "ids"),
        ("customers", "fullNames"),
        ("vendors", "names"),
        ("invoices", "refNumbers"),
    ],
)
def test_one_unknown_lookup_value_fails_the_request(shared_wire, path, param):
    known = _rows(shared_wire, path)[0]
    value = {
        "ids": known["id"],
        "fullNames": known.get("fullName"),
        "names": known.get("name"),
        "refNumbers": known.get("refNumber"),
    }[param]
    response = shared_wire.get(path, params={param: [value, "Nobody Home"]})
    assert response.status_code == 502
    error = response.json()["error"]
    assert (error["code"], error["integrationCode"]) == ("QBD_REQUEST_ERROR", "500")
    assert "could not be found" in error["message"] and "Nobody Home" in error["message"]


def test_transaction_date_range(shared_wire):
    rows = _all(shared_wire, "invoices")
    dates = sorted(row["transactionDate"] for row in rows)
    low, high = dates[len(dates) // 4], dates[len(dates) // 2]
    picked = _all(shared_wire, "invoices", transactionDateFrom=low, transactionDateTo=high)
    assert {r["id"] for r in picked} == {
        r["id"] for r in rows if low <= r["transactionDate"] <= high
    }


def test_include_line_items_false_leaves_lines_empty(shared_wire):
    rows = _rows(shared_wire, "purchase-orders", includeLineItems="false")
    assert rows and all(row["lines"] == [] for row in rows)
    assert any(row["lines"] for row in _rows(shared_wire, "purchase-orders"))


def test_customer_vendor_and_item_id_filters(shared_wire):
    invoice = _rows(shared_wire, "invoices")[0]
    customer_id = invoice["customer"]["id"]
    rows = _all(shared_wire, "invoices", customerIds=customer_id)
    assert invoice["id"] in {r["id"] for r in rows}
    assert all(r["customer"]["id"] == customer_id for r in rows)
    order = _rows(shared_wire, "purchase-orders")[0]
    rows = _all(shared_wire, "purchase-orders", vendorIds=order["vendor"]["id"])
    assert all(r["vendor"]["id"] == order["vendor"]["id"] for r in rows)
    adjustment = _rows(shared_wire, "inventory-adjustments")[0]
    item_id = adjustment["lines"][0]["item"]["id"]
    rows = _rows(shared_wire, "inventory-adjustments", itemIds=item_id)
    assert adjustment["id"] in {r["id"] for r in rows}
    assert all(any(line["item"]["id"] == item_id for line in r["lines"]) for r in rows)


def test_payment_status_filter(shared_wire):
    paid = _all(shared_wire, "invoices", paymentStatus="paid")
    unpaid = _all(shared_wire, "invoices", paymentStatus="not_paid")
    assert paid and unpaid
    assert all(r["isPaid"] for r in paid) and not any(r["isPaid"] for r in unpaid)
    assert all(r["balanceRemaining"] == "0.00" for r in paid)


def test_ref_number_range_is_numeric_for_digits(shared_wire):
    rows = _all(shared_wire, "sales-orders", refNumberFrom="9", refNumberTo="11")
    assert sorted(int(r["refNumber"]) for r in rows) == [9, 10, 11]


def test_unknown_query_parameter_is_refused(shared_wire):
    response = shared_wire.get("customers", params={"updated_after": "2024-01-01"})
    assert response.status_code == 400
    assert 'Unrecognized key: "updated_after"' in response.json()["error"]["message"]


def test_future_updated_after_returns_an_empty_page(shared_wire):
    tomorrow = (datetime.now() + timedelta(days=1)).date().isoformat()
    body = shared_wire.get("customers", params={"updatedAfter": tomorrow}).json()
    assert body["data"] == [] and body["hasMore"] is False and body["nextCursor"] is None
