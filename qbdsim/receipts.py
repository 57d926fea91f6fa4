"""Item receipts, sales receipts and credit memos: stock QuickBooks moves without the WMS.

A warehouse receives goods on an item receipt, sells over the counter on a sales receipt and
takes goods back on a credit memo; the WMS mirrors none of them, yet each moves quantities on
hand (through the ledger, like invoices and adjustments). They are created and deleted here,
never modified, and no generated company has any.

Sales receipts and credit memos are sales forms: ``lines`` and ``lineGroups`` priced like an
invoice's, sales tax from the customer's tax item. An item receipt has ``itemLines`` (item,
quantity, cost), ``expenseLines`` (account, amount) and ``itemGroupLines`` (an item group
expanded into item lines); its total is the sum of them all.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from qbdsim import ledger
from qbdsim.errors import invalid_reference, invalid_request
from qbdsim.fields import apply_body, blank
from qbdsim.groups import new_groups
from qbdsim.lines import NO_QUANTITY, build_line, item_defaults
from qbdsim.resources import ALL_ITEM_PATHS, Resource
from qbdsim.store import Company, Record
from qbdsim.totals import sales_totals
from qbdsim.txns import next_ref_number
from qbdsim.values import fmt_money, fmt_rate, quantity_out, to_decimal

# Create-body keys that hold lines (built here, not copied by the generic body mapping).
LINE_KEYS = ("lines", "lineGroups", "itemLines", "expenseLines", "itemGroupLines")
LINK_KEYS = ("linkToTransactionIds", "linkToTransactionLine")
# What QuickBooks copies from the customer onto a new sales receipt or credit memo.
FROM_CUSTOMER = (
    "billingAddress",
    "shippingAddress",
    "terms",
    "salesRepresentative",
    "salesTaxItem",
    "salesTaxCode",
)
# The header account QuickBooks fills in when none is sent: (field, its specialAccountType).
DEFAULT_ACCOUNTS = {
    "item-receipts": ("payablesAccount", "accounts_payable"),
    "sales-receipts": ("depositToAccount", "undeposited_funds"),
    "credit-memos": ("receivablesAccount", "accounts_receivable"),
}


def create(company: Company, res: Resource, body: dict, now_ts: int) -> Record:
    """A new item receipt, sales receipt or credit memo from a validated create body."""
    _refuse_links(res, body)
    stamp = company.clock.fmt(now_ts)
    data = blank(res.object_type)
    data.update(
        id=company.mint.txn_id(now_ts), createdAt=stamp, updatedAt=stamp, revisionNumber=str(now_ts)
    )
    header = {key: value for key, value in body.items() if key not in LINE_KEYS}
    apply_body(company, res, data, header, res.object_type)
    _default_account(company, res, data)
    if res.path == "item-receipts":
        _receipt_lines(company, res, data, body, now_ts)
    else:
        _customer_defaults(company, data)
        data["lines"] = [
            build_line(company, res, line, None, now_ts, f"lines[{i}]", {})
            for i, line in enumerate(body.get("lines", ()))
        ]
        data["lineGroups"] = new_groups(company, res, body.get("lineGroups", ()), now_ts)
        _sales_form_totals(company, res, data)
    if data["refNumber"] is None:
        data["refNumber"] = next_ref_number(company, res.path)
    company.last_ref[res.path] = data["refNumber"]
    record = company.add(res.path, data, now_ts, now_ts)
    ledger.apply_change(company, {}, ledger.effects(company, record))
    return record


def _refuse_links(res: Resource, body: dict) -> None:
    """Receiving against a purchase order is not simulated: say so rather than ignore it."""
    linked = [key for key in LINK_KEYS if key in body] + [
        f"itemLines[{i}].{key}"
        for i, line in enumerate(body.get("itemLines", ()))
        for key in LINK_KEYS
        if key in line
    ]
    if linked:
        raise invalid_request(
            f"qbdsim does not link {res.display.lower()}s to other transactions "
            f"({', '.join(linked)}); create the receipt without the link"
        )


def _default_account(company: Company, res: Resource, data: dict) -> None:
    field, special = DEFAULT_ACCOUNTS[res.path]
    if data[field] is not None:
        return
    account = next(
        (
            record
            for record in company.records["accounts"].values()
            if record.data["specialAccountType"] == special
        ),
        None,
    )
    data[field] = company.ref(account)


def _customer_defaults(company: Company, data: dict) -> None:
    data["isPending"] = bool(data["isPending"])
    customer = data["customer"]  # a sales receipt may have none (a cash sale)
    if customer is None:
        return
    party = company.get("customers", customer["id"])
    for field in FROM_CUSTOMER:
        if field in data and data[field] is None:
            data[field] = copy.deepcopy(party.data[field])


def _sales_form_totals(company: Company, res: Resource, data: dict) -> None:
    total = fmt_money(sales_totals(company, data))
    data["totalAmount"] = total
    if res.path == "credit-memos":
        data["creditRemaining"] = total  # nothing applied yet: the whole credit is open


def _receipt_lines(company: Company, res: Resource, data: dict, body: dict, now_ts: int) -> None:
    data["itemLines"] = [
        _item_line(company, res, line, now_ts, f"itemLines[{i}]")
        for i, line in enumerate(body.get("itemLines", ()))
    ]
    data["expenseLines"] = [
        _expense_line(company, res, line, now_ts, f"expenseLines[{i}]")
        for i, line in enumerate(body.get("expenseLines", ()))
    ]
    data["itemGroupLines"] = [
        _item_group_line(company, res, group, now_ts, f"itemGroupLines[{i}]")
        for i, group in enumerate(body.get("itemGroupLines", ()))
    ]
    amounts = [line["amount"] for line in data["itemLines"] + data["expenseLines"]]
    amounts += [group["totalAmount"] for group in data["itemGroupLines"]]
    data["totalAmount"] = fmt_money(sum((to_decimal(a) for a in amounts), Decimal(0)))


def _item_line(company: Company, res: Resource, body: dict, now_ts: int, path: str) -> dict:
    """An item line: the item's purchase description and cost unless sent; ``amount =
    quantity x cost``, or with an amount sent, the cost follows from it."""
    line = blank("qbd_item_line")
    line["id"] = company.mint.line_id(now_ts)
    apply_body(company, res, line, body, "qbd_item_line", path)
    item_id = (line["item"] or {}).get("id")
    item = company.find(ALL_ITEM_PATHS, item_id) if item_id else None
    if item is not None:
        description, cost = item_defaults(item, purchase=True)
        if "description" not in body:
            line["description"] = description
        if "cost" not in body and "amount" not in body:
            line["cost"] = cost
        if line["quantity"] is None and item.resource not in NO_QUANTITY:
            line["quantity"] = 1
    quantity = line["quantity"]
    if "amount" in body:
        if quantity:
            line["cost"] = fmt_rate(to_decimal(line["amount"]) / to_decimal(quantity))
    elif line["cost"] is not None:
        factor = to_decimal(quantity) if quantity is not None else Decimal(1)
        line["amount"] = fmt_money(to_decimal(line["cost"]) * factor)
    else:
        line["amount"] = "0.00"
    line["quantity"] = quantity_out(quantity)
    return line


def _expense_line(company: Company, res: Resource, body: dict, now_ts: int, path: str) -> dict:
    line = blank("qbd_expense_line")
    line["id"] = company.mint.line_id(now_ts)
    apply_body(company, res, line, body, "qbd_expense_line", path)
    if line["amount"] is None:
        line["amount"] = "0.00"
    return line


def _item_group_line(
    company: Company, res: Resource, body: dict, now_ts: int, path: str
) -> dict:
    """An item group received: its components as item lines (each component's quantity times
    the group's), under a group whose ``totalAmount`` is their sum."""
    source = company.get("item-groups", body["itemGroupId"])
    if source is None:
        raise invalid_reference("ItemGroup", body["itemGroupId"], res.display)
    group = blank("qbd_item_group_line_item")
    quantity = body.get("quantity", 1)
    group.update(
        id=company.mint.line_id(now_ts),
        itemGroup=company.ref(source),
        description=source.data["description"],
        quantity=quantity_out(quantity),
        unitOfMeasure=body.get("unitOfMeasure") or None,
    )
    if "customFields" in body:
        apply_body(company, res, group, {"customFields": body["customFields"]},
                   "qbd_item_group_line_item", path)
    shared = {key: body[key] for key in ("inventorySiteId", "inventorySiteLocationId")
              if key in body}
    group["itemLines"] = [
        _item_line(
            company,
            res,
            {
                "itemId": component["item"]["id"],
                "quantity": quantity_out(
                    to_decimal(component["quantity"]) * to_decimal(quantity)
                ),
                **shared,
            },
            now_ts,
            f"{path}.itemLines[{index}]",
        )
        for index, component in enumerate(source.data["lines"])
    ]
    group["totalAmount"] = fmt_money(
        sum((to_decimal(line["amount"]) for line in group["itemLines"]), Decimal(0))
    )
    return group
