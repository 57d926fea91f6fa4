"""Re-reading the records a transaction changes without QuickBooks touching their revision.

When an invoice, a sales or purchase order or an inventory adjustment is entered or edited,
QuickBooks recomputes the items' quantity on hand (and on sales or purchase orders), the
customer's balance and the invoiced sales orders' quantities, but neither the item's, the
customer's nor the order's `revisionNumber`/`updatedAt` moves, so an incremental pull of them
would never see it. After a pull of transactions, those targets are read again by id
(batched), and written when they differ:

- after an incremental pull (`affected`): every item and customer the changed or deleted
  rows refer to, or referred to before the change, the customers' parents (whose total
  balance includes their jobs'), and the sales orders invoices link to, now or before;
- after a full pull (`stale`): only the targets whose last read may predate a transaction
  of the pull (see `stale` for the rule), plus what rewritten rows referred to before.

Each batch is committed with its place in the checkpoint (`refresh_at`), and the rows read
get `synced_at` = the moment just before the read, so a resumed refresh goes on where it
stopped, and a later full pull knows they are fresh.

Renaming a customer or an item in QuickBooks renames its jobs or sub-items too (a full name
is the parent's full name, ":", and the record's own name), again without touching their
revision; after a pull of customers or items, `renamed` reads those again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Interval, and_, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models.types import utcnow
from webapp.models.wms import Customer, Item, SalesOrder
from webapp.sync.base import LINKED_SALES_ORDERS
from webapp.sync.engine import OVERLAP_MARGIN_S
from webapp.sync.objects.item import ITEM_TYPES
from webapp.sync.pull.refs import IDS_PER_CALL
from webapp.sync.pull.writer import REFRESHED

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

RESOURCE_BY_ITEM_TYPE = {item_type: resource for resource, item_type in ITEM_TYPES.items()}
# The order targets are read in; the checkpoint's `refresh_at` is a place in it.
TARGETS = ("item", "customer", "sales_order")
# How far QuickBooks' clock may be behind ours: the margin the watermark overlap allows.
CLOCK_MARGIN = timedelta(seconds=OVERLAP_MARGIN_S)
STREAM_ROWS = 1000


def affected(ctx: PullContext) -> dict[str, dict[str, list[str]]]:
    """{object: {resource: [QuickBooks ids]}} referred to by rows this run wrote (now or
    before they were rewritten)."""
    obj = ctx.obj
    since = datetime.fromisoformat(ctx.checkpoint["started"])  # this run, resumes included
    header = obj.model.__table__
    targets: dict[str, dict[str, list[str]]] = {}
    referred = _referred(ctx)
    if obj.line_model is not None:
        _add_items(targets, obj, header.c.synced_at >= since, referred["item"])
    if "customer_id" in header.c:
        query = (
            select(Customer.qb_id).distinct()
            .join(header, header.c.customer_id == Customer.id)
            .where(header.c.synced_at >= since, Customer.qb_id.is_not(None))
        )
        ids = set(db.session.scalars(query))
        ids |= set(db.session.scalars(select(Customer.qb_id).where(
            Customer.qb_id.in_(referred["customer"]))))
        ids |= _ancestors(ids)  # a job's balance counts in its parents' total balance
        if ids:
            targets["customer"] = {"customers": sorted(ids)}
    linked = set(ctx.checkpoint.get("linked") or []) | ctx.writer.linked
    if obj.links_sales_orders:  # deleted this run: their links are in their last synced copy
        deleted = select(header.c.sync_base).where(
            header.c.synced_at >= since, header.c.qb_deleted_at.is_not(None))
        for base in db.session.scalars(deleted):
            linked.update((base or {}).get(LINKED_SALES_ORDERS) or ())
    linked = sorted(linked)
    if linked:
        targets["sales_order"] = {"sales-orders": linked}
    return targets


def stale(ctx: PullContext) -> dict[str, dict[str, list[str]]]:
    """After a full pull: {object: {resource: [QuickBooks ids]}} of the targets that may not
    reflect the transactions the pull read.

    A transaction of the pull (written, or seen unchanged, or found deleted by this run) may
    have changed a target (an item on its lines, its customer and the customer's parents,
    an order it invoices) that was last read before the transaction was last entered or
    edited; such a target is read again when

        target.synced_at is null  or  target.synced_at < transaction's change + margin

    where the change is QuickBooks' `updatedAt` (`qb_deleted_at` for a row this run found
    deleted: our clock, as its deletion time is unknown, so all its targets count). Why this
    is safe: QuickBooks recomputes the target in the same save that stamps the transaction's
    `updatedAt`, so a read that happened after that save saw the new figures. `synced_at` is
    never later than the read it stands for (the run's or batch's start, taken before the
    call), so `synced_at >= updatedAt + margin` proves the read came after the save as long
    as QuickBooks' clock is not behind ours by more than the margin (CLOCK_MARGIN, the
    engine's watermark overlap, OVERLAP_MARGIN_S). A target that did not change
    in QuickBooks but was only seen unchanged by an incremental pull keeps its older
    `synced_at`, and so is read again: conservative. Targets read earlier in the same session
    (a first full sync, in dependency order) were read after every transaction that then
    existed, and are not read again.

    What rewritten rows referred to or linked to before (the checkpoint's `referred` and
    `linked`) is read again whatever its age, as after an incremental pull. The selection
    runs in SQL; only the targets' ids (never the transactions) are held in memory.
    """
    obj = ctx.obj
    since = datetime.fromisoformat(ctx.checkpoint["started"])  # this run, resumes included
    header = obj.model.__table__
    in_run = or_(header.c.synced_at >= since, header.c.qb_deleted_at >= since)
    changed = func.coalesce(header.c.qb_deleted_at, header.c.qb_updated_at)
    targets: dict[str, dict[str, list[str]]] = {}
    referred = _referred(ctx)
    if obj.line_model is not None:
        _add_items(targets, obj, and_(in_run, _read_before(Item.synced_at, changed)),
                   referred["item"])
    if "customer_id" in header.c:
        ids = _stale_customers(header, in_run, changed)
        before = set(db.session.scalars(select(Customer.qb_id).where(
            Customer.qb_id.in_(referred["customer"]))))
        ids |= before | _ancestors(before)
        if ids:
            targets["customer"] = {"customers": sorted(ids)}
    linked = set(ctx.checkpoint.get("linked") or []) | ctx.writer.linked
    if obj.links_sales_orders:
        linked |= _stale_orders(header, in_run, changed)
    if linked:
        targets["sales_order"] = {"sales-orders": sorted(linked)}
    return targets


def _referred(ctx: PullContext) -> dict[str, list[str]]:
    """What the rewritten rows referred to before this run (their rows now say what is new)."""
    held = ctx.checkpoint.get("referred") or {}
    return {target: sorted(ctx.writer.referred.get(target, set()) | set(held.get(target) or ()))
            for target in REFRESHED}


def _add_items(targets: dict, obj, condition, referred: list[str]) -> None:
    """The items on the lines of `obj`'s transactions that meet `condition`, and the items
    in `referred`, into `targets` by resource."""
    header, lines = obj.model.__table__, obj.line_model.__table__
    query = (
        select(Item.qb_id, Item.item_type).distinct()
        .join(lines, lines.c.item_id == Item.id)
        .join(header, header.c.id == lines.c[obj.line_parent])
        .where(condition, Item.qb_id.is_not(None))
    )
    found = dict(db.session.execute(query).all())
    found.update(db.session.execute(select(Item.qb_id, Item.item_type).where(
        Item.qb_id.in_(referred))).all())
    for qb_id, item_type in sorted(found.items()):
        targets.setdefault("item", {}).setdefault(
            RESOURCE_BY_ITEM_TYPE[item_type], []).append(qb_id)


def _plus_margin(moment):
    """`moment` + CLOCK_MARGIN in SQL (SQLite keeps UTC datetimes as ISO text)."""
    if db.session.get_bind().dialect.name == "sqlite":
        seconds = int(CLOCK_MARGIN.total_seconds())
        return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"+{seconds} seconds")
    return moment + literal(CLOCK_MARGIN, Interval())


def _read_before(synced_at, changed):
    """The target's last read may predate the change (see `stale`)."""
    return or_(synced_at.is_(None), synced_at < _plus_margin(changed))


