"""The company file: every record, the name indices, links, deletions, and their JSON cache."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from qbdsim.resources import NAMESPACES, RESOURCES
from qbdsim.values import Clock, IdMint, next_revision

try:  # orjson serializes several times faster; the stdlib is the fallback
    import orjson
except ImportError:  # pragma: no cover - exercised where orjson is not installed
    orjson = None


def dumps(obj) -> bytes:
    """Compact UTF-8 JSON, as Conductor sends it."""
    if orjson is not None:
        return orjson.dumps(obj)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


# The arrays of a transaction that hold its lines (``includeLineItems=false`` empties them).
LINE_ARRAYS = ("lines", "lineGroups", "itemLines", "expenseLines", "itemGroupLines")


def without_lines(data: dict) -> dict:
    """A shallow copy of a transaction's data with its line arrays empty."""
    return {**data, **{key: [] for key in LINE_ARRAYS if key in data}}


@dataclass(slots=True, eq=False)
class Record:
    """One QuickBooks object: its wire form (camelCase, every field) plus bookkeeping."""

    resource: str
    data: dict
    seq: int
    created_ts: int
    updated_ts: int
    meta: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)
    sort_key: str | None = None

    @property
    def id(self) -> str:
        """The QuickBooks id."""
        return self.data["id"]

    @property
    def name(self) -> str:
        """The name it is looked up and sorted by (``fullName``; ``name`` for vendors)."""
        return self.data[RESOURCES[self.resource].name_field]

    def invalidate(self) -> None:
        """Forget the cached JSON (after any change to ``data``)."""
        self.cache.clear()
        self.sort_key = None

    def to_json(self, lines: bool = True, alternate_addresses: bool = True) -> bytes:
        """The serialized object, cached per variant until the record changes."""
        variant = (lines, alternate_addresses)
        cached = self.cache.get(variant)
        if cached is None:
            data = self.data
            if not lines and any(key in data for key in LINE_ARRAYS):
                data = without_lines(data)
            if not alternate_addresses and "alternateShippingAddresses" in data:
                data = {**data, "alternateShippingAddresses": None}
            cached = self.cache[variant] = dumps(data)
        return cached


