"""Every move QuickBooks makes reaches the WMS (issue 17): item receipts, sales receipts and
credit memos change an item's on-hand without giving it a new revision; the session's one
`GET /transactions` finds them, and only the items on their lines are read again."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import Item

QBD = "GET /v1/quickbooks-desktop"


def _inventory(qb, count: int) -> list[dict]:
    return [r for r in qb.list_page("inventory-items", {"limit": 50})["data"]][:count]


def _party(qb, resource: str) -> str:
    return qb.list_page(resource, {"limit": 1})["data"][0]["id"]


def _on_hand(qb_id: str) -> Decimal:
    db.session.expire_all()
    return db.session.scalar(select(Item.quantity_on_hand).where(Item.qb_id == qb_id))


def _qb_on_hand(qb, qb_id: str) -> Decimal:
    (record,) = qb.lookup("inventory-items", {"ids": [qb_id]})
    return Decimal(str(record["quantityOnHand"]))


def _requests(sim) -> dict[str, int]:
    return dict(sim.stats()["requests"])


@pytest.mark.parametrize(("resource", "party", "lines_key", "sign"), [
    ("item-receipts", "vendors", "itemLines", 1),
    ("sales-receipts", "customers", "lines", -1),
    ("credit-memos", "customers", "lines", 1),
])
def test_a_quickbooks_move_the_wms_does_not_mirror_reaches_the_wms(sync_app, sim, qb, resource,
                                                                    party, lines_key, sign):
    sync()
    moved, untouched = _inventory(qb, 2)
    opening = _on_hand(moved["id"])
    assert opening == _qb_on_hand(qb, moved["id"])
    # When QuickBooks records 7 of an item on a transaction the WMS does not mirror
    key = "vendorId" if party == "vendors" else "customerId"
    sim.edits({"create": {"resource": resource, "fields": {
        key: _party(qb, party), "transactionDate": "2026-12-01",
        lines_key: [{"itemId": moved["id"], "quantity": 7}]}}})
    assert _qb_on_hand(qb, moved["id"]) == opening + sign * 7
    before = _requests(sim)
    doc = sync()
    after = _requests(sim)
    # Then the WMS figure moved by the same 7, at the next incremental sync
    assert doc["error_count"] == 0
    assert _on_hand(moved["id"]) == opening + sign * 7
    assert _on_hand(untouched["id"]) == _qb_on_hand(qb, untouched["id"])
    # with one request to find it (the session's /transactions, shared by every object), one
    # to read that transaction's lines, and one to read the items it moved again
    spent = {path: n - before.get(path, 0) for path, n in after.items()
             if n != before.get(path, 0)}
    assert spent[f"{QBD}/transactions"] == 1
    assert spent[f"{QBD}/{resource}"] == 1
    assert spent[f"{QBD}/inventory-items"] == 2  # the incremental listing, and the re-read
    assert objects_by_name(doc)["item"]["updated"] == 1


def test_a_move_in_quickbooks_keeps_the_wms_move_not_pushed_yet(sync_app, sim, qb):
    sync()
    (item,) = _inventory(qb, 1)
    opening = _on_hand(item["id"])
    # A count the WMS has made (+3, not pushed: the item is held back from the push)
    row = db.session.scalar(select(Item).where(Item.qb_id == item["id"]))
    row.quantity_on_hand = opening + 3
    db.session.commit()
    sim.edits({"create": {"resource": "item-receipts", "fields": {
        "vendorId": _party(qb, "vendors"), "transactionDate": "2026-12-01",
        "itemLines": [{"itemId": item["id"], "quantity": 10}]}}})
    sync(["item"])
    # QuickBooks' 10 and the WMS's 3 both count, each once
    assert _on_hand(item["id"]) == opening + 13


def test_a_deleted_receipt_moves_the_wms_back(sync_app, sim, qb):
    sync()
    (item,) = _inventory(qb, 1)
    opening = _on_hand(item["id"])
    (touched,) = sim.edits({"create": {"resource": "item-receipts", "fields": {
        "vendorId": _party(qb, "vendors"), "transactionDate": "2026-12-01",
        "itemLines": [{"itemId": item["id"], "quantity": 4}]}}})
    sync(["item"])
    assert _on_hand(item["id"]) == opening + 4
    sim.edits({"delete": {"resource": "item-receipts", "id": touched["id"]}})
    before = _requests(sim)
    # When the receipt is deleted in QuickBooks, the next incremental sync moves the WMS back:
    # its lines are gone with it, so every inventory item is read again (by id, 100 a request)
    sync(["item"])
    spent = {p: n - before.get(p, 0) for p, n in _requests(sim).items() if n != before.get(p, 0)}
    assert _on_hand(item["id"]) == opening == _qb_on_hand(qb, item["id"])
    inventory = sim.counts()["inventory-items"]
    assert spent[f"{QBD}/deleted-transactions"] == 1
    assert spent[f"{QBD}/inventory-items"] == 1 + -(-inventory // 100), spent


def test_an_item_group_received_moves_its_inventory_items(sync_app, sim, qb):
    sync()
    inventory = {r["id"] for r in qb.list_all("inventory-items", {"status": "all"})}
    groups = qb.list_page("item-groups", {"status": "all"})["data"]
    group = next(g for g in groups if any(line["item"]["id"] in inventory
                                          for line in g["lines"]))
    moved = {line["item"]["id"]: Decimal(str(line["quantity"])) for line in group["lines"]
             if line["item"]["id"] in inventory}
    opening = {qb_id: _on_hand(qb_id) for qb_id in moved}
    # When a receipt's only line is the item group (QuickBooks' `itemGroupLines`), twice
    sim.edits({"create": {"resource": "item-receipts", "fields": {
        "vendorId": _party(qb, "vendors"), "transactionDate": "2026-12-01",
        "itemGroupLines": [{"itemGroupId": group["id"], "quantity": 2}]}}})
    sync(["item"])
    # Then each inventory item in it moved in the WMS as in QuickBooks
    for qb_id, quantity in moved.items():
        assert _on_hand(qb_id) == opening[qb_id] + 2 * quantity == _qb_on_hand(qb, qb_id)

