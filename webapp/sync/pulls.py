"""The three ways of reading an object, each resumable from its checkpoint.

* List objects (customers, vendors, items) page by name: `nameFrom` makes QuickBooks sort by
  name, so after each committed page the last name is a checkpoint that survives a crash.
* Transactions (orders, invoices) are read in one cursor listing when there are few; when
  there are many, in windows of `updatedAt` sized to about one page each, checkpointed per
  window.
* Inventory adjustments are not paginated at all, so they are always read in windows.

Each reader is a generator of `Batch`es run one batch ahead by a `Prefetcher`, across listing
and window boundaries too, so QuickBooks is never idle while a page is written. A batch
carries the checkpoint that holds once it is written; the writer commits both together.
Any failure of a cursor request restarts the listing from the last batch handed over.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from webapp.models.types import utcnow
from webapp.sync.conductor import CURSOR, QuickBooksError
from webapp.sync.paging import PAGE_LIMIT, Prefetcher, cursor_pages

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

NAME_FLOOR = " "  # sorts before every QuickBooks name: punctuation first, and space first of all
MAX_CURSOR_RESTARTS = 5
CURSOR_MAX_RECORDS = 3000  # more than this and transactions are read in date windows
WINDOW_TARGET = PAGE_LIMIT
ADJUSTMENT_WINDOW_TARGET = 300
FLOOR_TIME = "1990-01-01T00:00:00+00:00"
INITIAL_SPAN_S = 30 * 86400.0
MIN_SPAN_S = 60.0


@dataclass
class Batch:
    """Records to write, the checkpoint that holds once they are, and a new total if known."""

    resource: str
    records: list[dict]
    checkpoint: dict[str, Any] = field(default_factory=dict)
    listing_count: int | None = None  # records in the listing this batch starts
    adds_to_total: int = 0  # windows of adjustments: the total grows as they are read


def consume(ctx: PullContext, batches: Iterator[Batch]) -> None:
    """Write each batch and commit it with its checkpoint (and progress)."""
    with Prefetcher(batches) as queue:
        for batch in queue:
            if batch.listing_count is not None:
                ctx.run.total = ctx.run.processed + batch.listing_count
            if batch.adds_to_total:
                ctx.run.total = (ctx.run.total or 0) + batch.adds_to_total
            result = ctx.writer.write(ctx.obj, batch.resource, batch.records)
            ctx.checkpoint.update(batch.checkpoint)
            ctx.commit_page(result, len(batch.records))


def _restarts(error: QuickBooksError, restarts: int) -> int:
    if error.kind != CURSOR or restarts >= MAX_CURSOR_RESTARTS:
        raise error
    return restarts + 1


# --- list objects ---------------------------------------------------------------------------


def pull_list(ctx: PullContext) -> None:
    consume(ctx, _list_batches(ctx, dict(ctx.checkpoint)))


def _list_batches(ctx: PullContext, cp: dict) -> Iterator[Batch]:
    obj = ctx.obj
    first = cp.get("resource_index", 0)
    for index in range(first, len(obj.resources)):
        resource = obj.resources[index]
        name_from = cp.get("name_from") if index == first else None
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
                    count = None
                    if number == 0:
                        count = len(records) + (page.get("remainingCount") or 0)
                    if records:
                        name_from = records[-1].get(obj.name_path)
                    done = not page.get("nextCursor")
                    yield Batch(resource, records, {
                        "resource_index": index + 1 if done else index,
                        "name_from": None if done else name_from,
                    }, count)
                break
            except QuickBooksError as error:
                restarts = _restarts(error, restarts)


# --- transactions ---------------------------------------------------------------------------


def pull_transactions(ctx: PullContext) -> None:
    consume(ctx, _transaction_batches(ctx, dict(ctx.checkpoint)))


def _transaction_batches(ctx: PullContext, cp: dict) -> Iterator[Batch]:
    """One listing when it is small; else date windows (the first page only sizes them)."""
    resource = ctx.obj.resources[0]
    if cp.get("mode") != "windows":
        limit = int(ctx.settings.get("QBSYNC_CURSOR_MAX_RECORDS", CURSOR_MAX_RECORDS))
        params: dict[str, Any] = {"includeLineItems": True}
        if cp.get("since"):
            params["updatedAfter"] = cp["since"]
        restarts = 0
        while True:
            try:
                pages = cursor_pages(ctx.qb, resource, params)
                first = next(pages)
                count = len(first["data"]) + (first.get("remainingCount") or 0)
                known = None if restarts else count  # a restart re-reads: keep the total
                if count > limit:
                    cp.update(mode="windows", window_from=cp.get("since"),
                              span_s=_first_span(cp.get("since"), first["data"], count))
                    yield Batch(resource, [], dict(cp), known)
                    break
                yield Batch(resource, first["data"], {}, known)
                for page in pages:
                    yield Batch(resource, page["data"])
                return
            except QuickBooksError as error:
                restarts = _restarts(error, restarts)
    yield from _window_batches(ctx, cp, _paged_window, WINDOW_TARGET)


def _first_span(since: str | None, sample: list[dict], count: int) -> float:
    """Guess a window holding about one page, from the first page's spread of `updatedAt`."""
    times = sorted(datetime.fromisoformat(r["updatedAt"]) for r in sample if r.get("updatedAt"))
    if not times:
        return INITIAL_SPAN_S
    start = datetime.fromisoformat(since or FLOOR_TIME)
    wanted = max(1, int(len(times) * WINDOW_TARGET / count))
    edge = times[min(wanted, len(times)) - 1]
    return max((edge - start).total_seconds(), MIN_SPAN_S)


