"""Invoices with their lines and line groups, from QuickBooks to the WMS only."""

from typing import Any

from webapp.models.wms import Invoice, InvoiceLine
from webapp.sync.base import LINKED_SALES_ORDERS, TRANSACTION
from webapp.sync.fields import Bool, Day, Number
from webapp.sync.objects._transaction import (
    CUSTOMER,
    CUSTOMER_DOCUMENT_FIELDS,
    LINE_FIELDS,
    LINE_ITEM,
    GroupedLinesSync,
)


class InvoiceSync(GroupedLinesSync):
    name = "invoice"
    display_name = "Invoices"
    direction = "pull"
    depends_on = ("customer", "item")
    resources = ("invoices",)
    kind = TRANSACTION
    model = Invoice
    deleted_types = {"invoices": "invoice"}
    # Invoicing a sales order changes its invoiced quantities without a new revision: the
    # links say which orders to read again (webapp.sync.pull.refresh).
    list_params = {"includeLinkedTransactions": True}
    fields = {
        **CUSTOMER_DOCUMENT_FIELDS,
        "applied_amount": Number("appliedAmount", places=2),
        "balance_remaining": Number("balanceRemaining", places=2),
        "is_paid": Bool("isPaid"),
        "is_pending": Bool("isPending"),
    }
    refs = (CUSTOMER,)
    line_model = InvoiceLine
    line_parent = "invoice_id"
    line_fields = {**LINE_FIELDS, "service_date": Day("serviceDate")}
    line_refs = (LINE_ITEM,)
    links_sales_orders = True

    @classmethod
    def to_local(cls, record: dict[str, Any], resource: str) -> tuple[dict, dict]:
        values, base = super().to_local(record, resource)
        # Kept with the invoice: once it is deleted, QuickBooks no longer says which orders
        # it invoiced, and their invoiced quantities go back without a new revision.
        base[LINKED_SALES_ORDERS] = cls.linked_sales_orders(record)
        return values, base

    @classmethod
    def linked_sales_orders(cls, record: dict[str, Any]) -> list[str]:
        return sorted({
            link["id"] for link in record.get("linkedTransactions") or ()
            if isinstance(link, dict) and link.get("transactionType") == "sales_order"
            and isinstance(link.get("id"), str)
        })
