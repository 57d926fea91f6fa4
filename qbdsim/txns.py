"""Creating, modifying, deleting and voiding transactions: sales orders, purchase orders,
invoices and inventory adjustments.

Every change goes through the ledger (``effects`` before and after), so on-hand, on-order and
invoiced quantities and customer balances follow the transactions.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal

from qbdsim import ledger
from qbdsim.errors import invalid_reference, qbd_request_error, stale_revision
from qbdsim.fields import apply_body, blank
from qbdsim.groups import group_lines, linked_group, new_groups, replace_groups
from qbdsim.lines import (
    adjustment_line,
    build_line,
    replace_adjustment_lines,
    replace_lines,
)
from qbdsim.lists import adjust_average_cost
from qbdsim.resources import RESOURCES, Resource
from qbdsim.store import Company, Record
from qbdsim.totals import counted_lines, sales_totals
from qbdsim.values import add_days, fmt_money, to_decimal

_TRAILING_DIGITS = re.compile(r"(\d+)$")
REF_NUMBER_MAX = 11


def next_ref_number(company: Company, resource: str) -> str:
    """QuickBooks' next number: the last one entered, its trailing digits incremented."""
    last = company.last_ref.get(resource)
    match = _TRAILING_DIGITS.search(last or "")
    if not match:
        return "1"
    digits = match.group(1)
    bumped = str(int(digits) + 1).zfill(len(digits))
    return (last[: match.start(1)] + bumped)[-REF_NUMBER_MAX:]


def create(company: Company, res: Resource, body: dict, now_ts: int) -> Record:
    """A new transaction from a validated create body."""
    stamp = company.clock.fmt(now_ts)
    data = blank(res.object_type)
    data.update(
        id=company.mint.txn_id(now_ts), createdAt=stamp, updatedAt=stamp, revisionNumber=str(now_ts)
    )
    if "isManuallyClosed" in data:
        data["isManuallyClosed"] = False
    apply_body(company, res, data, body, res.object_type)
    _party_defaults(company, res, data)
    links: dict = {}
    deferred: list = []
    if res.path == "inventory-adjustments":
        pending: dict = {}
        data["lines"] = [
            adjustment_line(company, line, now_ts, pending, deferred)
            for line in body.get("lines", ())
        ]
    else:
        data["lines"] = [
            build_line(company, res, line, None, now_ts, f"lines[{i}]", links)
            for i, line in enumerate(body.get("lines", ()))
        ]
        data["lineGroups"] = new_groups(company, res, body.get("lineGroups", ()), now_ts)
    orders = _orders_to_link(company, res, data, body, now_ts, links)
    if data["refNumber"] is None:
        data["refNumber"] = next_ref_number(company, res.path)
    _derive(company, res, data)
    company.last_ref[res.path] = data["refNumber"]
    record = company.add(res.path, data, now_ts, now_ts)
    if links:
        record.meta["line_links"] = links
    for item, quantity, value in deferred:
        adjust_average_cost(item, quantity, value)
    ledger.apply_change(company, {}, ledger.effects(company, record))
    for order in orders:
        company.link(order, record)
    return record


def update(
    company: Company, record: Record, body: dict, now_ts: int, check_revision: bool = True
) -> Record:
    """Apply a validated update body (lines, when sent, replace all lines)."""
    res = RESOURCES[record.resource]
    sent = body.get("revisionNumber")
    if check_revision and sent != record.data["revisionNumber"]:
        raise stale_revision(str(sent))
    data = copy.deepcopy(record.data)
    apply_body(company, res, data, body, res.object_type)
    links = record.meta.get("line_links", {})
    if "lines" in body:
        if res.path == "inventory-adjustments":
            data["lines"] = replace_adjustment_lines(company, record, body["lines"], now_ts)
        else:
            data["lines"], links = replace_lines(company, record, body["lines"], now_ts)
    if "lineGroups" in body:
        data["lineGroups"] = replace_groups(company, record, res, body["lineGroups"], now_ts)
    if body.get("refNumber"):
        company.last_ref[res.path] = body["refNumber"]
    # A link lives as long as its line does, wherever the line is (plain or in a group).
    alive = {line["id"] for line in data["lines"] + group_lines(data)}
    links = {key: value for key, value in {**record.meta.get("line_links", {}), **links}.items()
             if key in alive}
    _derive(company, res, data)
    before = ledger.effects(company, record)
    record.data = data
    if links:
        record.meta["line_links"] = links
    else:
        record.meta.pop("line_links", None)
    company.touch(record, now_ts)
    ledger.apply_change(company, before, ledger.effects(company, record))
    return record