def _stale_customers(header, in_run, changed) -> set[str]:
    """Customers of the run's transactions, and their parents (whose total balance counts
    their jobs'), each last read before the newest change of a transaction of theirs or of
    a job under them."""
    child, parent = aliased(Customer), aliased(Customer)
    reach = (
        select(header.c.customer_id.label("id"), func.max(changed).label("changed"))
        .where(in_run, header.c.customer_id.is_not(None))
        .group_by(header.c.customer_id)
        .cte("reach", recursive=True)
    )
    reach = reach.union(  # UNION, not UNION ALL: ends even on a (broken) cycle of parents
        select(parent.id, reach.c.changed).select_from(reach)
        .join(child, child.id == reach.c.id)
        .join(parent, parent.qb_id == child.parent_qb_id)
    )
    query = (
        select(Customer.qb_id).distinct()
        .join(reach, reach.c.id == Customer.id)
        .where(Customer.qb_id.is_not(None), _read_before(Customer.synced_at, reach.c.changed))
    )
    return set(db.session.scalars(query))


def _stale_orders(header, in_run, changed) -> set[str]:
    """Sales orders the run's invoices link to (deleted ones: in their last synced copy),
    held in the WMS and last read before the newest change of such an invoice."""
    has_rows = SalesOrder.qb_id.is_not(None)
    if db.session.scalar(select(func.count()).where(has_rows, SalesOrder.synced_at.is_(None))):
        floor = None
    else:
        floor = db.session.scalar(select(func.min(SalesOrder.synced_at)).where(has_rows))
        if floor is None:
            return set()  # no sales orders in the WMS
    query = select(header.c.sync_base[LINKED_SALES_ORDERS], changed).where(in_run)
    if floor is not None:  # invoices older than every order's last read change none of them
        query = query.where(changed > floor - CLOCK_MARGIN)
    newest: dict[str, datetime] = {}
    for links, at in db.session.execute(query.execution_options(yield_per=STREAM_ROWS)):
        for order_id in links or ():
            if isinstance(order_id, str) and (order_id not in newest or at > newest[order_id]):
                newest[order_id] = at
    found: set[str] = set()
    ids = sorted(newest)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(SalesOrder.qb_id, SalesOrder.synced_at).where(
            SalesOrder.qb_id.in_(ids[start : start + 500])))
        found.update(qb_id for qb_id, synced_at in rows
                     if synced_at is None or synced_at < newest[qb_id] + CLOCK_MARGIN)
    return found


