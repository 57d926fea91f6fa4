"""Inventory adjustments with their lines, both ways (quantities combine as net changes)."""

from webapp.models.wms import InventoryAdjustment
from webapp.sync.base import SyncObject


class InventoryAdjustmentSync(SyncObject):
    name = "inventory_adjustment"
    display_name = "Inventory Adjustments"
    direction = "both"
    depends_on = ("item",)
    resources = ("inventory-adjustments",)
    model = InventoryAdjustment
