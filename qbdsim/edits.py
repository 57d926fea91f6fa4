"""Changes made "in QuickBooks" behind the API's back, for tests and demos (``POST /_sim/edits``).

Body forms (each answers ``{"touched": [{"resource", "id"}, ...]}``):

- ``{"resource", "id", "fields"}``: an edit with the API's update fields (``termsId``, ``lines``
  with ``id``/``"-1"``...), validated like the API but without a revision check.
- ``{"resource", "id", "fields", "raw": true}``: wire (camelCase response) fields written as
  they are, e.g. ``{"customer": {"id": "nope", "fullName": "Ghost"}}``, to plant broken data.
- ``{"random": N}``: N plausible edits to random records of any resource.
- ``{"delete": {"resource", "id"[, "purge": true]}}``: delete a transaction, or make a list
  object inactive (``purge`` removes it); either way it is listed as deleted.
- ``{"create": {"resource", "fields"}}``: a new record, validated like the API's create. This is
  how item receipts, sales receipts and credit memos — stock QuickBooks moves that the WMS does
  not mirror — appear "in QuickBooks", e.g. ``{"create": {"resource": "item-receipts",
  "fields": {"vendorId": ..., "transactionDate": "2026-01-10", "itemLines": [{"itemId": ...,
  "quantity": 12}]}}}``; ``{"delete": {"resource": "item-receipts", "id": ...}}`` removes one.
  Either way on-hand moves as it does through the API. These three kinds cannot be edited here
  (nor through the API): only ``raw`` edits reach them.
"""

from __future__ import annotations

import itertools
import random
import time

from qbdsim import ledger, lists, txns
from qbdsim.errors import invalid_request
from qbdsim.fields import blank
from qbdsim.resources import RESOURCES, SIZED_PATHS, Resource
from qbdsim.store import Company, Record
from qbdsim.validate import validate_body
from qbdsim.values import fmt_money, to_decimal
from qbdsim.writers import creator

_FROZEN_FIELDS = {"id", "objectType"}


