"""All models, imported here so Alembic and the app see one complete metadata."""

from webapp.models.auth import ApiToken, User
from webapp.models.sync import (
    SyncError,
    SyncObjectRun,
    SyncRecordEvent,
    SyncSession,
    SyncState,
)
from webapp.models.wms import (
    Customer,
    InventoryAdjustment,
    InventoryAdjustmentLine,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    SyncWriteMarker,
    Vendor,
)

__all__ = [
    "ApiToken",
    "Customer",
    "InventoryAdjustment",
    "InventoryAdjustmentLine",
    "Invoice",
    "InvoiceLine",
    "Item",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "SalesOrder",
    "SalesOrderLine",
    "SyncRecordEvent",
    "SyncWriteMarker",
    "SyncError",
    "SyncObjectRun",
    "SyncSession",
    "SyncState",
    "User",
    "Vendor",
]
