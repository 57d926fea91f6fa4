"""Quantities QuickBooks derives from transactions: on hand, on sales orders, on purchase orders,
invoiced per sales-order line, and customer balances.

On hand goes down with invoices and sales receipts, up with item receipts and credit memos, and
either way with adjustments; only inventory items move. These moves are not edits of the item:
it keeps its revision number and ``updatedAt``, as in QuickBooks.

Each transaction *contributes* to these figures. A write computes the contribution before and
after the change and applies the difference, so the figures stay consistent with whatever the
transactions say — which is also how the generator builds them.
"""

from __future__ import annotations

from decimal import Decimal

from qbdsim.store import Company, Record
from qbdsim.values import fmt_money, quantity_out, to_decimal

# On-hand direction of each line quantity, for the forms that simply move stock in or out.
STOCK_DIRECTION = {"item-receipts": 1, "sales-receipts": -1, "credit-memos": 1}
_ITEM_FIELDS = {
    "onhand": "quantityOnHand",
    "onso": "quantityOnSalesOrder",
    "onpo": "quantityOnPurchaseOrder",
}


def _num(value) -> float:
    """A quantity, tolerating the broken values planted by raw edits."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _inventory_item_id(company: Company, line: dict) -> str | None:
    item = line.get("item")
    if not isinstance(item, dict):
        return None
    item_id = item.get("id")
    if isinstance(item_id, str) and item_id in company.records["inventory-items"]:
        return item_id
    return None


def effects(company: Company, record: Record | None) -> dict[tuple, float]:
    """What one transaction contributes (empty for list objects and ``None``)."""
    out: dict[tuple, float] = {}
    if record is None:
        return out

    def add(key: tuple, value) -> None:
        if value:
            out[key] = out.get(key, 0) + value

    data = record.data
    lines = [line for line in _every_line(data) if isinstance(line, dict)]
    if record.resource == "invoices":
        links = record.meta.get("line_links", {})
        for line in lines:
            quantity = _num(line.get("quantity"))
            add(("onhand", _inventory_item_id(company, line)), -quantity)
            link = links.get(line.get("id"))
            if link:
                add(("invoiced", *link), quantity)
        customer = data.get("customer")
        if isinstance(customer, dict) and customer.get("id"):
            add(("balance", customer["id"]), to_decimal(data.get("balanceRemaining")))
    elif record.resource in STOCK_DIRECTION:
        direction = STOCK_DIRECTION[record.resource]
        for line in lines:
            quantity = direction * _num(line.get("quantity"))
            add(("onhand", _inventory_item_id(company, line)), quantity)
        customer = data.get("customer")
        if record.resource == "credit-memos" and isinstance(customer, dict) and customer.get("id"):
            add(("balance", customer["id"]), -to_decimal(data.get("creditRemaining")))
    elif record.resource == "inventory-adjustments":
        for line in lines:
            add(("onhand", _inventory_item_id(company, line)), _num(line.get("quantityDifference")))
    elif record.resource == "sales-orders" and not data.get("isManuallyClosed"):
        for line in lines:
            if not line.get("isManuallyClosed"):
                open_qty = _num(line.get("quantity")) - _num(line.get("quantityInvoiced"))
                add(("onso", _inventory_item_id(company, line)), open_qty)
    elif record.resource == "purchase-orders" and not data.get("isManuallyClosed"):
        for line in lines:
            if not line.get("isManuallyClosed"):
                open_qty = _num(line.get("quantity")) - _num(line.get("receivedQuantity"))
                add(("onpo", _inventory_item_id(company, line)), open_qty)
    return {key: value for key, value in out.items() if key[1] is not None}


def apply_change(company: Company, before: dict, after: dict) -> None:
    """Apply ``after - before`` to items, sales-order lines and customers."""
    for key in before.keys() | after.keys():
        delta = after.get(key, 0) - before.get(key, 0)
        if delta:
            _apply(company, key, delta)


def _apply(company: Company, key: tuple, delta) -> None:
    kind = key[0]
    if kind in _ITEM_FIELDS:
        item = company.get("inventory-items", key[1])
        if item is not None:
            name = _ITEM_FIELDS[kind]
            item.data[name] = quantity_out((item.data[name] or 0) + delta)
            item.invalidate()
    elif kind == "invoiced":
        _apply_invoiced(company, key[1], key[2], delta)
    elif kind == "balance":
        _apply_balance(company, key[1], Decimal(delta))


# Where a transaction keeps lines that name items: plain arrays, and groups -> their lines.
_LINE_ARRAYS = ("lines", "itemLines")
_GROUP_ARRAYS = {"lineGroups": "lines", "itemGroupLines": "itemLines"}


def _every_line(data: dict) -> list:
    """The transaction's item lines, those inside its groups included (tolerating raw
    edits). An item receipt's expense lines name no item and move nothing."""
    lines: list = []
    for key in _LINE_ARRAYS:
        found = data.get(key)
        lines += found if isinstance(found, list) else []
    for key, inner_key in _GROUP_ARRAYS.items():
        groups = data.get(key)
        for group in groups if isinstance(groups, list) else ():
            inner = group.get(inner_key) if isinstance(group, dict) else None
            lines += inner if isinstance(inner, list) else []
    return lines


def _apply_invoiced(company: Company, order_id: str, line_id: str, delta) -> None:
    order = company.get("sales-orders", order_id)
    if order is None:
        return
    for line in _every_line(order.data):
        if line["id"] == line_id:
            line["quantityInvoiced"] = quantity_out((line["quantityInvoiced"] or 0) + delta)
            if not order.data["isManuallyClosed"] and not line["isManuallyClosed"]:
                _apply(company, ("onso", _inventory_item_id(company, line)), -delta)
            break
    order.data["isFullyInvoiced"] = fully_invoiced(_every_line(order.data))
    order.invalidate()


def fully_invoiced(lines: list[dict]) -> bool:
    """Whether every quantity line of a sales order has been invoiced in full."""
    quantity_lines = [
        line for line in lines if isinstance(line, dict) and _num(line.get("quantity"))
    ]
    return bool(quantity_lines) and all(
        _num(line.get("quantityInvoiced")) >= _num(line["quantity"]) for line in quantity_lines
    )


def _apply_balance(company: Company, customer_id: str, delta: Decimal) -> None:
    customer = company.get("customers", customer_id)
    if customer is None:
        return
    data = customer.data
    data["balance"] = fmt_money(to_decimal(data["balance"]) + delta)
    seen = set()
    while customer is not None and customer.id not in seen:
        seen.add(customer.id)
        data = customer.data
        data["totalBalance"] = fmt_money(to_decimal(data["totalBalance"]) + delta)
        customer.invalidate()
        parent = data.get("parent")
        customer = company.get("customers", parent["id"]) if parent else None
