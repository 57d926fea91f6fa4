"""Purchase orders with their lines and line groups, both ways."""

from webapp.models.wms import PurchaseOrder, PurchaseOrderLine
from webapp.sync.base import TRANSACTION
from webapp.sync.fields import Address, Bool, Day, Number, Ref, Text
from webapp.sync.objects._transaction import (
    HEADER_FIELDS,
    LINE_FIELDS,
    LINE_ITEM,
    GroupedLinesSync,
)


class PurchaseOrderSync(GroupedLinesSync):
    name = "purchase_order"
    display_name = "Purchase Orders"
    direction = "both"
    depends_on = ("vendor", "item")
    resources = ("purchase-orders",)
    kind = TRANSACTION
    model = PurchaseOrder
    deleted_types = {"purchase-orders": "purchase_order"}
    fields = {
        **HEADER_FIELDS,
        "due_date": Day("dueDate"),
        "expected_date": Day("expectedDate"),
        "vendor_address": Address("vendorAddress"),
        "shipping_address": Address("shippingAddress"),
        "vendor_message": Text("vendorMessage"),
        "total_amount": Number("totalAmount", places=2, write=False),
        "is_manually_closed": Bool("isManuallyClosed", update_only=True),
        "is_fully_received": Bool("isFullyReceived", write=False),
    }
    refs = (Ref("vendor", target="vendor", column="vendor_id", qb_column="vendor_qb_id"),)
    line_model = PurchaseOrderLine
    line_parent = "purchase_order_id"
    line_fields = {
        **LINE_FIELDS,
        "sku": Text("sku"),
        "received_quantity": Number("receivedQuantity", write=False),
        "is_manually_closed": Bool("isManuallyClosed", update_only=True),
    }
    line_refs = (LINE_ITEM,)