def _paged_window(ctx: PullContext, params: dict[str, Any]) -> Iterator[list[dict]]:
    resource = ctx.obj.resources[0]
    for page in cursor_pages(ctx.qb, resource, {**params, "includeLineItems": True}):
        yield page["data"]


# --- inventory adjustments -----------------------------------------------------------------


def pull_adjustments(ctx: PullContext) -> None:
    cp = dict(ctx.checkpoint)
    cp.setdefault("window_from", cp.get("since"))
    cp.setdefault("span_s", INITIAL_SPAN_S)
    consume(ctx, _window_batches(ctx, cp, _whole_window, ADJUSTMENT_WINDOW_TARGET,
                                 count_each=True))


def _whole_window(ctx: PullContext, params: dict[str, Any]) -> Iterator[list[dict]]:
    yield ctx.qb.list_all(ctx.obj.resources[0], {**params, "includeLineItems": True})


# --- date windows -------------------------------------------------------------------------


def _window_batches(ctx: PullContext, cp: dict, read_window, target: int,
                    count_each: bool = False) -> Iterator[Batch]:
    """Walk `updatedAt` windows from the checkpoint; the last window has no upper bound.

    A window's checkpoint is handed over with its last batch, so a restart re-reads at most
    the window in hand. Window sizes adapt to the density seen, aiming at `target` records.
    """
    resource = ctx.obj.resources[0]
    restarts = 0
    while True:
        low_text = cp.get("window_from") or FLOOR_TIME
        low = datetime.fromisoformat(low_text)
        span = float(cp.get("span_s") or INITIAL_SPAN_S)
        high = low + timedelta(seconds=span)
        final = high.astimezone(UTC) >= utcnow() - timedelta(hours=1)
        params = {"updatedAfter": low_text}
        if not final:
            params["updatedBefore"] = high.isoformat(timespec="seconds")
        try:
            pages = list(read_window(ctx, params)) if count_each else read_window(ctx, params)
            seen, held = 0, None
            for records in pages:
                if held is not None:
                    yield held
                seen += len(records)
                held = Batch(resource, records,
                             adds_to_total=len(records) if count_each else 0)
        except QuickBooksError as error:
            restarts = _restarts(error, restarts)
            continue
        if not final:
            factor = 4.0 if seen == 0 else min(max(target * 0.8 / seen, 0.5), 4.0)
            cp["window_from"] = (high + timedelta(seconds=1)).isoformat(timespec="seconds")
            cp["span_s"] = max(span * factor, MIN_SPAN_S)
        held = held or Batch(resource, [])
        held.checkpoint = {"window_from": cp["window_from"], "span_s": cp["span_s"],
                           "mode": cp.get("mode")} if not final else {}
        yield held
        if final:
            return
