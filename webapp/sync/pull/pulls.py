"""The three ways of reading an object, each resumable from its checkpoint, each at the least
number of QuickBooks requests its records need (one a page of 150), and each bounded in what
a crash makes it read again: `resume_bound` records, QBSYNC_RESUME_RECORDS (20 pages).

* List objects (customers, vendors, items) page by name (`lists`): `nameFrom` makes QuickBooks
  sort by name, so after each committed page the last name is a checkpoint.
* Transactions (orders, invoices) are read in one cursor listing when it holds at most the
  bound (its first page says how many it holds); when there are more, in windows of
  `updatedAt` sized from that first page's records to about the bound each, checkpointed per
  window: a cursor listing cannot be resumed (its order is QuickBooks' own, and a restart
  would read it all again), a window can. What that costs beyond the minimum is the first
  page, read again in a window, and each window's last, part-filled page.
* Inventory adjustments are not paginated at all: one call from the watermark when it holds
  them all (fewer than the bound); when it is cut short, its records only size windows of
  `updatedAt` that are then each read whole.

Each reader is a generator of `Batch`es run one batch ahead by a `Prefetcher`, across listing
and window boundaries too, so QuickBooks is never idle while a page is written. A batch
carries the checkpoint that holds once it is written; the writer commits both together.
Any failure of a cursor request restarts the listing from the last batch handed over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.types import utcnow
from webapp.sync.conductor import CURSOR, QuickBooksError
from webapp.sync.pull import rewind
from webapp.sync.pull.paging import PAGE_LIMIT, Prefetcher, cursor_pages, remaining_count

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

MAX_CURSOR_RESTARTS = 5
# What a crash may make an object read again, in records (QBSYNC_RESUME_RECORDS): a listing
# holding more is read in windows of `updatedAt`. 20 pages: a minute or so at QuickBooks'
# pace, and windows big enough that their part-filled last pages cost little.
RESUME_RECORDS = 20 * PAGE_LIMIT
# Windows aim at this share of the bound, so that one denser than its sample said still fits.
WINDOW_FILL = 0.8
# The rest of a listing is read in one last, open window once it holds at most this share of
# the bound by the count its first page gave (what is edited meanwhile lands there too).
RESTFUL = 0.95
FLOOR_TIME = "1990-01-01T00:00:00+00:00"
INITIAL_SPAN_S = 30 * 86400.0
MIN_SPAN_S = 60.0
FUTURE_SLACK = timedelta(days=1)  # windows end past now (clocks differ); then one open window


@dataclass
class Batch:
    """Records to write, the checkpoint that holds once they are, and a new total if known."""

    resource: str
    records: list[dict]
    checkpoint: dict[str, Any] = field(default_factory=dict)
    listing_count: int | None = None  # records in the listing this batch starts
    adds_to_total: int = 0  # windows of adjustments: the total grows as they are read
    # Run in the writing thread before the records are written (a catch-up: lists.py): the
    # records to write instead, and the ids among them counted earlier in the run.
    expand: Callable[[list[dict]], tuple[list[dict], set[str]]] | None = None
    # A page of a listing that cannot be resumed part-way (transactions in one listing): its
    # total counts from where the run's first attempt began it, and when a later attempt reads
    # it again (`again`), the records an earlier one wrote are not counted twice.
    whole_listing: bool = False
    again: bool = False


def consume(ctx: PullContext, batches: Iterator[Batch]) -> None:
    """Write each batch and commit it with its checkpoint (and progress)."""
    with Prefetcher(batches, requests=lambda: ctx.qb.api_calls, wire=ctx.qb.wire) as queue:
        for batch in queue:
            if batch.listing_count is not None:
                base = ctx.run.processed
                if batch.whole_listing:
                    base = ctx.checkpoint.setdefault("listing_from", base)
                ctx.run.total = base + batch.listing_count
            if batch.adds_to_total:
                ctx.run.total = (ctx.run.total or 0) + batch.adds_to_total
            records, counted = batch.records, ctx.seen_ids
            if batch.expand is not None:
                records, written = batch.expand(records)
                counted = ctx.seen_ids | written  # by this attempt, or before a resume
            elif batch.again:
                counted = ctx.seen_ids | written_in_run(ctx, records)
            rewind.tick_listed(ctx, records)
            result = ctx.writer.write(ctx.obj, batch.resource, records)
            ctx.checkpoint.update(rewind.without_notes(batch.checkpoint))
            # A listing restarted after a cursor failure hands over records again: they are
            # written (idempotently) but not counted twice.
            fresh = list(dict.fromkeys(
                r.get("id") for r in records if r.get("id") not in counted))
            ctx.seen_ids.update(fresh)
            if batch.expand is not None:
                ctx.run.total = (ctx.run.total or 0) + len(fresh)
            again = len(records) - len(fresh)
            result.unchanged = max(result.unchanged - again, 0)
            ctx.commit_page(result, len(fresh))


def written_in_run(ctx: PullContext, records: list[dict]) -> set[str]:
    """The ids among `records` this run wrote (or stamped as seen) before: their rows' `synced_at`
    is at or after the moment it began. (A transaction's rows are written by its own listing
    alone before the pull is done: no reference or refresh writes them meanwhile.)"""
    table = ctx.obj.model.__table__
    ids = [r.get("id") for r in records if isinstance(r.get("id"), str)]
    started = datetime.fromisoformat(ctx.checkpoint["started"])
    return set(db.session.scalars(select(table.c.qb_id).where(
        table.c.qb_id.in_(ids), table.c.synced_at >= started))) if ids else set()


def restart_or_raise(error: QuickBooksError, restarts: int) -> int:
    """The next restart count after a cursor failure; any other error, or one too many, is
    raised."""
    if error.kind != CURSOR or restarts >= MAX_CURSOR_RESTARTS:
        raise error
    return restarts + 1


# --- transactions ---------------------------------------------------------------------------


def pull_transactions(ctx: PullContext) -> None:
    consume(ctx, _transaction_batches(ctx, dict(ctx.checkpoint)))


def resume_bound(ctx: PullContext) -> int:
    """The records a crash may make an object read again (QBSYNC_RESUME_RECORDS)."""
    return max(int(ctx.settings.get("QBSYNC_RESUME_RECORDS", RESUME_RECORDS)), 1)


def _window_target(bound: int) -> int:
    return max(int(bound * WINDOW_FILL), 1)


def _transaction_batches(ctx: PullContext, cp: dict) -> Iterator[Batch]:
    """One cursor listing when it holds at most the bound; else date windows (its first page
    sizes them)."""
    resource = ctx.obj.resources[0]
    bound = resume_bound(ctx)
    again = cp.get("listing_from") is not None  # an earlier attempt read part of it
    if cp.get("mode") != "windows":
        params: dict[str, Any] = {"includeLineItems": True, **ctx.obj.list_params}
        if cp.get("since"):
            params["updatedAfter"] = cp["since"]
        restarts = 0
        while True:
            try:
                pages = cursor_pages(ctx.qb, resource, params)
                first = next(pages)
                count = len(first["data"]) + remaining_count(first)
                known = None if restarts else count  # a restart re-reads: keep the total
                if count > bound:
                    _start_windows(cp, first["data"], count, _window_target(bound))
                    cp["rest"] = count
                    yield Batch(resource, [], dict(cp), known)
                    break
                yield Batch(resource, first["data"], {}, known, whole_listing=True, again=again)
                for page in pages:
                    yield Batch(resource, page["data"], whole_listing=True, again=again)
                return
            except QuickBooksError as error:
                restarts = restart_or_raise(error, restarts)
    yield from _window_batches(ctx, cp, _paged_window, bound)


def _timestamps(records: list[dict]) -> list[datetime]:
    """The records' `updatedAt`s, sorted; ones that do not parse are left out here (their
    records fail on their own when written)."""
    times = []
    for record in records:
        try:
            stamp = datetime.fromisoformat(record.get("updatedAt"))
        except (TypeError, ValueError):
            continue
        if stamp.tzinfo is not None:
            times.append(stamp)
    return sorted(times)


def _density_span(sample: list[dict], count: int, target: int) -> float | None:
    """A span holding about `target` of `count` records, from a sample's spread in time."""
    times = _timestamps(sample)
    if len(times) < 2 or count <= 0:
        return None
    spread = (times[-1] - times[0]).total_seconds()  # of a sample: about the whole range
    return max(spread * target / count, MIN_SPAN_S)


