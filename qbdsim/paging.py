"""QuickBooks iterators behind Conductor's cursors.

One cursor value serves every page of a list; each request that sends it returns the *next*
page (requests are not idempotent); a cursor not used again within the window expires; asking
after the last page is an error.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from qbdsim.errors import SimError, invalid_request
from qbdsim.store import Company


@dataclass
class Iterator:
    """The state of one paginated list request.

    ``ids`` are the keys of the rows selected when the list began: record ids of ``resource``,
    or whatever ``resolve(company, key)`` turns back into a row (``None`` once it is gone).
    """

    cursor: str
    resource: str
    ids: list[Hashable]
    options: object
    resolve: Callable[[Company, Hashable], object] | None = None
    position: int = 0
    last_response: float = 0.0
    finished: bool = False

    def take(self, company: Company, limit: int) -> list:
        """The next page of rows (records deleted since the list began are skipped)."""
        resolve = self.resolve or (lambda held, key: held.records[self.resource].get(key))
        page: list = []
        while self.position < len(self.ids) and len(page) < limit:
            row = resolve(company, self.ids[self.position])
            self.position += 1
            if row is not None:
                page.append(row)
        self.finished = self.position >= len(self.ids)
        return page

    @property
    def remaining(self) -> int:
        """Records still to come."""
        return len(self.ids) - self.position


class Cursors:
    """The live iterators of one company."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._iterators: dict[str, Iterator] = {}

    def start(
        self,
        resource: str,
        keys: list[Hashable],
        options: object,
        resolve: Callable[[Company, Hashable], object] | None = None,
    ) -> Iterator:
        """A new iterator positioned at the first row (``keys``: record ids unless ``resolve``
        says how to find a row by its key)."""
        iterator = Iterator(str(uuid.uuid4()), resource, keys, options, resolve)
        with self._lock:
            self._prune(time.monotonic())
            self._iterators[iterator.cursor] = iterator
        return iterator

    def resume(self, cursor: str, resource: str, arrived: float) -> Iterator:
        """The iterator for ``cursor``, checked against the window and its end."""
        with self._lock:
            iterator = self._iterators.get(cursor)
            if iterator is None or iterator.resource != resource:
                raise _cursor_error(
                    f'The cursor "{cursor}" is not valid for this list. Start over without a '
                    "cursor."
                )
            if arrived - iterator.last_response > self.ttl_s:
                del self._iterators[cursor]
                raise _cursor_error(
                    f'The cursor "{cursor}" has expired: each page must be requested within '
                    f"{self.ttl_s:g} seconds of the previous response. Start over without a cursor."
                )
            if iterator.finished:
                raise _cursor_error(
                    f'The cursor "{cursor}" has no more results: the previous page was the last '
                    "(hasMore was false). Start over without a cursor."
                )
            return iterator

    def responded(self, iterator: Iterator) -> None:
        """Start the window for the next page."""
        iterator.last_response = time.monotonic()

    def clear(self) -> None:
        """Forget every iterator."""
        with self._lock:
            self._iterators.clear()

    def _prune(self, now: float) -> None:
        expired = [c for c, it in self._iterators.items() if now - it.last_response > self.ttl_s]
        for cursor in expired:
            if self._iterators[cursor].last_response:
                del self._iterators[cursor]


def _cursor_error(message: str) -> SimError:
    return invalid_request(message, code="INVALID_CURSOR")
