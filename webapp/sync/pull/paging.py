"""Reading QuickBooks lists: cursor pages with a one-page prefetch, and date windows.

A cursor must be reused within 10 seconds and a cursor request is not idempotent (FACTS §2.2),
so the next page is fetched by a background thread while the current page is written, and
any failure on a cursor request ends the listing: the engine restarts from its checkpoint.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from webapp.sync.conductor import FATAL, QuickBooks, QuickBooksError, Wire, records_of

PAGE_LIMIT = 150
_DONE = object()


# Pages in a row that may bring no record not seen earlier in the same listing.
MAX_STALE_PAGES = 3
# A listing may take this many times the pages its first page's counts allow, plus a few
# (records added while it is read), before it is taken for one that never ends.
PAGE_ALLOWANCE = 2
PAGE_SLACK = 3
ENDLESS = ("QuickBooks kept answering that there were more {resource} to read {why}, so the "
           "sync stopped reading them. This is a fault on Conductor's side or in QuickBooks; "
           "start the sync again later, and tell your administrator if it happens again.")


def remaining_count(page: dict) -> int:
    """`remainingCount` as a figure: a whole number of at least 0 (anything else is 0)."""
    value = page.get("remainingCount")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0
    return max(int(min(value, 10**9)), 0)


def page_records(page: Any, resource: str) -> list[dict]:
    """A page's records; an answer that is no page at all fails the listing plainly."""
    return records_of(page, resource)


def _more(page: dict) -> bool:
    return bool(page.get("nextCursor")) and page.get("hasMore", True) is not False


def cursor_pages(qb: QuickBooks, resource: str, params: dict[str, Any]) -> Iterator[dict]:
    """Every page of one list, following `nextCursor` (the SDK's paging, in raw JSON).

    A listing that does not end is ended here, with a plain reason: pages that keep saying
    there is more while bringing nothing new, or more pages than the first page's counts allow.
    (Conductor sends the same cursor with every page, so a repeated cursor says nothing.)
    """
    params = {**params, "limit": PAGE_LIMIT}
    page = qb.list_page(resource, params)
    records = page_records(page, resource)
    page["data"] = records
    allowed = PAGE_ALLOWANCE * -(-(len(records) + remaining_count(page)) // PAGE_LIMIT) + (
        PAGE_SLACK)
    seen = {r.get("id") for r in records}
    pages, stale = 1, 0
    yield page
    while _more(page):
        if pages >= allowed:
            raise QuickBooksError(FATAL, "endless_paging", ENDLESS.format(
                resource=resource, why=f"after {pages} pages, more than it had counted"))
        page = qb.list_page(resource, params, cursor=page["nextCursor"])
        records = page_records(page, resource)
        page["data"] = records
        pages += 1
        fresh = {r.get("id") for r in records} - seen
        seen |= fresh
        stale = 0 if fresh else stale + 1
        if stale >= MAX_STALE_PAGES and _more(page):
            raise QuickBooksError(FATAL, "endless_paging", ENDLESS.format(
                resource=resource, why=f"while {stale} pages in a row brought nothing new"))
        yield page


class Prefetcher:
    """Iterates `pages` exactly one page ahead in a thread, so fetching overlaps writing.

    The next page is requested as soon as the consumer takes the previous one, never
    earlier. Exceptions from the fetch surface at the matching `next()`; `close()` stops the
    fetching after the request in flight and closes the generator.

    The consumer never blocks for long in one uninterruptible wait: the exceptions Dramatiq
    raises into a worker thread (time limit, shutdown) take effect only when it runs Python
    again, and QuickBooks may take minutes to answer. Leaving the `with` block on such an
    exception does not wait for the request in flight either: the thread ends once it is
    answered, and its page is dropped.

    With `requests` (a count of the requests made so far), an item the source hands over
    without making a request — the last page of a date window, held back until the window
    was read to its end — does not use up the one page ahead: the source goes on to its next
    request at once instead of waiting, idle, until the consumer has written that item.

    With `wire` (the client's `Wire`), `next()` returns a page only once the request for the
    one after it has been sent (or the source has nothing more to ask, or WIRE_WAIT_S has
    passed). Building and sending a request is a millisecond of Python; started while the
    consumer writes a page, it waits for the interpreter lock again and again (5 ms each,
    Python's switch interval) and went out some 10 ms late, on every page.
    """

    POLL_S = 0.1
    WIRE_WAIT_S = 0.05

    def __init__(self, pages: Iterator, requests: Callable[[], int] | None = None,
                 wire: Wire | None = None) -> None:
        self._pages = pages
        self._requests = requests
        self._queue: queue.Queue = queue.Queue()
        self._slot = threading.Semaphore(1)  # taken while a page waits for the consumer
        self._stop = threading.Event()
        # Counts what the fetching thread did (a request sent, an item queued, its end).
        self._moved = threading.Condition()
        self._moves = 0
        self._unlisten = wire.listen(self._move) if wire is not None else None
        self._thread = threading.Thread(target=self._run, name="qbsync-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while self._wait_for_slot():
                while True:  # the slot is for the item that makes a request
                    before = self._requests() if self._requests else None
                    try:
                        page = next(self._pages)
                    except StopIteration:
                        self._put("done", _DONE)
                        return
                    if before is None or self._requests() != before:
                        break
                    # Made no request: takes no slot, and is no reason for the consumer to
                    # stop waiting for the request that comes next.
                    self._queue.put(("free", page))
                    if self._stop.is_set():
                        return
                self._put("page", page)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer to raise
            self._put("error", error)
        finally:
            close = getattr(self._pages, "close", None)
            if close is not None:
                close()
            self._move()

    def _put(self, kind: str, value) -> None:
        self._queue.put((kind, value))
        self._move()

    def _move(self) -> None:
        with self._moved:
            self._moves += 1
            self._moved.notify_all()

    def _wait_for_slot(self) -> bool:
        while not self._stop.is_set():
            if self._slot.acquire(timeout=self.POLL_S):
                return not self._stop.is_set()
        return False

    def __iter__(self) -> Prefetcher:
        return self

    def __next__(self):
        while True:
            try:
                kind, value = self._queue.get(timeout=self.POLL_S)
                break
            except queue.Empty:
                continue
        if kind == "free":
            return value
        with self._moved:
            moves = self._moves
        self._slot.release()  # the fetcher may ask for the next one now
        if kind == "page":
            if self._unlisten is not None:  # ... and have it sent before this page is written
                with self._moved:
                    self._moved.wait_for(lambda: self._moves != moves, self.WIRE_WAIT_S)
            return value
        if kind == "error":
            raise value
        raise StopIteration

    def close(self, wait: bool = True) -> None:
        """Stop fetching; with `wait`, once the request in flight has been answered."""
        self._stop.set()
        if wait:
            self._thread.join(timeout=60)
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(wait=exc_type is None)


# --- QuickBooks timestamps --------------------------------------------------------------

def parse_qb_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def format_qb_time(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS±HH:MM`, in the offset the value carries (QuickBooks' own)."""
    return value.isoformat(timespec="seconds")


def shift_qb_time(text: str, seconds: float) -> str:
    return format_qb_time(parse_qb_time(text) + timedelta(seconds=seconds))


def later_qb_time(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if parse_qb_time(a) >= parse_qb_time(b) else b
