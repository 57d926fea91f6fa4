"""The prefetcher: one page ahead, errors where they belong, nothing fetched after close."""

import threading

import pytest

from webapp.sync.paging import Prefetcher


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


def _settle(prefetcher, expected):
    for _ in range(200):
        if len(prefetcher.source.requested) >= expected:
            return
        threading.Event().wait(0.005)


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
