"""What each Conductor operation does once a request is authenticated, valid, and holding
QuickBooks: list, retrieve, create, update, delete, void, the transaction query across kinds
(``/transactions``), the deleted-object lists, health. Every paginated list pages through
``paginate``: one cursor per list, the same for records and for transaction rows."""

from __future__ import annotations

import time
from dataclasses import dataclass

from qbdsim import transactions, txns
from qbdsim.errors import not_found, object_missing
from qbdsim.query import select
from qbdsim.resources import Resource
from qbdsim.simulator import Simulator
from qbdsim.store import Company, Record, dumps, without_lines
from qbdsim.writers import creator, updater

PAGE_LIMIT = 150
LAST_PAGE = b',"nextCursor":null,"remainingCount":0,"hasMore":false'
DAY_S = 86_400


@dataclass
class Call:
    """One request as the handlers see it."""

    params: dict
    body: dict
    record_id: str | None
    arrived: float
    company: Company


@dataclass(frozen=True)
class ListOptions:
    """How list rows are rendered (``includeLineItems`` and friends)."""

    lines: bool = True
    alternate_addresses: bool = True
    linked: bool = False


def record_json(company: Company, record: Record, options: ListOptions) -> bytes:
    """One object's JSON (cached unless linked transactions are asked for)."""
    links = company.linked(record) if options.linked else None
    if not links:
        return record.to_json(options.lines, options.alternate_addresses)
    data = {**record.data, "linkedTransactions": links}
    return dumps(data if options.lines else without_lines(data))


def _list_bytes(url: str, rows: list[bytes], tail: bytes = b"") -> bytes:
    return (
        b'{"objectType":"list","url":'
        + dumps(url)
        + b',"data":['
        + b",".join(rows)
        + b"]"
        + (tail + b"}")
    )


def list_records(sim: Simulator, call: Call, res: Resource) -> bytes:
    """A list: the paginated envelope, or all rows for non-paginated resources."""
    params, company = call.params, call.company
    url = f"/v1{res.collection_path}"
    if not res.paginated:
        records = select(company, res, params)
        if params.get("limit"):
            records = records[: params["limit"]]
        options = _options(params)
        return _list_bytes(url, [record_json(company, r, options) for r in records])
    return paginate(
        sim,
        call,
        res.path,
        url,
        lambda: (select(company, res, params), _options(params)),
        record_json,
    )


def paginate(sim: Simulator, call: Call, kind: str, url: str, start, render, rows_are_keys=None):
    """Conductor's cursor paging over any selection.

    ``start()`` gives the selected rows and the render options; ``render(company, row,
    options)`` is a row's JSON. Rows are records of ``kind`` unless ``rows_are_keys`` is given:
    then each row is its own key and ``rows_are_keys(company, key)`` finds it again (``None``
    once it is gone). A cursor resumes the list it was issued for, with its own options; the
    request's other parameters are accepted and ignored, as Conductor does.
    """
    company = call.company
    limit = call.params.get("limit") or PAGE_LIMIT
    cursor = call.params.get("cursor")
    if cursor:
        iterator = sim.cursors.resume(cursor, kind, call.arrived)
    else:
        rows, options = start()
        if len(rows) <= limit:
            return _list_bytes(url, [render(company, row, options) for row in rows], LAST_PAGE)
        keys = list(rows) if rows_are_keys else [row.id for row in rows]
        iterator = sim.cursors.start(kind, keys, options, rows_are_keys)
    page = iterator.take(company, limit)
    rendered = [render(company, row, iterator.options) for row in page]
    if iterator.finished:
        tail = LAST_PAGE
    else:
        tail = (
            b',"nextCursor":'
            + dumps(iterator.cursor)
            + b',"remainingCount":'
            + str(iterator.remaining).encode()
            + b',"hasMore":true'
        )
    sim.cursors.responded(iterator)
    return _list_bytes(url, rendered, tail)


def list_transactions(sim: Simulator, call: Call, res: None) -> bytes:
    """``/transactions``: every kind of transaction (and, asked for, their lines) as rows."""
    company = call.company
    return paginate(
        sim,
        call,
        transactions.TRANSACTIONS,
        "/v1/quickbooks-desktop/transactions",
        lambda: (transactions.select(company, call.params), None),
        transactions.row_json,
        rows_are_keys=transactions.resolve,
    )


