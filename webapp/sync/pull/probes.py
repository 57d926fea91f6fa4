"""What a session asks QuickBooks once for all its objects, instead of once per object.

At QuickBooks' pace a request costs seconds, so a sync in which nothing changed should make
one request per list resource (customers, vendors, the four item types: their incremental
listings) and three more, whatever the number of objects (issue 21):

- `deleted`: the deleted list objects of every list type of the session's objects, since the
  earliest of their deletion watermarks — one request; and the deleted transactions of every
  transaction type likewise — one request. Each object then applies the rows of its own types
  since its own watermark.
- `unchanged`: which transactions changed, from the cross-type `GET /transactions` with
  `updatedAfter` the earliest watermark of the session's transaction objects that pull
  incrementally — one request while at most a page changed. An object none of whose records
  changed since its own watermark lists nothing; the others list from their watermarks as
  before (by then QuickBooks may have more: those are read too). When more changed than
  PROBE_PAGES pages hold, the probe stops and every object lists.

Answers are kept on the session (`sync_session.probes`, committed with the asking object's
checkpoint), so a resumed or redelivered object asks nothing again. They are a snapshot: what
changes after one is asked is read by the next sync, as no watermark moves past it — an
object that listed nothing moves its watermark up to the newest `updatedAt` the probe listed
(`newest`: QuickBooks' clock, so a quiet object does not hold the probe back at an old
watermark), and a deletion watermark never passes the moment its list was asked
(`deleted_asked_at`, which the engine's watermark advance honours; `rewind` asks again before
it takes a record deleted since for a company gone back in time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.types import utcnow
from webapp.sync.base import LIST
from webapp.sync.conductor import CURSOR, QuickBooksError
from webapp.sync.objects import registry
from webapp.sync.pull.paging import PAGE_LIMIT, cursor_pages, remaining_count
from webapp.sync.pull.plan import check_after, has_rows, state_of, wants_full
from webapp.sync.pull.stock_types import MOVED, STOCK_TYPES
from webapp.sync.pull.stock_types import watermark as stock_watermark

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject
    from webapp.sync.engine import PullContext

PROBE_PAGES = 3  # more changes than this many pages hold: the objects list them instead
CLOCK_MARGIN = timedelta(seconds=120)  # how far QuickBooks' clock may be from ours (refresh)
DELETED = {LIST: ("deleted-list-objects", "objectTypes", "listType"),
           "transaction": ("deleted-transactions", "transactionTypes", "transactionType")}


def family_of(obj: type[SyncObject]) -> str:
    return LIST if obj.kind == LIST else "transaction"


def _session_objects(ctx: PullContext) -> list[type[SyncObject]]:
    return [registry.get(run.object_name) for run in ctx.session.object_runs]


def _keep(ctx: PullContext, key: str, answer: dict[str, Any]) -> None:
    """Kept on the session; committed with the asking object's next checkpoint."""
    ctx.session.probes = {**(ctx.session.probes or {}), key: answer}


def _covers(asked_after: str | None, after: str | None) -> bool:
    return asked_after is None or (
        after is not None and datetime.fromisoformat(asked_after) <= datetime.fromisoformat(after))


# --- deleted lists ---------------------------------------------------------------------------


def deleted(ctx: PullContext, after: str | None) -> list[dict]:
    """The deleted-list rows of this object's types since `after` (its own check's start),
    from the one request the session makes for all its objects of the same family."""
    rows = deleted_of(ctx, family_of(ctx.obj), set(ctx.obj.deleted_types.values()), after)
    ctx.checkpoint["deleted_asked_at"] = ctx.session.probes[f"deleted_{family_of(ctx.obj)}"]["at"]
    return rows


def deleted_of(ctx: PullContext, family: str, mine: set[str], after: str | None) -> list[dict]:
    """The deleted rows of `family` ("list" or "transaction") of the types `mine` since
    `after`, from the session's one request for that family."""
    _resource, _param, type_key = DELETED[family]
    key = f"deleted_{family}"
    held = (ctx.session.probes or {}).get(key)
    if held is None or not mine <= set(held["types"]) or not _covers(held["after"], after):
        held = _ask_deleted(ctx, family, mine, after)
        _keep(ctx, key, held)
    floor = datetime.fromisoformat(after) if after else None
    rows = []
    for row in held["rows"]:
        kind = row.get(type_key) if isinstance(row, dict) else None
        if isinstance(kind, str) and kind in held["types"] and kind not in mine:
            continue  # another object's (a row of no known type is everyone's)
        if floor is not None and _before(row, floor):
            continue
        rows.append(row)
    return rows


def _before(row: Any, floor: datetime) -> bool:
    """Deleted before `floor`, as another object's older check asked for (a row that does not
    read is kept: it fails visibly, as a failed record)."""
    try:
        return isinstance(row.get("id"), str) and datetime.fromisoformat(
            row.get("deletedAt")) < floor
    except (AttributeError, TypeError, ValueError):
        return False


def _ask_deleted(ctx: PullContext, family: str, mine: set[str],
                 after: str | None) -> dict[str, Any]:
    """One request for the deleted rows of every type of the session's objects of `family`
    that check deleted lists, since the earliest point any of them needs."""
    resource, param, _ = DELETED[family]
    types, earliest = set(mine), [after]
    for other in _session_objects(ctx):
        if other is ctx.obj or family_of(other) != family or not other.deleted_types:
            continue
        state = state_of(ctx.session, other.name)
        if state.last_deleted_check_at is None:
            continue  # its first pull is a full one: it compares ids instead
        types.update(other.deleted_types.values())
        earliest.append(check_after(state))
    params: dict[str, Any] = {param: sorted(types)}
    since = None if None in earliest else min(earliest, key=datetime.fromisoformat)
    if since is not None:
        params["deletedAfter"] = since
    at = utcnow().isoformat()
    rows = ctx.qb.list_all(resource, params)
    return {"at": at, "after": since, "types": sorted(types), "rows": rows}


