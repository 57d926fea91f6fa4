"""Generated items of the four types, with category parents (``Hardware:Steel Bolt``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qbdsim.fields import blank
from qbdsim.pools import ITEM_CATEGORIES
from qbdsim.resources import RESOURCES
from qbdsim.values import fmt_cents

if TYPE_CHECKING:
    from qbdsim.generate_lists import ListMaker

FILLER_31 = " Assortment Pack Extra"


def make_items(maker: ListMaker, path: str, count: int) -> None:
    """``count`` items of type ``path``; a few category parents come first and count too."""
    company, rng = maker.company, maker.rng
    times = maker.times(count)
    parents = []
    maker.items_by_time[path] = []
    categories = ITEM_CATEGORIES[path]
    for index, created in enumerate(times):
        data = blank(RESOURCES[path].object_type)
        is_category = index < len(categories) and count >= 4 * len(categories)
        parent = rng.choice(parents) if parents and rng.random() < 0.4 else None
        if is_category:
            name = maker.unique(categories[index], 31, maker.item_names)
            full_name = name
        else:
            base = maker.pools.item_name(rng, path)
            if index % 89 == 11:
                base = (base + FILLER_31)[:31]
                base = base[:30] + "s" if base.endswith(" ") else base
            prefix = f"{parent.data['fullName']}:" if parent else ""
            full_name = maker.unique(prefix + base, len(prefix) + 31, maker.item_names)
            name = full_name[len(prefix) :]
        updated = created if is_category else maker.updated(created)
        data.update(
            id=company.mint.list_id(created),
            name=name,
            fullName=full_name,
            isActive=True,
            parent=company.ref(parent),
            sublevel=1 if parent else 0,
        )
        if is_category:
            data["sublevel"] = 0
            data["parent"] = None
        cost = rng.randint(50, 50_000)
        sale = int(cost * rng.uniform(1.2, 2.2))
        sale, cost = _FILL[path](maker, data, name, cost, sale, is_category)
        maker.stamp(data, created, updated)
        record = company.add(path, data, created, updated)
        if is_category:
            parents.append(record)
            maker.categories.add(record.id)
        else:
            maker.items_by_time[path].append(record)
            maker.prices[record.id] = (sale, cost)


def _vendor(maker: ListMaker) -> dict | None:
    if maker.vendors_by_time and maker.rng.random() < 0.7:
        return maker.company.ref(maker.rng.choice(maker.vendors_by_time))
    return None


def _inventory(maker: ListMaker, data: dict, name: str, cost: int, sale: int, category: bool):
    rng = maker.rng
    tax = maker.aux_ref("sales_tax_code", "Tax" if rng.random() < 0.85 else "Non")
    data.update(
        barcode=str(rng.randint(10**11, 10**12 - 1)) if rng.random() < 0.3 else None,
        sku=f"SKU-{rng.randint(10000, 99999)}",
        salesTaxCode=tax,
        salesDescription=None if category else name,
        salesPrice=None if category else fmt_cents(sale),
        incomeAccount=maker.accounts["Merchandise"],
        purchaseDescription=None if category else f"{name} (case)" if rng.random() < 0.3 else name,
        purchaseCost=None if category else fmt_cents(cost),
        cogsAccount=maker.accounts["Cost of Goods Sold"],
        preferredVendor=None if category else _vendor(maker),
        assetAccount=maker.accounts["Inventory Asset"],
        reorderPoint=None if category or rng.random() < 0.3 else rng.randint(5, 50),
        maximumQuantityOnHand=None if category or rng.random() < 0.6 else rng.randint(200, 900),
        quantityOnHand=0 if category else rng.randint(0, 300),
        averageCost=fmt_cents(0 if category else cost),
        quantityOnPurchaseOrder=0,
        quantityOnSalesOrder=0,
    )
    return sale, cost


def _non_inventory(maker: ListMaker, data: dict, name: str, cost: int, sale: int, category: bool):
    rng = maker.rng
    data["sku"] = f"NI-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None
    data["salesTaxCode"] = maker.aux_ref("sales_tax_code", "Tax")
    if category:
        return sale, cost
    if rng.random() < 0.6:
        data["salesAndPurchaseDetails"] = {
            "salesDescription": name,
            "salesPrice": fmt_cents(sale),
            "incomeAccount": maker.accounts["Merchandise"],
            "purchaseDescription": name,
            "purchaseCost": fmt_cents(cost),
            "purchaseTaxCode": None,
            "expenseAccount": maker.accounts["Office Supplies"],
            "preferredVendor": _vendor(maker),
        }
    else:
        data["salesOrPurchaseDetails"] = _single(name, sale, maker.accounts["Office Supplies"])
    return sale, cost


def _single(name: str, price: int, account: dict) -> dict:
    return {
        "description": name,
        "price": fmt_cents(price),
        "pricePercentage": None,
        "postingAccount": account,
    }


def _service(maker: ListMaker, data: dict, name: str, cost: int, sale: int, category: bool):
    data["salesTaxCode"] = maker.aux_ref("sales_tax_code", "Non")
    if not category:
        hourly = maker.rng.choice((4500, 6500, 8500, 12000, 15000))
        data["salesOrPurchaseDetails"] = _single(name, hourly, maker.accounts["Services"])
        return hourly, hourly
    return sale, cost


def _other_charge(maker: ListMaker, data: dict, name: str, cost: int, sale: int, category: bool):
    data["salesTaxCode"] = maker.aux_ref("sales_tax_code", "Non")
    sale = min(sale, 7500)
    if not category:
        data["salesOrPurchaseDetails"] = _single(
            name, sale, maker.accounts["Shipping and Handling"]
        )
    return sale, sale


_FILL = {
    "inventory-items": _inventory,
    "non-inventory-items": _non_inventory,
    "service-items": _service,
    "other-charge-items": _other_charge,
}