def retrieve_transaction(sim: Simulator, call: Call, res: None) -> bytes:
    """One transaction of any kind, as its ``qbd_transaction`` row."""
    record = transactions.find(call.company, call.record_id)
    if record is None:
        raise not_found(call.record_id)
    return dumps(transactions.header_row(call.company, record))


def _options(params: dict) -> ListOptions:
    return ListOptions(
        lines=params.get("includeLineItems", True),
        alternate_addresses=not params.get("excludeAlternateShippingAddresses", False),
        linked=params.get("includeLinkedTransactions", False),
    )


def retrieve(sim: Simulator, call: Call, res: Resource) -> bytes:
    """One object; transactions come with their linked transactions."""
    record = call.company.get(res.path, call.record_id)
    if record is None:
        raise not_found(call.record_id)
    return record_json(call.company, record, ListOptions(linked=res.kind == "txn"))


def create(sim: Simulator, call: Call, res: Resource) -> bytes:
    """Add a record (linked transactions are not echoed, as with Conductor)."""
    record = creator(res).create(call.company, res, call.body, call.company.clock.now_ts())
    return record.to_json()


def update(sim: Simulator, call: Call, res: Resource) -> bytes:
    """Modify a record (partial; ``revisionNumber`` must be current)."""
    record = call.company.get(res.path, call.record_id)
    if record is None:
        raise object_missing(call.record_id)
    updater(res).update(call.company, record, call.body, call.company.clock.now_ts())
    return record.to_json()


def delete(sim: Simulator, call: Call, res: Resource) -> dict:
    """Delete a transaction."""
    record = call.company.get(res.path, call.record_id)
    if record is None:
        raise object_missing(call.record_id)
    return txns.delete(call.company, record, call.company.clock.now_ts())


def void(sim: Simulator, call: Call, res: Resource) -> dict:
    """Void an invoice or inventory adjustment."""
    record = call.company.get(res.path, call.record_id)
    if record is None:
        raise object_missing(call.record_id)
    return txns.void(call.company, record, call.company.clock.now_ts())


def _deleted(call: Call, entries: list[dict], type_key: str, types: list[str], days: int):
    clock = call.company.clock
    params = call.params
    low = call.company.clock.now_ts() - days * DAY_S
    if params.get("deletedAfter"):
        low = max(low, clock.parse_bound(params["deletedAfter"], "deletedAfter", False))
    high = None
    if params.get("deletedBefore"):
        high = clock.parse_bound(params["deletedBefore"], "deletedBefore", True)
    rows = []
    for kind in dict.fromkeys(types):
        matching = [
            e
            for e in entries
            if e[type_key] == kind and e["_ts"] >= low and (high is None or e["_ts"] <= high)
        ]
        rows += sorted(matching, key=lambda e: e["_ts"])
    return rows


def deleted_list_objects(sim: Simulator, call: Call, res: None) -> bytes:
    """List objects deleted (or made inactive) in the last 90 days, grouped by type."""
    days = sim.config.deleted_retention_days
    entries = _deleted(
        call, call.company.deleted_lists, "listType", call.params["objectTypes"], days
    )
    keys = ("listType", "id", "objectType", "createdAt", "deletedAt", "fullName")
    rows = [dumps({k: e[k] for k in keys}) for e in entries]
    return _list_bytes("/v1/quickbooks-desktop/deleted-list-objects", rows)


def deleted_transactions(sim: Simulator, call: Call, res: None) -> bytes:
    """Transactions deleted in the last 90 days, grouped by type."""
    days = sim.config.deleted_retention_days
    types = call.params["transactionTypes"]
    entries = _deleted(call, call.company.deleted_txns, "transactionType", types, days)
    keys = ("transactionType", "id", "objectType", "createdAt", "deletedAt", "refNumber")
    rows = [dumps({k: e[k] for k in keys}) for e in entries]
    return _list_bytes("/v1/quickbooks-desktop/deleted-transactions", rows)


def health_check(sim: Simulator, call: Call, res: None) -> dict:
    """QuickBooks answered: how long the round trip took, in milliseconds."""
    return {"duration": round((time.monotonic() - call.arrived) * 1000, 1), "status": "ok"}
