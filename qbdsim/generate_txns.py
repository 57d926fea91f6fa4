"""Generated transactions: sales orders, purchase orders, invoices (some made from sales
orders), inventory adjustments, and a few recent deletions."""

from __future__ import annotations

import bisect
import random

from qbdsim import ledger
from qbdsim.fields import blank
from qbdsim.generate_lists import DAY_S, ListMaker
from qbdsim.lines import item_defaults, unreceived
from qbdsim.pools import Pools
from qbdsim.resources import ITEM_PATHS
from qbdsim.store import Company, Record
from qbdsim.values import add_days, fmt_cents

TXN_HISTORY_S = 700 * DAY_S
ITEM_WEIGHTS = {
    "inventory-items": 0.6,
    "non-inventory-items": 0.15,
    "service-items": 0.15,
    "other-charge-items": 0.1,
}
ADJUSTMENT_MEMOS = ["Physical count", "Received shipment", "Damaged in warehouse", "Cycle count"]


class TxnMaker:
    """Builds the transactions of a generated company from its list objects."""

    def __init__(
        self, company: Company, rng: random.Random, pools: Pools, anchor: int, lists: ListMaker
    ) -> None:
        self.company = company
        self.rng = rng
        self.pools = pools
        self.anchor = anchor
        self.lists = lists
        self.clock = company.clock
        self.item_times = {
            path: [r.created_ts for r in records] for path, records in lists.items_by_time.items()
        }
        self.customer_times = [r.created_ts for r in lists.customers_by_time]
        self.vendor_times = [r.created_ts for r in lists.vendors_by_time]
        self.tax = lists.aux_ref("sales_tax_code", "Tax")
        self.non = lists.aux_ref("sales_tax_code", "Non")
        self.tax_rates = {e["id"]: e["rate"] for e in company.aux["sales_tax_item"].values()}

    # -- helpers ---------------------------------------------------------------------------

    def _times(self, count: int) -> list[int]:
        start = self.anchor - TXN_HISTORY_S
        return sorted(self.rng.randint(start, self.anchor) for _ in range(count))

    def _pick(self, records: list[Record], times: list[int], moment: int) -> Record:
        count = max(1, bisect.bisect_right(times, moment))
        return records[self.rng.randrange(min(count, len(records)))]

    def _item(self, moment: int, inventory_share: float | None = None) -> Record | None:
        paths = [p for p in ITEM_PATHS if self.lists.items_by_time.get(p)]
        if not paths:
            return None
        if inventory_share is not None and "inventory-items" in paths:
            path = "inventory-items" if self.rng.random() < inventory_share else None
        else:
            path = None
        if path is None:
            weights = [ITEM_WEIGHTS[p] for p in paths]
            path = self.rng.choices(paths, weights)[0]
        return self._pick(self.lists.items_by_time[path], self.item_times[path], moment)

    def _header(self, resource_type: str, created: int, updated: int, ref: str) -> dict:
        data = blank(resource_type)
        data.update(
            id=self.company.mint.txn_id(created),
            createdAt=self.clock.fmt(created),
            updatedAt=self.clock.fmt(updated),
            revisionNumber=str(updated),
            transactionDate=self.clock.local_date(created - self.rng.randint(0, 2) * DAY_S),
            refNumber=ref,
        )
        return data

    def _updated(self, created: int) -> int:
        if self.rng.random() < 0.6:
            return created
        return self.rng.randint(created, self.anchor)

    def _line(self, line_type: str, item: Record, quantity: int, created: int, purchase: bool):
        sale, cost = self.lists.prices[item.id]
        rate = cost if purchase else sale
        line = blank(line_type)
        description, _price = item_defaults(item, purchase)
        line.update(
            id=self.company.mint.line_id(created),
            item=self.company.ref(item),
            description=description,
            quantity=quantity,
            rate=fmt_cents(rate),
            amount=fmt_cents(rate * quantity),
        )
        return line, rate * quantity

    def _quantity(self, item: Record) -> int:
        if item.resource == "service-items":
            return self.rng.randint(1, 8)
        return self.rng.choice((1, 1, 2, 3, 4, 5, 6, 10, 12, 24))

    def _add(self, resource: str, data: dict, created: int, updated: int) -> Record:
        record = self.company.add(resource, data, created, updated)
        ledger.apply_change(self.company, {}, ledger.effects(self.company, record))
        return record

    def _due(self, day: str, terms: dict | None) -> str | None:
        if terms is None:
            return None
        return add_days(day, self.company.aux_get("standard_terms", terms["id"])["days"])

    def _sales_header(self, data: dict, customer: Record) -> None:
        party = customer.data
        data.update(
            customer=self.company.ref(customer),
            billingAddress=dict(party["billingAddress"]) if party["billingAddress"] else None,
            shippingAddress=dict(party["shippingAddress"]) if party["shippingAddress"] else None,
            terms=party["terms"],
            salesRepresentative=party["salesRepresentative"],
            salesTaxItem=party["salesTaxItem"],
            salesTaxCode=party["salesTaxCode"],
            isQueuedForPrint=False,
            isQueuedForEmail=False,
        )
        data["dueDate"] = self._due(data["transactionDate"], party["terms"])
        if self.rng.random() < 0.25:
            data["memo"] = self.rng.choice(self.pools.sentences)
        if self.rng.random() < 0.3:
            data["purchaseOrderNumber"] = f"PO-{self.rng.randint(1000, 99999)}"

    def _sales_lines(self, data: dict, line_type: str, created: int, lines: list) -> int:
        """Fill lines (or take ``lines`` as built) and the totals; returns the total in cents."""
        taxable_customer = data["salesTaxCode"] == self.tax
        subtotal = taxable = 0
        if not lines:
            for _ in range(self.rng.choice((1, 1, 2, 2, 3, 4, 5))):
                item = self._item(created)
                if item is None:
                    break
                line, _amount = self._line(line_type, item, self._quantity(item), created, False)
                lines.append(line)
        for line in lines:
            item = self.company.find(ITEM_PATHS, line["item"]["id"])
            code = item.data["salesTaxCode"] if taxable_customer else self.non
            line["salesTaxCode"] = code
            amount = _cents(line["amount"])
            subtotal += amount
            taxable += amount if code == self.tax else 0
        rate = self.tax_rates.get((data["salesTaxItem"] or {}).get("id"))
        tax = round(taxable * float(rate) / 100) if rate else 0
        data.update(
            lines=lines,
            subtotal=fmt_cents(subtotal),
            salesTaxPercentage=rate,
            salesTaxTotal=fmt_cents(tax),
        )
        return subtotal + tax

    # -- transactions ----------------------------------------------------------------------

    def sales_orders(self, count: int) -> None:
        """Sales orders; a few old ones closed by hand."""
        lists = self.lists
        self.orders: list[Record] = []
        for number, created in enumerate(self._times(count), start=1):
            data = self._header("qbd_sales_order", created, self._updated(created), str(number))
            customer = self._pick(lists.customers_by_time, self.customer_times, created)
            self._sales_header(data, customer)
            total = self._sales_lines(data, "qbd_sales_order_line", created, [])
            for line in data["lines"]:
                line.update(quantityInvoiced=0, isManuallyClosed=False)
            old = created < self.anchor - 120 * DAY_S
            data.update(
                totalAmount=fmt_cents(total),
                isManuallyClosed=old and self.rng.random() < 0.1,
                isFullyInvoiced=False,
                shippingMethod=(
                    self.rng.choice(lists.aux["ship_method"]) if self.rng.random() < 0.5 else None
                ),
                documentTemplate=lists.aux_ref("template", "Custom Sales Order"),
            )
            self.orders.append(self._add("sales-orders", data, created, _ts(data)))
        if count:
            self.company.last_ref["sales-orders"] = str(count)

    def purchase_orders(self, count: int) -> None:
        """Purchase orders to vendors, for inventory and non-inventory items."""
        lists = self.lists
        for number, created in enumerate(self._times(count), start=1):
            data = self._header("qbd_purchase_order", created, self._updated(created), str(number))
            vendor = self._pick(lists.vendors_by_time, self.vendor_times, created)
            party = vendor.data
            total = 0
            for _ in range(self.rng.choice((1, 2, 2, 3, 4, 5))):
                item = self._item(created, inventory_share=0.8)
                if item is None or item.resource in ("service-items", "other-charge-items"):
                    continue
                quantity = self.rng.choice((6, 12, 24, 48, 100, 144))
                line, amount = self._line("qbd_purchase_order_line", item, quantity, created, True)
                line.update(unreceived(item, quantity))
                data["lines"].append(line)
                total += amount
            old = created < self.anchor - 60 * DAY_S
            data.update(
                vendor=self.company.ref(vendor),
                vendorAddress=dict(party["billingAddress"]) if party["billingAddress"] else None,
                terms=party["terms"],
                expectedDate=add_days(data["transactionDate"], self.rng.randint(7, 21)),
                dueDate=self._due(data["transactionDate"], party["terms"]),
                totalAmount=fmt_cents(total),
                isManuallyClosed=old and self.rng.random() < 0.3,
                isFullyReceived=False,
                isQueuedForPrint=False,
                isQueuedForEmail=False,
                memo=self.rng.choice(self.pools.sentences) if self.rng.random() < 0.2 else None,
            )
            self._add("purchase-orders", data, created, _ts(data))
        if count:
            self.company.last_ref["purchase-orders"] = str(count)

    def adjustments_and_invoices(self, adjustments: int, invoices: int) -> None:
        """Stock adjustments (mostly restocking) and invoices, some made from sales orders."""
        account = self.lists.accounts["Inventory Adjustments"]
        inventory = self.lists.items_by_time.get("inventory-items", [])
        times = self.item_times.get("inventory-items", [])
        for number, created in enumerate(self._times(adjustments), start=1):
            data = self._header(
                "qbd_inventory_adjustment", created, self._updated(created), str(number)
            )
            data.update(account=account, memo=self.rng.choice(ADJUSTMENT_MEMOS))
            for _ in range(self.rng.choice((1, 1, 2, 3)) if inventory else 0):
                item = self._pick(inventory, times, created)
                restock = self.rng.random() < 0.8
                change = self.rng.randint(10, 120) if restock else -self.rng.randint(1, 8)
                line = blank("qbd_inventory_adjustment_line")
                line.update(
                    id=self.company.mint.line_id(created),
                    item=self.company.ref(item),
                    quantityDifference=change,
                    valueDifference=round(change * self.lists.prices[item.id][1] / 100, 2),
                )
                data["lines"].append(line)
            self._add("inventory-adjustments", data, created, _ts(data))
        if adjustments:
            self.company.last_ref["inventory-adjustments"] = str(adjustments)
        self._invoices(invoices)

    def _invoices(self, count: int) -> None:
        lists = self.lists
        receivable = lists.accounts["Accounts Receivable"]
        orders = [o for o in getattr(self, "orders", []) if not o.data["isManuallyClosed"]]
        order_times = [o.created_ts for o in orders]
        open_orders: list[Record] = []
        next_order = 0
        number = 1000
        for created in self._times(count):
            number += 1
            ref = f"W-{number}" if number % 211 == 0 else str(number)
            data = self._header("qbd_invoice", created, self._updated(created), ref)
            while next_order < len(orders) and order_times[next_order] < created:
                open_orders.append(orders[next_order])
                next_order += 1
            order = None
            if open_orders and self.rng.random() < 0.4:
                order = open_orders.pop(self.rng.randrange(len(open_orders)))
            customer = (
                self.company.get("customers", order.data["customer"]["id"])
                if order
                else (self._pick(lists.customers_by_time, self.customer_times, created))
            )
            self._sales_header(data, customer)
            lines, links = self._lines_from_order(order, created) if order else ([], {})
            total = self._sales_lines(data, "qbd_invoice_line", created, lines)
            age = self.anchor - created
            paid = self.rng.random() < (0.85 if age > 45 * DAY_S else 0.3)
            data.update(
                receivablesAccount=receivable,
                isPending=False,
                isFinanceCharge=False,
                appliedAmount=fmt_cents(-total if paid else 0),
                balanceRemaining=fmt_cents(0 if paid else total),
                isPaid=paid,
                documentTemplate=lists.aux_ref("template", "Intuit Product Invoice"),
            )
            record = self.company.add("invoices", data, created, _ts(data))
            if links:
                record.meta["line_links"] = links
            ledger.apply_change(self.company, {}, ledger.effects(self.company, record))
            if order:
                self.company.link(order, record)
        if count:
            self.company.last_ref["invoices"] = str(number)

    def _lines_from_order(self, order: Record, created: int) -> tuple[list, dict]:
        lines, links = [], {}
        for source in order.data["lines"]:
            line = blank("qbd_invoice_line")
            line.update(
                id=self.company.mint.line_id(created),
                item=dict(source["item"]),
                description=source["description"],
                quantity=source["quantity"],
                rate=source["rate"],
                amount=source["amount"],
            )
            lines.append(line)
            links[line["id"]] = (order.id, source["id"])
        return lines, links

    def deletions(self, count: int) -> None:
        """Transactions and list objects deleted by QuickBooks users in the last 90 days."""
        kinds = ("sales-orders", "purchase-orders", "invoices", "inventory-adjustments")
        for index in range(count):
            resource = kinds[index % len(kinds)] if index % 5 != 4 else "customers"
            created = self.anchor - self.rng.randint(100, 700) * DAY_S
            deleted = self.anchor - self.rng.randint(0, 85 * DAY_S)
            if resource == "customers":
                record_id = self.company.mint.list_id(created)
                data = {"id": record_id, "fullName": f"Closed Account {index + 1}"}
            else:
                record_id = self.company.mint.txn_id(created)
                data = {"id": record_id, "refNumber": f"D{index + 1}"}
            data["createdAt"] = self.clock.fmt(created)
            ghost = Record(resource, data, 0, created, created)
            self.company.record_deletion(ghost, deleted)


def _cents(text: str) -> int:
    whole, _, fraction = text.lstrip("-").partition(".")
    cents = int(whole) * 100 + int((fraction + "00")[:2])
    return -cents if text.startswith("-") else cents


def _ts(data: dict) -> int:
    return int(data["revisionNumber"])
