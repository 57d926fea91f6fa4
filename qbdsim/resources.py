"""The QuickBooks resources the simulator holds, described once as data."""

from __future__ import annotations

from dataclasses import dataclass

from qbdsim.contract import QBD_PREFIX


@dataclass(frozen=True)
class Resource:
    """One Conductor resource (its path name, object type and QuickBooks behaviour)."""

    path: str
    object_type: str
    kind: str  # "list" (customers, vendors, items, accounts) or "txn"
    deleted_type: str  # listType / transactionType in the deleted-object lists
    display: str  # QuickBooks' name for it in error messages
    paginated: bool = True
    namespace: str = ""  # list objects whose names must be unique together
    name_field: str = "fullName"
    names_param: str = "fullNames"
    hierarchical: bool = True
    line_type: str | None = None
    deletable: bool = False
    voidable: bool = False
    writable: bool = True  # False: list and retrieve only (no create or update here)
    updatable: bool = True  # False: created and deleted here, never modified

    @property
    def collection_path(self) -> str:
        """The spec path of the collection, e.g. ``/quickbooks-desktop/customers``."""
        return f"{QBD_PREFIX}/{self.path}"

    @property
    def item_path(self) -> str:
        """The spec path of one object."""
        return f"{QBD_PREFIX}/{self.path}/{{id}}"

    @property
    def is_item(self) -> bool:
        """Any item kind (QuickBooks keeps all item names in one name space)."""
        return self.namespace == "item"


def _item(path: str, object_type: str, deleted_type: str) -> Resource:
    return Resource(path, object_type, "list", deleted_type, "Item", namespace="item")


def _other_item(path: str, object_type: str, deleted_type: str, hierarchical: bool) -> Resource:
    """An item kind lines refer to but the simulator only lists and retrieves."""
    if hierarchical:
        return Resource(
            path, object_type, "list", deleted_type, "Item", namespace="item", writable=False
        )
    return Resource(
        path,
        object_type,
        "list",
        deleted_type,
        "Item",
        namespace="item",
        name_field="name",
        names_param="names",
        hierarchical=False,
        writable=False,
    )


def _txn(path: str, object_type: str, deleted_type: str, display: str, **kw) -> Resource:
    return Resource(
        path,
        object_type,
        "txn",
        deleted_type,
        display,
        hierarchical=False,
        line_type=f"{object_type}_line",
        deletable=True,
        **kw,
    )


RESOURCES: dict[str, Resource] = {
    r.path: r
    for r in (
        Resource(
            "customers", "qbd_customer", "list", "customer", "Customer:Job", namespace="entity"
        ),
        Resource(
            "vendors",
            "qbd_vendor",
            "list",
            "vendor",
            "Vendor",
            namespace="entity",
            name_field="name",
            names_param="names",
            hierarchical=False,
        ),
        _item("inventory-items", "qbd_inventory_item", "item_inventory"),
        _item("non-inventory-items", "qbd_non_inventory_item", "item_non_inventory"),
        _item("service-items", "qbd_service_item", "item_service"),
        _item("other-charge-items", "qbd_other_charge_item", "item_other_charge"),
        _other_item("discount-items", "qbd_discount_item", "item_discount", True),
        _other_item("subtotal-items", "qbd_subtotal_item", "item_subtotal", False),
        _other_item("sales-tax-items", "qbd_sales_tax_item", "item_sales_tax", False),
        _other_item(
            "sales-tax-group-items", "qbd_sales_tax_group_item", "item_sales_tax_group", False
        ),
        _other_item(
            "inventory-assembly-items",
            "qbd_inventory_assembly_item",
            "item_inventory_assembly",
            True,
        ),
        _other_item("item-groups", "qbd_item_group", "item_group", False),
        _txn("sales-orders", "qbd_sales_order", "sales_order", "Sales Order"),
        _txn("purchase-orders", "qbd_purchase_order", "purchase_order", "Purchase Order"),
        _txn("invoices", "qbd_invoice", "invoice", "Invoice", voidable=True),
        _txn(
            "inventory-adjustments",
            "qbd_inventory_adjustment",
            "inventory_adjustment",
            "Inventory Adjustment",
            paginated=False,
            voidable=True,
        ),
        _txn("item-receipts", "qbd_item_receipt", "item_receipt", "Item Receipt", updatable=False),
        _txn("sales-receipts", "qbd_sales_receipt", "sales_receipt", "Sales Receipt",
             updatable=False),
        _txn("credit-memos", "qbd_credit_memo", "credit_memo", "Credit Memo", updatable=False),
        Resource(
            "accounts",
            "qbd_account",
            "list",
            "account",
            "Account",
            paginated=False,
            namespace="account",
        ),
    )
}

ITEM_PATHS = ("inventory-items", "non-inventory-items", "service-items", "other-charge-items")
# Item kinds that are generated a handful per company (like accounts, not part of ``size``)
# and can only be listed and retrieved; transaction lines may refer to them.
OTHER_ITEM_PATHS = (
    "discount-items",
    "subtotal-items",
    "sales-tax-items",
    "sales-tax-group-items",
    "inventory-assembly-items",
    "item-groups",
)
ALL_ITEM_PATHS = (*ITEM_PATHS, *OTHER_ITEM_PATHS)
LIST_PATHS = ("customers", "vendors", *ALL_ITEM_PATHS, "accounts")
TXN_PATHS = ("sales-orders", "purchase-orders", "invoices", "inventory-adjustments")
# Stock-moving transactions the WMS does not mirror: made in QuickBooks (or through the API),
# never generated, created and deleted but not modified here.
QB_ONLY_TXN_PATHS = ("item-receipts", "sales-receipts", "credit-memos")
ALL_TXN_PATHS = (*TXN_PATHS, *QB_ONLY_TXN_PATHS)
# The resources that make up a company's ``size`` (accounts and other item kinds come on top).
SIZED_PATHS = ("customers", "vendors", *ITEM_PATHS, *TXN_PATHS)
NAMESPACES = {
    "entity": ("customers", "vendors"),
    "item": ALL_ITEM_PATHS,
    "account": ("accounts",),
}
