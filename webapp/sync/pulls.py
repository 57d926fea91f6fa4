"""The three ways of reading an object, each resumable from its checkpoint.

* List objects (customers, vendors, items) page by name: `nameFrom` makes QuickBooks sort by
  name, so after each committed page the last name is a checkpoint that survives a crash.
* Transactions (orders, invoices) are read in one cursor listing when there are few; when
  there are many, in windows of `updatedAt` sized to about one page each, checkpointed per
  window.
* Inventory adjustments are not paginated at all, so they are always read in windows.

Any failure of a cursor request restarts the listing from the committed checkpoint.
"""

from __future__ import annotations

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


def _restartable(ctx: PullContext, error: QuickBooksError, restarts: int) -> bool:
    return error.kind == CURSOR and restarts < MAX_CURSOR_RESTARTS


# --- list objects ---------------------------------------------------------------------------


def pull_list(ctx: PullContext) -> None:
    obj, cp = ctx.obj, ctx.checkpoint
    for index in range(cp.get("resource_index", 0), len(obj.resources)):
        resource = obj.resources[index]
        restarts = 0
        while True:
            try:
                _list_resource(ctx, resource)
                break
            except QuickBooksError as error:
                if not _restartable(ctx, error, restarts):
                    raise
                restarts += 1
        cp["resource_index"], cp["name_from"] = index + 1, None
        ctx.flush()


def _list_resource(ctx: PullContext, resource: str) -> None:
    obj, cp = ctx.obj, ctx.checkpoint
    name_from = cp.get("name_from")
    params: dict[str, Any] = {"status": "all", "nameFrom": name_from or NAME_FLOOR,
                              **obj.list_params}
    if cp.get("since"):
        params["updatedAfter"] = cp["since"]
    processed_before = ctx.run.processed
    with Prefetcher(cursor_pages(ctx.qb, resource, params)) as pages:
        for number, page in enumerate(pages):
            records = page["data"]
            if name_from is not None:  # nameFrom is inclusive: drop what the checkpoint holds
                records = [r for r in records if r.get(obj.name_path) != name_from]
            if number == 0:
                count = len(page["data"]) + (page.get("remainingCount") or 0)
                ctx.run.total = processed_before + count - (len(page["data"]) - len(records))
            result = ctx.writer.write(obj, resource, records)
            if records:
                cp["resource_index"] = obj.resources.index(resource)
                cp["name_from"] = records[-1].get(obj.name_path)
            ctx.commit_page(result, len(records))


# --- transactions ---------------------------------------------------------------------------


def pull_transactions(ctx: PullContext) -> None:
    cp = ctx.checkpoint
    if cp.get("mode") != "windows":
        restarts = 0
        while True:
            try:
                if _single_listing(ctx):
                    return
                break
            except QuickBooksError as error:
                if not _restartable(ctx, error, restarts):
                    raise
                restarts += 1
    _windows(ctx, _window_pages)


def _single_listing(ctx: PullContext) -> bool:
    """One cursor listing from the watermark; False when there is too much for one listing."""
    obj, cp = ctx.obj, ctx.checkpoint
    resource = obj.resources[0]
    params: dict[str, Any] = {"includeLineItems": True}
    if cp.get("since"):
        params["updatedAfter"] = cp["since"]
    limit = int(ctx.settings.get("QBSYNC_CURSOR_MAX_RECORDS", CURSOR_MAX_RECORDS))
    with Prefetcher(cursor_pages(ctx.qb, resource, params)) as pages:
        for number, page in enumerate(pages):
            records = page["data"]
            if number == 0:
                count = len(records) + (page.get("remainingCount") or 0)
                ctx.run.total = ctx.run.processed + count
                if count > limit:
                    cp["mode"] = "windows"
                    cp["window_from"] = cp.get("since")
                    cp["span_s"] = _first_span(cp.get("since"), records, count)
                    ctx.flush()
                    return False
            ctx.commit_page(ctx.writer.write(obj, resource, records), len(records))
    return True


def _first_span(since: str | None, sample: list[dict], count: int) -> float:
    """Guess a window holding about one page, from the first page's spread of `updatedAt`."""
    times = sorted(datetime.fromisoformat(r["updatedAt"]) for r in sample if r.get("updatedAt"))
    if not times:
        return INITIAL_SPAN_S
    start = datetime.fromisoformat(since or FLOOR_TIME)
    wanted = max(1, int(len(times) * WINDOW_TARGET / count))
    edge = times[min(wanted, len(times)) - 1]
    return max((edge - start).total_seconds(), MIN_SPAN_S)


def _window_pages(ctx: PullContext, params: dict[str, Any]) -> int:
    obj = ctx.obj
    resource = obj.resources[0]
    seen = 0
    with Prefetcher(cursor_pages(ctx.qb, resource, {**params, "includeLineItems": True})) as pages:
        for page in pages:
            records = page["data"]
            seen += len(records)
            ctx.commit_page(ctx.writer.write(obj, resource, records), len(records))
    return seen


# --- inventory adjustments -----------------------------------------------------------------


def pull_adjustments(ctx: PullContext) -> None:
    cp = ctx.checkpoint
    cp.setdefault("window_from", cp.get("since"))
    cp.setdefault("span_s", INITIAL_SPAN_S)
    _windows(ctx, _window_all, target=ADJUSTMENT_WINDOW_TARGET)


def _window_all(ctx: PullContext, params: dict[str, Any]) -> int:
    obj = ctx.obj
    resource = obj.resources[0]
    records = ctx.qb.list_all(resource, {**params, "includeLineItems": True})
    ctx.run.total = (ctx.run.total or 0) + len(records)
    ctx.commit_page(ctx.writer.write(obj, resource, records), len(records))
    return len(records)


# --- date windows -------------------------------------------------------------------------


def _windows(ctx: PullContext, read_window, target: int = WINDOW_TARGET) -> None:
    """Walk `updatedAt` windows from the checkpoint; the last window has no upper bound.

    A window is checkpointed once read, so a restart re-reads at most the window in hand.
    Window sizes adapt to the density seen, aiming at `target` records each.
    """
    cp = ctx.checkpoint
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
            seen = read_window(ctx, params)
        except QuickBooksError as error:
            if not _restartable(ctx, error, restarts):
                raise
            restarts += 1
            continue
        if final:
            return
        cp["window_from"] = (high + timedelta(seconds=1)).isoformat(timespec="seconds")
        factor = 4.0 if seen == 0 else min(max(target * 0.8 / seen, 0.5), 4.0)
        cp["span_s"] = max(span * factor, MIN_SPAN_S)
        ctx.flush()
