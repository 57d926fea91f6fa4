"""Resolving references (customer, vendor, item, parent) to local ids.

A reference the WMS does not have yet is fetched from QuickBooks in one batched `ids=` call
per resource and written like any pulled record. QuickBooks fails the whole `ids=` request when
one id is unknown (FACTS §2.4), so a failed batch is split in halves to find the culprits;
what no resource knows stays unresolved and its record becomes a `sync_error`.

References that may validly name records the WMS does not mirror (`Ref.unmirrored`: a
line's discount, subtotal or item group) never come here: the writer matches them against
the WMS's rows and keeps what it does not match as QuickBooks' id, with no request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.extensions import db
from webapp.sync.base import LIST
from webapp.sync.conductor import NOT_FOUND_CODES, QuickBooks, QuickBooksError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from webapp.sync.pull.writer import PageWriter

IDS_PER_CALL = 100
PRELOAD_AFTER = 3  # pages asking for one target's ids before its whole id map is read
MAX_DEPTH = 3


class RefResolver:
    """Maps QuickBooks ids to local ids, fetching what is missing."""

    def __init__(self, qb: QuickBooks, registry) -> None:
        self.qb = qb
        self.registry = registry
        self.writer: PageWriter | None = None
        self.depth = 0
        # Local ids found so far in this run (rows are not deleted while a pull runs, and a
        # failed page ends the run): the same items and customers recur on every page.
        self.known: dict[str, dict[str, int]] = {}
        self._asked: dict[str, int] = {}  # pages that needed ids of each target
        # A record read by id must look exactly as when listed (same fingerprint).
        self._params = {
            res: {**obj.list_params, **({"status": "all"} if obj.kind == LIST else {})}
            for obj in registry.all() for res in obj.resources
        }

    def local_ids(self, target: str, qb_ids: set[str]) -> dict[str, int]:
        table = self.registry.get(target).model.__table__
        known = self.known.setdefault(target, {})
        asked = self._asked[target] = self._asked.get(target, 0) + 1
        if asked == PRELOAD_AFTER:  # a long pull: one read of the whole id map beats a query
            known.update(  # on every page
                (qb_id, row_id) for qb_id, row_id in db.session.execute(
                    select(table.c.qb_id, table.c.id).where(table.c.qb_id.is_not(None)))
            )
        found = {qb_id: known[qb_id] for qb_id in qb_ids if qb_id in known}
        ids = sorted(qb_ids - found.keys())
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(table.c.qb_id, table.c.id).where(table.c.qb_id.in_(chunk))
            rows = {qb_id: row_id for qb_id, row_id in db.session.execute(query)}
            found.update(rows)
            known.update(rows)
        return found

    def resolve(self, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """{target: {QuickBooks id: local id}}, fetching what the WMS lacks."""
        resolved = {}
        for target, qb_ids in wanted.items():
            found = self.local_ids(target, qb_ids)
            missing = qb_ids - found.keys()
            if missing and self.writer is not None and self.depth < MAX_DEPTH:
                self._fetch(target, missing)
                found.update(self.local_ids(target, missing))
            resolved[target] = found
        return resolved

    def _fetch(self, target: str, missing: set[str]) -> list[str]:
        """Read and write what the target's own resources have; returns the ids none knows."""
        obj = self.registry.get(target)
        failed = self.writer.unwritable
        remaining = sorted(i for i in missing if (target, i) not in failed)
        self.depth += 1
        try:
            for resource in obj.resources:
                if not remaining:
                    break
                records, remaining = self._lookup(resource, remaining)
                if records:
                    self.writer.write(obj, resource, records)
        finally:
            self.depth -= 1
        return remaining

    def lookup(self, resource: str, ids: list[str]) -> tuple[list[dict], list[str]]:
        """(records QuickBooks has in `resource` among `ids`, ids it does not know)."""
        return self._lookup(resource, ids)

    def _lookup(self, resource: str, ids: list[str]) -> tuple[list[dict], list[str]]:
        """(records found in `resource`, ids it does not know)."""
        found: list[dict] = []
        unknown: list[str] = []
        for start in range(0, len(ids), IDS_PER_CALL):
            self._split(resource, ids[start : start + IDS_PER_CALL], found, unknown)
        return found, unknown

    def _split(self, resource: str, ids: list[str], found: list[dict], unknown: list[str]):
        try:
            params = {"ids": ids, **self._params.get(resource, {})}
            found.extend(_asked_for(resource, ids, self.qb.lookup(resource, params)))
        except QuickBooksError as error:
            # Only "not found" says which ids QuickBooks lacks; any other failure (throttling,
            # QuickBooks closed) says nothing of them, and must not make them look deleted.
            if error.code not in NOT_FOUND_CODES:
                raise
            if len(ids) == 1:
                unknown.extend(ids)
                return
            half = len(ids) // 2
            self._split(resource, ids[:half], found, unknown)
            self._split(resource, ids[half:], found, unknown)


def _asked_for(resource: str, ids: list[str], records: list[dict]) -> list[dict]:
    """The records of a lookup by id that were asked for; any other is ignored (never written
    as if asked: it may be a record of another kind, or none QuickBooks holds), and logged."""
    wanted = set(ids)
    kept = [r for r in records if r.get("id") in wanted]
    if len(kept) != len(records):
        others = [str(r.get("id"))[:40] for r in records if r.get("id") not in wanted]
        log.warning("a lookup of %d %s by id answered %d record(s) not asked for, ignored: %s",
                    len(ids), resource, len(others), ", ".join(others[:10]))
    return kept
