"""Sales orders with their lines and line groups, both ways."""

from webapp.models.wms import SalesOrder, SalesOrderLine
from webapp.sync.base import TRANSACTION
from webapp.sync.fields import Bool, Number
from webapp.sync.objects._transaction import (
    CUSTOMER,
    CUSTOMER_DOCUMENT_FIELDS,
    LINE_FIELDS,
    LINE_ITEM,
    GroupedLinesSync,
)


class SalesOrderSync(GroupedLinesSync):
    name = "sales_order"
    display_name = "Sales Orders"
    direction = "both"
    depends_on = ("customer", "item")
    resources = ("sales-orders",)
    kind = TRANSACTION
    model = SalesOrder
    deleted_types = {"sales-orders": "sales_order"}
    fields = {
        **CUSTOMER_DOCUMENT_FIELDS,
        "total_amount": Number("totalAmount", places=2, write=False),
        "is_manually_closed": Bool("isManuallyClosed"),
        "is_fully_invoiced": Bool("isFullyInvoiced", write=False),
    }
    refs = (CUSTOMER,)
    line_model = SalesOrderLine
    line_parent = "sales_order_id"
    line_fields = {
        **LINE_FIELDS,
        "quantity_invoiced": Number("quantityInvoiced", write=False),
        "is_manually_closed": Bool("isManuallyClosed", update_only=True),
    }
    line_refs = (LINE_ITEM,)