def _ancestors(ids: set[str]) -> set[str]:
    found: set[str] = set()
    level = ids
    while level:
        parents = set(db.session.scalars(
            select(Customer.parent_qb_id).where(Customer.qb_id.in_(sorted(level)),
                                                Customer.parent_qb_id.is_not(None))))
        level = parents - found - ids
        found |= parents
    return found


# QuickBooks nests customers and items at most five levels below the top one.
MAX_SUBLEVEL = 5


def renamed(ctx: PullContext) -> int:
    """Read again the jobs or sub-items whose full name is no longer their parent's full name,
    ":" and their own name (a parent renamed in QuickBooks); returns how many were rewritten.
    The names compared are those QuickBooks last sent (`sync_base`), not the WMS's columns.

    Level by level: a job read again with its new full name may show its own jobs stale in
    turn. Each record is read at most once a run, so data QuickBooks itself holds otherwise
    cannot loop. The check is one query on the mirror, so rows that went stale before this
    check existed are mended too; when nothing is stale it costs no call.
    """
    obj = ctx.obj
    parent_ref = next((ref for ref in obj.refs if ref.target == obj.name), None)
    if parent_ref is None:
        return 0
    table = obj.model.__table__
    child, parent = table.alias("child"), table.alias("parent")
    typed = "item_type" in table.c

    def said(row, column):  # what QuickBooks last sent (the WMS may have edited the row)
        return row.c.sync_base[column].as_string()

    query = (
        select(child.c.qb_id, child.c.item_type if typed else literal(None))
        .join(parent, parent.c.qb_id == child.c[parent_ref.qb_column])
        .where(child.c.qb_deleted_at.is_(None), parent.c.qb_deleted_at.is_(None),
               said(child, "full_name") != said(parent, "full_name") + ":" + said(child, "name"))
        .order_by(child.c.qb_id)
    )
    ctx.writer.stamp_seen = None  # a full pull's id comparison is over (deletions ran)
    read: set[str] = set()
    rewritten = 0
    for _level in range(MAX_SUBLEVEL + 1):
        by_resource: dict[str, list[str]] = {}
        for qb_id, item_type in db.session.execute(query):
            if qb_id not in read:
                resource = RESOURCE_BY_ITEM_TYPE[item_type] if typed else obj.resources[0]
                by_resource.setdefault(resource, []).append(qb_id)
        if not by_resource:
            break
        for resource, ids in sorted(by_resource.items()):
            for start in range(0, len(ids), IDS_PER_CALL):
                chunk = ids[start : start + IDS_PER_CALL]
                records, _gone = ctx.resolver.lookup(resource, chunk)  # gone: deletions' job
                result = ctx.writer.write(obj, resource, records)
                # Counted as updated with the run: they changed in QuickBooks (though not
                # listed, so not in `processed`). Not the watermark: their updatedAt is old.
                # One that fails is reported as an error, not counted again: it may have
                # failed its listing in this run already.
                ctx.run.updated += result.updated
                rewritten += result.updated
                read.update(chunk)
                ctx.flush()
    return rewritten