class Company:
    """All records of one company file, in creation order per resource.

    Callers hold ``lock`` around every read or write; the QuickBooks serial lock lives in the
    simulator, this one only keeps the data consistent for ``/_sim/`` requests too.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.mint = IdMint()
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, Record]] = {path: {} for path in RESOURCES}
        self.by_name: dict[str, dict[str, Record]] = {
            path: {} for path, res in RESOURCES.items() if res.kind == "list"
        }
        self.aux: dict[str, dict[str, dict]] = {}
        self.deleted_lists: list[dict] = []
        self.deleted_txns: list[dict] = []
        self.links: dict[str, dict[str, dict]] = {}
        self.last_ref: dict[str, str] = {}
        self._seq = 0

    # -- records ---------------------------------------------------------------------------

    def add(self, resource: str, data: dict, created_ts: int, updated_ts: int) -> Record:
        """Store a new record (its ``data`` already complete)."""
        self._seq += 1
        record = Record(resource, data, self._seq, created_ts, updated_ts)
        self.records[resource][data["id"]] = record
        if resource in self.by_name:
            self.by_name[resource][record.name.casefold()] = record
        return record

    def remove(self, record: Record) -> None:
        """Drop a record and its name from the indices."""
        del self.records[record.resource][record.id]
        if record.resource in self.by_name:
            self.by_name[record.resource].pop(record.name.casefold(), None)

    def get(self, resource: str, record_id: str) -> Record | None:
        """A record by id, or ``None``."""
        return self.records[resource].get(record_id)

    def find(self, resources, record_id: str) -> Record | None:
        """A record by id among several resources (e.g. the four item types)."""
        for resource in resources:
            record = self.records[resource].get(record_id)
            if record is not None:
                return record
        return None

    def by_full_name(self, resource: str, name: str) -> Record | None:
        """A list object by (case-insensitive) full name."""
        return self.by_name[resource].get(name.casefold())

    def name_owner(self, namespace: str, name: str) -> Record | None:
        """The record already using ``name`` in a name space, if any."""
        key = name.casefold()
        for resource in NAMESPACES[namespace]:
            record = self.by_name[resource].get(key)
            if record is not None:
                return record
        return None

    def rename(self, record: Record, old_name: str) -> None:
        """Re-index a list object whose name changed."""
        index = self.by_name[record.resource]
        if index.get(old_name.casefold()) is record:
            del index[old_name.casefold()]
        index[record.name.casefold()] = record

    def touch(self, record: Record, now_ts: int) -> None:
        """Record a write: a new revision number and ``updatedAt``."""
        data = record.data
        data["revisionNumber"] = next_revision(data["revisionNumber"], now_ts)
        data["updatedAt"] = self.clock.fmt(now_ts)
        record.updated_ts = now_ts
        record.invalidate()

    @staticmethod
    def ref(record: Record | None) -> dict | None:
        """``{"id", "fullName"}`` pointing at a record (vendors and accounts by their name)."""
        if record is None:
            return None
        return {"id": record.id, "fullName": record.name}

    def counts(self) -> dict[str, int]:
        """Records held per resource, inactive ones included."""
        return {path: len(records) for path, records in self.records.items()}

    # -- auxiliary lists (classes, terms, tax codes...) --------------------------------------

    def aux_add(self, kind: str, record_id: str, full_name: str, **extra) -> dict:
        """Add an entry to a small supporting list that has no endpoint of its own here."""
        entry = {"id": record_id, "fullName": full_name, **extra}
        self.aux.setdefault(kind, {})[record_id] = entry
        return entry

    def aux_get(self, kind: str, record_id: str) -> dict | None:
        """A supporting-list entry by id."""
        return self.aux.get(kind, {}).get(record_id)

    def aux_by_name(self, kind: str, full_name: str) -> dict | None:
        """A supporting-list entry by name."""
        for entry in self.aux.get(kind, {}).values():
            if entry["fullName"] == full_name:
                return entry
        return None

    @staticmethod
    def aux_ref(entry: dict | None) -> dict | None:
        """A reference to a supporting-list entry."""
        return None if entry is None else {"id": entry["id"], "fullName": entry["fullName"]}

    # -- links between transactions and deletions -------------------------------------------

    def link(self, a: Record, b: Record, link_type: str = "quantity") -> None:
        """Link two transactions both ways (a sales order and the invoice made from it)."""
        self.links.setdefault(a.id, {})[b.id] = self._link_entry(b, link_type)
        self.links.setdefault(b.id, {})[a.id] = self._link_entry(a, link_type)

    def unlink_all(self, record: Record) -> None:
        """Remove every link of a transaction, on both ends."""
        for other_id in self.links.pop(record.id, {}):
            self.links.get(other_id, {}).pop(record.id, None)

    @staticmethod
    def _link_entry(record: Record, link_type: str) -> dict:
        data = record.data
        amount = data.get("totalAmount") or data.get("subtotal")
        return {
            "id": record.id,
            "objectType": "qbd_linked_transaction",
            "transactionType": RESOURCES[record.resource].deleted_type,
            "transactionDate": data["transactionDate"],
            "refNumber": data["refNumber"],
            "linkType": link_type,
            "amount": amount,
        }

    def linked(self, record: Record) -> list[dict]:
        """The transactions linked to ``record``."""
        return list(self.links.get(record.id, {}).values())

    def record_deletion(self, record: Record, now_ts: int) -> None:
        """Remember a deleted transaction or a deleted/deactivated list object."""
        res = RESOURCES[record.resource]
        entry = {"_ts": now_ts, "id": record.id}
        if res.kind == "txn":
            entry.update(
                objectType="qbd_deleted_transaction",
                transactionType=res.deleted_type,
                createdAt=record.data["createdAt"],
                deletedAt=self.clock.fmt(now_ts),
                refNumber=record.data["refNumber"],
            )
            self.deleted_txns.append(entry)
        else:
            entry.update(
                objectType="qbd_deleted_list_object",
                listType=res.deleted_type,
                createdAt=record.data["createdAt"],
                deletedAt=self.clock.fmt(now_ts),
                fullName=record.name,
            )
            self.deleted_lists.append(entry)
