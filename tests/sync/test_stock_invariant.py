"""The stock invariant (DESIGN §1, issue 17), randomized: many rounds of stock moves on both
sides — WMS adjustments, WMS counts, WMS edits of adjustments, QuickBooks adjustments, edits
of them, invoices, and item receipts, sales receipts and credit memos (which the WMS does not
mirror) made behind the API's back — with syncs in between that run clean, under
faults and lost answers (some failing for good), or cancelled part-way.

The oracle is written from the rule, not from the code: every move is a quantity on one item,
made once, on one side, and counted once:

    WMS adjustment of d                 -> d
    WMS count of the figure it shows f to f + c  -> c
    WMS edit of an adjustment line it shows at x to y  -> y - x
    QuickBooks adjustment of d          -> d
    QuickBooks edit of an adjustment line at x to y   -> y - x
    QuickBooks invoice of q             -> -q
    QuickBooks item receipt / credit memo of q -> q; sales receipt of q -> -q

After a final clean sync, for every item: WMS on-hand = QuickBooks on-hand = opening quantity
+ the sum of its moves. (The WMS edits lines to positive figures and QuickBooks to negative
ones, so the two never make the same change — which would be one change, not two.)
The seed is printed, and can be set with QBSYNC_STOCK_SEED.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from tests.sync.conftest import sync
from tests.sync.stock import (
    EVERYTHING,
    account_id,
    customer_id,
    qb_adjust,
    qb_invoice,
    qb_on_hand,
    qb_receipt,
    stocked_items,
    wms_adjustment,
    wms_count,
    wms_edit_line,
    wms_on_hand,
)
from webapp.extensions import db
from webapp.models import (
    InventoryAdjustment,
    InventoryAdjustmentLine,
    SyncRecordEvent,
    SyncSession,
)
from webapp.sync import manager

ROUNDS = 10
MOVES_PER_ROUND = 7
ITEMS = 4
SEED = int(os.environ.get("QBSYNC_STOCK_SEED", "1717"))


class StockOracle:
    def __init__(self, qb, sim, rng: random.Random):
        self.qb, self.sim, self.rng = qb, sim, rng
        self.items = stocked_items(qb, ITEMS)  # (WMS id, QuickBooks id)
        self.expected = {item_id: qb_on_hand(qb, qb_item) for item_id, qb_item in self.items}
        for item_id, _ in self.items:
            assert wms_on_hand(item_id) == self.expected[item_id]
        self.account, self.customer = account_id(qb), customer_id(qb)
        self.vendor = qb.list_page("vendors", {"limit": 1})["data"][0]["id"]
        self.first_adjustment = (db.session.scalar(select(func.max(InventoryAdjustment.id)))
                                 or 0) + 1
        self.qb_made: list[str] = []  # adjustments QuickBooks made in the test
        self.log: list[tuple] = []

    def moved(self, item_id: int, quantity, how: str) -> None:
        self.expected[item_id] += Decimal(quantity)
        self.log.append((how, item_id, quantity))

    def one_move(self) -> None:
        rng = self.rng
        item_id, qb_item = rng.choice(self.items)
        kind = rng.choice(("wms_adjust", "wms_count", "wms_edit", "qb_adjust", "qb_edit",
                           "qb_invoice", "qb_receipt"))
        if kind == "wms_adjust":
            d = rng.choice([-3, -2, -1, 1, 2, 4, 7])
            wms_adjustment(item_id, d)
            self.moved(item_id, d, kind)
        elif kind == "wms_count":
            shown = wms_on_hand(item_id)
            c = rng.choice([-2, -1, 1, 3, 5])
            wms_count(item_id, shown + c)
            self.moved(item_id, c, kind)
        elif kind == "wms_edit":
            candidates = self._wms_editable()
            if not candidates:
                return
            adjustment, line_item, shown = rng.choice(candidates)
            new = rng.choice([y for y in range(1, 12) if y != shown])
            wms_edit_line(adjustment, new)
            self.moved(line_item, new - shown, f"{kind} #{adjustment} {shown}->{new}")
        elif kind == "qb_adjust":
            d = rng.choice([-2, -1, 1, 3, 6])
            self.qb_made.append(qb_adjust(self.sim, self.account, qb_item, d))
            self.moved(item_id, d, kind)
        elif kind == "qb_edit":
            candidates = self._qb_editable()
            if not candidates:
                return
            record = rng.choice(candidates)
            [line] = record["lines"]
            shown = Decimal(str(line["quantityDifference"]))
            new = rng.choice([y for y in range(-9, 0) if y != shown])
            self.sim.edits({"resource": "inventory-adjustments", "id": record["id"],
                            "fields": {"lines": [{"id": line["id"], "quantityDifference": new}]}})
            local = dict((qb, local) for local, qb in self.items)[line["item"]["id"]]
            self.moved(local, new - shown, f"{kind} {record['id']} {shown}->{new}")
        elif kind == "qb_receipt":  # moves the WMS does not mirror (issue 17: /transactions)
            resource, sign = rng.choice((("item-receipts", 1), ("sales-receipts", -1),
                                         ("credit-memos", 1)))
            q = rng.randint(1, 4)
            qb_receipt(self.sim, resource, self.customer, self.vendor, qb_item, q)
            self.moved(item_id, sign * q, f"{kind} {resource}")
        else:
            q = rng.randint(1, 3)
            qb_invoice(self.sim, self.customer, qb_item, q)
            self.moved(item_id, -q, kind)

    def _wms_editable(self) -> list[tuple[int, int, Decimal]]:
        """(adjustment, its item, the line's figure as the WMS shows it) of this test's
        one-line adjustments on tracked items (not the sync's own count rows)."""
        db.session.expire_all()
        tracked = [item_id for item_id, _ in self.items]
        rows = db.session.execute(
            select(InventoryAdjustment.id, InventoryAdjustmentLine.item_id,
                   InventoryAdjustmentLine.quantity_difference)
            .join(InventoryAdjustmentLine)
            .where(InventoryAdjustment.id >= self.first_adjustment,
                   InventoryAdjustment.from_count.is_(False),
                   InventoryAdjustmentLine.item_id.in_(tracked))).all()
        lines = {}
        for adjustment, item_id, difference in rows:
            lines.setdefault(adjustment, []).append((item_id, difference))
        return [(a, held[0][0], held[0][1]) for a, held in sorted(lines.items())
                if len(held) == 1]

    def _qb_editable(self) -> list[dict]:
        """QuickBooks' one-line adjustments of tracked items made in this test (by either
        side), as QuickBooks shows them."""
        db.session.expire_all()
        ids = set(self.qb_made) | set(db.session.scalars(select(InventoryAdjustment.qb_id).where(
            InventoryAdjustment.id >= self.first_adjustment,
            InventoryAdjustment.qb_id.is_not(None))))
        tracked = {qb_item for _, qb_item in self.items}
        records = self.qb.list_all("inventory-adjustments", {"includeLineItems": True})
        return [r for r in records if r["id"] in ids and len(r["lines"]) == 1
                and (r["lines"][0]["item"] or {}).get("id") in tracked]

    def sync_round(self, n: int) -> str:
        """This round's sync: clean, under faults and lost answers (retried until done, or
        given up after two attempts), or cancelled after a few steps."""
        rng = self.rng
        kind = rng.choice(("clean", "faults", "faults_fail", "cancel"))
        self.log.append(("sync", kind, n))
        mode = "full" if rng.random() < 0.2 else "incremental"
        if kind in ("faults", "faults_fail"):
            self.sim.faults(fault_rate=0.15, lost_response_rate=0.25)
        try:
            if kind == "cancel":
                steps = [rng.randint(2, 25)]

                def cancel_later(run):
                    steps[0] -= 1
                    if steps[0] == 0:
                        manager.cancel_session(run.session_id)

                sync(EVERYTHING, mode, expect=None, on_progress=cancel_later)
            else:
                sync(EVERYTHING, mode, expect="completed" if kind != "faults_fail" else None,
                     max_attempts=40 if kind == "faults" else 2)
        finally:
            self.sim.faults(fault_rate=0.0, lost_response_rate=0.0)
        for item_id, qb_item in self.items:  # for the failure's story
            self.log.append(("figures (WMS, QuickBooks, expected)", item_id, (
                wms_on_hand(item_id), qb_on_hand(self.qb, qb_item), self.expected[item_id])))
        return kind

    def check(self) -> None:
        for item_id, qb_item in self.items:
            expected = self.expected[item_id]
            assert qb_on_hand(self.qb, qb_item) == expected, (item_id, self.log)
            assert wms_on_hand(item_id) == expected, (item_id, self.log)
        waiting = db.session.scalar(select(func.count()).select_from(InventoryAdjustment).where(
            InventoryAdjustment.qb_id.is_(None)))
        assert waiting == 0


def test_every_stock_move_on_either_side_is_counted_once(any_sync_app, sim, any_qb):
    print(f"stock invariant seed={SEED} (QBSYNC_STOCK_SEED)")
    rng = random.Random(SEED)
    sync(EVERYTHING, "full")
    oracle = StockOracle(any_qb, sim, rng)
    kinds = []
    for n in range(ROUNDS):
        for _ in range(MOVES_PER_ROUND):
            oracle.one_move()
        kinds.append(oracle.sync_round(n))
    sync(EVERYTHING)  # the final clean sync
    print("rounds:", kinds, "sessions:", dict(db.session.execute(
        select(SyncSession.status, func.count()).group_by(SyncSession.status)).all()),
        "conflicts:", db.session.scalar(select(func.count()).select_from(SyncRecordEvent).where(
            SyncRecordEvent.action == "conflict")),
        "count adjustments:", db.session.scalar(select(func.count()).select_from(
            InventoryAdjustment).where(InventoryAdjustment.from_count.is_(True))),
        "moves:", Counter(how.split()[0] for how, _, _ in oracle.log))
    oracle.check()
    sync(EVERYTHING)  # and a further one moves nothing
    oracle.check()
