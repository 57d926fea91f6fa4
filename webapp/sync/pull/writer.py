"""Writing one page of QuickBooks records into the WMS mirror, in one transaction.

For each page: map every record (a record that cannot be mapped becomes a `sync_error`),
resolve references to local ids (fetching the missing ones from QuickBooks in one batched
call), skip records whose revision and hash are unchanged, keep what the WMS changed in the
rows that remain (webapp.sync.pull.merging), batch-upsert them with the database's own
`INSERT … ON CONFLICT`, rewrite the lines of changed transactions (keeping their local ids),
and write the ledger. The caller commits, together with progress and the checkpoint.
References are `linking`'s half of the writer; what a column can hold, `fits`.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import delete, select, update

from webapp.extensions import db
from webapp.models.sync import CONFLICT, PULLED_CREATED, PULLED_UPDATED
from webapp.models.types import utcnow
from webapp.sync import ledger
from webapp.sync.base import LINKED_SALES_ORDERS
from webapp.sync.bulk import insert_rows, upsert
from webapp.sync.fields import MappingError
from webapp.sync.pull import fits, merging
from webapp.sync.pull.linking import Linking

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject
    from webapp.sync.pull.refs import RefResolver


# Objects whose figures QuickBooks recomputes from transactions (webapp.sync.pull.refresh).
REFRESHED = ("item", "customer")


@dataclass
class Mapped:
    """One record turned into column values, with its references still as QuickBooks ids."""

    qb_id: str
    revision: str | None
    updated_at: datetime
    values: dict[str, Any]
    refs: dict[Any, str | None]
    lines: list[tuple[dict[str, Any], dict[Any, str | None]]]
    sync_hash: str = ""
    base: dict[str, Any] = field(default_factory=dict)
    # (Ref, QuickBooks id) of every set reference, the lines' included
    pairs: list[tuple[Any, str]] = field(default_factory=list)
    label: str | None = None  # its ref number or name (SyncObject.label)


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    conflicts: int = 0
    last_record_id: str | None = None
    last_record_label: str | None = None  # its ref number or name, as people know it
    max_updated: str | None = None
    oldest_failed: str | None = None  # the watermark must not pass a record that failed


class PageWriter(Linking):
    """Writes pages of one object; `errors` is where failed records are reported."""

    def __init__(self, resolver: RefResolver, report_error, *, now: datetime,
                 stamp_seen: datetime | None = None) -> None:
        self.resolver = resolver
        self.report_error = report_error
        self.now = now
        self.stamp_seen = stamp_seen  # full pulls: mark every record seen, for id comparison
        # (object, QuickBooks id) of records that failed in this session (to map, or for a
        # broken reference): reported once, never fetched again as someone's reference.
        self.unwritable: set[tuple[str, str]] = set()
        # Sales orders linked to the invoices read since the last commit, and the items and
        # customers changed transactions referred to before (when tracked; see refresh).
        self.track_links = False
        # Also the links of every record read, not only changed ones' former links (off after
        # a full pull, whose refresh finds the current links in the database).
        self.track_current_links = True
        self.linked: set[str] = set()
        self.referred: dict[str, set[str]] = {}
        self.session_id: int | None = None  # for the ledger
        # Set by the push while it writes back what QuickBooks answered to its own write:
        # (ledger action, the fields sent). The ledger then says what was pushed.
        self.pushed: tuple[str, list[str]] | None = None

    def map_record(self, obj: type[SyncObject], resource: str, record: dict,
                   sync_hash: str, nul: bool = True, updated_at: datetime | None = None
                   ) -> Mapped:
        """The record mapped. `nul=False` says it holds no NUL character anywhere (so only
        lengths need checking), `updated_at` is its `updatedAt` when read already."""
        values, base = obj.to_local(record, resource)
        refs = {ref: ref.qb_id(record) for ref in obj.refs}
        lines = obj.lines_to_local(record)
        table = obj.model.__table__
        if nul or not fits.fits(table, values, refs):  # the full check says what is wrong
            fits.check_fits(table, values, {ref.qb_column: v for ref, v in refs.items()})
        if obj.line_model is not None:
            line_table = obj.line_model.__table__
            for line_values, _, line_refs in lines:
                if nul or not fits.fits(line_table, line_values, line_refs):
                    fits.check_fits(line_table, line_values,
                                {ref.qb_column: v for ref, v in line_refs.items()},
                                what="a line's ")
        for ref, qb_id in refs.items():
            base[ref.qb_column] = qb_id
        if obj.line_model is not None:
            base["lines"] = [line_base for _, line_base, _ in lines]
        pairs = [(ref, qb_id) for ref, qb_id in refs.items() if qb_id]
        pairs += [(ref, qb_id) for _, _, lr in lines for ref, qb_id in lr.items() if qb_id]
        if updated_at is None:
            updated_at = obj.updated_at(record)
        return Mapped(record["id"], record.get("revisionNumber"), updated_at,
                      values, refs, [(lv, lr) for lv, _, lr in lines], sync_hash, base, pairs,
                      obj.label(record))

    @staticmethod
    def record_hash(record: dict) -> str:
        """A fingerprint of the record as QuickBooks sent it (plain JSON: the C encoder;
        QuickBooks sends its fields in a fixed order, so no sorting is needed)."""
        return PageWriter._hash_and_nul(record)[0]

    @staticmethod
    def _hash_and_nul(record: dict) -> tuple[str, bool]:
        """(`record_hash`, whether the record holds a NUL character anywhere): its JSON has
        `\\u0000` wherever a string has one (a backslash before `u0000` only adds a check)."""
        encoded = orjson.dumps(record)
        return hashlib.blake2b(encoded, digest_size=32).hexdigest(), b"\\u0000" in encoded

    @staticmethod
    def _last_of_each(records: list[dict]) -> list[dict]:
        """The page with a record QuickBooks listed twice kept once (its last copy)."""
        ids = [r.get("id") for r in records]
        if len(set(ids)) == len(ids):
            return records
        last = {qb_id: n for n, qb_id in enumerate(ids) if isinstance(qb_id, str)}
        return [r for n, r in enumerate(records) if last.get(ids[n], n) == n]

    def write(self, obj: type[SyncObject], resource: str, records: list[dict]) -> PageResult:
        """Write one page (see the module's docstring).

        The cyclic garbage collector waits until the page is written: a page makes some
        100,000 objects that die by reference count when it is done, and collections every 700
        of them walked the page again and again (~8 % of a full pull's CPU). Garbage a page
        leaves in cycles is collected after it."""
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            return self._write(obj, resource, records)
        finally:
            if collecting:
                gc.enable()

    def _write(self, obj: type[SyncObject], resource: str, records: list[dict]) -> PageResult:
        result = PageResult()
        table = obj.model.__table__
        records = self._last_of_each(records)
        incoming = []
        newest = None
        for record in records:
            qb_id = record.get("id")
            try:
                if not isinstance(qb_id, str) or not qb_id:
                    raise MappingError("the record has no id")
                if len(qb_id) > table.c.qb_id.type.length or "\x00" in qb_id:
                    raise MappingError(f"its id is longer than the {table.c.qb_id.type.length}"
                                       " characters QuickBooks ids have")
                updated = obj.updated_at(record)
            except MappingError as error:
                self._mapping_failed(obj, record, error, result)
                continue
            incoming.append((record, *self._hash_and_nul(record), updated))
            result.last_record_id = qb_id
            if newest is None or updated > newest:
                newest = updated
        result.max_updated = newest.isoformat() if newest else None
        if incoming:
            result.last_record_label = obj.label(incoming[-1][0])
        wanted = [record["id"] for record, *_ in incoming]
        if self.stamp_seen is not None:  # every record QuickBooks listed exists, readable or not
            wanted = [r.get("id") for r in records if isinstance(r.get("id"), str)]
        existing = {
            row.qb_id: row
            for row in db.session.execute(
                select(table.c.id, table.c.qb_id, table.c.qb_revision, table.c.sync_hash,
                       table.c.qb_deleted_at).where(table.c.qb_id.in_(wanted))
            )
        }
        if self.stamp_seen is not None and existing:
            # the rows read, by local id: a first full pull has none, and sends no UPDATE
            db.session.execute(update(table).where(table.c.id.in_(
                [row.id for row in existing.values()])).values(synced_at=self.stamp_seen))
            if len(incoming) < len(wanted):  # rows of records that failed are not written
                written = {record["id"] for record, *_ in incoming}
                existing = {k: row for k, row in existing.items() if k in written}
        if obj.direction == "both":
            merging.claim_created(obj, [record for record, *_ in incoming], existing)
        changed = []
        for record, digest, nul, updated in incoming:
            old = existing.get(record["id"])
            # A row marked deleted is rewritten (and unmarked) whatever its revision: the
            # record QuickBooks sends exists.
            if old is not None and old.qb_revision == record.get("revisionNumber") and (
                old.sync_hash == digest and old.qb_deleted_at is None
            ):
                result.unchanged += 1  # skipped before any mapping work
                continue
            try:
                changed.append(self.map_record(obj, resource, record, digest, nul, updated))
            except MappingError as error:
                self._mapping_failed(obj, record, error, result)
        changed = self._resolve(obj, changed, result)
        if self.track_links and obj.line_model is not None:
            self._note_links(obj, incoming, changed, existing)
        outcomes = merging.outcomes(obj, changed, existing)
        rows = [self._row(obj, m, outcomes.get(m.qb_id)) for m in changed]
        ids = upsert(table, rows, {qb_id: row.id for qb_id, row in existing.items()})
        for m in changed:
            if m.qb_id in existing:
                result.updated += 1
            else:
                result.created += 1
        self._link_self_refs(obj, changed, ids)
        self._link_waiting_lines(obj, [m.qb_id for m in changed if m.qb_id not in existing])
        if obj.line_model is not None:
            self._replace_lines(obj, changed, ids, existing, outcomes)
        result.conflicts += self._log(obj, changed, ids, outcomes)
        return result

    def _log(self, obj, changed: list[Mapped], ids: dict[str, int],
             outcomes: dict[str, merging.Outcome]) -> int:
        """The ledger rows of this page; returns how many conflicts were decided."""
        events, conflicts = [], 0
        now = utcnow()
        for m in changed:
            outcome = outcomes.get(m.qb_id)
            common = dict(record_id=ids.get(m.qb_id), qb_id=m.qb_id, label=m.label, at=now)
            if self.pushed is not None:
                action, fields = self.pushed
                events.append(ledger.event(
                    self.session_id, obj.name, action, fields=fields,
                    revision_before=outcome.revision_before if outcome else None,
                    revision_after=m.revision, **common))
            elif outcome is None:
                events.append(ledger.event(self.session_id, obj.name, PULLED_CREATED,
                                           revision_after=m.revision, **common))
                continue
            elif outcome.fields:
                events.append(ledger.event(
                    self.session_id, obj.name, PULLED_UPDATED, fields=outcome.fields,
                    revision_before=outcome.revision_before, revision_after=m.revision,
                    **common))
            for conflict in outcome.conflicts if outcome else ():
                conflicts += 1
                events.append(ledger.event(
                    self.session_id, obj.name, CONFLICT, field=conflict.field,
                    detail=ledger.conflict_detail(conflict), revision_after=m.revision,
                    **common))
        ledger.write(events)
        return conflicts

    def _note_links(self, obj, incoming, changed: list[Mapped], existing: dict) -> None:
        """Records to read again: the sales orders the records link to now, and what the
        changed ones linked or referred to before. A voided or edited invoice drops its
        links; a transaction moved to another customer or item gives the old one back its
        balance or stock, and once its row is rewritten nothing else remembers which it was.
        """
        if obj.links_sales_orders and self.track_current_links:
            for record, *_ in incoming:
                self.linked.update(obj.linked_sales_orders(record))
        before = [existing[m.qb_id].id for m in changed if m.qb_id in existing]
        if not before:
            return
        table = obj.model.__table__
        refs = [ref for ref in obj.refs if ref.target in REFRESHED]
        line_refs = [ref for ref in obj.line_refs if ref.target in REFRESHED]
        for base in db.session.scalars(select(table.c.sync_base).where(table.c.id.in_(before))):
            base = base or {}
            self.linked.update(base.get(LINKED_SALES_ORDERS) or ())
            pairs = [(ref, base) for ref in refs]
            pairs += [(ref, line) for line in base.get("lines") or () for ref in line_refs]
            for ref, values in pairs:
                qb_id = values.get(ref.qb_column) if isinstance(values, dict) else None
                if isinstance(qb_id, str):
                    self.referred.setdefault(ref.target, set()).add(qb_id)

    @staticmethod
    def _note_failed(result: PageResult, updated_at) -> None:
        try:
            stamp = updated_at if isinstance(updated_at, datetime) else datetime.fromisoformat(
                updated_at)
        except (TypeError, ValueError):
            return
        if stamp.tzinfo is None:
            return
        if result.oldest_failed is None or stamp < datetime.fromisoformat(result.oldest_failed):
            result.oldest_failed = stamp.isoformat()

    def _mapping_failed(self, obj, record: dict, error: MappingError, result: PageResult):
        result.failed += 1
        self._note_failed(result, record.get("updatedAt"))
        key = (obj.name, record.get("id"))
        if key in self.unwritable:
            return
        self.unwritable.add(key)
        self.report_error(obj, record, "mapping_error",
                          f"{obj.display_name} record cannot be read: {error}")

    def _row(self, obj, m: Mapped, outcome: merging.Outcome | None) -> dict[str, Any]:
        row = dict(m.values)
        for ref, qb_id in m.refs.items():
            row[ref.qb_column] = qb_id
            row[ref.column] = self.local.get(ref.target, {}).get(qb_id) if qb_id else None
        row.update(
            qb_id=m.qb_id, qb_revision=m.revision, qb_updated_at=m.updated_at,
            synced_at=self.stamp_seen or self.now, sync_base=m.base, sync_hash=m.sync_hash,
            qb_deleted_at=None,
        )
        row["is_active"] = m.values.get("is_active", True) is not False
        if outcome is not None:
            row.update(outcome.header)
        row["wms_pending"] = outcome is not None and outcome.pending
        return row

    def _replace_lines(self, obj, changed: list[Mapped], ids: dict[str, int],
                       existing: dict, outcomes: dict[str, merging.Outcome]) -> None:
        """QuickBooks replaces all lines of a transaction on update; so do we, keeping the
        local id of every line that stays (what a WMS holds on to): a line QuickBooks still
        has keeps the id of the row with its QuickBooks line id."""
        line_table = obj.line_model.__table__
        parent = line_table.c[obj.line_parent]
        # Only headers that existed before this page can have lines to replace.
        header_ids = [ids[m.qb_id] for m in changed if m.qb_id in existing]
        if header_ids:
            db.session.execute(delete(line_table).where(parent.in_(header_ids)))
        groups: dict[frozenset, list[dict]] = {}
        for m in changed:
            header_id = ids[m.qb_id]
            outcome = outcomes.get(m.qb_id)
            specs = outcome.lines if outcome is not None else [
                ("qb", n, None) for n in range(len(m.lines))]
            for position, spec in enumerate(specs):
                if spec[0] == "qb":
                    row, refs = m.lines[spec[1]]  # the mapped values become the row
                    row = dict(row)
                    for ref, qb_id in refs.items():
                        row[ref.qb_column] = qb_id
                        row[ref.column] = (self.local.get(ref.target, {}).get(qb_id)
                                           if qb_id else None)
                        if row[ref.column] is not None and "item_name" in row:
                            row["item_name"] = None  # the item's own row names it
                    if spec[2] is not None:
                        row["id"] = spec[2]
                else:
                    row = spec[1]
                row[obj.line_parent] = header_id
                row["position"] = position
                groups.setdefault(frozenset(row), []).append(row)
        for rows in groups.values():
            insert_rows(line_table, rows)
