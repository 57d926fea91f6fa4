"""Edits of inventory adjustments QuickBooks already has (DESIGN §1: stock moves as net changes).

A pushed adjustment the WMS changed is updated in QuickBooks (its header fields and its lines
whole, at the stored revision). Once QuickBooks took it, the items' on-hand moves by the change
of difference on both sides (`stock.move`), as a create moves it by its differences.

If QuickBooks changed the adjustment's stock too (a 3200 stale revision, or a pull that finds
a new revision with other differences), the adjustment is never merged line by line: QuickBooks'
version stands, and the WMS's intended change of difference (its lines minus the base's, per
item) is recorded as a new WMS adjustment, sent like any other, so no quantity is lost or
counted twice (`both_changed`, called by the pull's merge). Both sides making the same change
(the same differences per item) is one change. Each decision is a ledger event: the update
(`pushed_updated`) or the conflict, naming the new adjustment.

An update whose answer is lost may or may not have landed. `stock_sent` (the revision it is
sent at, the differences per item it sends) is committed before the request; the record is
read again at once, and when that read fails too, before the items are next read
(webapp.sync.push.doubt): a revision still the one sent means it did not land; QuickBooks
holding the differences sent means it did — what was sent becomes the base, and a WMS edit
made since stays pending, a change from what was sent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.sync import PUSHED_UPDATED
from webapp.sync import views
from webapp.sync.conductor import RECORD, QuickBooksError
from webapp.sync.merge import QUICKBOOKS, Conflict
from webapp.sync.push import bodies, stock

if TYPE_CHECKING:
    from webapp.sync.push import Pusher

STALE = "qb_3200"
RULE = ("inventory adjustments: QuickBooks' version stands; the WMS's change of difference is"
        " sent as a new adjustment")
MEMO = "The WMS's change to adjustment {label}, which QuickBooks changed too"


def update_lines(obj, lines, qb_ids) -> list[dict]:
    """The lines of an adjustment's update: QuickBooks' update lines carry the difference
    flat (`quantityDifference`), not under `adjustQuantity` as a create's do."""
    out = []
    for line in lines:
        body = {"id": line.get("qb_line_id") or bodies.NEW_LINE}
        for ref in obj.line_refs:
            qb_id = bodies.qb_id_of(ref, line, qb_ids)
            if qb_id is not None:
                body[ref.write] = qb_id
        if line.get("quantity_difference") is not None:
            body["quantityDifference"] = stock._number(Decimal(line["quantity_difference"]))
        out.append(body)
    return out


def wms_differences(obj, lines, qb_ids) -> dict[str, Decimal]:
    """{item's QuickBooks id (or local:<id>): difference} of the WMS's lines."""
    (ref,) = obj.line_refs
    return stock.differences(
        [{"item_qb_id": views._ref_value(ref, line, qb_ids),
          "quantity_difference": line.get("quantity_difference")} for line in lines],
        "item_qb_id")


def push_edit(pusher: Pusher, row, lines, qb_ids, changed: set[str], lines_changed: bool, *,
              retried: bool = False) -> None:
    """Send the WMS's change of a pushed adjustment (see the module's docstring)."""
    obj = pusher.obj
    columns = changed - obj.computed
    base = row["sync_base"] or {}
    stock_changed = lines_changed and stock.differences(base.get("lines"), "item_qb_id") != (
        wms_differences(obj, lines, qb_ids))
    if not columns and not lines_changed:
        pusher._set(row["id"], wms_pending=False, push_error=None)
        return
    body = {"revisionNumber": row["qb_revision"]}
    body.update(bodies.header(obj, row, columns, qb_ids, pusher.names, create=False))
    if lines_changed:
        body["lines"] = update_lines(obj, lines, qb_ids)
    if stock_changed:  # committed before the request: its outcome can be found out
        sent = {item: format(value, "f") for item, value in wms_differences(
            obj, lines, qb_ids).items()}
        pusher._set(row["id"], stock_sent={"revision": row["qb_revision"], "differences": sent})
        db.session.commit()
    resource, qb_id = obj.resource_of(row), row["qb_id"]
    fields = sorted(columns) + (["lines"] if lines_changed else [])
    try:
        record = pusher.qb.update(resource, qb_id, body)
    except QuickBooksError as error:
        if error.kind != RECORD:
            if not stock_changed:
                raise
            fresh = read(pusher, row)  # did it land? (a failed read leaves it in doubt)
            if not settle_update(pusher, row["id"], fresh):
                raise
            return
        pusher._set(row["id"], stock_sent=None)  # refused: nothing landed
        if error.code == STALE and not retried:
            read_again(pusher, row)  # QuickBooks' changes merged (both_changed)
            row, lines, qb_ids = pusher._load(row["id"])
            changed, lines_changed = views.wms_changed(obj, row, lines, qb_ids)
            push_edit(pusher, row, lines, qb_ids, changed, lines_changed, retried=True)
            return
        from webapp.sync.push import _plain

        pusher._refused(row, error.code, _plain(error) if error.code != STALE else (
            "QuickBooks was being edited at the same moment (its revision moved twice while"
            " we sent this); the next sync sends it again"))
        return
    landed(pusher, row, lines, record, fields)


def landed(pusher: Pusher, row, lines, record: dict, fields: list[str]) -> None:
    """QuickBooks took the update: the items move by the change of difference on both
    sides, and its answer becomes the row's base."""
    base = (row["sync_base"] or {}).get("lines")
    moves = stock.change(stock.differences(base, "item_qb_id"), stock.record_differences(record))
    stock.move(stock.local_items(moves))
    pusher._adopt(row, lines, record, PUSHED_UPDATED, fields, sent_lines="lines" in fields)
    pusher._set(row["id"], stock_sent=None)


