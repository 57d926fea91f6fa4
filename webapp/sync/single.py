"""One record again ("Sync this record now", issue 18): a session limited to one WMS record.

The record is read again by id from QuickBooks (when it has a `qb_id`) and written through
the pull's own writer — merged with any WMS change, conflicts and errors in the ledger as in a
pull — then pushed if the WMS still has something to send, by the push's own `Pusher`. Nothing
else is read or sent: no listing, no watermark moves, no deletions check, and records it names
that are not in QuickBooks yet are not created with it (the push waits for them; a sync of
their objects sends them). A record staff held back ("Hold") is read but not sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.wms import is_held

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

PULLED, PUSHED = "pulled", "pushed"  # checkpoint keys: a retried run does neither twice


def run(ctx: PullContext) -> None:
    """Pull the session's one record by id, then push it if pending; resumable."""
    obj = ctx.obj
    record_id = (ctx.session.only_record or {}).get("id")
    ctx.run.total = max(ctx.run.total or 0, 1)
    row = _row(obj, record_id)
    if row is None:
        ctx.report_error(obj, {"id": None}, "not_found",
                         f"{obj.display_name}: the WMS has no record #{record_id} any more.",
                         label=f"#{record_id}")
        ctx.flush()
        return
    if not ctx.checkpoint.get(PULLED):
        if row["qb_id"] is not None:
            _pull(ctx, row)
        ctx.checkpoint[PULLED] = True
        ctx.flush()
    if not ctx.checkpoint.get(PUSHED):
        row = _row(obj, record_id)
        if _to_push(obj, row):
            from webapp.sync.push import Pusher

            ctx.run.total += 1
            Pusher(ctx).push(row["id"])
            ctx.run.processed += 1
        ctx.checkpoint[PUSHED] = True
        ctx.flush()


def _row(obj, record_id):
    table = obj.model.__table__
    if not isinstance(record_id, int):
        return None
    return db.session.execute(select(table).where(table.c.id == record_id)).mappings().first()


def _pull(ctx: PullContext, row) -> None:
    obj = ctx.obj
    resource = obj.resource_of(row)
    records, unknown = ctx.resolver.lookup(resource, [row["qb_id"]])
    if records:
        ctx.commit_page(ctx.writer.write(obj, resource, records), len(records))
        return
    if unknown:
        ctx.report_error(obj, {"id": row["qb_id"]}, "not_in_quickbooks",
                         f"{obj.display_name}: QuickBooks has no record {row['qb_id']} any "
                         "more (deleted there?); a sync of this object marks it deleted.",
                         label=obj.row_label(row))
    ctx.run.processed += 1


def _to_push(obj, row) -> bool:
    if obj.direction != "both" or row is None or row["qb_deleted_at"] is not None:
        return False
    if not (row["wms_pending"] or row["qb_id"] is None):
        return False
    return not is_held(row["push_held_at"], row["local_updated_at"])
