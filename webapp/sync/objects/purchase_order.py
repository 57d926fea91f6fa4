"""Purchase orders with their lines, both ways."""

from webapp.models.wms import PurchaseOrder
from webapp.sync.base import SyncObject


class PurchaseOrderSync(SyncObject):
    name = "purchase_order"
    display_name = "Purchase Orders"
    direction = "both"
    depends_on = ("vendor", "item")
    resources = ("purchase-orders",)
    model = PurchaseOrder
