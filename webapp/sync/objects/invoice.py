"""Invoices with their lines, from QuickBooks to the WMS only."""

from webapp.models.wms import Invoice, InvoiceLine
from webapp.sync.base import TRANSACTION, SyncObject
from webapp.sync.fields import Bool, Day, Number
from webapp.sync.objects._transaction import (
    CUSTOMER,
    CUSTOMER_DOCUMENT_FIELDS,
    LINE_FIELDS,
    LINE_ITEM,
)


class InvoiceSync(SyncObject):
    name = "invoice"
    display_name = "Invoices"
    direction = "pull"
    depends_on = ("customer", "item")
    resources = ("invoices",)
    kind = TRANSACTION
    model = Invoice
    deleted_types = {"invoices": "invoice"}
    # Invoicing a sales order changes its invoiced quantities without a new revision: the
    # links say which orders to read again (webapp.sync.refresh).
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
