"""A WMS count becomes an inventory adjustment (DESIGN §1: stock moves as net changes).

When the WMS sets an item's `quantity_on_hand` directly (a cycle count), the item's pending
WMS difference is its figure minus its base (QuickBooks' on-hand as last read or written).
The item's push records what of it no adjustment carries yet as a new WMS adjustment row,
marked `from_count`, with one line of that difference, so the WMS keeps the audit; the
adjustment's push then creates it in QuickBooks like any WMS adjustment (externalId committed
first, looked for before any second create). When it lands, only the item's base moves: the
WMS figure already includes the count (webapp.sync.push.stock.moved_by_us).

What a count adds is always its own new difference:

    to record = (WMS figure - base) - differences of count adjustments not in QuickBooks yet

so a second count made while the first one's adjustment waits (refused, or not pushed yet)
adds only what it changed, and a count recorded twice (a crash before the commit) cannot be:
the row and the item's push are one transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models.wms import InventoryAdjustment, InventoryAdjustmentLine

MEMO = "Count in the WMS of {name}"


def waiting(item_id: int) -> Decimal:
    """The differences of the item's count adjustments QuickBooks does not have yet."""
    header, line = InventoryAdjustment.__table__, InventoryAdjustmentLine.__table__
    total = db.session.scalar(
        select(func.sum(line.c.quantity_difference))
        .join(header, header.c.id == line.c.inventory_adjustment_id)
        .where(line.c.item_id == item_id, header.c.from_count.is_(True),
               header.c.qb_id.is_(None), header.c.qb_deleted_at.is_(None)))
    return Decimal(total or 0)


def record(row) -> str | None:
    """Record the item's unrecorded count difference as a count adjustment; returns why a
    count cannot go to QuickBooks (None when it can, or there is none)."""
    base = row.get("sync_base") or {}
    on_hand = row.get("quantity_on_hand")
    if row["item_type"] != "inventory":
        if on_hand is not None and Decimal(on_hand) != Decimal(
                str(base.get("quantity_on_hand") or 0)):
            return ("QuickBooks keeps no stock for an item of this kind; its quantity on hand"
                    " stays the WMS's alone")
        return None
    pending = Decimal(on_hand or 0) - Decimal(str(base.get("quantity_on_hand") or 0))
    new = pending - waiting(row["id"])
    if not new:
        return None
    adjustment = InventoryAdjustment(
        transaction_date=date.today(), memo=MEMO.format(name=row["full_name"])[:4000],
        from_count=True, wms_pending=False, is_active=True)
    adjustment.lines.append(InventoryAdjustmentLine(
        position=0, item_id=row["id"], item_qb_id=row["qb_id"], quantity_difference=new))
    db.session.add(adjustment)
    db.session.flush()
    return None
