"""Re-reading the records a transaction changes without QuickBooks touching their revision.

When an invoice or an inventory adjustment is entered, QuickBooks recomputes the items'
quantity on hand (and on sales or purchase orders) and the customer's balance, but neither the
item's nor the customer's `revisionNumber`/`updatedAt` moves, so an incremental pull of items
would never see it. After an incremental pull of transactions, the items and customers their
changed or deleted rows refer to, or referred to before the change (and the customers'
parents, whose total balance includes their jobs') are read again by id (batched), and
written when they differ.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.wms import Customer, Item
from webapp.sync.base import LINKED_SALES_ORDERS
from webapp.sync.objects.item import ITEM_TYPES
from webapp.sync.refs import IDS_PER_CALL
from webapp.sync.writer import REFRESHED

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

RESOURCE_BY_ITEM_TYPE = {item_type: resource for resource, item_type in ITEM_TYPES.items()}


def affected(ctx: PullContext) -> dict[str, dict[str, list[str]]]:
    """{object: {resource: [QuickBooks ids]}} referred to by rows this run wrote (now or
    before they were rewritten)."""
    obj = ctx.obj
    since = datetime.fromisoformat(ctx.checkpoint["started"])  # this run, resumes included
    header = obj.model.__table__
    targets: dict[str, dict[str, list[str]]] = {}
    # What the rewritten rows referred to before this run (their rows now say what is new).
    held = ctx.checkpoint.get("referred") or {}
    referred = {target: sorted(ctx.writer.referred.get(target, set()) | set(held.get(target) or ()))
                for target in REFRESHED}
    if obj.line_model is not None:
        lines = obj.line_model.__table__
        query = (
            select(Item.qb_id, Item.item_type).distinct()
            .join(lines, lines.c.item_id == Item.id)
            .join(header, header.c.id == lines.c[obj.line_parent])
            .where(header.c.synced_at >= since, Item.qb_id.is_not(None))
        )
        found = dict(db.session.execute(query).all())
        found.update(db.session.execute(select(Item.qb_id, Item.item_type).where(
            Item.qb_id.in_(referred["item"]))).all())
        for qb_id, item_type in sorted(found.items()):
            targets.setdefault("item", {}).setdefault(
                RESOURCE_BY_ITEM_TYPE[item_type], []).append(qb_id)
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


def refresh(ctx: PullContext) -> int:
    """Read the affected items and customers again; returns how many were rewritten."""
    from webapp.sync.objects import registry

    rewritten = 0
    for target, by_resource in affected(ctx).items():
        target_obj = registry.get(target)
        for resource, ids in by_resource.items():
            for start in range(0, len(ids), IDS_PER_CALL):
                chunk = ids[start : start + IDS_PER_CALL]
                # Ids QuickBooks no longer knows (a linked order deleted since) are left
                # to the deletion checks; the others are read in one call.
                records, _gone = ctx.resolver.lookup(resource, chunk)
                result = ctx.writer.write(target_obj, resource, records)
                rewritten += result.updated
    return rewritten
