"""The transaction types QuickBooks has that move an inventory item's on-hand and that the WMS
does not mirror (the WMS's own — orders, invoices, adjustments — are read again by `refresh`
after their pull), and the watermark of the look for them (`moves`). Shared by `moves`, which
reads them, and `probes`, which asks for them in the session's one `GET /transactions`."""

from __future__ import annotations

from webapp.models.sync import SyncSession
from webapp.sync.pull.plan import state_of

MOVED = "item"  # the object whose on-hand these transactions move
WATERMARK = "stock_moves"  # its SyncState row: the last probe's moment, set back
STOCK_TYPES = {
    "item_receipt": "item-receipts",
    "bill": "bills",
    "sales_receipt": "sales-receipts",
    "credit_memo": "credit-memos",
    "vendor_credit": "vendor-credits",
    "check": "checks",
    "credit_card_charge": "credit-card-charges",
    "credit_card_credit": "credit-card-credits",
    "build_assembly": "build-assemblies",
}


def watermark(session: SyncSession) -> str | None:
    return state_of(session, WATERMARK).watermark