def _count_updated(ctx: PullContext, target: str, updated: int) -> None:
    """Rows of `target` this run changed in the WMS count as updated: with that object's run
    when the session has one (a customer's balance, with customers), else with this run. They
    go into the same commit as the batch's checkpoint, so a resumed run counts none twice."""
    if not updated:
        return
    run = next((r for r in ctx.session.object_runs if r.object_name == target), ctx.run)
    run.updated += updated


def _place(target: str, resource: str, qb_id: str) -> tuple:
    return TARGETS.index(target), resource, qb_id


def refresh(ctx: PullContext) -> int:
    """Read the affected (incremental) or stale (full) targets again, one committed batch at
    a time; returns how many were rewritten."""
    targets = stale(ctx) if ctx.checkpoint.get("full") else affected(ctx)
    # A full pull's id comparison is over: rows read here carry the time they were read.
    ctx.writer.stamp_seen = None
    return read_again(ctx, targets, "refresh_at")


def read_again(ctx: PullContext, targets: dict[str, dict[str, list[str]]], place: str) -> int:
    """Read {object: {resource: [ids]}} again by id and write what differs, committing each
    batch with its place in the checkpoint (under `place`), so a resumed run goes on after the
    last batch written; returns how many rows were rewritten."""
    from webapp.sync.objects import registry

    held = ctx.checkpoint.get(place)  # the last batch a previous attempt committed
    done = _place(*held) if held else None
    rewritten = 0
    for target in TARGETS:
        target_obj = registry.get(target)
        table = target_obj.model.__table__
        for resource, ids in sorted(targets.get(target, {}).items()):
            if done is not None:
                ids = [i for i in ids if _place(target, resource, i) > done]
            for start in range(0, len(ids), IDS_PER_CALL):
                chunk = ids[start : start + IDS_PER_CALL]
                read_at = utcnow()  # before the call: never later than the read
                # Ids QuickBooks no longer knows (a linked order deleted since) are left
                # to the deletion checks; the others are read in one call.
                records, _gone = ctx.resolver.lookup(resource, chunk)
                result = ctx.writer.write(target_obj, resource, records)
                rewritten += result.updated
                _count_updated(ctx, target, result.updated)
                read = [r["id"] for r in records if isinstance(r.get("id"), str)]
                if read:  # unchanged ones too: they are known fresh as of now
                    db.session.execute(update(table).where(table.c.qb_id.in_(read))
                                       .values(synced_at=read_at))
                ctx.checkpoint[place] = [target, resource, chunk[-1]]
                ctx.flush()
    return rewritten
