"""Item receipts, sales receipts and credit memos: stock that moves in QuickBooks without the WMS.

Through the real conductor-py client (strict models) and raw HTTP checked against the spec:
create, list, retrieve and delete each kind; on hand moves with their lines and back when they
are deleted, without a new revision of the item; and /_sim/edits makes them "in QuickBooks".
"""

from __future__ import annotations

from datetime import date

import conductor
import httpx
import pytest

from qbdsim.testing import assert_conforms

QBD = "/quickbooks-desktop"
DAY = date(2026, 1, 10)
# resource, the on-hand move of a line of 4, and the party it names
KINDS = [
    ("item-receipts", +4, "vendor"),
    ("sales-receipts", -4, "customer"),
    ("credit-memos", +4, "customer"),
]


@pytest.fixture
def vendor(client, eu):
    """A new vendor."""
    return client.qbd.vendors.create(conductor_end_user_id=eu, name="Test Supplier Inc")


@pytest.fixture
def tape(wire):
    """A generated non-inventory item (its lines move no stock)."""
    return wire.get("non-inventory-items", params={"limit": 1}).json()["data"][0]


def sdk(client, path: str):
    """``client.qbd.<resource>`` for a Conductor path name."""
    return getattr(client.qbd, path.replace("-", "_"))


def create_body(path: str, party_id: str, lines: list[dict]) -> dict:
    """A wire create body for ``path`` with ``lines`` (``itemId``, ``quantity``...)."""
    if path == "item-receipts":
        return {"vendorId": party_id, "transactionDate": DAY.isoformat(), "itemLines": lines}
    return {"customerId": party_id, "transactionDate": DAY.isoformat(), "lines": lines}


def stock(client, eu, item_id: str):
    """(on hand, revision number, updatedAt) of an inventory item."""
    item = client.qbd.inventory_items.retrieve(item_id, conductor_end_user_id=eu)
    return item.quantity_on_hand, item.revision_number, item.updated_at


@pytest.mark.parametrize(("path", "move", "party"), KINDS)
def test_each_kind_is_created_listed_retrieved_and_deleted_moving_on_hand(
    client, wire, eu, customer, vendor, widget, tape, path, move, party
):
    # Given an inventory item with 10 on hand
    party_id = (vendor if party == "vendor" else customer).id
    before = stock(client, eu, widget.id)
    assert before[0] == 10
    # When a transaction of this kind is created with 4 of it and 3 of a non-inventory item
    lines = [{"itemId": widget.id, "quantity": 4}, {"itemId": tape["id"], "quantity": 3}]
    response = wire.post(path, json=create_body(path, party_id, lines))
    created = assert_conforms(response, "POST", f"{QBD}/{path}")
    # Then on hand moved by 4 (the non-inventory line moves nothing) and the item was not edited
    assert stock(client, eu, widget.id) == (10 + move, before[1], before[2])
    assert created[party]["id"] == party_id
    assert created["refNumber"] == "1"  # QuickBooks numbers the first one
    # And the SDK retrieves it, and lists it by id and by party, with its typed model
    found = sdk(client, path).retrieve(created["id"], conductor_end_user_id=eu)
    assert (found.id, found.total_amount) == (created["id"], created["totalAmount"])
    by_party = {f"{party}_ids": [party_id]}
    listed = sdk(client, path).list(conductor_end_user_id=eu, **by_party)
    assert [row.id for row in listed.data] == [created["id"]]
    assert_conforms(wire.get(f"{path}/{created['id']}"), "GET", f"{QBD}/{path}/{{id}}")
    page = wire.get(path, params={"ids": created["id"], "includeLineItems": "false"})
    body = assert_conforms(page, "GET", f"{QBD}/{path}")
    row = body["data"][0]
    assert all(row.get(key, []) == [] for key in ("lines", "itemLines", "expenseLines"))
    # When it is deleted
    response = wire.request("DELETE", f"{path}/{created['id']}")
    assert assert_conforms(response, "DELETE", f"{QBD}/{path}/{{id}}")["deleted"] is True
    # Then on hand is back, the item still unedited, and the deletion is listed
    assert stock(client, eu, widget.id) == before
    kind = path[:-1].replace("-", "_")
    deleted = client.qbd.deleted_transactions.list(
        conductor_end_user_id=eu, transaction_types=[kind]
    )
    assert [(row.id, row.transaction_type) for row in deleted.data] == [(created["id"], kind)]
    with pytest.raises(conductor.InternalServerError):
        sdk(client, path).retrieve(created["id"], conductor_end_user_id=eu)


