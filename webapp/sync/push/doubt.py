"""Stock writes with no known outcome, settled before the items are read again.

A create or an update of an inventory adjustment whose answer was lost (and whose immediate
look-up failed too, or whose worker died) may have moved stock in QuickBooks. That move must
be written down — the items' bases moved, and the WMS figures unless a count holds it already
— before any item is read again: a read would take it for QuickBooks' own move, and counting
it again when the adjustment is found later would count it twice.

So before the item object is pulled (the items are read first in every session that reads
them), each adjustment in doubt is looked for: a row with an `externalId` committed, no
QuickBooks id and no refusal since (its create may have been sent), and a row with
`stock_sent` (an update of its lines may have landed). What QuickBooks has is adopted as
the push would have had it answered; what it does not have stays pending for the push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from webapp.extensions import db
from webapp.sync.push.creates import find_created

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext


def settle(ctx: PullContext) -> None:
    """Look for every adjustment whose create or update has no known outcome."""
    from webapp.sync.objects import registry
    from webapp.sync.push import Pusher, edits

    obj = registry.get("inventory_adjustment")
    table = obj.model.__table__
    ids = list(db.session.scalars(select(table.c.id).where(
        table.c.qb_deleted_at.is_(None),
        or_(table.c.stock_sent.is_not(None),
            and_(table.c.qb_id.is_(None), table.c.external_id.is_not(None),
                 table.c.push_error.is_(None))))
        .order_by(table.c.id)))
    if not ids:
        return
    pusher = Pusher(ctx, obj)
    for local_id in ids:
        row, lines, qb_ids = pusher._load(local_id)
        if row["qb_id"] is None:
            found = find_created(ctx.qb, obj, row, qb_ids)
            if found is not None:
                pusher._created(row, lines, found)
        else:
            edits.settle_update(pusher, local_id, edits.read(pusher, row))
        ctx.flush()
