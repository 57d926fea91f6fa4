"""Invoices with their lines, from QuickBooks to the WMS only."""

from webapp.models.wms import Invoice
from webapp.sync.base import SyncObject


class InvoiceSync(SyncObject):
    name = "invoice"
    display_name = "Invoices"
    direction = "pull"
    depends_on = ("customer", "item")
    resources = ("invoices",)
    model = Invoice
