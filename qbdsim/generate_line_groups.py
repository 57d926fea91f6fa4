"""Line groups on generated sales orders, purchase orders and invoices.

About one in 25 of them carries one of the company's item groups (1 to 3 of it): the group's
component items as lines under the group, priced like the transaction's other lines, and the
group's ``totalAmount`` their sum. Like the other item kinds' lines (``generate_other_items``)
they are added after everything else, from their own random stream and with line ids minted
last, so every other record of a seed stays what it was, except for the figures the groups feed
(the transactions' totals, the items' quantities, the customers' balances).
"""

from __future__ import annotations

import random

from qbdsim import ledger
from qbdsim.fields import blank
from qbdsim.generate_lists import ListMaker
from qbdsim.generate_other_items import retotal
from qbdsim.groups import group_lines, group_type
from qbdsim.lines import item_defaults, unreceived
from qbdsim.resources import RESOURCES
from qbdsim.store import Company, Record
from qbdsim.values import fmt_cents, fmt_money, to_decimal

GROUP_SHARE = 0.04
PATHS = ("sales-orders", "purchase-orders", "invoices")


class LineGroupMaker:
    """Adds line groups, made from the company's item groups, to some transactions."""

    def __init__(self, company: Company, lists: ListMaker, seed: int) -> None:
        self.company = company
        self.lists = lists
        self.rng = random.Random(f"qbdsim-line-groups-{seed}")
        self.tax = lists.aux_ref("sales_tax_code", "Tax")
        self.non = lists.aux_ref("sales_tax_code", "Non")

    def add(self, tax_rates: dict[str, str]) -> None:
        """Give about ``GROUP_SHARE`` of the orders and invoices a line group."""
        sources = [
            group
            for group in self.company.records["item-groups"].values()
            if group.data["lines"]
            and all(line["item"]["id"] in self.lists.prices for line in group.data["lines"])
        ]
        if not sources:
            return
        for path in PATHS:
            for record in list(self.company.records[path].values()):
                if self.rng.random() >= GROUP_SHARE:
                    continue
                source = self.rng.choice(sources)
                quantity = self.rng.randint(1, 3)
                before = ledger.effects(self.company, record)
                record.data["lineGroups"].append(self._group(record, source, quantity))
                self._retotal(record, tax_rates)
                record.invalidate()
                ledger.apply_change(self.company, before, ledger.effects(self.company, record))

    def _group(self, record: Record, source: Record, quantity: int) -> dict:
        group = blank(group_type(RESOURCES[record.resource]))
        lines = [
            self._line(record, component["item"]["id"], component["quantity"] * quantity)
            for component in source.data["lines"]
        ]
        group.update(
            id=self.company.mint.line_id(record.created_ts),
            itemGroup=self.company.ref(source),
            description=source.data["description"],
            quantity=quantity,
            shouldPrintItemsInGroup=bool(source.data["shouldPrintItemsInGroup"]),
            totalAmount=fmt_money(sum(to_decimal(line["amount"]) for line in lines)),
            lines=lines,
        )
        return group

    def _line(self, record: Record, item_id: str, quantity: int) -> dict:
        purchase = record.resource == "purchase-orders"
        item = self.company.find(("inventory-items", "non-inventory-items", "service-items",
                                  "other-charge-items"), item_id)
        sale, cost = self.lists.prices[item_id]
        rate = cost if purchase else sale
        description, _price = item_defaults(item, purchase)
        line = blank(RESOURCES[record.resource].line_type)
        line.update(
            id=self.company.mint.line_id(record.created_ts),
            item=self.company.ref(item),
            description=description,
            quantity=quantity,
            rate=fmt_cents(rate),
            amount=fmt_cents(rate * quantity),
        )
        if record.resource == "sales-orders":
            line.update(quantityInvoiced=0, isManuallyClosed=False)
        elif purchase:
            line.update(unreceived(item, quantity))
        if not purchase:
            taxable = record.data["salesTaxCode"] == self.tax
            line["salesTaxCode"] = item.data["salesTaxCode"] if taxable else self.non
        return line

    def _retotal(self, record: Record, tax_rates: dict[str, str]) -> None:
        data = record.data
        if record.resource != "purchase-orders":
            retotal(self.company, record, self.tax, tax_rates)
            if record.resource == "sales-orders":
                data["isFullyInvoiced"] = ledger.fully_invoiced(data["lines"] + group_lines(data))
            return
        amounts = [to_decimal(line["amount"]) for line in data["lines"] + group_lines(data)]
        data["totalAmount"] = fmt_money(sum(amounts))
