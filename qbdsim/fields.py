"""From request bodies to stored objects: references, nested objects, money, blanks.

Conductor's request bodies mirror its response objects: ``classId`` sets the ``class``
reference, ``billingAddress`` the address, ``defaultExpenseAccountIds`` the list of references.
This module does that mapping once, checking every reference the way QuickBooks does (3140).
"""

from __future__ import annotations

import copy

from qbdsim import contract
from qbdsim.errors import QB_TYPE_NAMES, invalid_reference, invalid_request
from qbdsim.resources import ALL_ITEM_PATHS, Resource
from qbdsim.store import Company
from qbdsim.values import fmt_money, fmt_rate, parse_amount, parse_percent, parse_rate

ACCOUNTS = ("accounts",)
# Response reference field -> the resources it may point at.
RECORD_TARGETS: dict[str, tuple[str, ...]] = {
    "customer": ("customers",),
    "vendor": ("vendors",),
    "preferredVendor": ("vendors",),
    "payee": ("customers", "vendors"),
    "shipToEntity": ("customers", "vendors"),
    "item": ALL_ITEM_PATHS,  # lines may name any item kind, as in QuickBooks
    "account": ACCOUNTS,
    "incomeAccount": ACCOUNTS,
    "cogsAccount": ACCOUNTS,
    "assetAccount": ACCOUNTS,
    "postingAccount": ACCOUNTS,
    "expenseAccount": ACCOUNTS,
    "receivablesAccount": ACCOUNTS,
    "purchaseTaxAccount": ACCOUNTS,
    "salesTaxAccount": ACCOUNTS,
    "defaultExpenseAccounts": ACCOUNTS,
}
# Response reference field -> the supporting list it points into.
AUX_KINDS = {
    "class": "class",
    "terms": "standard_terms",
    "salesRepresentative": "sales_representative",
    "salesTaxCode": "sales_tax_code",
    "purchaseTaxCode": "sales_tax_code",
    "salesTaxItem": "sales_tax_item",
    "shippingMethod": "ship_method",
    "customerType": "customer_type",
    "vendorType": "vendor_type",
    "jobType": "job_type",
    "priceLevel": "price_level",
    "currency": "currency",
    "preferredPaymentMethod": "payment_method",
    "documentTemplate": "template",
    "customerMessage": "customer_message",
    "overrideUnitOfMeasureSet": "unit_of_measure_set",
}
AMOUNT_FIELDS = {"amount", "creditLimit", "openingBalance", "totalValue", "appliedAmount"}
RATE_FIELDS = {"rate", "cost", "salesPrice", "purchaseCost", "price"}
PERCENT_FIELDS = {"ratePercent", "pricePercentage"}
# Body keys that steer a write but are not stored as such.
CONTROL_KEYS = {
    "revisionNumber",
    "lines",
    "lineGroups",
    "linkToTransactionIds",
    "linkToTransactionLine",
    "applyCredits",
    "forceUnitOfMeasureChange",
    "updateExistingTransactionsIncomeAccount",
    "updateExistingTransactionsCogsAccount",
    "openingBalance",
    "openingBalanceDate",
    "quantityOnHand",
    "totalValue",
    "inventoryDate",
    "barcode",
    "priceRuleConflictStrategy",
}


def blank(schema_name: str) -> dict:
    """A new response object with every field ``None`` (arrays empty, objectType set)."""
    template, arrays = contract.object_fields(schema_name)
    data = template.copy()
    for name in arrays:
        data[name] = []
    return data


def _aux_label(kind: str) -> str:
    return kind.replace("_", " ").title().replace(" ", "")


def resolve(company: Company, owner: Resource, field: str, value: str, path: str) -> dict:
    """The ``{id, fullName}`` reference for an id sent in ``<field>Id`` (3140 when dangling)."""
    targets = (owner.path,) if field == "parent" else RECORD_TARGETS.get(field)
    if targets is not None:
        record = company.find(targets, value)
        if record is None:
            raise invalid_reference(QB_TYPE_NAMES[targets[0]], value, owner.display)
        return company.ref(record)
    kind = AUX_KINDS.get(field, field)
    entry = company.aux_get(kind, value)
    if entry is None:
        raise invalid_reference(_aux_label(kind), value, owner.display)
    return company.aux_ref(entry)


def scalar(key: str, value, path: str, nullable: bool = True):
    """A body value as stored: money normalised, empty strings cleared where null is allowed."""
    if not isinstance(value, str):
        return value
    if key in AMOUNT_FIELDS:
        return fmt_money(parse_amount(value, path))
    if key in RATE_FIELDS:
        return fmt_rate(parse_rate(value, path))
    if key in PERCENT_FIELDS:
        return parse_percent(value, path)
    return value if value or not nullable else None


def apply_body(
    company: Company, owner: Resource, target: dict, body: dict, schema_name: str, path: str = ""
) -> None:
    """Copy request fields onto a stored object (``target``, shaped like ``schema_name``)."""
    for key, value in body.items():
        where = f"{path}.{key}" if path else key
        if key in CONTROL_KEYS:
            continue
        if key.endswith("Ids") and key[:-3] + "s" in target:
            field = key[:-3] + "s"
            target[field] = [
                resolve(company, owner, field, v, f"{where}[{i}]") for i, v in enumerate(value)
            ]
        elif key.endswith("Id") and key[:-2] in target and key not in target:
            target[key[:-2]] = resolve(company, owner, key[:-2], value, where)
        elif key not in target:
            continue
        elif isinstance(value, dict):
            nested = contract.nested_object_name(schema_name, key)
            base = copy.deepcopy(target[key]) if isinstance(target[key], dict) else blank(nested)
            apply_body(company, owner, base, value, nested, where)
            target[key] = base
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            nested = contract.nested_object_name(schema_name, key)
            target[key] = [
                _nested_item(company, owner, nested, item, f"{where}[{i}]")
                for i, item in enumerate(value)
            ]
        else:
            nullable = key in contract.nullable_fields(schema_name)
            target[key] = scalar(key, value, where, nullable)


def _nested_item(company: Company, owner: Resource, schema_name: str, item: dict, path: str):
    built = blank(schema_name)
    apply_body(company, owner, built, item, schema_name, path)
    if schema_name == "qbd_custom_field" and built["type"] is None:
        built["type"] = "string_255_type"
    return built


def require(condition: bool, message: str) -> None:
    """A 400 unless ``condition`` holds."""
    if not condition:
        raise invalid_request(message)
