"""Sales orders with their lines, both ways."""

from webapp.models.wms import SalesOrder
from webapp.sync.base import SyncObject


class SalesOrderSync(SyncObject):
    name = "sales_order"
    display_name = "Sales Orders"
    direction = "both"
    depends_on = ("customer", "item")
    resources = ("sales-orders",)
    model = SalesOrder