# --- changed transactions --------------------------------------------------------------------


def unchanged(ctx: PullContext) -> list[str] | None:
    """When QuickBooks says none of this object's transactions changed since its watermark
    (`ctx.checkpoint["since"]`), so that it needs no listing: the ids it listed since then
    (each one the WMS holds as it is; `rewind` ticks them off). Else None: list."""
    obj = ctx.obj
    since = ctx.checkpoint.get("since")
    types = set(obj.deleted_types.values())
    if not since or not types:
        return None
    rows = changed(ctx, types, since)
    if rows is None:  # too many to tell: list
        return None
    listed = {row[1]: datetime.fromisoformat(row[2]) for row in rows}
    return sorted(listed) if not listed or _all_read_since(obj, listed) else None


def newest(ctx: PullContext) -> str | None:
    """The newest `updatedAt` the session's `GET /transactions` listed, of any type: a time on
    QuickBooks' clock before which it had listed everything changed since its `after`."""
    held = (ctx.session.probes or {}).get("transactions") or {}
    stamps = [row[2] for row in held.get("changed") or ()]
    return max(stamps, key=datetime.fromisoformat) if stamps else None


def changed(ctx: PullContext, types: set[str], since: str) -> list[list[str]] | None:
    """[[type, id, updatedAt, createdAt], ...] of the transactions of `types` changed since
    `since`,
    from the session's one `GET /transactions`; None when more changed than it reads."""
    held = (ctx.session.probes or {}).get("transactions")
    if held is None or not types <= set(held["types"]) or not _covers(held["after"], since):
        held = _ask_changed(ctx, types, since)
        _keep(ctx, "transactions", held)
    if held["changed"] is None:
        return None
    floor = datetime.fromisoformat(since)
    return [row for row in held["changed"]
            if row[0] in types and datetime.fromisoformat(row[2]) >= floor]


def _all_read_since(obj: type[SyncObject], listed: dict[str, datetime]) -> bool:
    """Whether the WMS holds each record at that `updatedAt`, read after it: a watermark's
    overlap always lists the newest records again, and those are no change. A read proves it
    came after the save when `synced_at >= updatedAt + margin` (as in `refresh.stale`: our
    clock and QuickBooks' may differ by that much); a record saved twice in one second looks
    the same, so one read within the margin is listed again, as the overlap would."""
    table = obj.model.__table__
    held = {}
    ids = sorted(listed)
    for start in range(0, len(ids), 500):
        held.update((qb_id, (updated, synced)) for qb_id, updated, synced in db.session.execute(
            select(table.c.qb_id, table.c.qb_updated_at, table.c.synced_at).where(
                table.c.qb_id.in_(ids[start : start + 500]),
                table.c.qb_deleted_at.is_(None))))  # one marked deleted is listed: restored
    for qb_id, stamp in listed.items():
        updated, synced = held.get(qb_id, (None, None))
        if updated is None or synced is None or updated != stamp or synced < stamp + CLOCK_MARGIN:
            return False
    return True


def _ask_changed(ctx: PullContext, mine: set[str], since: str) -> dict[str, Any]:
    """`GET /transactions` for every transaction type the session's objects need, since the
    earliest of their watermarks — the types of its transaction objects that pull
    incrementally, and those that move stock the WMS does not mirror (`moves`) —:
    {"changed": [[type, id, updatedAt], ...], or None when more than PROBE_PAGES pages
    changed}."""
    types, earliest = set(mine), [since]
    for other in _session_objects(ctx):
        if other is ctx.obj:
            continue
        if other.name == MOVED:
            since_moves = stock_watermark(ctx.session)
            if since_moves:
                types.update(STOCK_TYPES)
                earliest.append(since_moves)
        if other.kind == LIST or not other.deleted_types:
            continue
        state = state_of(ctx.session, other.name)
        if wants_full(ctx.session, state, has_rows(other)):
            continue
        types.update(other.deleted_types.values())
        earliest.append(state.watermark)
    after = min(earliest, key=datetime.fromisoformat)
    at = utcnow().isoformat()
    params = {"transactionTypes": sorted(types), "updatedAfter": after}
    found: list[list[str]] | None = []
    try:
        for number, page in enumerate(cursor_pages(ctx.qb, "transactions", params)):
            if number == 0 and len(page["data"]) + remaining_count(page) > PROBE_PAGES * PAGE_LIMIT:
                found = None
                break
            for row in page["data"]:
                kind, qb_id = row.get("transactionType"), row.get("transactionId")
                stamp = row.get("updatedAt")
                if not isinstance(kind, str) or row.get("transactionLineId") is not None:
                    continue
                try:
                    if not isinstance(qb_id, str) or datetime.fromisoformat(stamp).tzinfo is None:
                        raise ValueError(qb_id)
                except (TypeError, ValueError):
                    found = None  # a row that does not read: trust the listings
                    break
                found.append([kind, qb_id, stamp, row.get("createdAt")])
            if found is None:
                break
    except QuickBooksError as error:
        if error.retryable and error.kind != CURSOR:
            raise  # QuickBooks closed, throttling: the object is tried again
        found = None  # a probe that failed midway or is refused: the objects list as before
    return {"at": at, "after": after, "types": sorted(types), "changed": found}