def _start_windows(cp: dict, sample: list[dict], count: int, target: int) -> None:
    """Windows from the watermark (or the floor), sized by a sample of what they hold."""
    cp["mode"] = "windows"
    cp["window_from"] = cp.get("since")
    _size_from_sample(cp, datetime.fromisoformat(cp.get("since") or FLOOR_TIME), sample, count,
                      target)


def _size_from_sample(cp: dict, low: datetime, sample: list[dict], count: int, target: int,
                      cap: float | None = None) -> None:
    """Size the window from `low` by a sample of the records from there on (`count` of them).

    The window runs to the sample's oldest record and a density span (the span holding about
    `target` records, by the sample's spread) past it: a gap after `low` (on a full pull,
    everything before the oldest record; after a quiet spell, the quiet) holds few records —
    about count/len(sample) before a random sample's oldest — so it costs no call of its own.
    `cap` is the span of a window found over-full: what is asked instead is smaller, so
    shrinking ends (at MIN_SPAN_S, read whole); when the gap and a density span do not fit in
    it (many records edited at once, after a quiet spell), the gap is one call of its own
    and the density span from the oldest record the next (`next_span_s`).
    """
    density = _density_span(sample, count, target) or (cap / 4 if cap else INITIAL_SPAN_S)
    if cap is not None:
        density = max(min(density, cap / 2), MIN_SPAN_S)
    times = _timestamps(sample)
    gap = max((times[0] - low).total_seconds() - 1, 0.0) if times else 0.0
    if cap is None or gap + density < cap:
        cp["span_s"] = gap + density
    elif gap > MIN_SPAN_S:  # the records lie all past the gap: skip it, then the density
        cp["span_s"], cp["next_span_s"] = gap, density
    else:
        cp["span_s"] = density


