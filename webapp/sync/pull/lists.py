"""Reading list objects (customers, vendors, items) by name, resumable from the last name.

`nameFrom` makes QuickBooks sort by name, so after each committed page the last name is a
checkpoint that survives a crash. A listing that restarted from a name ends with a catch-up
for what was renamed across that name meanwhile (`_catch_up`). See `pulls` for the batches,
the prefetching and the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.sync.conductor import QuickBooksError
from webapp.sync.pull.paging import cursor_pages, remaining_count
from webapp.sync.pull.pulls import FUTURE_SLACK, Batch, consume, restart_or_raise

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

NAME_FLOOR = " "  # sorts before every QuickBooks name: punctuation first, and space first of all


def pull_list(ctx: PullContext) -> None:
    consume(ctx, _list_batches(ctx, dict(ctx.checkpoint)))


def _list_batches(ctx: PullContext, cp: dict) -> Iterator[Batch]:
    obj = ctx.obj
    first = cp.get("resource_index", 0)
    for index in range(first, len(obj.resources)):
        resource = obj.resources[index]
        resuming = index == first
        listed: set[str] = set()
        if not (resuming and cp.get("catch_up")):
            name_from = cp.get("name_from") if resuming else None
            if not (yield from _name_pages(ctx, cp, index, resource, name_from, listed)):
                continue
        yield from _catch_up(ctx, cp, index, resource, listed)


def _name_pages(ctx: PullContext, cp: dict, index: int, resource: str, name_from: str | None,
                listed: set[str]) -> Iterator[Batch]:
    """One resource's listing by name from `name_from` (noting the ids in `listed`); returns
    whether it restarted from a name (a resume or a cursor failure): see `_catch_up`."""
    obj = ctx.obj
    restarted = name_from is not None
    restarts = 0
    while True:
        params: dict[str, Any] = {"status": "all", "nameFrom": name_from or NAME_FLOOR,
                                  **obj.list_params}
        if cp.get("since"):
            params["updatedAfter"] = cp["since"]
        try:
            for number, page in enumerate(cursor_pages(ctx.qb, resource, params)):
                records = page["data"]
                if name_from is not None:  # nameFrom is inclusive: drop the checkpoint's
                    records = [r for r in records if r.get(obj.name_path) != name_from]
                listed.update(r.get("id") for r in records)
                count = None
                if number == 0:
                    count = len(records) + remaining_count(page)
                if records:
                    name_from = records[-1].get(obj.name_path)
                done = not page.get("nextCursor")
                checkpoint = {"resource_index": index + 1 if done else index,
                              "name_from": None if done else name_from}
                if done and restarted:
                    checkpoint.update(resource_index=index, catch_up=True)
                yield Batch(resource, records, checkpoint, count)
            return restarted
        except QuickBooksError as error:
            restarts = restart_or_raise(error, restarts)
            restarted = restarted or name_from is not None


def _catch_up(ctx: PullContext, cp: dict, index: int, resource: str,
              listed: set[str]) -> Iterator[Batch]:
    """After a listing that restarted from a name: what was renamed meanwhile.

    A record renamed while the pull ran, from a name after the restart point to one before
    it, was in neither part of the listing; a customer's jobs or an item's sub-items move
    with it (their full names begin with its own). So the records changed since the pull
    began (set back a day: QuickBooks' clock is not ours) are read again, one call usually;
    the writer adds the families of those that moved (`_with_moved_families`), and the
    checkpoint moves past the resource only with them.
    """
    obj = ctx.obj
    started = datetime.fromisoformat(cp["started"]) - FUTURE_SLACK
    params: dict[str, Any] = {"status": "all", **obj.list_params,
                              "updatedAfter": started.isoformat(timespec="seconds")}
    restarts = 0
    while True:
        try:
            records = [r for page in cursor_pages(ctx.qb, resource, params) for r in page["data"]]
            break
        except QuickBooksError as error:
            restarts = restart_or_raise(error, restarts)
    yield Batch(resource, records, {"resource_index": index + 1, "name_from": None,
                                    "catch_up": None},
                expand=lambda got: _with_moved_families(ctx, resource, got, frozenset(listed)))


def _with_moved_families(ctx: PullContext, resource: str, records: list[dict],
                         listed: frozenset[str]) -> tuple[list[dict], set[str]]:
    """A catch-up's records, each once, with the jobs or sub-items of those that may have
    moved past the listing: not handed over by it, nor written earlier in this run under
    the name they have now (a resumed run's listing began at the restart point). And the
    ids among them written earlier in this run (counted then)."""
    obj = ctx.obj
    by_id = {r.get("id"): r for r in records}
    others = sorted(i for i in by_id if isinstance(i, str) and i not in listed)
    table = obj.model.__table__
    started = datetime.fromisoformat(ctx.checkpoint["started"])
    written: dict[str, Any] = {}
    for start in range(0, len(others), 500):
        written.update(db.session.execute(
            select(table.c.qb_id, table.c.sync_base["full_name"].as_string()).where(
                table.c.qb_id.in_(others[start : start + 500]), table.c.synced_at >= started)
        ).all())
    if any(ref.target == obj.name for ref in obj.refs):  # a hierarchy (not vendors)
        for qb_id in others:
            name = by_id[qb_id].get(obj.name_path)
            if qb_id not in written or written[qb_id] != name:
                for record in _under(ctx, resource, name):
                    by_id.setdefault(record.get("id"), record)
    return list(by_id.values()), set(written)


def _under(ctx: PullContext, resource: str, full_name: Any) -> list[dict]:
    """Every record whose full name begins with `full_name` and ":" (QuickBooks' name order
    keeps them together, from that prefix on)."""
    if not isinstance(full_name, str) or not full_name:
        return []
    prefix = f"{full_name}:"
    params = {"status": "all", "nameFrom": prefix, **ctx.obj.list_params}
    restarts = 0
    while True:
        found = []
        try:
            for page in cursor_pages(ctx.qb, resource, params):
                for record in page["data"]:
                    name = record.get(ctx.obj.name_path)
                    if not (isinstance(name, str)
                            and name.casefold().startswith(prefix.casefold())):
                        return found
                    found.append(record)
            return found
        except QuickBooksError as error:
            restarts = restart_or_raise(error, restarts)
