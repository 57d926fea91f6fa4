"""Generated items of the kinds the simulator only lists: discounts, subtotals, sales taxes,
sales-tax groups, inventory assemblies and item groups, and the sales lines that use them.

Real company files have a handful of each, and their sales orders and invoices often carry a
discount, a subtotal or an assembly line. They come on top of the company's ``size`` (like the
accounts) and are made after everything else, from their own random stream and with list ids
minted last, so the records of every other resource stay exactly what the seed gave before.
"""

from __future__ import annotations

import random
from decimal import Decimal

from qbdsim import ledger
from qbdsim.fields import blank
from qbdsim.generate_lists import DAY_S, HISTORY_S, ListMaker
from qbdsim.groups import group_lines
from qbdsim.lines import settle_special_lines
from qbdsim.resources import RESOURCES
from qbdsim.store import Company, Record
from qbdsim.values import fmt_cents, fmt_money, to_decimal

# (name, description, discountRate, discountRatePercent)
DISCOUNTS = [
    ("Loyalty Discount", "Loyal customer discount", None, "5.0"),
    ("Volume Discount", "Volume discount", None, "10.0"),
    ("Damaged Goods Credit", "Credit for damaged goods", "25.00", None),
    ("Promo Discount", "Promotional discount", "15.00", None),
]
SUBTOTALS = [("Subtotal", "Subtotal"), ("Group Subtotal", "Subtotal of the lines above")]
# (name, sales price in cents, cost in cents, components as (inventory item index, quantity))
ASSEMBLIES = [
    ("Deluxe Tool Kit", 18_900, 9_400, ((0, 1), (1, 2), (2, 4))),
    ("Starter Plumbing Kit", 7_450, 3_100, ((3, 1), (4, 6))),
    ("Shelving Unit Assembled", 24_900, 11_800, ((5, 4), (6, 16), (7, 1))),
]
GROUPS = [("Bathroom Bundle", ((0, 1), (1, 1))), ("Install Package", ((2, 1), (3, 2)))]
# Shares of sales orders and invoices given one of these lines (about 9% in all).
SUBTOTAL_AND_PERCENT_SHARE = 0.04
FLAT_DISCOUNT_SHARE = 0.03
ASSEMBLY_SHARE = 0.02