class _Spread:
    """The time from the oldest to the newest `updatedAt` of the records a window held."""

    def __init__(self, records: list[dict]) -> None:
        self.low = self.high = None
        self.add(records)

    def add(self, records: list[dict]) -> None:
        times = _timestamps(records)
        if times:
            self.low = times[0] if self.low is None else min(self.low, times[0])
            self.high = times[-1] if self.high is None else max(self.high, times[-1])

    @property
    def seconds(self) -> float:
        return (self.high - self.low).total_seconds() if self.low is not None else 0.0


def _open_span(low: datetime) -> float:
    """A span that makes the window from `low` the last, open one (for a day yet: a resume
    later than that reads a bounded window instead, which is as correct)."""
    return max((utcnow() + 2 * FUTURE_SLACK - low).total_seconds(), MIN_SPAN_S)


def _paged_window(ctx: PullContext, params: dict[str, Any]) -> Iterator[tuple[list, int | None]]:
    """(records, records in the whole window — known from the first page) per page."""
    resource = ctx.obj.resources[0]
    for number, page in enumerate(
        cursor_pages(ctx.qb, resource, {**params, "includeLineItems": True, **ctx.obj.list_params})
    ):
        count = len(page["data"]) + remaining_count(page) if number == 0 else None
        yield page["data"], count


# --- inventory adjustments -----------------------------------------------------------------


def pull_adjustments(ctx: PullContext) -> None:
    consume(ctx, _adjustment_batches(ctx, dict(ctx.checkpoint)))


def _adjustment_limit(ctx: PullContext) -> int:
    """Asked of every unpaginated call: getting this many back means it was cut short."""
    return resume_bound(ctx) + 1


def _adjustment_batches(ctx: PullContext, cp: dict) -> Iterator[Batch]:
    """One call from the watermark when it holds them all; else date windows it sizes.

    The single call is handed over as one batch (at most the bound) with the checkpoint that
    ends the read, so a crash before it is written re-reads that one call and a crash after
    it re-reads nothing. A call cut short is not written: its records are a sample of
    `updatedAt`s that sizes the windows, which are then read as before.
    """
    if cp.get("mode") == "done":
        return
    resource = ctx.obj.resources[0]
    bound = resume_bound(ctx)
    if cp.get("mode") != "windows":
        limit = _adjustment_limit(ctx)
        params: dict[str, Any] = {"includeLineItems": True, "limit": limit}
        if cp.get("since"):
            params["updatedAfter"] = cp["since"]
        records = ctx.qb.list_all(resource, params)
        if len(records) < limit:
            yield Batch(resource, records, {"mode": "done"}, len(records))
            return
        _start_windows(cp, records, len(records), _window_target(bound))
        yield Batch(resource, [], dict(cp))
    yield from _window_batches(ctx, cp, _whole_window, bound, count_each=True)


