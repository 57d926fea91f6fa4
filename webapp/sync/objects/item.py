"""Items of the four QuickBooks kinds, into one table with `item_type`.

Inventory items carry prices and accounts at the top level; the other kinds carry them in
`salesOrPurchaseDetails` or `salesAndPurchaseDetails` (one or the other).
"""

from typing import Any

from webapp.models.wms import Item
from webapp.sync.base import SyncObject
from webapp.sync.fields import Bool, Field, Integer, Number, Ref, RefName, Text, apply_fields
from webapp.sync.merge import LaterChangeWins

ITEM_TYPES = {
    "inventory-items": "inventory",
    "non-inventory-items": "non_inventory",
    "service-items": "service",
    "other-charge-items": "other_charge",
}
# The other item kinds QuickBooks has, most common on sales lines first (the order lookups
# try them in).
NOT_MIRRORED_ITEM_RESOURCES = (
    "discount-items",
    "subtotal-items",
    "sales-tax-items",
    "inventory-assembly-items",
    "sales-tax-group-items",
    "item-groups",
)
COMMON = {
    "name": Text("name", required=True, max_length=31),
    "full_name": Text("fullName", required=True, write=False),
    "sublevel": Integer("sublevel", write=False),
    "barcode": Text("barcode", write="barcode.value"),
    "external_id": Text("externalId", create_only=True),
    "is_active": Bool("isActive"),
}
INVENTORY = {
    "sku": Text("sku"),
    "sales_description": Text("salesDescription"),
    "sales_price": Number("salesPrice", places=5),
    "purchase_description": Text("purchaseDescription"),
    "purchase_cost": Number("purchaseCost", places=5),
    "income_account": RefName("incomeAccount"),
    "expense_account": RefName("cogsAccount"),
    # moved only by inventory adjustments (net changes, DESIGN §1)
    "quantity_on_hand": Number("quantityOnHand", write=False),
    "reorder_point": Number("reorderPoint"),
    "maximum_quantity_on_hand": Number("maximumQuantityOnHand"),
    "average_cost": Number("averageCost", places=5, write=False),
    "quantity_on_sales_order": Number("quantityOnSalesOrder", write=False),
    "quantity_on_purchase_order": Number("quantityOnPurchaseOrder", write=False),
}
SALES_OR_PURCHASE = {
    "sales_description": Text("salesOrPurchaseDetails.description"),
    "sales_price": Number("salesOrPurchaseDetails.price", places=5),
    "income_account": RefName("salesOrPurchaseDetails.postingAccount"),
}
SALES_AND_PURCHASE = {
    "sales_description": Text("salesAndPurchaseDetails.salesDescription"),
    "sales_price": Number("salesAndPurchaseDetails.salesPrice", places=5),
    "purchase_description": Text("salesAndPurchaseDetails.purchaseDescription"),
    "purchase_cost": Number("salesAndPurchaseDetails.purchaseCost", places=5),
    "income_account": RefName("salesAndPurchaseDetails.incomeAccount"),
    "expense_account": RefName("salesAndPurchaseDetails.expenseAccount"),
}
NON_INVENTORY = {"sku": Text("sku")}
RESOURCE_BY_ITEM_TYPE = {item_type: resource for resource, item_type in ITEM_TYPES.items()}
DETAILS = "details"  # the key in `sync_base`: which details block the item has
# Every column once (a column's converter is the same in each item kind's declarations).
ALL_FIELDS = {**SALES_OR_PURCHASE, **SALES_AND_PURCHASE, **NON_INVENTORY, **INVENTORY, **COMMON}
EMPTY = {column: None for column in {*INVENTORY, *SALES_AND_PURCHASE}}


class ItemSync(SyncObject):
    name = "item"
    display_name = "Items"
    direction = "both"
    depends_on = ("vendor",)
    resources = tuple(ITEM_TYPES)
    model = Item
    deleted_types = {
        "inventory-items": "item_inventory",
        "non-inventory-items": "item_non_inventory",
        "service-items": "item_service",
        "other-charge-items": "item_other_charge",
    }
    rule = LaterChangeWins()
    net_change = frozenset({"quantity_on_hand"})
    refs = (
        Ref("parent", target="item", column="parent_id", qb_column="parent_qb_id"),
        Ref(("preferredVendor", "salesAndPurchaseDetails.preferredVendor"), target="vendor",
            column="preferred_vendor_id", qb_column="preferred_vendor_qb_id"),
    )

    @classmethod
    def column_fields(cls) -> dict[str, Field]:
        return ALL_FIELDS

    @classmethod
    def resource_of(cls, row) -> str:
        return RESOURCE_BY_ITEM_TYPE[row["item_type"]]

    @classmethod
    def details(cls, row) -> str | None:
        """Which details block a non-inventory, service or other-charge item has in
        QuickBooks (kept in its base); a new one with purchase figures gets both sides."""
        if row["item_type"] == "inventory":
            return None
        kind = (row.get("sync_base") or {}).get(DETAILS)
        if kind is None:
            purchase = ("purchase_description", "purchase_cost", "expense_account")
            both = any(row.get(column) is not None for column in purchase)
            kind = "salesAndPurchaseDetails" if both else "salesOrPurchaseDetails"
        return kind

    @classmethod
    def write_fields(cls, row) -> dict[str, Field]:
        details = cls.details(row)
        if details is None:
            return {**COMMON, **INVENTORY}
        extra = NON_INVENTORY if row["item_type"] == "non_inventory" else {}
        block = SALES_AND_PURCHASE if details == "salesAndPurchaseDetails" else SALES_OR_PURCHASE
        return {**COMMON, **extra, **block}

    @classmethod
    def ref_write(cls, ref: Ref, row) -> str | None:
        if ref.column != "preferred_vendor_id":
            return ref.write
        details = cls.details(row)
        if details is None:
            return "preferredVendorId"
        return "salesAndPurchaseDetails.preferredVendorId" if (
            details == "salesAndPurchaseDetails") else None

    @classmethod
    def to_local(cls, record: dict[str, Any], resource: str) -> tuple[dict, dict]:
        values: dict[str, Any] = {**EMPTY, "item_type": ITEM_TYPES[resource]}
        base: dict[str, Any] = dict(values)
        apply_fields(COMMON, record, values, base)
        if resource == "inventory-items":
            fields = INVENTORY
        elif record.get("salesAndPurchaseDetails"):
            fields = SALES_AND_PURCHASE
        else:
            fields = SALES_OR_PURCHASE
        if resource == "non-inventory-items":
            apply_fields(NON_INVENTORY, record, values, base)
        apply_fields(fields, record, values, base)
        if fields is not INVENTORY:
            base[DETAILS] = ("salesAndPurchaseDetails" if fields is SALES_AND_PURCHASE
                             else "salesOrPurchaseDetails")
        return values, base
