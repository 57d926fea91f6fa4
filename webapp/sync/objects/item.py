"""Items of the four QuickBooks kinds, into one table with `item_type`."""

from webapp.models.wms import Item
from webapp.sync.base import SyncObject


class ItemSync(SyncObject):
    name = "item"
    display_name = "Items"
    direction = "both"
    depends_on = ("vendor",)
    resources = ("inventory-items", "non-inventory-items", "service-items", "other-charge-items")
    model = Item
