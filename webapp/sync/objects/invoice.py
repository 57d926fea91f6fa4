"""Invoices with their lines, from QuickBooks to the WMS only."""

from webapp.models.wms import Invoice, InvoiceLine
from webapp.sync.base import TRANSACTION, SyncObject
from webapp.sync.fields import Address, Bool, Day, Number, Ref, Text
from webapp.sync.objects._transaction import HEADER_FIELDS, LINE_FIELDS, LINE_ITEM


class InvoiceSync(SyncObject):
    name = "invoice"
    display_name = "Invoices"
    direction = "pull"
    depends_on = ("customer", "item")
    resources = ("invoices",)
    kind = TRANSACTION
    model = Invoice
    deleted_types = {"invoices": "invoice"}
    fields = {
        **HEADER_FIELDS,
        "purchase_order_number": Text("purchaseOrderNumber"),
        "due_date": Day("dueDate"),
        "shipping_date": Day("shippingDate"),
        "billing_address": Address("billingAddress"),
        "shipping_address": Address("shippingAddress"),
        "subtotal": Number("subtotal", places=2),
        "sales_tax_total": Number("salesTaxTotal", places=2),
        "applied_amount": Number("appliedAmount", places=2),
        "balance_remaining": Number("balanceRemaining", places=2),
        "is_paid": Bool("isPaid"),
        "is_pending": Bool("isPending"),
    }
    refs = (Ref("customer", target="customer", column="customer_id",
                qb_column="customer_qb_id", required=True),)
    line_model = InvoiceLine
    line_parent = "invoice_id"
    line_fields = {**LINE_FIELDS, "service_date": Day("serviceDate")}
    line_refs = (LINE_ITEM,)
