"""Sales orders with their lines, both ways."""

from webapp.models.wms import SalesOrder, SalesOrderLine
from webapp.sync.base import TRANSACTION, SyncObject
from webapp.sync.fields import Address, Bool, Day, Number, Ref, Text
from webapp.sync.objects._transaction import HEADER_FIELDS, LINE_FIELDS, LINE_ITEM


class SalesOrderSync(SyncObject):
    name = "sales_order"
    display_name = "Sales Orders"
    direction = "both"
    depends_on = ("customer", "item")
    resources = ("sales-orders",)
    kind = TRANSACTION
    model = SalesOrder
    deleted_types = {"sales-orders": "sales_order"}
    fields = {
        **HEADER_FIELDS,
        "purchase_order_number": Text("purchaseOrderNumber"),
        "due_date": Day("dueDate"),
        "shipping_date": Day("shippingDate"),
        "billing_address": Address("billingAddress"),
        "shipping_address": Address("shippingAddress"),
        "subtotal": Number("subtotal", places=2),
        "sales_tax_total": Number("salesTaxTotal", places=2),
        "total_amount": Number("totalAmount", places=2),
        "is_manually_closed": Bool("isManuallyClosed"),
        "is_fully_invoiced": Bool("isFullyInvoiced"),
    }
    refs = (Ref("customer", target="customer", column="customer_id",
                qb_column="customer_qb_id", required=True),)
    line_model = SalesOrderLine
    line_parent = "sales_order_id"
    line_fields = {
        **LINE_FIELDS,
        "quantity_invoiced": Number("quantityInvoiced"),
        "is_manually_closed": Bool("isManuallyClosed"),
    }
    line_refs = (LINE_ITEM,)
