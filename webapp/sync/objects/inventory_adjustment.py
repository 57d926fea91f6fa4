"""Inventory adjustments with their lines, both ways (quantities combine as net changes).

QuickBooks does not paginate them, so the engine always reads them in date windows.
"""

from webapp.models.wms import InventoryAdjustment, InventoryAdjustmentLine
from webapp.sync.base import ADJUSTMENT, SyncObject
from webapp.sync.fields import Number, Ref, RefName, Text
from webapp.sync.objects._transaction import HEADER_FIELDS, LINE_ITEM


class InventoryAdjustmentSync(SyncObject):
    name = "inventory_adjustment"
    display_name = "Inventory Adjustments"
    direction = "both"
    depends_on = ("item",)
    resources = ("inventory-adjustments",)
    kind = ADJUSTMENT
    model = InventoryAdjustment
    deleted_types = {"inventory-adjustments": "inventory_adjustment"}
    fields = {
        **HEADER_FIELDS,
        "account_qb_id": Text("account.id"),
        "account_name": RefName("account"),
    }
    refs = (Ref("customer", target="customer", column="customer_id",
                qb_column="customer_qb_id"),)
    line_model = InventoryAdjustmentLine
    line_parent = "inventory_adjustment_id"
    line_fields = {
        "quantity_difference": Number("quantityDifference"),
        "value_difference": Number("valueDifference", places=2),
        "serial_number": Text("serialNumber"),
        "lot_number": Text("lotNumber"),
    }
    line_refs = (LINE_ITEM,)
