"""Creating and modifying list objects: customers, vendors, the four item types, accounts.

QuickBooks' rules: names cannot hold a colon (it separates ``Parent:Child``); full names are
unique within a name space (customers and vendors share one; items share one across types); a
stale ``revisionNumber`` is error 3200; making a parent inactive makes its children inactive.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from qbdsim.errors import name_in_use, qbd_request_error, stale_revision
from qbdsim.fields import apply_body, blank
from qbdsim.resources import RESOURCES, Resource
from qbdsim.store import Company, Record
from qbdsim.values import (
    fmt_money,
    fmt_rate,
    next_revision,
    parse_amount,
    quantity_out,
    to_decimal,
)

MAX_SUBLEVEL = 5


def create(company: Company, res: Resource, body: dict, now_ts: int) -> Record:
    """A new list object from a validated create body."""
    data = blank(res.object_type)
    data.update(
        id=company.mint.list_id(now_ts),
        createdAt=company.clock.fmt(now_ts),
        updatedAt=company.clock.fmt(now_ts),
        revisionNumber=str(now_ts),
        isActive=True,
    )
    _defaults(res, data)
    apply_body(company, res, data, body, res.object_type)
    _shape(company, res, data, body, now_ts)
    _check_name(company, res, data, None)
    record = company.add(res.path, data, now_ts, now_ts)
    if res.path == "inventory-items":
        _opening_inventory(record, body)
    return record


def update(
    company: Company, record: Record, body: dict, now_ts: int, check_revision: bool = True
) -> list[Record]:
    """Apply a validated update body; returns every record touched (descendants included)."""
    res = RESOURCES[record.resource]
    sent = body.get("revisionNumber")
    if check_revision and sent != record.data["revisionNumber"]:
        raise stale_revision(str(sent))
    data = copy.deepcopy(record.data)
    old_name = record.name
    was_active = data["isActive"]
    apply_body(company, res, data, body, res.object_type)
    _shape(company, res, data, body, now_ts, record.data)
    if data[res.name_field].casefold() != old_name.casefold():
        _check_name(company, res, data, record)
    if "parentId" in body and _is_descendant(company, record, body["parentId"]):
        raise qbd_request_error(
            "3140", f'The parent "{body["parentId"]}" cannot be the object itself or its child.'
        )
    record.data = data
    company.touch(record, now_ts)
    touched = [record]
    if record.name != old_name:
        company.rename(record, old_name)
        renamed = [record, *_rename_children(company, record)]
        touched += renamed[1:]
        propagate_names(company, renamed)
    if was_active and not data["isActive"]:
        company.record_deletion(record, now_ts)
        touched += _deactivate_children(company, record, now_ts)
    return touched


def _defaults(res: Resource, data: dict) -> None:
    if res.hierarchical:
        data["sublevel"] = 0
    if res.path == "customers":
        data.update(balance="0.00", totalBalance="0.00")
    elif res.path == "vendors":
        data.update(balance="0.00")
    elif res.path == "accounts":
        data.update(balance="0.00", totalBalance="0.00")
    elif res.path == "inventory-items":
        data.update(
            quantityOnHand=0, averageCost="0.00", quantityOnPurchaseOrder=0, quantityOnSalesOrder=0
        )


def _shape(
    company: Company,
    res: Resource,
    data: dict,
    body: dict,
    now_ts: int,
    previous: dict | None = None,
):
    """Derived fields: full name and level, barcode, opening balance, contacts and notes.

    ``previous`` is the object before an update (``None`` on create).
    """
    is_new = previous is None
    name = data["name"]
    if not name:
        raise qbd_request_error(
            "3180",
            f"There was an error when saving a {res.display}. QuickBooks error message: "
            "The name cannot be blank.",
        )
    if ":" in name:
        raise qbd_request_error(
            "3090",
            f'There was an error when storing "{name}" in the "Name" field. QuickBooks error '
            "message: Names in this list cannot contain a colon (:).",
        )
    if res.hierarchical:
        parent = data["parent"]
        if parent is not None:
            parent_record = company.get(res.path, parent["id"])
            data["fullName"] = f"{parent_record.name}:{name}"
            data["sublevel"] = parent_record.data["sublevel"] + 1
            if data["sublevel"] > MAX_SUBLEVEL:
                raise qbd_request_error(
                    "3180", f'"{data["fullName"]}" would be nested deeper than 5 levels.'
                )
        else:
            data["fullName"] = name
            data["sublevel"] = 0
    if "barcode" in body:
        data["barcode"] = body["barcode"].get("value") or None
    if is_new and body.get("openingBalance"):
        balance = fmt_money(parse_amount(body["openingBalance"], "openingBalance"))
        data["balance"] = balance
        if "totalBalance" in data:
            data["totalBalance"] = balance
    if "additionalContacts" in body:
        data["additionalContacts"] = [
            _contact(company, res, contact, previous, now_ts)
            for contact in data["additionalContacts"]
        ]
    for index, note in enumerate(data.get("additionalNotes") or (), start=1):
        if note["id"] is None:
            note["id"] = index
            note["date"] = company.clock.local_date(now_ts)


def _contact(company: Company, res: Resource, contact: dict, previous, now_ts: int) -> dict:
    """A contact sent in ``additionalContacts``: an existing one (by id) updated, or a new one."""
    stamp = company.clock.fmt(now_ts)
    existing = {c["id"]: c for c in (previous or {}).get("additionalContacts") or ()}
    if contact["id"] in existing:
        merged = copy.deepcopy(existing[contact["id"]])
        merged.update({k: v for k, v in contact.items() if v is not None and v != []})
        merged.update(
            updatedAt=stamp, revisionNumber=next_revision(merged["revisionNumber"], now_ts)
        )
        contact = merged
    else:
        if not contact["firstName"]:
            raise qbd_request_error(
                "3180",
                f"There was an error when saving a {res.display}. QuickBooks error message: "
                "A contact needs a first name.",
            )
        contact.update(
            id=company.mint.list_id(now_ts),
            objectType="qbd_contact",
            createdAt=stamp,
            updatedAt=stamp,
            revisionNumber=str(now_ts),
        )
    full = " ".join(part for part in (contact["firstName"], contact["lastName"]) if part)
    contact["name"] = full or None
    return contact


def _check_name(company: Company, res: Resource, data: dict, record: Record | None) -> None:
    owner = company.name_owner(res.namespace, data[res.name_field])
    if owner is not None and owner is not record:
        raise name_in_use(data[res.name_field])


def _opening_inventory(record: Record, body: dict) -> None:
    data = record.data
    quantity = body.get("quantityOnHand") or 0
    data["quantityOnHand"] = quantity_out(quantity)
    if body.get("totalValue") and quantity:
        value = parse_amount(body["totalValue"], "totalValue")
        data["averageCost"] = fmt_rate(value / Decimal(str(quantity)))
    elif data["purchaseCost"]:
        data["averageCost"] = data["purchaseCost"]
    record.invalidate()


def _children(company: Company, record: Record) -> list[Record]:
    return [
        r
        for r in company.records[record.resource].values()
        if (r.data.get("parent") or {}).get("id") == record.id
    ]


def _is_descendant(company: Company, record: Record, candidate_id: str) -> bool:
    pending = [record]
    while pending:
        current = pending.pop()
        if current.id == candidate_id:
            return True
        pending += _children(company, current)
    return False


def _rename_children(company: Company, parent: Record) -> list[Record]:
    """Children (and theirs) take the parent's new full name; returns them all."""
    renamed = []
    for child in _children(company, parent):
        old = child.name
        child.data["parent"] = company.ref(parent)
        child.data["fullName"] = f"{parent.name}:{child.data['name']}"
        child.data["sublevel"] = parent.data["sublevel"] + 1
        company.rename(child, old)
        child.invalidate()
        renamed += [child, *_rename_children(company, child)]
    return renamed


