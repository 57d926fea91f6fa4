"""Transaction lines: pricing from the item, quantity x rate, and the replace-all update rule."""

from __future__ import annotations

import copy
from decimal import Decimal

from qbdsim.errors import invalid_reference, invalid_request, object_missing, qbd_request_error
from qbdsim.fields import apply_body, blank
from qbdsim.resources import ALL_ITEM_PATHS, RESOURCES, Resource
from qbdsim.store import Company, Record
from qbdsim.values import fmt_money, fmt_rate, quantity_out, to_decimal

NEW_LINE_ID = "-1"
# Items whose lines carry an amount but no quantity (QuickBooks leaves the quantity empty).
NO_QUANTITY = ("discount-items", "subtotal-items", "sales-tax-items", "sales-tax-group-items")


def unreceived(item: Record, quantity) -> dict:
    """The fields of a new purchase order line: nothing received or billed yet."""
    return {"receivedQuantity": 0, "unbilledQuantity": quantity, "isBilled": False,
            "isManuallyClosed": False, "sku": item.data.get("sku")}


def item_defaults(item: Record, purchase: bool) -> tuple[str | None, str | None]:
    """The description and price QuickBooks fills in for an item on a sales or purchase line."""
    data = item.data
    if item.resource == "discount-items":
        rate = data["discountRate"]
        return data["description"], f"-{rate}" if rate else None
    if item.resource in NO_QUANTITY or item.resource == "item-groups":
        return data["description"], None
    if item.resource in ("inventory-items", "inventory-assembly-items"):
        if purchase:
            return data["purchaseDescription"], data["purchaseCost"]
        return data["salesDescription"], data["salesPrice"]
    single = data.get("salesOrPurchaseDetails")
    if single:
        return single["description"], single["price"]
    both = data.get("salesAndPurchaseDetails")
    if both:
        if purchase:
            return both["purchaseDescription"], both["purchaseCost"]
        return both["salesDescription"], both["salesPrice"]
    return None, None


def build_line(
    company: Company,
    res: Resource,
    body: dict,
    base: dict | None,
    now_ts: int,
    path: str,
    links: dict,
) -> dict:
    """One sales-order, purchase-order or invoice line from a request line.

    ``base`` is the existing line being kept (update) or ``None`` for a new one. ``links``
    collects invoice lines made from sales-order lines: line id -> (order id, order line id).
    """
    purchase = res.path == "purchase-orders"
    if base is None:
        line = blank(res.line_type)
        line["id"] = company.mint.line_id(now_ts)
        _new_line_defaults(company, res, line)
    else:
        line = copy.deepcopy(base)
    link = body.get("linkToTransactionLine")
    if link is not None:
        _link_line(company, res, body, line, link, links)
    apply_body(company, res, line, body, res.line_type, path)
    item_ref = line["item"] if isinstance(line["item"], dict) else {}
    item_id = item_ref.get("id")
    item = company.find(ALL_ITEM_PATHS, item_id) if isinstance(item_id, str) else None
    item_changed = "itemId" in body
    if item is not None and (item_changed or base is None):
        default_description, default_rate = item_defaults(item, purchase)
        if "description" not in body and link is None:
            line["description"] = default_description
        if "rate" not in body and "amount" not in body and link is None:
            line["rate"] = default_rate
        if purchase and "sku" not in body and "sku" in item.data:
            line["sku"] = item.data["sku"]
    if item is not None and item.resource == "discount-items" and (item_changed or base is None):
        percent = item.data["discountRatePercent"]
        if percent and "rate" not in body and "amount" not in body:
            line["ratePercent"] = f"-{percent}"
    if base is None or {"amount", "rate", "quantity", "itemId"} & body.keys():
        _price(line, item, "amount" in body)
    if purchase and line["receivedQuantity"] is not None:
        line["unbilledQuantity"] = quantity_out(
            to_decimal(line["quantity"]) - to_decimal(line["receivedQuantity"])
        )
    return line


def _new_line_defaults(company: Company, res: Resource, line: dict) -> None:
    if "isManuallyClosed" in line:
        line["isManuallyClosed"] = False
    if res.path == "sales-orders":
        line["quantityInvoiced"] = 0
    elif res.path == "purchase-orders":
        line.update(receivedQuantity=0, isBilled=False)
    if res.path != "purchase-orders":
        # Sales lines sent without a tax code land as "Non" (observed through Conductor).
        line["salesTaxCode"] = company.aux_ref(company.aux_by_name("sales_tax_code", "Non"))