class OtherItemMaker:
    """Makes the other item kinds and adds their lines to some sales orders and invoices."""

    def __init__(self, company: Company, lists: ListMaker, seed: int, anchor: int) -> None:
        self.company = company
        self.lists = lists
        self.rng = random.Random(f"qbdsim-other-items-{seed}")
        self.created = anchor - HISTORY_S - 5 * DAY_S
        self.made: dict[str, list[Record]] = {}
        self.assembly_prices: dict[str, int] = {}

    def _add(self, path: str, fields: dict, list_id: str | None = None) -> Record:
        data = blank(RESOURCES[path].object_type)
        created = self.created
        data.update(id=list_id or self.company.mint.list_id(created), isActive=True, **fields)
        if "fullName" in data:
            data.update(fullName=data["name"], sublevel=0)
        self.lists.stamp(data, created, created)
        record = self.company.add(path, data, created, created)
        self.made.setdefault(path, []).append(record)
        return record

    def _name(self, name: str) -> str:
        return self.lists.unique(name, 31, self.lists.item_names)

    def items(self) -> None:
        """A handful of each kind; the sales-tax items are the ones customers already use."""
        lists, company = self.lists, self.company
        non = lists.aux_ref("sales_tax_code", "Non")
        tax = lists.aux_ref("sales_tax_code", "Tax")
        for name, description, rate, percent in DISCOUNTS:
            self._add(
                "discount-items",
                dict(
                    name=self._name(name),
                    description=description,
                    salesTaxCode=non,
                    discountRate=rate,
                    discountRatePercent=percent,
                    account=lists.accounts["Sales"],
                ),
            )
        for name, description in SUBTOTALS:
            self._add("subtotal-items", dict(name=self._name(name), description=description))
        tax_items = []
        for entry in company.aux.get("sales_tax_item", {}).values():
            lists.item_names.add(entry["fullName"].casefold())
            record = self._add(
                "sales-tax-items",
                dict(name=entry["fullName"], description=entry["fullName"], taxRate=entry["rate"]),
                list_id=entry["id"],
            )
            tax_items.append(record)
        self._add(
            "sales-tax-group-items",
            dict(
                name=self._name("Combined Tax"),
                description="State and county tax",
                salesTaxItems=[company.ref(r) for r in tax_items[:2]],
            ),
        )
        inventory = lists.items_by_time.get("inventory-items", [])
        for name, sale, cost, parts in ASSEMBLIES:
            record = self._add(
                "inventory-assembly-items",
                dict(
                    name=self._name(name),
                    sku=f"ASM-{self.rng.randint(1000, 9999)}",
                    salesTaxCode=tax,
                    salesDescription=name,
                    salesPrice=fmt_cents(sale),
                    incomeAccount=lists.accounts["Merchandise"],
                    purchaseDescription=name,
                    purchaseCost=fmt_cents(cost),
                    cogsAccount=lists.accounts["Cost of Goods Sold"],
                    assetAccount=lists.accounts["Inventory Asset"],
                    buildNotificationThreshold=self.rng.randint(2, 10),
                    quantityOnHand=self.rng.randint(0, 40),
                    averageCost=fmt_cents(cost),
                    quantityOnPurchaseOrder=0,
                    quantityOnSalesOrder=0,
                    lines=[
                        {"inventoryItem": company.ref(inventory[index]), "quantity": quantity}
                        for index, quantity in parts
                        if index < len(inventory)
                    ],
                ),
            )
            self.assembly_prices[record.id] = sale
        everyday = [
            r
            for path in ("inventory-items", "service-items")
            for r in lists.items_by_time.get(path, [])[:4]
        ]
        for name, parts in GROUPS:
            self._add(
                "item-groups",
                dict(
                    name=self._name(name),
                    description=name,
                    shouldPrintItemsInGroup=False,
                    lines=[
                        {
                            "item": company.ref(everyday[index]),
                            "quantity": quantity,
                            "unitOfMeasure": None,
                        }
                        for index, quantity in parts
                        if index < len(everyday)
                    ],
                ),
            )

    def sales_lines(self, tax_rates: dict[str, str]) -> None:
        """Give some sales orders and invoices a discount, subtotal or assembly line."""
        tax = self.lists.aux_ref("sales_tax_code", "Tax")
        for path in ("sales-orders", "invoices"):
            for record in list(self.company.records[path].values()):
                roll = self.rng.random()
                if roll < SUBTOTAL_AND_PERCENT_SHARE:
                    lines = [self._subtotal_line(record), self._discount_line(record, True)]
                elif roll < SUBTOTAL_AND_PERCENT_SHARE + FLAT_DISCOUNT_SHARE:
                    lines = [self._discount_line(record, False)]
                elif roll < SUBTOTAL_AND_PERCENT_SHARE + FLAT_DISCOUNT_SHARE + ASSEMBLY_SHARE:
                    lines = [self._assembly_line(record, tax)]
                else:
                    continue
                if path == "sales-orders":
                    for line in lines:
                        line.update(quantityInvoiced=0, isManuallyClosed=False)
                before = ledger.effects(self.company, record)
                record.data["lines"].extend(lines)
                retotal(self.company, record, tax, tax_rates)
                record.invalidate()
                ledger.apply_change(self.company, before, ledger.effects(self.company, record))

    def _new_line(self, record: Record, item: Record) -> dict:
        line = blank(RESOURCES[record.resource].line_type)
        line.update(
            id=self.company.mint.line_id(record.created_ts),
            item=self.company.ref(item),
            description=item.data.get("description"),
        )
        return line

    def _subtotal_line(self, record: Record) -> dict:
        line = self._new_line(record, self.made["subtotal-items"][0])
        line["amount"] = "0.00"  # settled with the other lines (see retotal)
        return line

    def _discount_line(self, record: Record, percent: bool) -> dict:
        kinds = [
            r
            for r in self.made["discount-items"]
            if (r.data["discountRatePercent"] is not None) is percent
        ]
        item = self.rng.choice(kinds)
        line = self._new_line(record, item)
        line["salesTaxCode"] = item.data["salesTaxCode"]
        if percent:
            line.update(ratePercent=f"-{item.data['discountRatePercent']}", amount="0.00")
        else:
            flat = f"-{item.data['discountRate']}"
            line.update(rate=flat, amount=flat)
        return line

    def _assembly_line(self, record: Record, tax: dict) -> dict:
        item = self.rng.choice(self.made["inventory-assembly-items"])
        quantity = self.rng.randint(1, 4)
        price = self.assembly_prices[item.id]
        line = self._new_line(record, item)
        taxable = record.data["salesTaxCode"] == tax
        line.update(
            description=item.data["salesDescription"],
            quantity=quantity,
            rate=fmt_cents(price),
            amount=fmt_cents(price * quantity),
            salesTaxCode=item.data["salesTaxCode"]
            if taxable
            else self.lists.aux_ref("sales_tax_code", "Non"),
        )
        return line


def retotal(company: Company, record: Record, tax: dict, tax_rates: dict[str, str]) -> None:
    """Subtotal, tax and total of a sales order or invoice again after lines were added, as
    QuickBooks computes them (line groups' lines included)."""
    data = record.data
    counted = settle_special_lines(company, data["lines"]) + group_lines(data)
    subtotal = sum((to_decimal(line["amount"]) for line in counted), Decimal(0))
    taxable = sum(
        (to_decimal(line["amount"]) for line in counted if line["salesTaxCode"] == tax), Decimal(0)
    )
    rate = tax_rates.get((data["salesTaxItem"] or {}).get("id"))
    cents = round(taxable * 100 * Decimal(rate) / 100) if rate else 0
    total = subtotal + Decimal(cents) / 100
    data.update(subtotal=fmt_money(subtotal), salesTaxTotal=fmt_cents(cents))
    if record.resource == "sales-orders":
        data["totalAmount"] = fmt_money(total)
    elif data["isPaid"]:
        data.update(appliedAmount=fmt_money(-total), balanceRemaining="0.00")
    else:
        data["balanceRemaining"] = fmt_money(total + to_decimal(data["appliedAmount"]))
