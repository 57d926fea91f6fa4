"""Inventory adjustments with their lines, both ways (quantities combine as net changes).

QuickBooks does not paginate them, so the engine always reads them in date windows. An
adjustment created in the WMS is created in QuickBooks with the same quantity differences
(`adjustQuantity.quantityDifference`); its value difference is QuickBooks' (from the item's
average cost). Serial and lot numbers are not sent.
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
        "account_qb_id": Text("account.id", write=False),
        "account_name": RefName("account"),
    }
    refs = (Ref("customer", target="customer", column="customer_id",
                qb_column="customer_qb_id"),)
    line_model = InventoryAdjustmentLine
    line_parent = "inventory_adjustment_id"
    line_fields = {
        "quantity_difference": Number("quantityDifference",
                                      write="adjustQuantity.quantityDifference"),
        "value_difference": Number("valueDifference", places=2, write=False),
        "serial_number": Text("serialNumber", write=False),
        "lot_number": Text("lotNumber", write=False),
    }
    line_refs = (LINE_ITEM,)
