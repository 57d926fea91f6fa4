"""Stock moved by transactions the WMS does not mirror (issue 17).

Bills and item receipts, sales receipts, credit memos, checks and charges with item lines,
assembly builds: each changes the on-hand of the inventory items on its lines, and QuickBooks
gives those items no new revision when it does, so an incremental pull of items never sees
it. After the items' pull, the session's one `GET /transactions` (`probes.changed`) says which
of those transactions changed since the last time (`watermark`); they are read by id — one
request per type that has any — for the items their lines name, and only those items are read
again (`refresh.read_again`). The item's merge keeps stock a net change (DESIGN §1): the WMS
figure moves by QuickBooks' difference, so a move the WMS has not pushed yet is kept. A deleted
one moves its items back, but its lines are gone with it: the session's one deleted-list
request for transactions (`probes.deleted_of`) says so, and every inventory item is read again
(deleting a receipt is rare; reading 100 items a request, it is the one sure way).

An edited one no longer says what it moved before either: after one, or when more changed
than the probe reads, every inventory item is read again too. The watermark is the newest
time the probe listed (QuickBooks' clock; after a full pull of items, the moment it started:
every on-hand was read after it), set back by the overlap margin: what changed after it is
read by the next sync.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.types import utcnow
from webapp.models.wms import Item
from webapp.sync.pull import probes
from webapp.sync.pull.plan import MAX_LOOKBACK, later, state_of
from webapp.sync.pull.stock_types import STOCK_TYPES, WATERMARK

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

OVERLAP_S = 120
INVENTORY = "inventory"  # the item type whose on-hand QuickBooks keeps
LINE_KEYS = ("lines", "itemLines", "lineGroups", "itemGroupLines", "itemLineGroups")


def reread(ctx: PullContext) -> int:
    """After the items' pull: read again the items moved by the transactions above that
    changed since the watermark; returns how many were rewritten."""
    from webapp.sync.pull.refresh import RESOURCE_BY_ITEM_TYPE, read_again

    state = state_of(ctx.session, WATERMARK)
    since = state.watermark or (None if ctx.checkpoint.get("full") else
                                ctx.checkpoint.get("since"))  # a first run: the items' own
    if "moves_asked" not in ctx.checkpoint:
        newest = None
        if since is None:  # a full pull read every item's on-hand, each after it started
            ctx.checkpoint["moves_items"] = []
        else:
            items, newest = _moved_items(ctx, since)
            ctx.checkpoint["moves_items"] = sorted(items)
        ctx.checkpoint["moves_asked"] = newest or ctx.checkpoint["started"]
        ctx.flush()
    ids = set(ctx.checkpoint.get("moves_items") or ())
    targets: dict[str, list[str]] = {}
    for qb_id, item_type in db.session.execute(
            select(Item.qb_id, Item.item_type).where(Item.qb_id.in_(sorted(ids)))):
        resource = RESOURCE_BY_ITEM_TYPE.get(item_type)
        if resource:
            targets.setdefault(resource, []).append(qb_id)
    rewritten = read_again(ctx, {"item": {r: sorted(i) for r, i in targets.items()}},
                           "moves_at") if targets else 0
    # From QuickBooks' own clock when the probe listed anything (its newest time, never past
    # what it listed), else from the pull's start; set back by the overlap, never back.
    asked = datetime.fromisoformat(ctx.checkpoint["moves_asked"])
    state.watermark = later(state.watermark, (asked - timedelta(seconds=OVERLAP_S)).isoformat(
        timespec="seconds"))
    return rewritten


def _moved_items(ctx: PullContext, since: str) -> tuple[set[str], str | None]:
    """QuickBooks ids of the items the stock transactions changed since `since` moved, and
    the newest `updatedAt` QuickBooks listed (any type: its clock). What a transaction moved
    before an edit is no longer on its lines, nor what a deleted one moved: after either,
    or after longer than QuickBooks keeps deletions, every inventory item is read again."""
    everything = set(db.session.scalars(select(Item.qb_id).where(
        Item.item_type == INVENTORY, Item.qb_id.is_not(None), Item.qb_deleted_at.is_(None))))
    oldest = (utcnow() - MAX_LOOKBACK).astimezone(datetime.fromisoformat(since).tzinfo)
    if datetime.fromisoformat(since) < oldest:
        return everything, None
    if probes.deleted_of(ctx, "transaction", set(STOCK_TYPES), since):
        return everything, None
    rows = probes.changed(ctx, set(STOCK_TYPES), since)
    newest = probes.newest(ctx)
    # Too many changed to tell from the probe, or one edited: reading every inventory item
    # (100 a request) costs less than reading what changed of nine kinds.
    if rows is None or any(_edited(created, stamp) for _kind, _id, stamp, created in rows):
        return everything, newest
    records: list[dict] = []
    by_type: dict[str, list[str]] = {}
    for kind, qb_id, _stamp, _created in rows:
        by_type.setdefault(kind, []).append(qb_id)
    for kind, ids in sorted(by_type.items()):
        found, _gone = ctx.resolver.lookup(STOCK_TYPES[kind], sorted(set(ids)))
        records += found
    items: set[str] = set()
    for record in records:
        _collect(record, items)
    return items, newest


def _edited(created: str | None, updated: str) -> bool:
    """Saved again after it was entered (QuickBooks stamps both in the same save at first)."""
    try:
        return created is None or (datetime.fromisoformat(updated)
                                   - datetime.fromisoformat(created)).total_seconds() > 1
    except (TypeError, ValueError):
        return True


def _collect(node: Any, items: set[str]) -> None:
    """Every `item.id` on a transaction's lines, line groups' lines included."""
    if not isinstance(node, dict):
        return
    item = node.get("item")
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        items.add(item["id"])
    for key in LINE_KEYS:
        for line in node.get(key) or ():
            _collect(line, items)