def _deactivate_children(company: Company, parent: Record, now_ts: int) -> list[Record]:
    touched = []
    for child in _children(company, parent):
        if child.data["isActive"]:
            child.data["isActive"] = False
            company.touch(child, now_ts)
            company.record_deletion(child, now_ts)
            touched.append(child)
        touched += _deactivate_children(company, child, now_ts)
    return touched


def propagate_names(company: Company, targets: list[Record]) -> None:
    """Refresh the ``fullName`` of every reference to renamed records (one pass over all)."""
    names = {target.id: target.name for target in targets}

    def walk(node) -> bool:
        changed = False
        if isinstance(node, dict):
            ref_id = node.get("id")
            if len(node) == 2 and "fullName" in node and isinstance(ref_id, str):
                new_name = names.get(ref_id)
                if new_name is not None and node["fullName"] != new_name:
                    node["fullName"] = new_name
                    return True
                return False
            for value in node.values():
                if isinstance(value, dict | list):
                    changed |= walk(value)
        elif isinstance(node, list):
            for value in node:
                changed |= walk(value)
        return changed

    for records in company.records.values():
        for record in records.values():
            if walk(record.data):
                record.invalidate()


def adjust_average_cost(item: Record, quantity_delta, value_delta) -> None:
    """A value adjustment re-prices the stock on hand (QuickBooks' average cost)."""
    data = item.data
    on_hand = to_decimal(data["quantityOnHand"])
    value = on_hand * to_decimal(data["averageCost"]) + to_decimal(value_delta)
    new_quantity = on_hand + to_decimal(quantity_delta)
    if new_quantity > 0:
        data["averageCost"] = fmt_rate(value / new_quantity)
        item.invalidate()