def _price(line: dict, item: Record | None, amount_given: bool) -> None:
    """``amount = quantity x rate``; with an amount given, the rate follows from it instead."""
    quantity = line["quantity"]
    if amount_given:
        if quantity:
            line["rate"] = fmt_rate(Decimal(line["amount"]) / to_decimal(quantity))
    else:
        flat = item is not None and item.resource in NO_QUANTITY
        if quantity is None and item is not None and not flat:
            quantity = 1
        if line["rate"] is not None and quantity is not None:
            line["amount"] = fmt_money(Decimal(line["rate"]) * to_decimal(quantity))
        elif line["rate"] is not None and flat:
            line["amount"] = fmt_money(Decimal(line["rate"]))
        elif line["amount"] is None:
            line["amount"] = "0.00"
    line["quantity"] = quantity_out(quantity)


def _link_line(company, res, body, line, link, links) -> None:
    """An invoice line taken from a sales-order line (``linkToTransactionLine``)."""
    if "itemId" in body:
        raise invalid_request(
            "Omit itemId on a line that sets linkToTransactionLine: the item comes from the "
            "linked sales-order line"
        )
    order = company.get("sales-orders", link["transactionId"])
    if order is None:
        raise invalid_reference("Transaction", link["transactionId"], res.display)
    every_line = order.data["lines"] + [
        line for group in order.data.get("lineGroups") or () for line in group["lines"]
    ]
    source = next((x for x in every_line if x["id"] == link["transactionLineId"]), None)
    if source is None:
        raise invalid_reference("TxnLine", link["transactionLineId"], res.display)
    open_quantity = (source["quantity"] or 0) - (source["quantityInvoiced"] or 0)
    line.update(
        item=copy.deepcopy(source["item"]),
        description=source["description"],
        rate=source["rate"],
        quantity=body.get("quantity", open_quantity),
        amount=None,
    )
    links[line["id"]] = (order.id, source["id"])


def settle_special_lines(company: Company, lines: list[dict]) -> list[dict]:
    """Amounts QuickBooks computes from the lines above; returns the lines that count.

    A subtotal line's amount is the sum of the lines above it since the previous subtotal; a
    percentage discount line takes its percentage of the line just above it. Subtotal lines
    only show a figure: they are not part of the transaction's total.
    """
    counted, running, above = [], Decimal(0), None
    for line in lines:
        item_id = (line.get("item") or {}).get("id") if isinstance(line, dict) else None
        if item_id and company.get("subtotal-items", item_id) is not None:
            line["amount"] = fmt_money(running)
            running, above = Decimal(0), line
            continue
        percent = line.get("ratePercent")
        if percent and above is not None and company.get("discount-items", item_id) is not None:
            line["amount"] = fmt_money(to_decimal(above["amount"]) * Decimal(percent) / 100)
        running += to_decimal(line.get("amount"))
        above = line
        counted.append(line)
    return counted


def replace_lines(
    company: Company, record: Record, body_lines: list[dict], now_ts: int
) -> tuple[list[dict], dict]:
    """The update rule: the request's lines become *all* the lines.

    Lines named by ``id`` are kept (and modified); ``id: "-1"`` adds one; any line left out
    is removed. Returns the new lines and the invoice line links that survive.
    """
    links: dict = {}
    lines = replace_line_list(
        company,
        RESOURCES[record.resource],
        record.data["lines"],
        body_lines,
        now_ts,
        "lines",
        record.meta.get("line_links", {}),
        links,
    )
    return lines, links


def replace_line_list(
    company: Company,
    res: Resource,
    existing: list[dict],
    body_lines: list[dict],
    now_ts: int,
    path: str,
    old_links: dict,
    links: dict,
) -> list[dict]:
    """The replace-all rule over one array of lines (a transaction's, or a line group's)."""
    by_id = {line["id"]: line for line in existing}
    lines = []
    for index, body in enumerate(body_lines):
        body = dict(body)
        line_id = body.pop("id")
        if line_id == NEW_LINE_ID:
            base = None
        elif line_id in by_id:
            base = by_id[line_id]
            if line_id in old_links:
                links[line_id] = old_links[line_id]
        else:
            raise object_missing(line_id)
        lines.append(build_line(company, res, body, base, now_ts, f"{path}[{index}]", links))
    return lines