def delete(company: Company, record: Record, now_ts: int) -> dict:
    """Delete a transaction for good; it is listed in ``deleted-transactions``."""
    res = RESOURCES[record.resource]
    if record.resource == "sales-orders" and company.linked(record):
        raise qbd_request_error(
            "3170",
            f'There was an error when deleting Sales Order "{record.data["refNumber"]}". '
            "QuickBooks error message: This transaction has other transactions linked to it.",
        )
    before = ledger.effects(company, record)
    company.unlink_all(record)
    company.remove(record)
    ledger.apply_change(company, before, {})
    company.record_deletion(record, now_ts)
    return {
        "id": record.id,
        "objectType": res.object_type,
        "refNumber": record.data["refNumber"],
        "deleted": True,
    }


def void(company: Company, record: Record, now_ts: int) -> dict:
    """Void an invoice or adjustment: amounts and quantities go to zero, the record stays."""
    res = RESOURCES[record.resource]
    before = ledger.effects(company, record)
    data = record.data
    for line in data["lines"]:
        if record.resource == "inventory-adjustments":
            line.update(quantityDifference=0, valueDifference=0)
        else:
            line.update(quantity=0, amount="0.00")
    for group in data.get("lineGroups") or ():
        group["totalAmount"] = "0.00"
        for line in group["lines"]:
            line.update(quantity=0, amount="0.00")
    memo = data["memo"] or ""
    if not memo.startswith("VOID:"):
        data["memo"] = f"VOID: {memo}".strip()
    if record.resource == "invoices":
        data["appliedAmount"] = "0.00"
    _derive(company, res, data)
    company.unlink_all(record)
    record.meta.pop("line_links", None)
    company.touch(record, now_ts)
    ledger.apply_change(company, before, ledger.effects(company, record))
    return {
        "id": record.id,
        "objectType": res.object_type,
        "createdAt": data["createdAt"],
        "updatedAt": data["updatedAt"],
        "refNumber": data["refNumber"],
        "voided": True,
    }


def _party_defaults(company: Company, res: Resource, data: dict) -> None:
    """What QuickBooks copies from the customer or vendor onto a new transaction."""
    if res.path in ("sales-orders", "invoices"):
        party = company.get("customers", data["customer"]["id"])
        copies = {
            "billingAddress": "billingAddress",
            "shippingAddress": "shippingAddress",
            "terms": "terms",
            "salesRepresentative": "salesRepresentative",
            "salesTaxItem": "salesTaxItem",
            "salesTaxCode": "salesTaxCode",
        }
    elif res.path == "purchase-orders" and data["vendor"] is not None:
        party = company.get("vendors", data["vendor"]["id"])
        copies = {"vendorAddress": "billingAddress", "terms": "terms"}
    else:
        return
    for target, source in copies.items():
        if data[target] is None:
            data[target] = copy.deepcopy(party.data[source])
    if data["dueDate"] is None and data["terms"] is not None:
        terms = company.aux_get("standard_terms", data["terms"]["id"]) or {}
        data["dueDate"] = add_days(data["transactionDate"], terms.get("days", 0))
    if res.path == "invoices":
        if data["receivablesAccount"] is None:
            receivable = next(
                (
                    r
                    for r in company.records["accounts"].values()
                    if r.data["accountType"] == "accounts_receivable"
                ),
                None,
            )
            data["receivablesAccount"] = company.ref(receivable)
        data["isPending"] = bool(data["isPending"])
        data["isFinanceCharge"] = bool(data["isFinanceCharge"])
        data["appliedAmount"] = "0.00"