def test_item_receipt_prices_item_expense_and_group_lines(
    client, wire, eu, vendor, widget, accounts
):
    # Given an item group and a widget whose purchase cost is 5.00
    group = wire.get("item-groups", params={"limit": 1}).json()["data"][0]
    # When goods are received with a cost, a default cost, an amount, freight and a group
    receipt = client.qbd.item_receipts.create(
        conductor_end_user_id=eu,
        vendor_id=vendor.id,
        transaction_date=DAY,
        item_lines=[
            {"item_id": widget.id, "quantity": 6, "cost": "4.10"},
            {"item_id": widget.id, "quantity": 2},
            {"item_id": widget.id, "quantity": 4, "amount": "18.00"},
        ],
        expense_lines=[{"account_id": accounts["Freight and Shipping"], "amount": "12.50"}],
        item_group_lines=[{"item_group_id": group["id"], "quantity": 2}],
    )
    # Then each line is priced as QuickBooks prices it and the total is their sum
    costs = [(line.quantity, line.cost, line.amount) for line in receipt.item_lines]
    assert costs == [(6, "4.10", "24.60"), (2, "5.00", "10.00"), (4, "4.50", "18.00")]
    assert receipt.expense_lines[0].account.full_name == "Freight and Shipping"
    grouped = receipt.item_group_lines[0]
    assert grouped.item_group.id == group["id"] and grouped.quantity == 2
    components = {line["item"]["id"]: line["quantity"] for line in group["lines"]}
    assert {line.item.id: line.quantity for line in grouped.item_lines} == {
        item_id: quantity * 2 for item_id, quantity in components.items()
    }
    expected = sum(float(x) for x in ("24.60", "10.00", "18.00", "12.50", grouped.total_amount))
    assert float(receipt.total_amount) == pytest.approx(expected)
    assert receipt.payables_account.full_name == "Accounts Payable"
    # And on hand rose by every widget line: 10 + 6 + 2 + 4
    assert stock(client, eu, widget.id)[0] == 22


def test_sales_receipt_and_credit_memo_total_their_lines(client, eu, customer, widget):
    # When a widget is sold over the counter and two are taken back on a credit memo
    sale = client.qbd.sales_receipts.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 3}, {"description": "Thank you"}],
    )
    memo = client.qbd.credit_memos.create(
        conductor_end_user_id=eu, customer_id=customer.id, transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 2, "rate": "12.00"}],
    )
    # Then they are priced from the item (or the rate sent) and totalled
    assert (sale.lines[0].rate, sale.lines[0].amount, sale.total_amount) == (
        "12.50", "37.50", "37.50"
    )
    assert sale.deposit_to_account.full_name == "Undeposited Funds"
    assert (memo.total_amount, memo.credit_remaining) == ("24.00", "24.00")
    # And the credit lowers what the customer owes; on hand is 10 - 3 + 2
    owed = client.qbd.customers.retrieve(customer.id, conductor_end_user_id=eu)
    assert owed.balance == "-24.00"
    assert stock(client, eu, widget.id)[0] == 9


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("item-receipts", {"transactionDate": "2026-01-10"}, 400, 'at "vendorId"'),
        ("credit-memos", {"transactionDate": "2026-01-10"}, 400, 'at "customerId"'),
        ("item-receipts", {"vendorId": "8000FFFF-0000000000", "transactionDate": "2026-01-10"},
         502, 'QuickBooks Vendor "8000FFFF-0000000000" in the Item Receipt'),
        ("sales-receipts", {"transactionDate": "2026-01-10",
                            "lines": [{"itemId": "8000FFFF-0000000000"}]},
         502, 'Item "8000FFFF-0000000000" in the Sales Receipt'),
        ("item-receipts", {"vendorId": "VENDOR", "transactionDate": "2026-01-10",
                           "linkToTransactionIds": ["1-1"]}, 400, "does not link"),
        ("sales-receipts", {"transactionDate": "2026-01-10", "total": "1.00"}, 400,
         'Unrecognized key: "total"'),
    ],
)
def test_bad_creates_are_answered_as_conductor_does(wire, vendor, path, body, status, words):
    body = {key: vendor.id if value == "VENDOR" else value for key, value in body.items()}
    response = wire.post(path, json=body)
    assert response.status_code == status, response.text
    error = assert_conforms(response, "POST", f"{QBD}/{path}")["error"]
    assert words in error["message"]
    assert wire.get(path).json()["data"] == []  # nothing was written