def adjustment_line(
    company: Company, body: dict, now_ts: int, pending: dict, deferred: list
) -> dict:
    """One inventory-adjustment line from a create line (``adjustQuantity``/``adjustValue``).

    ``pending`` holds quantity changes of earlier lines of the same adjustment, so
    ``newQuantity`` is measured against them; value re-pricing is ``deferred`` until the whole
    request is known to be valid.
    """
    item = company.get("inventory-items", body["itemId"])
    if item is None:
        raise invalid_reference("Item", body["itemId"], "Inventory Adjustment")
    if body.get("adjustSerialNumber") or body.get("adjustLotNumber"):
        raise _advanced_inventory()
    by_quantity, by_value = body.get("adjustQuantity"), body.get("adjustValue")
    if by_quantity and by_value:
        raise invalid_request("A line can set adjustQuantity or adjustValue, not both")
    adjust = by_quantity or by_value or {}
    if adjust.get("serialNumber") or adjust.get("lotNumber"):
        raise _advanced_inventory()
    on_hand = to_decimal(item.data["quantityOnHand"]) + pending.get(item.id, 0)
    if "newQuantity" in adjust:
        difference = to_decimal(adjust["newQuantity"]) - on_hand
    else:
        difference = to_decimal(adjust.get("quantityDifference"))
    average = to_decimal(item.data["averageCost"])
    if by_value and "newValue" in by_value:
        value_difference = to_decimal(by_value["newValue"]) - on_hand * average
    elif by_value and "valueDifference" in by_value:
        value_difference = to_decimal(by_value["valueDifference"])
    else:
        value_difference = difference * average
    if by_value:
        deferred.append((item, difference, value_difference))
    pending[item.id] = pending.get(item.id, 0) + difference
    return _adjustment_line_data(company, item, difference, value_difference, now_ts)


def _adjustment_line_data(company, item, difference, value_difference, now_ts) -> dict:
    line = blank("qbd_inventory_adjustment_line")
    line.update(
        id=company.mint.line_id(now_ts),
        item=company.ref(item),
        quantityDifference=quantity_out(difference),
        valueDifference=float(round(value_difference, 2)),
    )
    return line


def replace_adjustment_lines(
    company: Company, record: Record, body_lines: list[dict], now_ts: int
) -> list[dict]:
    """Update lines of an adjustment (flat ``quantityDifference``/``valueDifference``)."""
    existing = {line["id"]: line for line in record.data["lines"]}
    lines = []
    for body in body_lines:
        if body.get("serialNumber") or body.get("lotNumber") or body.get("adjustCount"):
            raise _advanced_inventory()
        if body["id"] == NEW_LINE_ID:
            if "itemId" not in body:
                raise invalid_request('Invalid input: a new line needs "itemId"')
            line = None
        elif body["id"] in existing:
            line = copy.deepcopy(existing[body["id"]])
        else:
            raise object_missing(body["id"])
        item_id = body.get("itemId") or (line["item"] or {}).get("id")
        item = company.get("inventory-items", item_id) if item_id else None
        if item is None:
            raise invalid_reference("Item", str(item_id), "Inventory Adjustment")
        difference = to_decimal(
            body["quantityDifference"]
            if "quantityDifference" in body
            else (line or {}).get("quantityDifference")
        )
        if "valueDifference" in body:
            value_difference = to_decimal(body["valueDifference"])
        elif line is not None and "quantityDifference" not in body:
            value_difference = to_decimal(line["valueDifference"])
        else:
            value_difference = difference * to_decimal(item.data["averageCost"])
        new_line = _adjustment_line_data(company, item, difference, value_difference, now_ts)
        if line is not None:
            new_line["id"] = line["id"]
        lines.append(new_line)
    return lines


def _advanced_inventory():
    return qbd_request_error(
        "3250",
        "This feature is not enabled or not available in this version of QuickBooks: serial and "
        "lot numbers need Advanced Inventory.",
    )
