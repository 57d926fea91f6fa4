"""The prefetcher: one page ahead, errors where they belong, nothing fetched after close."""

import threading
import time

import httpx
import pytest

from webapp.sync.conductor import Wire
from webapp.sync.pull.paging import Prefetcher


class Source:
    """Pages 0..n-1, noting each request; request `fail_at` raises."""

    def __init__(self, n, fail_at=None):
        self.n, self.fail_at = n, fail_at
        self.requested = []
        self.closed = threading.Event()

    def __iter__(self):
        try:
            for number in range(self.n):
                self.requested.append(number)
                if number == self.fail_at:
                    raise RuntimeError("cursor expired")
                yield number
        finally:
            self.closed.set()


SETTLE_S = 10.0  # a bound for what the fetching thread does at once: reached in ms, or a bug


def _until(condition) -> None:
    """Wait for `condition` (a state the fetching thread reaches), within SETTLE_S."""
    deadline = time.monotonic() + SETTLE_S
    while not condition():
        assert time.monotonic() < deadline, "the fetching thread never got there"
        threading.Event().wait(0.005)


def _settle(prefetcher, expected):
    _until(lambda: len(prefetcher.source.requested) >= expected)


def test_pages_arrive_in_order_and_the_fetch_stays_one_page_ahead():
    source = Source(5)
    with Prefetcher(iter(source)) as pages:
        pages.source = source
        got = []
        for page in pages:
            got.append(page)
            _settle(pages, min(page + 2, 5))
            assert len(source.requested) <= page + 2  # the page in hand, and the next
    assert got == [0, 1, 2, 3, 4]
    assert source.closed.is_set()


def test_a_fetch_error_surfaces_after_the_pages_before_it():
    source = Source(5, fail_at=2)
    got = []
    with Prefetcher(iter(source)) as pages, pytest.raises(RuntimeError, match="expired"):
        for page in pages:
            got.append(page)
    assert got == [0, 1]


def test_close_stops_fetching_and_closes_the_source():
    source = Source(100)
    pages = Prefetcher(iter(source))
    pages.source = source
    assert next(pages) == 0
    _settle(pages, 2)
    pages.close()
    assert source.requested == [0, 1]
    assert source.closed.is_set()


def test_an_item_handed_over_without_a_request_does_not_hold_back_the_next_request():
    """A window's held-back last page costs no request: while the consumer still writes it,
    the next window's first page is already being fetched; a request still waits its turn."""
    requested = []

    def windows():
        for window in range(3):
            requested.append(window)  # one request per window ...
            yield ("page", window)
            yield ("held", window)  # ... and its last page handed over without one

    with Prefetcher(windows(), requests=lambda: len(requested)) as pages:
        assert next(pages) == ("page", 0)
        assert next(pages) == ("held", 0)
        # The consumer writes ("held", 0): window 1 is requested meanwhile, not after.
        _until(lambda: len(requested) >= 2)
        assert requested == [0, 1]
        # and no further: one request ahead, as before (a pause can only miss a request
        # made too early, never report one that was not)
        threading.Event().wait(0.05)
        assert requested == [0, 1]
        assert list(pages) == [("page", 1), ("held", 1), ("page", 2), ("held", 2)]
    assert requested == [0, 1, 2]


def test_a_page_is_handed_over_once_the_request_for_the_next_is_sent(monkeypatch):
    """Writing a page starts only when the next page's request has left (the client's
    `Wire` says so), so that request is not held back by the writing."""
    # The wait's bound (tested below) raised: on a busy machine building a request may take
    # longer than 50 ms, and this test is about the order, not the bound.
    monkeypatch.setattr(Prefetcher, "WIRE_WAIT_S", SETTLE_S)
    wire, events = Wire(), []

    def pages():
        for number in range(3):
            threading.Event().wait(0.02)  # building the request takes a while
            events.append(("sent", number))
            request = httpx.Request("GET", "http://qb.test/")
            wire.attach(request)
            request.extensions["trace"]("http11.send_request_body.complete", {})
            yield number

    with Prefetcher(pages(), wire=wire) as queue:
        for page in queue:
            events.append(("written", page))
    assert events == [("sent", 0), ("sent", 1), ("written", 0), ("sent", 2), ("written", 1),
                      ("written", 2)]


def test_a_request_that_is_never_sent_does_not_hold_the_page_back():
    """The wait for the next request is bounded: a source still busy (or stuck before its
    request) does not keep the page in hand from being written."""
    wire, handed_over = Wire(), threading.Event()

    def pages():
        yield 0
        assert handed_over.wait(10), "page 0 was held back until the next request"
        yield 1

    with Prefetcher(pages(), wire=wire) as queue:
        assert next(queue) == 0
        handed_over.set()
        assert list(queue) == [1]


def test_an_item_without_a_request_does_not_cut_the_wait_for_the_next_one_short(monkeypatch):
    """A window's held-back last page (no request) comes between: the page before it is
    still handed over only once the next window's request has been sent."""
    monkeypatch.setattr(Prefetcher, "WIRE_WAIT_S", SETTLE_S)  # the order, not the bound
    wire, events, requests = Wire(), [], [0]

    def send(number):
        threading.Event().wait(0.02)  # building the request
        requests[0] += 1
        events.append(("sent", number))
        request = httpx.Request("GET", "http://qb.test/")
        wire.attach(request)
        request.extensions["trace"]("http11.send_request_body.complete", {})

    def pages():
        send(0)
        yield "page 0"
        yield "held"  # handed over without a request
        send(1)
        yield "page 1"

    with Prefetcher(pages(), requests=lambda: requests[0], wire=wire) as queue:
        for item in queue:
            events.append(("written", item))
    assert events.index(("sent", 1)) < events.index(("written", "page 0")), events
