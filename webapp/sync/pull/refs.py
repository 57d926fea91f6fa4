"""Resolving references (customer, vendor, item, parent) to local ids.

A reference the WMS does not have yet is fetched from QuickBooks in one batched `ids=` call
per resource and written like any pulled record. QuickBooks fails the whole `ids=` request when
one id is unknown (FACTS §2.4), so a failed batch is split in halves to find the culprits;
what no resource knows stays unresolved and its record becomes a `sync_error`.

Some references may validly point at records the WMS does not mirror (`Ref.elsewhere`: a
line's discount or subtotal item). When a target has ids missing locally, those resources are
listed first, each at most once per run: real files hold a handful of such items, one page
lists them all, and every id found there is remembered for the run, never looked up again
and never a failed record. Looking them up by `ids=` instead would cost a failed call (which
the SDK retries twice) for every resource and bisection step they are not in. Ids still
unknown go to the target's own resources as before, and then by `ids=` to any of those
resources that had more than one page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.extensions import db
from webapp.sync.base import LIST
from webapp.sync.conductor import NOT_FOUND_CODES, QuickBooks, QuickBooksError, records_of
from webapp.sync.pull.paging import PAGE_LIMIT

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
        # Where ids of each target may live without being mirrored (from the objects' refs),
        # and the ids found there in this run: never looked up again, nor given a local id.
        self.elsewhere_resources: dict[str, tuple[str, ...]] = {}
        for obj in registry.all():
            for ref in (*obj.refs, *obj.line_refs):
                held = self.elsewhere_resources.get(ref.target, ())
                self.elsewhere_resources[ref.target] = tuple(dict.fromkeys((*held, *ref.elsewhere)))
        self.elsewhere: dict[str, set[str]] = {}
        self._unlisted: dict[str, list[str]] = {}  # elsewhere resources not listed yet
        self._partial: dict[str, list[str]] = {}  # listed, but longer than one page
        # A record read by id must look exactly as when listed (same fingerprint).
        self._params = {
            res: {**obj.list_params, **({"status": "all"} if obj.kind == LIST else {})}
            for obj in registry.all() for res in obj.resources
        }
        for resources in self.elsewhere_resources.values():
            for res in resources:  # inactive discounts still sit on old invoices
                self._params.setdefault(res, {"status": "all"})

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

    def resolve(self, wanted: dict[str, set[str]],
                where: dict[str, dict[str, set[str]]] | None = None) -> dict[str, dict[str, int]]:
        """{target: {QuickBooks id: local id}}; ids found only in a target's `elsewhere`
        resources are left out of it and kept in `self.elsewhere` instead.

        `where` narrows that search: {target: {QuickBooks id: the `elsewhere` resources of the
        references that name it}} (an item group on a line group is in `item-groups` only; a
        sub-item's parent is nowhere but the items the WMS mirrors). Without it, a missing id
        may be in any of the target's.
        """
        resolved = {}
        for target, qb_ids in wanted.items():
            qb_ids = qb_ids - self.elsewhere.get(target, set())
            found = self.local_ids(target, qb_ids)
            missing = qb_ids - found.keys()
            if missing and self.writer is not None and self.depth < MAX_DEPTH:
                if self.elsewhere_resources.get(target):
                    missing = self._list_elsewhere(target, missing, (where or {}).get(target))
                unknown = self._fetch(target, missing) if missing else []
                found.update(self.local_ids(target, missing))
                if unknown and self._partial.get(target):
                    self._look_elsewhere(target, unknown)
            resolved[target] = found
        return resolved

    def _list_elsewhere(self, target: str, missing: set[str],
                        where: dict[str, set[str]] | None = None) -> set[str]:
        """List the target's elsewhere resources (each once per run) until every missing id
        is found or none is left that could hold one; returns the ids still missing.

        With `where` (see `resolve`), only resources some missing id may be in are listed,
        first the one that is the last place left for the most of them.
        """
        held = self.elsewhere.setdefault(target, set())
        pending = self._unlisted.setdefault(target, list(self.elsewhere_resources[target]))
        missing = missing - held
        while missing and pending:
            if where is None:
                resource = pending[0]
            else:
                places = [[r for r in pending if r in where.get(i, ())] for i in missing]
                candidates = [r for r in pending if any(r in p for p in places)]
                if not candidates:
                    break
                resource = max(candidates, key=lambda r: sum(p == [r] for p in places))
            pending.remove(resource)
            page = self.qb.list_page(resource, {"limit": PAGE_LIMIT, **self._params[resource]})
            listed = {r["id"] for r in records_of(page, resource) if isinstance(r.get("id"), str)}
            held.update(listed)
            missing -= listed
            if page.get("hasMore"):
                self._partial.setdefault(target, []).append(resource)
        return missing

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

    def _look_elsewhere(self, target: str, ids: list[str]) -> None:
        """Find ids by `ids=` in the elsewhere resources one page did not list in full."""
        held = self.elsewhere.setdefault(target, set())
        for resource in self._partial[target]:
            if not ids:
                return
            records, ids = self._lookup(resource, ids)
            held.update(r["id"] for r in records if isinstance(r.get("id"), str))

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