def _whole_window(ctx: PullContext, params: dict[str, Any]) -> Iterator[tuple[list, int | None]]:
    """One unpaginated call; a window cut short by `limit` reports no count (too big)."""
    everything = params.pop("_everything", False)
    limit = _adjustment_limit(ctx)
    query = {**params, "includeLineItems": True}
    if not everything:
        query["limit"] = limit
    records = ctx.qb.list_all(ctx.obj.resources[0], query)
    yield records, (None if not everything and len(records) >= limit else len(records))


# --- date windows -------------------------------------------------------------------------


def _window_batches(ctx: PullContext, cp: dict, read_window, bound: int,
                    count_each: bool = False) -> Iterator[Batch]:
    """Walk bounded `updatedAt` windows from the checkpoint up to now; then one last open one.

    A window's checkpoint is handed over with its last batch, so a restart re-reads at most
    the window in hand: at most `bound` records, as a window found to hold more is shrunk and
    asked again before anything of it is written. Spans adapt to the density seen, aiming at
    `WINDOW_FILL` of the bound; an empty window, or one after which the rest of the listing
    (`rest`: its count, less what the windows held) fits in the bound, is followed by the
    open rest.
    """
    resource = ctx.obj.resources[0]
    target = _window_target(bound)
    restarts = 0
    everything = False
    while True:
        low_text = cp.get("window_from") or FLOOR_TIME
        low = datetime.fromisoformat(low_text)
        span = float(cp.get("span_s") or INITIAL_SPAN_S)
        high = low + timedelta(seconds=span)
        final = high.astimezone(UTC) >= utcnow() + FUTURE_SLACK
        params: dict[str, Any] = {"updatedAfter": low_text}
        if not final:
            params["updatedBefore"] = high.isoformat(timespec="seconds")
        if everything:
            params["_everything"] = True
        try:
            pages = read_window(ctx, params)
            first, count = next(pages)
            too_big = count is None or count > bound
            if too_big and span > MIN_SPAN_S and low.astimezone(UTC) < utcnow():
                # Nothing written yet: ask a smaller window, sized by what was just seen.
                _size_from_sample(cp, low, first, count or len(first), target, cap=span)
                pages.close()
                continue
            if count is None:  # cannot shrink further: read the window whole
                everything = True
                pages.close()
                continue
            everything = False
            seen, held = len(first), Batch(resource, first,
                                            adds_to_total=len(first) if count_each else 0)
            spread = _Spread(first)
            for records, _ in pages:
                yield held
                seen += len(records)
                spread.add(records)
                held = Batch(resource, records, adds_to_total=len(records) if count_each else 0)
        except QuickBooksError as error:
            restarts = restart_or_raise(error, restarts)
            continue
        if final:
            yield held
            return
        after = high + timedelta(seconds=1)
        cp["window_from"] = after.isoformat(timespec="seconds")
        rest = cp.get("rest")
        if rest is not None:
            rest = cp["rest"] = max(rest - seen, 0)
        # After an empty window, or when the rest fits, the rest in one open window (a rest
        # too big for it is a sample to size by); else a span sized by the rest's count, or
        # by the density of the records this window held.
        fits = rest is not None and rest <= bound * RESTFUL
        if cp.get("next_span_s"):
            span = cp.pop("next_span_s")
        elif seen == 0 or fits:
            span = _open_span(after)
        elif rest:  # the rest lies between here and now: a target's share of that time
            ahead = (utcnow() - after.astimezone(UTC)).total_seconds()
            span = max(ahead * target / rest, MIN_SPAN_S)
        elif spread.seconds > 0 and seen > 1:  # the records' own times: their density
            span = max(spread.seconds * target / seen, MIN_SPAN_S)
        else:
            span = max(span * min(max(target / seen, 0.25), 4.0), MIN_SPAN_S)
        cp["span_s"] = span
        held.checkpoint = {"window_from": cp["window_from"], "span_s": cp["span_s"],
                           "mode": cp.get("mode"), "rest": rest, "next_span_s": None}
        yield held