def apply_edits(company: Company, rng: random.Random, body: dict) -> list[dict]:
    """Dispatch one ``/_sim/edits`` body; returns the records touched."""
    now_ts = company.clock.now_ts()
    if "random" in body:
        count = body["random"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise invalid_request('"random" must be a non-negative integer')
        return [_touched(r) for r in _random_edits(company, rng, count, now_ts)]
    if "delete" in body:
        return [_touched(r) for r in _delete(company, body["delete"], now_ts)]
    if "create" in body:
        spec = body["create"]
        res = _resource(spec)
        fields = _fields(spec)
        validate_body("POST", res.collection_path, fields)
        return [_touched(creator(res).create(company, res, fields, now_ts))]
    res = _resource(body)
    record = _record(company, res, body)
    fields = _fields(body)
    if body.get("raw"):
        return [_touched(_raw_edit(company, record, fields, now_ts))]
    return [_touched(r) for r in _edit(company, record, fields, now_ts)]


def _touched(record: Record) -> dict:
    return {"resource": record.resource, "id": record.id}


def _resource(spec) -> Resource:
    if not isinstance(spec, dict) or spec.get("resource") not in RESOURCES:
        raise invalid_request(f"Unknown resource; expected one of {sorted(RESOURCES)}")
    return RESOURCES[spec["resource"]]


def _record(company: Company, res: Resource, spec: dict) -> Record:
    record = company.get(res.path, str(spec.get("id")))
    if record is None:
        raise invalid_request(
            f'No {res.path} record with id "{spec.get("id")}"', status=404, code="RESOURCE_MISSING"
        )
    return record


def _fields(spec: dict) -> dict:
    fields = spec.get("fields")
    if not isinstance(fields, dict):
        raise invalid_request('"fields" must be a JSON object')
    return fields


def _edit(company: Company, record: Record, fields: dict, now_ts: int) -> list[Record]:
    """An edit through the API's own update rules, minus the revision check."""
    res = RESOURCES[record.resource]
    if not res.updatable:
        raise invalid_request(
            f"{res.path} are created and deleted here, never modified (a raw edit can change "
            "their fields)"
        )
    body = {**fields, "revisionNumber": record.data["revisionNumber"]}
    validate_body("POST", res.item_path, body)
    if res.kind == "list":
        return lists.update(company, record, body, now_ts, check_revision=False)
    return [txns.update(company, record, body, now_ts, check_revision=False)]


def _raw_edit(company: Company, record: Record, fields: dict, now_ts: int) -> Record:
    """Write wire fields verbatim (no validation); the ledger still follows the lines."""
    unknown = [key for key in fields if key not in record.data or key in _FROZEN_FIELDS]
    if unknown:
        raise invalid_request(f"Fields that cannot be written: {unknown}")
    before = ledger.effects(company, record)
    old_name = record.name if record.resource in company.by_name else None
    res = RESOURCES[record.resource]
    for key, value in fields.items():
        if key == "lines" and isinstance(value, list) and res.line_type:
            value = [_raw_line(company, record, res, line, now_ts) for line in value]
        record.data[key] = value
    company.touch(record, now_ts)
    if old_name is not None and isinstance(record.data.get(res.name_field), str):
        company.rename(record, old_name)
    ledger.apply_change(company, before, ledger.effects(company, record))
    return record


def _raw_line(company: Company, record: Record, res: Resource, line, now_ts: int) -> dict:
    if not isinstance(line, dict):
        return line
    existing = {x["id"]: x for x in record.data["lines"] if isinstance(x, dict) and "id" in x}
    base = dict(existing.get(line.get("id"), {}))
    if not base:
        base = blank(res.line_type)
        base["id"] = company.mint.line_id(now_ts)
    base.update({k: v for k, v in line.items() if not (k == "id" and v == "-1")})
    return base


def _delete(company: Company, spec, now_ts: int) -> list[Record]:
    res = _resource(spec)
    record = _record(company, res, spec)
    if res.kind == "txn":
        txns.delete(company, record, now_ts)
        return [record]
    if spec.get("purge"):
        company.remove(record)
        company.record_deletion(record, now_ts)
        return [record]
    if not record.data["isActive"]:
        company.record_deletion(record, now_ts)
        return [record]
    body = {"isActive": False, "revisionNumber": record.data["revisionNumber"]}
    return lists.update(company, record, body, now_ts, check_revision=False)


def _random_edits(company: Company, rng: random.Random, count: int, now_ts: int) -> list[Record]:
    touched: list[Record] = []
    paths = [p for p in SIZED_PATHS if company.records[p]]
    if not paths:
        return touched
    weights = [len(company.records[p]) for p in paths]
    for _ in range(count):
        path = rng.choices(paths, weights)[0]
        records = company.records[path]
        record = next(itertools.islice(records.values(), rng.randrange(len(records)), None))
        touched += _edit(company, record, _plausible_change(record, rng, now_ts), now_ts)
    return touched


def _plausible_change(record: Record, rng: random.Random, now_ts: int) -> dict:
    """The sort of change a bookkeeper makes to this kind of record."""
    data = record.data
    path = record.resource
    if path in ("customers", "vendors"):
        choice = rng.random()
        if choice < 0.4:
            return {
                "phone": f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-"
                f"{rng.randint(0, 9999):04d}"
            }
        if choice < 0.7:
            return {"email": f"accounts{rng.randint(1, 9999)}@example.com"}
        return {"note": f"Checked by bookkeeper on {record_day(now_ts)}"}
    if path == "inventory-items":
        price = to_decimal(data["salesPrice"] or "10") * to_decimal(rng.uniform(0.9, 1.15))
        return {"salesPrice": fmt_money(price), "reorderPoint": rng.randint(5, 60)}
    if path in ("non-inventory-items", "service-items", "other-charge-items"):
        if data.get("salesOrPurchaseDetails"):
            current = to_decimal(data["salesOrPurchaseDetails"]["price"] or "10")
            return {"salesOrPurchaseDetails": {"price": fmt_money(current * to_decimal(1.05))}}
        return {"barcode": {"value": str(rng.randint(10**11, 10**12 - 1))}}
    if path != "inventory-adjustments" and data["lines"] and rng.random() < 0.3:
        lines = [{"id": line["id"]} for line in data["lines"]]
        first = data["lines"][0]
        if first.get("quantity") is not None:
            lines[0]["quantity"] = first["quantity"] + 1
        return {"lines": lines}
    return {"memo": f"Edited in QuickBooks on {record_day(now_ts)}"}


def record_day(now_ts: int) -> str:
    """The (UTC) date of an edit, for notes and memos."""
    return time.strftime("%Y-%m-%d", time.gmtime(now_ts))
