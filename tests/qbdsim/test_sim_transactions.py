"""``/transactions``: every kind of transaction as one row each (and their lines on request),
cursor-paged like every other list, filtered as the spec describes — through the real
conductor-py client and raw HTTP checked against the spec."""

from __future__ import annotations

import time
from datetime import date

import conductor
import pytest

from qbdsim.resources import ALL_TXN_PATHS, RESOURCES, TXN_PATHS
from qbdsim.testing import assert_conforms, conductor_client, running_simulator

QBD = "/quickbooks-desktop"
LIST = f"{QBD}/transactions"
DAY = date(2026, 1, 10)


def every_row(client, eu, **filters) -> list:
    """All rows of a /transactions query, through the SDK's auto-paging."""
    return list(client.qbd.transactions.list(conductor_end_user_id=eu, **filters))


def test_every_transaction_of_every_kind_pages_through_once(shared_client, shared_wire, eu):
    # Given a generated company (hundreds of transactions of the four generated kinds)
    counts = shared_wire.sim("GET", "counts").json()
    total = sum(counts[path] for path in ALL_TXN_PATHS)
    assert total > 300
    # When the SDK pages through /transactions (150 a page: the default)
    rows = every_row(shared_client, eu)
    # Then every transaction comes once, as a transaction row, in creation order
    ids = [row.transaction_id for row in rows]
    assert len(ids) == len(set(ids)) == total
    assert all(row.transaction_line_id is None for row in rows)
    kinds = {row.transaction_type for row in rows}
    assert kinds == {RESOURCES[path].deleted_type for path in TXN_PATHS}
    # And each row is its transaction's header
    invoice = shared_wire.get("invoices", params={"limit": 1}).json()["data"][0]
    row = next(row for row in rows if row.transaction_id == invoice["id"])
    assert (row.entity.id, row.account.id, row.ref_number, row.updated_at, row.created_at) == (
        invoice["customer"]["id"], invoice["receivablesAccount"]["id"], invoice["refNumber"],
        invoice["updatedAt"], invoice["createdAt"],
    )


def test_pages_conform_and_keep_one_cursor(shared_wire):
    first = shared_wire.get("transactions", params={"limit": 150})
    body = assert_conforms(first, "GET", LIST)
    assert (len(body["data"]), body["hasMore"]) == (150, True)
    remaining = body["remainingCount"]
    second = shared_wire.get(
        "transactions",
        params={"cursor": body["nextCursor"], "limit": 150, "transactionTypes": "invoice"},
    )
    page = assert_conforms(second, "GET", LIST)
    assert page["remainingCount"] == max(remaining - 150, 0)
    assert page["data"][0]["transactionId"] != body["data"][0]["transactionId"]
    if page["hasMore"]:
        assert page["nextCursor"] == body["nextCursor"]


def test_cursor_expires_after_the_window_and_ends_after_the_last_page(shared_wire):
    with (
        running_simulator(size=300, cursor_ttl_s=1.0) as server,
        conductor_client(server, max_retries=0) as client,
    ):
        eu = server.config.end_user_id
        page = client.qbd.transactions.list(conductor_end_user_id=eu, limit=50)
        page = page.get_next_page()  # within the window
        time.sleep(1.3)  # the window itself is under test
        with pytest.raises(conductor.BadRequestError) as caught:
            page.get_next_page()
        assert "expired" in caught.value.body["error"]["message"]
    first = shared_wire.get("transactions", params={"limit": 150}).json()
    while first["hasMore"]:
        last = first
        first = shared_wire.get("transactions", params={"cursor": last["nextCursor"]}).json()
    response = shared_wire.get("transactions", params={"cursor": last["nextCursor"]})
    assert response.status_code == 400
    assert "no more results" in response.json()["error"]["message"]


