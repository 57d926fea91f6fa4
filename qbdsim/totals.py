"""What QuickBooks computes on a sales form's header from its lines: subtotal, sales tax, total.

Sales orders, invoices, sales receipts and credit memos share it. Requests cannot set these
figures; every write recomputes them.
"""

from __future__ import annotations

from decimal import Decimal

from qbdsim.groups import group_lines
from qbdsim.lines import settle_special_lines
from qbdsim.store import Company
from qbdsim.values import fmt_money, to_decimal

TAXABLE_CODE = "Tax"


def counted_lines(company: Company, data: dict) -> list[dict]:
    """The lines that make up the total (subtotal lines only show a figure), amounts settled."""
    return settle_special_lines(company, data["lines"]) + group_lines(data)


def sales_totals(company: Company, data: dict) -> Decimal:
    """Set ``subtotal``, ``salesTaxPercentage`` and ``salesTaxTotal``; return the total.

    The tax is the sales-tax item's rate on the lines whose tax code is ``Tax``.
    """
    counted = counted_lines(company, data)
    subtotal = sum((to_decimal(line["amount"]) for line in counted), Decimal(0))
    tax_item = data["salesTaxItem"]
    entry = company.aux_get("sales_tax_item", tax_item["id"]) if tax_item else None
    rate = to_decimal(entry["rate"]) if entry else Decimal(0)
    data["salesTaxPercentage"] = entry["rate"] if entry else None
    taxable = sum(
        (
            to_decimal(line["amount"])
            for line in counted
            if (line["salesTaxCode"] or {}).get("fullName") == TAXABLE_CODE
        ),
        Decimal(0),
    )
    data["subtotal"] = fmt_money(subtotal)
    data["salesTaxTotal"] = fmt_money(taxable * rate / 100)
    return to_decimal(data["subtotal"]) + to_decimal(data["salesTaxTotal"])