def read(pusher: Pusher, row) -> dict | None:
    """QuickBooks' adjustment now (None: it has none by that id)."""
    records, _gone = pusher.ctx.resolver.lookup(pusher.obj.resource_of(row), [row["qb_id"]])
    return records[0] if records else None


def settle_update(pusher: Pusher, local_id: int, fresh: dict | None) -> bool:
    """An update whose outcome was unknown (`stock_sent`), against QuickBooks' record now:
    True when that settles it (landed, or overtaken by QuickBooks' own change), False when it
    did not land (the push sends the WMS's lines again)."""
    row, lines, _qb_ids = pusher._load(local_id)
    sent = row["stock_sent"]
    pusher._set(local_id, stock_sent=None)
    if fresh is None or sent is None or fresh.get("revisionNumber") == sent["revision"]:
        return False
    sent_differences = {item: Decimal(value) for item, value in sent["differences"].items()}
    if stock.record_differences(fresh) != sent_differences:
        read_again(pusher, row)  # QuickBooks changed it after (or instead): both_changed
        return True
    # It landed: what was sent is the base, QuickBooks' answer merged over it as our write.
    was = stock.differences((row["sync_base"] or {}).get("lines"), "item_qb_id")
    stock.move(stock.local_items(stock.change(was, sent_differences)))
    resource = pusher.obj.resource_of(row)
    sent_lines = pusher.ctx.writer.map_record(pusher.obj, resource, fresh, "").base["lines"]
    pusher._set(local_id, sync_base={**(row["sync_base"] or {}), "lines": sent_lines})
    row, lines, _qb_ids = pusher._load(local_id)
    pusher._adopt(row, lines, fresh, PUSHED_UPDATED, ["lines"], sent_lines=False)
    return True


def read_again(pusher: Pusher, row) -> None:
    """QuickBooks' adjustment now, merged as a pull merges it, and its items read again
    after it: a change of its stock in QuickBooks moved them, and no pull of this session
    is left to see it (their revisions do not move)."""
    items = set(stock.differences((row["sync_base"] or {}).get("lines"), "item_qb_id"))
    pusher._read_again(pusher.obj.resource_of(row), row["qb_id"])
    after = pusher._load(row["id"])[0]
    items |= set(stock.differences((after["sync_base"] or {}).get("lines"), "item_qb_id"))
    reread_items(pusher.ctx, sorted(items))


def reread_items(ctx, qb_ids: list[str]) -> None:
    """Read these items again and write them as a pull does (QuickBooks' moves reach the
    WMS figure as differences)."""
    from webapp.models.wms import Item
    from webapp.sync.objects import registry
    from webapp.sync.objects.item import RESOURCE_BY_ITEM_TYPE

    obj = registry.get("item")
    by_resource: dict[str, list[str]] = {}
    for qb_id, item_type in db.session.execute(select(Item.qb_id, Item.item_type).where(
            Item.qb_id.in_(qb_ids))):
        by_resource.setdefault(RESOURCE_BY_ITEM_TYPE[item_type], []).append(qb_id)
    for resource, ids in sorted(by_resource.items()):
        records, _gone = ctx.resolver.lookup(resource, ids)
        ctx.writer.write(obj, resource, records)


def both_changed(obj, row, old_lines, old_base, fresh_base, qb_ids) -> list[Conflict] | None:
    """The pull's rule for an adjustment whose stock both sides changed: None when they did
    not both change it (merged as any record); else QuickBooks' lines stand, and the WMS's
    change of difference, when it differs from QuickBooks', becomes a new adjustment —
    returned as the conflict to log."""
    was = stock.differences((old_base or {}).get("lines"), "item_qb_id")
    qb_now = stock.differences(fresh_base.get("lines"), "item_qb_id")
    wms_now = wms_differences(obj, old_lines, qb_ids)
    if qb_now == was or wms_now == was:
        return None
    if qb_now == wms_now:
        return []  # the same change on both sides: one change
    new_id = _record_intent(row, stock.change(was, wms_now))
    return [Conflict("lines", _plain_numbers(was), _plain_numbers(wms_now),
                     _plain_numbers(qb_now), QUICKBOOKS, f"{RULE} (#{new_id})")]


def _plain_numbers(differences: dict) -> dict[str, str]:
    return {item: format(value, "f") for item, value in sorted(differences.items())}


def _record_intent(row, moves: dict[str, Decimal]) -> int:
    from webapp.models.wms import InventoryAdjustment, InventoryAdjustmentLine

    local = stock.item_ids(list(moves))
    label = row.get("ref_number") or f"#{row['id']}"
    adjustment = InventoryAdjustment(
        transaction_date=date.today(), memo=MEMO.format(label=label), account_name=row.get(
            "account_name"), wms_pending=False, is_active=True)
    for position, (qb_id, difference) in enumerate(sorted(moves.items())):
        item_id = int(qb_id.removeprefix(views.LOCAL)) if qb_id.startswith(views.LOCAL) else (
            local.get(qb_id))
        adjustment.lines.append(InventoryAdjustmentLine(
            position=position, item_id=item_id,
            item_qb_id=None if qb_id.startswith(views.LOCAL) else qb_id,
            quantity_difference=difference))
    db.session.add(adjustment)
    db.session.flush()
    return adjustment.id