def test_a_cursor_of_another_list_is_refused(shared_wire):
    other = shared_wire.get("invoices", params={"limit": 2}).json()["nextCursor"]
    response = shared_wire.get("transactions", params={"cursor": other})
    assert response.status_code == 400
    assert assert_conforms(response, "GET", LIST)["error"]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"transactionTypes": "bill_of_lading"}, 'at "transactionTypes[0]"'),
        ({"detailLevel": "everything"}, 'at "detailLevel"'),
        ({"postingStatus": "posted"}, 'at "postingStatus"'),
        ({"paymentStatus": "paid"}, 'at "paymentStatus"'),
        ({"limit": 151}, 'at "limit"'),
        ({"transactionDateFrom": "2026-13-01"}, 'at "transactionDateFrom"'),
        ({"includeLineItems": "true"}, 'Unrecognized key: "includeLineItems"'),
    ],
)
def test_values_outside_the_spec_are_400(shared_wire, params, words):
    response = shared_wire.get("transactions", params=params)
    assert response.status_code == 400
    error = assert_conforms(response, "GET", LIST)["error"]
    assert (error["type"], words in error["message"]) == ("INVALID_REQUEST_ERROR", True)


def test_ids_ignore_the_rest_and_an_unknown_id_fails(shared_client, shared_wire, eu):
    order = shared_wire.get("sales-orders", params={"limit": 1}).json()["data"][0]
    po = shared_wire.get("purchase-orders", params={"limit": 1}).json()["data"][0]
    page = shared_client.qbd.transactions.list(
        conductor_end_user_id=eu, ids=[po["id"], order["id"]], transaction_types=["invoice"],
        detail_level="transaction_lines_only",
    )
    assert {row.transaction_id for row in page.data} == {order["id"], po["id"]}
    assert all(row.transaction_line_id is None for row in page.data)
    with pytest.raises(conductor.InternalServerError) as caught:
        shared_client.qbd.transactions.list(
            conductor_end_user_id=eu, ids=[order["id"], "FFFF-0000000000"]
        )
    assert caught.value.body["error"]["integrationCode"] == "500"
    assert "FFFF-0000000000" in caught.value.body["error"]["message"]


def test_retrieve_one_and_an_unknown_one(shared_client, shared_wire, eu):
    adjustment = shared_wire.get("inventory-adjustments").json()["data"][0]
    response = shared_wire.get(f"transactions/{adjustment['id']}")
    row = assert_conforms(response, "GET", f"{LIST}/{{id}}")
    assert (row["transactionType"], row["account"]) == (
        "inventory_adjustment", adjustment["account"]
    )
    value = sum(line["valueDifference"] for line in adjustment["lines"])
    assert float(row["amount"]) == pytest.approx(value, abs=0.01)
    parsed = shared_client.qbd.transactions.retrieve(adjustment["id"], conductor_end_user_id=eu)
    assert parsed.transaction_id == adjustment["id"]
    with pytest.raises(conductor.InternalServerError):
        shared_client.qbd.transactions.retrieve("FFFF-0000000000", conductor_end_user_id=eu)