def test_receipts_are_not_modified_here(wire, customer):
    created = wire.post("sales-receipts", json={"customerId": customer.id,
                                                "transactionDate": "2026-01-10"}).json()
    response = wire.post(f"sales-receipts/{created['id']}",
                         json={"revisionNumber": created["revisionNumber"], "memo": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_MISSING"


def test_receipts_page_with_one_cursor(client, wire, eu, vendor, widget):
    # Given five item receipts
    lines = [{"itemId": widget.id, "quantity": 1}]
    made = [wire.post("item-receipts", json=create_body("item-receipts", vendor.id, lines))
            .json()["id"] for _ in range(5)]
    # When they are listed two at a time
    first = wire.get("item-receipts", params={"limit": 2}).json()
    assert (first["remainingCount"], first["hasMore"]) == (3, True)
    again = wire.get("item-receipts", params={"limit": 2, "cursor": first["nextCursor"],
                                              "vendorIds": vendor.id})
    assert_conforms(again, "GET", f"{QBD}/item-receipts")
    # Then the SDK's auto-paging sees each once, in creation order
    pages = client.qbd.item_receipts.list(conductor_end_user_id=eu, limit=2)
    assert [row.id for row in pages] == made
    # And updatedAfter (inclusive) finds them from the last one's stamp on
    stamp = wire.get(f"item-receipts/{made[-1]}").json()["updatedAt"]
    updated = client.qbd.item_receipts.list(conductor_end_user_id=eu, updated_after=stamp)
    assert made[-1] in [row.id for row in updated.data]


@pytest.mark.parametrize(("path", "move", "party"), KINDS)
def test_sim_edits_create_and_delete_them_in_quickbooks(
    client, wire, eu, customer, vendor, widget, path, move, party
):
    # Given an item with 10 on hand
    before = stock(client, eu, widget.id)
    party_id = (vendor if party == "vendor" else customer).id
    # When a QuickBooks user enters the transaction behind the API's back
    lines = [{"itemId": widget.id, "quantity": 4}]
    record_id = wire.create_in_quickbooks(path, create_body(path, party_id, lines))
    # Then the API sees it and on hand moved, the item unedited
    assert sdk(client, path).retrieve(record_id, conductor_end_user_id=eu).id == record_id
    assert stock(client, eu, widget.id) == (10 + move, before[1], before[2])
    # And they cannot edit it through the update rules, only delete it
    with pytest.raises(httpx.HTTPStatusError):
        wire.edit({"resource": path, "id": record_id, "fields": {"memo": "x"}})
    wire.delete_in_quickbooks(path, record_id)
    assert stock(client, eu, widget.id) == before
    deleted = wire.get("deleted-transactions",
                       params={"transactionTypes": path[:-1].replace("-", "_")}).json()
    assert [row["id"] for row in deleted["data"]] == [record_id]


def test_sim_edit_create_is_validated_like_the_api(wire):
    response = wire.sim("POST", "edits", {"create": {"resource": "item-receipts",
                                                     "fields": {"transactionDate": "2026-01-10"}}})
    assert response.status_code == 400
    assert 'at "vendorId"' in response.json()["error"]["message"]