def _orders_to_link(company, res, data, body, now_ts, links) -> list[Record]:
    """``linkToTransactionIds``: an invoice takes over the open lines of sales orders."""
    orders = []
    by_line = {linked_order for linked_order, _line in links.values()}
    for order_id in body.get("linkToTransactionIds", ()):
        order = company.get("sales-orders", order_id)
        if order is None:
            raise invalid_reference("Transaction", order_id, res.display)
        if order_id in by_line:  # FACTS §5: not the same transaction both ways
            raise qbd_request_error(
                "3180",
                f"There was an error when saving an Invoice. QuickBooks error message: Sales "
                f'Order "{order.data["refNumber"]}" is linked both by its lines and as a whole.',
            )
        if order.data["customer"]["id"] != data["customer"]["id"]:
            raise qbd_request_error(
                "3180",
                f"There was an error when saving an Invoice. QuickBooks error message: Sales "
                f'Order "{order.data["refNumber"]}" belongs to a different customer.',
            )
        if order.data["isManuallyClosed"] or order.data["isFullyInvoiced"]:
            raise qbd_request_error(
                "3180",
                "There was an error when saving an Invoice. QuickBooks error message: You "
                f'cannot link to Sales Order "{order.data["refNumber"]}" because it is closed.',
            )
        data["lines"] += _linked_lines(
            company, res, order, order.data["lines"], now_ts, f"lines[{len(data['lines'])}]",
            links)
        # A group of the order comes over as a group: the item group, with its open lines.
        for group in order.data.get("lineGroups") or ():
            path = f"lineGroups[{len(data['lineGroups'])}]"
            lines = _linked_lines(company, res, order, group["lines"], now_ts, path, links)
            if lines:
                data["lineGroups"].append(linked_group(company, res, group, lines, now_ts))
        orders.append(order)
    for order_id, _line_id in links.values():
        if order_id not in {o.id for o in orders}:
            orders.append(company.get("sales-orders", order_id))
    return orders


def _linked_lines(company, res, order: Record, sources: list[dict], now_ts: int, path: str,
                  links: dict) -> list[dict]:
    """Invoice lines for the open lines among `sources` (lines of `order`), each linked."""
    lines = []
    for source in sources:
        open_quantity = (source["quantity"] or 0) - (source["quantityInvoiced"] or 0)
        if source["item"] is None or source["isManuallyClosed"] or open_quantity <= 0:
            continue
        line_body = {
            "linkToTransactionLine": {"transactionId": order.id, "transactionLineId": source["id"]}
        }
        lines.append(build_line(company, res, line_body, None, now_ts,
                                f"{path}.lines[{len(lines)}]", links))
    return lines


def _derive(company: Company, res: Resource, data: dict) -> None:
    """Header totals from the lines and line groups (QuickBooks computes them; requests
    cannot set them)."""
    if res.path == "inventory-adjustments":
        return
    every_line = data["lines"] + group_lines(data)
    if res.path == "purchase-orders":
        counted = counted_lines(company, data)
        subtotal = sum((to_decimal(line["amount"]) for line in counted), Decimal(0))
        data["totalAmount"] = fmt_money(subtotal)
        data["isFullyReceived"] = bool(every_line) and all(
            (line["receivedQuantity"] or 0) >= (line["quantity"] or 0) for line in every_line
        )
        return
    total = sales_totals(company, data)
    if res.path == "sales-orders":
        data["totalAmount"] = fmt_money(total)
        data["isFullyInvoiced"] = ledger.fully_invoiced(every_line)
    else:
        balance = total + to_decimal(data["appliedAmount"])
        data["balanceRemaining"] = fmt_money(balance)
        data["isPaid"] = balance <= 0
