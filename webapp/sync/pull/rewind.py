"""Noticing a QuickBooks company that went back in time, from what an incremental pull reads.

A company file restored from a backup (or replaced by another one, or a simulator restarted
with a fresh company) no longer holds the edits the WMS synced from it. An incremental pull
asks only for what changed after the watermark, so it sees nothing of that: the WMS keeps the
lost versions, and nothing says so.

But the watermark is always set back from the newest `updatedAt` the last pull saw (engine:
`_advance_state`), so the records the WMS holds with an `updatedAt` at or after it are, by
construction, read again by the next incremental listing. So at plan time the newest of them
(at most `HELD_MAX`) are noted with their revision in the checkpoint; each listed record ticks
its own off, and one listed with a lower `revisionNumber` than the WMS holds is a step back.
Once the listing and the deletions are done, a noted record QuickBooks neither listed nor
reported deleted is one it no longer has as the WMS last synced it. Either way the session gets
one error for the object, suggesting a full sync — with no extra request, but for one that
first asks whether the unseen records were deleted after the session's shared deleted list
was asked (`_deleted_since_asked`: a deletion is no step back).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.sync import SyncError

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

CODE = "quickbooks_went_back"
HELD = "held_since"  # checkpoint: {qb_id: revision} of held records the listing must show
BEHIND = "held_behind"  # checkpoint: [[qb_id, QuickBooks' revision]] listed with a lower one
MARGIN_S = 120  # how far QuickBooks' clock may be behind ours
HELD_MAX = 200  # the newest are enough: a company that went back lost all of the newest
EXAMPLES = 3
MESSAGE = (
    "QuickBooks no longer has {count} {what} as the WMS last synced {them} ({examples}): the "
    "company file went back in time — restored from a backup, replaced by another company "
    "file, or (the simulator) restarted with a fresh company. An incremental sync cannot see "
    "what that undid; run a full sync (`qbsync sync start --full`, or Full on the dashboard) "
    "to bring the WMS back in step with QuickBooks."
)


def note_held(ctx: PullContext) -> None:
    """At the start of an incremental pull: the records the listing must show again."""
    since = ctx.checkpoint.get("since")
    if ctx.checkpoint.get("full") or not since:
        return
    table = ctx.obj.model.__table__
    rows = db.session.execute(
        select(table.c.qb_id, table.c.qb_revision)
        .where(table.c.qb_id.is_not(None), table.c.qb_deleted_at.is_(None),
               table.c.qb_updated_at >= datetime.fromisoformat(since))
        .order_by(table.c.qb_updated_at.desc(), table.c.id.desc())
        .limit(HELD_MAX)
    ).all()
    ctx.checkpoint[HELD] = {qb_id: revision for qb_id, revision in rows}


def tick_listed(ctx: PullContext, records: list[dict[str, Any]]) -> None:
    """Records the listing handed over: each noted one ticked off, a step back kept."""
    held = ctx.checkpoint.get(HELD)
    if not held:
        return
    listed = {r.get("id"): r for r in records if r.get("id") in held}
    if not listed:
        return
    behind = [[qb_id, record.get("revisionNumber")] for qb_id, record in listed.items()
              if _older(record.get("revisionNumber"), held[qb_id])]
    # New objects, not changed in place: the run's checkpoint shares them until the commit
    ctx.checkpoint[HELD] = {k: v for k, v in held.items() if k not in listed}
    if behind:
        ctx.checkpoint[BEHIND] = [*ctx.checkpoint.get(BEHIND, []), *behind]


def report(ctx: PullContext) -> None:
    """After the listing and the deletions: one error for the object when QuickBooks went
    back. Done once per run (the noted records leave the checkpoint with it)."""
    held = ctx.checkpoint.pop(HELD, None)
    behind = ctx.checkpoint.pop(BEHIND, [])
    if held is None:
        return
    table = ctx.obj.model.__table__
    unseen = list(held)
    lost: list[tuple[str, str | None]] = []  # (qb_id, what QuickBooks has now)
    for start in range(0, len(unseen), 500):
        lost += [(qb_id, None) for qb_id in db.session.scalars(
            select(table.c.qb_id).where(table.c.qb_id.in_(unseen[start:start + 500]),
                                        table.c.qb_deleted_at.is_(None)))]
    if lost:
        deleted = _deleted_since_asked(ctx)
        lost = [(qb_id, now) for qb_id, now in lost if qb_id not in deleted]
    lost += [(qb_id, revision) for qb_id, revision in behind]
    if not lost:
        return
    ids = [qb_id for qb_id, _ in lost]
    examples = []
    for qb_id, revision in lost[:EXAMPLES]:
        base, ours = db.session.execute(select(table.c.sync_base, table.c.qb_revision).where(
            table.c.qb_id == qb_id)).one()
        label = ctx.obj.label(base or {}) or qb_id
        now = f"revision {revision} in QuickBooks" if revision else "gone from QuickBooks"
        examples.append(f"{label}: revision {ours} here, {now}")
    name = ctx.obj.display_name.lower()
    what = name if len(ids) > 1 else _singular(name)
    message = MESSAGE.format(count=len(ids), what=what, them="them" if len(ids) > 1 else "it",
                             examples="; ".join(examples))
    db.session.add(SyncError(session_id=ctx.session.id, object_type=ctx.obj.name,
                             object_id=ids[0] if len(ids) == 1 else None, phase="pull",
                             code=CODE, message=message, retryable=False))
    ctx.session.error_count = (ctx.session.error_count or 0) + 1


def _deleted_since_asked(ctx: PullContext) -> set[str]:
    """Ids deleted after the session's shared deleted list was asked, which may be before
    this object's listing (`probes.deleted`): deleted then, a record is neither listed nor in
    that list, yet QuickBooks did not go back. Asked once, and only when about to say so."""
    from webapp.sync.pull.probes import DELETED, family_of

    asked = ctx.checkpoint.get("deleted_asked_at")
    if not asked:
        return set()
    resource, param, _ = DELETED[family_of(ctx.obj)]
    after = datetime.fromisoformat(asked) - timedelta(seconds=MARGIN_S)
    rows = ctx.qb.list_all(resource, {param: sorted(set(ctx.obj.deleted_types.values())),
                                      "deletedAfter": after.isoformat(timespec="seconds")})
    return {row.get("id") for row in rows if isinstance(row, dict)}


def without_notes(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A listing's checkpoint (a copy taken when it began) without this module's notes, so
    handing it over does not bring back records already ticked off."""
    return {k: v for k, v in checkpoint.items() if k not in (HELD, BEHIND)}


def _older(theirs: Any, ours: Any) -> bool:
    """QuickBooks' revision (an edit sequence: a number that only grows) is below ours."""
    try:
        return int(theirs) < int(ours)
    except (TypeError, ValueError):
        return False


def _singular(display_name: str) -> str:
    return display_name[:-1] if display_name.endswith("s") else display_name