def test_new_kinds_updated_after_types_and_line_detail(client, wire, eu, customer, widget):
    # Given, on top of the generated history, a receipt, a sale and a return of the widget
    vendor = client.qbd.vendors.create(conductor_end_user_id=eu, name="Rows Supplier")
    receipt = client.qbd.item_receipts.create(
        conductor_end_user_id=eu, vendor_id=vendor.id, transaction_date=DAY,
        item_lines=[{"item_id": widget.id, "quantity": 5, "cost": "4.00"}],
    )
    sale = client.qbd.sales_receipts.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 2}, {"description": "Gift wrap"}],
    )
    memo = client.qbd.credit_memos.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 1}],
    )
    made = [receipt.id, sale.id, memo.id]
    # When transactions updated since the first of them are listed
    rows = every_row(client, eu, updated_after=receipt.updated_at)
    # Then exactly the three come back, each with its kind, party, account and total
    assert [row.transaction_id for row in rows] == made
    assert [(row.transaction_type, row.entity.id, row.account.full_name, row.amount)
            for row in rows] == [
        ("item_receipt", vendor.id, "Accounts Payable", "20.00"),
        ("sales_receipt", customer.id, "Undeposited Funds", "25.00"),
        ("credit_memo", customer.id, "Accounts Receivable", "12.50"),
    ]
    # And transactionTypes picks kinds ("all" is every kind)
    picked = every_row(client, eu, transaction_types=["credit_memo", "item_receipt"])
    assert [row.transaction_id for row in picked] == [receipt.id, memo.id]
    assert len(every_row(client, eu, transaction_types=["all"])) == len(every_row(client, eu))
    # And detailLevel "all" adds a row per line, under its transaction's id
    detail = every_row(client, eu, updated_after=receipt.updated_at, detail_level="all")
    assert [(row.transaction_id, row.transaction_line_id) for row in detail] == [
        (receipt.id, None), (receipt.id, receipt.item_lines[0].id),
        (sale.id, None), (sale.id, sale.lines[0].id), (sale.id, sale.lines[1].id),
        (memo.id, None), (memo.id, memo.lines[0].id),
    ]
    line = detail[1]
    assert (line.amount, line.account.full_name, line.entity.id) == (
        "20.00", "Inventory Asset", vendor.id
    )
    assert detail[3].account.full_name == "Sales:Merchandise"
    body = assert_conforms(
        wire.get("transactions", params={"updatedAfter": receipt.updated_at,
                                         "detailLevel": "transaction_lines_only"}),
        "GET", LIST,
    )
    assert [row["transactionLineId"] for row in body["data"]] == [
        receipt.item_lines[0].id, sale.lines[0].id, sale.lines[1].id, memo.lines[0].id
    ]


def test_item_ids_select_transactions_or_only_their_lines(client, wire, eu, customer, widget):
    # Given a sale of the widget beside a service line
    service = wire.get("service-items", params={"limit": 1}).json()["data"][0]
    sale = client.qbd.sales_receipts.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY,
        lines=[{"item_id": service["id"], "amount": "80.00"}, {"item_id": widget.id}],
    )
    # When transactions are asked for by item: the whole transaction comes back
    whole = every_row(client, eu, item_ids=[widget.id])
    assert [(row.transaction_id, row.amount) for row in whole] == [(sale.id, "92.50")]
    # With lines asked for, only the widget's line (and, at "all", its transaction)
    lines = every_row(client, eu, item_ids=[widget.id], detail_level="transaction_lines_only")
    assert [(row.transaction_line_id, row.amount) for row in lines] == [(sale.lines[1].id, "12.50")]
    both = every_row(client, eu, item_ids=[widget.id], detail_level="all")
    assert [row.transaction_line_id for row in both] == [None, sale.lines[1].id]


def test_entity_account_ref_and_date_filters(shared_client, shared_wire, eu):
    invoice = shared_wire.get("invoices", params={"limit": 1}).json()["data"][0]
    customer_id = invoice["customer"]["id"]
    rows = every_row(shared_client, eu, entity_ids=[customer_id])
    assert rows and all(row.entity.id == customer_id for row in rows)
    assert invoice["id"] in {row.transaction_id for row in rows}
    by_ref = every_row(shared_client, eu, ref_numbers=[invoice["refNumber"]])
    assert invoice["id"] in {row.transaction_id for row in by_ref}
    assert all(row.ref_number == invoice["refNumber"] for row in by_ref)
    receivable = invoice["receivablesAccount"]["id"]
    assert {row.transaction_type for row in every_row(
        shared_client, eu, account_ids=[receivable])} == {"invoice"}
    day = invoice["transactionDate"]
    dated = every_row(shared_client, eu, transaction_date_from=day, transaction_date_to=day)
    assert dated and all(row.transaction_date.isoformat() == day for row in dated)


def test_posting_and_payment_status(shared_client, eu):
    non_posting = every_row(shared_client, eu, posting_status="non_posting")
    assert {row.transaction_type for row in non_posting} == {"sales_order", "purchase_order"}
    open_rows = every_row(shared_client, eu, payment_status="open")
    closed = every_row(shared_client, eu, payment_status="closed")
    assert {row.transaction_type for row in open_rows + closed} == {"invoice"}
    invoices = every_row(shared_client, eu, transaction_types=["invoice"])
    assert len(open_rows) + len(closed) == len(invoices)
    assert open_rows and closed
