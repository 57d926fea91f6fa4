"""Stock as net changes (DESIGN §1, issue 17): a WMS count becomes an adjustment of its
difference, edits of pushed adjustments move stock by their change of difference, and when
both sides move the same stock every move lands once — read back from the simulator through
Conductor's API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from tests.sync.conftest import objects_by_name, sync
from tests.sync.stock import (
    EVERYTHING,
    count_adjustments,
    customer_id,
    qb_edit_adjustment,
    qb_invoice,
    qb_on_hand,
    stocked_items,
    wms,
    wms_adjustment,
    wms_count,
    wms_edit_line,
    wms_on_hand,
)
from webapp.extensions import db
from webapp.models import InventoryAdjustment, Item, SyncError, SyncRecordEvent
from webapp.sync.conductor import QuickBooks


def _adjustment(local_id: int) -> InventoryAdjustment:
    db.session.expire_all()
    return db.session.get(InventoryAdjustment, local_id)


def _qb_lines(qb, qb_id: str) -> list:
    [record] = qb.list_all("inventory-adjustments", {"ids": [qb_id], "includeLineItems": True})
    return [line["quantityDifference"] for line in record["lines"]]


def test_a_count_while_quickbooks_invoices_the_item_lands_both_moves(sync_app, qb, sim):
    """Given a synced item, when the WMS counts 5 more than it had and QuickBooks invoices 2
    before the next sync, then both figures are opening + 5 - 2, the count went to QuickBooks
    as an adjustment of +5 recorded in the WMS, and a further sync moves nothing."""
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    assert opening == qb_on_hand(qb, qb_item)
    wms_count(item_id, opening + 5)
    qb_invoice(sim, customer_id(qb), qb_item, 2)

    sync(EVERYTHING)

    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 3
    [(adjustment_qb_id, difference)] = count_adjustments(item_id)
    assert difference == 5 and adjustment_qb_id is not None
    assert _qb_lines(qb, adjustment_qb_id) == [5]
    again = objects_by_name(sync(EVERYTHING))
    assert sum(o["pushed"] for o in again.values()) == 0
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 3


def test_a_second_count_before_the_first_lands_adds_only_its_own_difference(sync_app, qb, sim):
    """Counts recorded by an items-only sync wait as adjustments; a recount adds what it
    changed, and QuickBooks ends with the last count."""
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    wms_count(item_id, opening + 4)
    sync(["item"])  # recorded, not sent
    assert count_adjustments(item_id) == [(None, 4)]
    wms_count(item_id, opening + 1)
    sync(["item"])
    assert count_adjustments(item_id) == [(None, 4), (None, -3)]
    assert qb_on_hand(qb, qb_item) == opening

    sync(EVERYTHING)

    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 1
    assert all(qb_id is not None for qb_id, _ in count_adjustments(item_id))


def test_a_count_whose_answer_is_lost_lands_once(sync_app, qb, sim):
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    wms_count(item_id, opening + 6)
    sim.faults(lost_response_rate=1.0)  # every write applied, every answer lost
    try:
        sync(EVERYTHING, max_attempts=3)
    finally:
        sim.faults(lost_response_rate=0.0)
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 6
    assert [d for _, d in count_adjustments(item_id)] == [6]


def test_a_worker_killed_after_a_count_was_created_settles_it_before_items_are_read(
        sync_app, qb, sim, monkeypatch):
    """The count's adjustment reached QuickBooks and the process died before writing it down;
    QuickBooks then invoices the item and a full sync reads every item again: the count is
    found by its externalId before the items are read, so it counts once."""
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    wms_count(item_id, opening + 8)
    real_create = QuickBooks.create

    class Killed(BaseException):
        pass

    def create_then_die(self, resource, body):
        real_create(self, resource, body)
        raise Killed()

    monkeypatch.setattr(QuickBooks, "create", create_then_die)
    with pytest.raises(Killed):
        sync(EVERYTHING, expect=None)
    monkeypatch.setattr(QuickBooks, "create", real_create)
    db.session.rollback()
    db.session.execute(text("UPDATE sync_session SET status = 'failed'"))  # its worker died
    db.session.commit()
    assert count_adjustments(item_id) == [(None, 8)]
    qb_invoice(sim, customer_id(qb), qb_item, 3)

    sync(EVERYTHING, mode="full")

    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 5
    assert [d for _, d in count_adjustments(item_id)] == [8]
    named = db.session.scalar(select(InventoryAdjustment.external_id).where(
        InventoryAdjustment.from_count.is_(True)))
    found = [r for r in qb.list_all("inventory-adjustments", {}) if r["externalId"] == named]
    assert len(found) == 1


def test_an_adjustment_edited_in_the_wms_moves_stock_by_the_change(sync_app, qb, sim):
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    adjustment = wms_adjustment(item_id, 4)
    sync(EVERYTHING)
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 4
    wms_edit_line(adjustment, 10)

    doc = sync(EVERYTHING)

    assert objects_by_name(doc)["inventory_adjustment"]["pushed"] == 1
    row = _adjustment(adjustment)
    assert _qb_lines(qb, row.qb_id) == [10]
    assert row.wms_pending is False and row.stock_sent is None
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 10
    assert objects_by_name(sync(EVERYTHING))["inventory_adjustment"]["pushed"] == 0
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 10


def test_an_edit_whose_answer_is_lost_lands_once(sync_app, qb, sim):
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    adjustment = wms_adjustment(item_id, 4)
    sync(EVERYTHING)
    wms_edit_line(adjustment, -2)
    sim.faults(lost_response_rate=1.0)
    try:
        sync(EVERYTHING, max_attempts=3)
    finally:
        sim.faults(lost_response_rate=0.0)
    assert _qb_lines(qb, _adjustment(adjustment).qb_id) == [-2]
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening - 2
    assert _adjustment(adjustment).stock_sent is None


@pytest.mark.parametrize("quickbooks_first", [False, True])
def test_an_adjustment_edited_on_both_sides_keeps_both_moves(sync_app, qb, sim,
                                                             quickbooks_first):
    """QuickBooks' version of the adjustment stands; the WMS's change of difference goes as
    a new adjustment; one conflict in the ledger; both figures equal and hold every move.
    (`quickbooks_first`: QuickBooks edits once the adjustments are pulled, so the push meets
    a stale revision rather than the pull a new one.)
    """
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    opening = wms_on_hand(item_id)
    adjustment = wms_adjustment(item_id, 4)
    sync(EVERYTHING)
    qb_id = _adjustment(adjustment).qb_id
    wms_edit_line(adjustment, 9)  # the WMS: +5
    edited = []

    def edit_in_quickbooks(run=None):
        if not edited:
            edited.append(True)
            qb_edit_adjustment(sim, qb, qb_id, 1)  # QuickBooks: -3

    def once_adjustments_are_pulled(run):
        if run.object_name == "inventory_adjustment" and (run.checkpoint or {}).get("pulled"):
            edit_in_quickbooks()

    if not quickbooks_first:
        edit_in_quickbooks()
    doc = sync(EVERYTHING, on_progress=once_adjustments_are_pulled)
    assert edited

    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 4 + 5 - 3
    assert _qb_lines(qb, qb_id) == [1]
    row = _adjustment(adjustment)
    assert [line.quantity_difference for line in row.lines] == [1]
    assert row.wms_pending is False
    [conflict] = db.session.scalars(select(SyncRecordEvent).where(
        SyncRecordEvent.session_id == doc["id"], SyncRecordEvent.action == "conflict"))
    assert conflict.record_id == adjustment and conflict.detail["winner"] == "quickbooks"
    new_id = int(conflict.detail["rule"].rsplit("#", 1)[1].rstrip(")"))
    sent = _adjustment(new_id)
    assert sent.qb_id is not None and [line.quantity_difference for line in sent.lines] == [5]
    assert _qb_lines(qb, sent.qb_id) == [5]


def test_an_adjustment_quickbooks_refuses_is_one_error_pending_and_the_others_go(
        sync_app, qb, sim):
    """An account QuickBooks does not have, and a service item (no stock in QuickBooks):
    one error each, each still pending, and the good adjustment is pushed."""
    sync(EVERYTHING)
    [(item_id, qb_item)] = stocked_items(qb, 1)
    service = db.session.scalar(select(Item.id).where(Item.item_type == "service"))
    opening = wms_on_hand(item_id)
    bad_account = wms_adjustment(item_id, 2, account="No Such Account")
    bad_item = wms_adjustment(service, 2)
    good = wms_adjustment(item_id, 3, account=account_name())

    doc = sync(EVERYTHING)

    assert doc["error_count"] == 2
    errors = {e.local_id: e for e in db.session.scalars(select(SyncError))}
    assert set(errors) == {bad_account, bad_item}
    assert "No Such Account" in errors[bad_account].message
    for refused in (bad_account, bad_item):
        assert _adjustment(refused).qb_id is None and _adjustment(refused).push_error
    assert _adjustment(good).qb_id is not None
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 3
    # the next sync tries them again: the same two errors, nothing created twice
    doc = sync(EVERYTHING)
    assert doc["error_count"] == 2
    assert db.session.scalar(select(func.count()).select_from(InventoryAdjustment).where(
        InventoryAdjustment.external_id.is_not(None),
        InventoryAdjustment.qb_id.is_(None))) == 2
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == opening + 3


def account_name() -> str:
    return "Inventory Adjustments"


def test_a_new_item_with_stock_in_the_wms_sends_its_stock_as_a_count(sync_app, qb, sim):
    sync(EVERYTHING)
    item_id = wms("INSERT INTO wms_item (item_type, name, full_name, sublevel, is_active,"
                  " quantity_on_hand) VALUES ('inventory', 'Counted Widget', 'Counted Widget',"
                  " 0, true, 12)")
    sync(EVERYTHING)
    qb_item = db.session.get(Item, item_id).qb_id
    assert qb_on_hand(qb, qb_item) == wms_on_hand(item_id) == Decimal(12)
