"""Applying QuickBooks deletions to the WMS mirror (DESIGN §5.6).

Normally from the deleted-object lists since the last check, asked once per session for all
its objects (`probes.deleted`). When that check is older than
QuickBooks keeps deletions (90 days), or on a full sync, the pull itself was a full one that
stamped every record it saw, and rows it did not see are the deleted ones (id comparison).
Deleted list objects become inactive; deleted transactions are kept, marked `qb_deleted_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from webapp.extensions import db
from webapp.models.sync import SyncState
from webapp.models.types import utcnow
from webapp.sync.base import LIST
from webapp.sync.pull import probes
from webapp.sync.pull.plan import check_after, later

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

OVERLAP_S = 120


def apply(ctx: PullContext, state: SyncState) -> None:
    if ctx.checkpoint.get("compare_ids"):
        ctx.run.deleted += _compare_ids(ctx)
    elif state.last_deleted_check_at is not None:
        ctx.run.deleted += _from_deleted_lists(ctx, state)
    state.last_deleted_check_at = utcnow()
    ctx.checkpoint["deletions_done"] = True  # committed with the marks: never applied twice
    ctx.flush()


def _compare_ids(ctx: PullContext) -> int:
    """Rows the full pull did not see are deleted — once QuickBooks confirms it by id (a
    record renamed while a name-paged listing restarted may have slipped past the pull)."""
    table = ctx.obj.model.__table__
    seen = datetime.fromisoformat(ctx.checkpoint["seen_stamp"])
    unseen = (table.c.qb_id.is_not(None), table.c.qb_deleted_at.is_(None),
              or_(table.c.synced_at.is_(None), table.c.synced_at < seen))
    candidates = _unknown_to_quickbooks(
        ctx, sorted(db.session.scalars(select(table.c.qb_id).where(*unseen))))
    deleted, now = 0, utcnow()
    for start in range(0, len(candidates), 500):
        stmt = (
            update(table).where(*unseen, table.c.qb_id.in_(candidates[start : start + 500]))
            .values(is_active=False, qb_deleted_at=now)
        )
        deleted += db.session.execute(stmt).rowcount or 0
    return deleted


def _unknown_to_quickbooks(ctx: PullContext, candidates: list[str],
                           resources: tuple[str, ...] | None = None) -> list[str]:
    """The ids QuickBooks does not know (looked for in `resources`, else in every resource of
    the object); the records it still has are written (which also stamps them as seen by a
    full pull)."""
    for resource in resources or ctx.obj.resources:
        if not candidates:
            break
        found, candidates = ctx.resolver.lookup(resource, candidates)
        if found:
            ctx.writer.write(ctx.obj, resource, found)
    return candidates


def _from_deleted_lists(ctx: PullContext, state: SyncState) -> int:
    obj = ctx.obj
    rows = _readable(ctx, obj, probes.deleted(ctx, check_after(state)))
    table = obj.model.__table__
    gone = {row["id"] for row, _when in rows}
    if obj.kind == LIST and gone:
        # A list object made inactive is listed among the deleted ones too, yet it is still
        # in QuickBooks: only the ones it no longer knows by id are deleted.
        held = set(db.session.scalars(select(table.c.qb_id).where(
            table.c.qb_id.in_(sorted(gone)), table.c.qb_deleted_at.is_(None))))
        # Each in the resource of its `listType` only: an id QuickBooks lacks costs a call
        # per resource it is looked for in.
        resource_of = {kind: resource for resource, kind in obj.deleted_types.items()}
        by_resource: dict[str | None, list[str]] = {}
        for row, _when in rows:
            if row["id"] in held:
                by_resource.setdefault(resource_of.get(row.get("listType")), []).append(row["id"])
        gone = set()
        for resource, ids in by_resource.items():
            gone.update(_unknown_to_quickbooks(ctx, sorted(set(ids)),
                                               (resource,) if resource else None))
    deleted = 0
    newest = None
    for row, when in rows:
        newest = when if newest is None or when > newest else newest
        if row["id"] not in gone:
            continue
        result = db.session.execute(
            update(table)
            .where(and_(table.c.qb_id == row["id"], table.c.qb_deleted_at.is_(None)))
            .values(is_active=False, qb_deleted_at=when, synced_at=ctx.writer.now)
        )
        deleted += result.rowcount or 0
    if newest is not None:
        try:
            candidate = (newest - timedelta(seconds=OVERLAP_S)).isoformat(timespec="seconds")
        except OverflowError:  # a deletion "at" the dawn of time: no watermark to take from it
            return deleted
        state.deleted_watermark = later(state.deleted_watermark, candidate)
    return deleted


def _readable(ctx: PullContext, obj, rows: list[dict]) -> list[tuple[dict, datetime]]:
    """(row, when it was deleted) of the deleted-list rows that can be read; one that cannot
    (no id, an id longer than the WMS keeps, a `deletedAt` that is no time with its offset) is
    a failed record of its own, and the rest are applied."""
    readable = []
    limit = obj.model.__table__.c.qb_id.type.length
    for row in rows:
        qb_id, stamp = row.get("id"), row.get("deletedAt")
        try:
            if not isinstance(qb_id, str) or not qb_id or len(qb_id) > limit:
                raise ValueError("its id is missing or not one QuickBooks gives")
            when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
            if when is None or when.tzinfo is None:
                raise ValueError(f"its deletion time {str(stamp)[:40]!r} is not a time")
        except ValueError as error:
            shown = qb_id if isinstance(qb_id, str) and len(qb_id) <= limit else None
            ctx.report_error(obj, {"id": shown}, "bad_deletion",
                             f"QuickBooks listed a deleted {obj.display_name} record that "
                             f"cannot be read ({error}); it was left as it is.",
                             label=shown or "unknown")
            continue
        readable.append((row, when))
    return readable
