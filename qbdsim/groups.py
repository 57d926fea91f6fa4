"""Line groups: an item group used on a sales order, purchase order or invoice.

QuickBooks expands the item group into its component lines (each component's quantity times
the group's), prices them like any line and keeps them under the group, whose ``totalAmount``
is their sum. On update ``lineGroups`` follow the rule of ``lines`` (FACTS §6): omitted keeps
them, the array replaces them all, an existing ``id`` keeps (and modifies) that group, ``"-1"``
adds one; inside a kept group, ``lines`` follow the same rule. A kept group given a new item
group or quantity and no ``lines`` is expanded again.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from qbdsim.errors import invalid_reference, invalid_request, object_missing
from qbdsim.fields import apply_body, blank
from qbdsim.lines import NEW_LINE_ID, build_line, replace_line_list
from qbdsim.resources import Resource
from qbdsim.store import Company, Record
from qbdsim.values import fmt_money, quantity_out, to_decimal

# Create-body keys of a group that QuickBooks hands down to each of the group's lines.
FOR_EACH_LINE = ("inventorySiteId", "inventorySiteLocationId", "serviceDate")
# Group keys stored through the ordinary body mapping (references and nested objects).
MAPPED = ("overrideUnitOfMeasureSetId", "customFields")


def group_type(res: Resource) -> str:
    """The group's object type, e.g. ``qbd_sales_order_line_group``."""
    return f"{res.object_type}_line_group"


def new_groups(company: Company, res: Resource, bodies: list[dict], now_ts: int) -> list[dict]:
    """The groups of a create body."""
    return [
        build_group(company, res, body, None, now_ts, f"lineGroups[{index}]")
        for index, body in enumerate(bodies)
    ]


def replace_groups(
    company: Company, record: Record, res: Resource, bodies: list[dict], now_ts: int
) -> list[dict]:
    """The update rule over ``lineGroups``: the request's groups become *all* the groups."""
    existing = {group["id"]: group for group in record.data.get("lineGroups") or ()}
    groups = []
    for index, body in enumerate(bodies):
        group_id = body["id"]
        if group_id == NEW_LINE_ID:
            base = None
        elif group_id in existing:
            base = existing[group_id]
        else:
            raise object_missing(group_id)
        groups.append(build_group(company, res, body, base, now_ts, f"lineGroups[{index}]"))
    return groups


def build_group(
    company: Company, res: Resource, body: dict, base: dict | None, now_ts: int, path: str
) -> dict:
    """One group from a request group: ``base`` is the group kept (update) or ``None``."""
    if base is None:
        if "itemGroupId" not in body:
            raise invalid_request(
                f'Invalid input: a new line group needs "itemGroupId" at "{path}"'
            )
        group = blank(group_type(res))
        group.update(id=company.mint.line_id(now_ts), quantity=1)
    else:
        group = copy.deepcopy(base)
    source = None
    if "itemGroupId" in body:
        source = _item_group(company, res, body["itemGroupId"])
        group.update(
            itemGroup=company.ref(source),
            description=source.data["description"],
            shouldPrintItemsInGroup=bool(source.data["shouldPrintItemsInGroup"]),
        )
    if "quantity" in body:
        group["quantity"] = quantity_out(body["quantity"])
    if "unitOfMeasure" in body:
        group["unitOfMeasure"] = body["unitOfMeasure"] or None
    mapped = {key: body[key] for key in MAPPED if key in body}
    apply_body(company, res, group, mapped, group_type(res), path)
    if "lines" in body:
        group["lines"] = replace_line_list(
            company, res, group["lines"], body["lines"], now_ts, f"{path}.lines", {}, {}
        )
    elif source is not None or "quantity" in body:
        if source is None:
            source = _item_group(company, res, group["itemGroup"]["id"])
        shared = {key: body[key] for key in FOR_EACH_LINE if key in body}
        group["lines"] = _expand(company, res, source, group["quantity"], shared, now_ts, path)
    group["totalAmount"] = fmt_money(
        sum((to_decimal(line["amount"]) for line in group["lines"]), Decimal(0))
    )
    return group


def linked_group(company: Company, res: Resource, source: dict, lines: list[dict],
                 now_ts: int) -> dict:
    """An invoice's copy of a sales order's group (``linkToTransactionIds``): the same item
    group, quantity and settings, holding `lines` (the group's open lines, linked)."""
    group = blank(group_type(res))
    kept = ("itemGroup", "description", "quantity", "unitOfMeasure", "shouldPrintItemsInGroup")
    group.update({key: copy.deepcopy(source.get(key)) for key in kept if key in group})
    group.update(id=company.mint.line_id(now_ts), lines=lines)
    group["totalAmount"] = fmt_money(
        sum((to_decimal(line["amount"]) for line in lines), Decimal(0))
    )
    return group


def _item_group(company: Company, res: Resource, group_id: str) -> Record:
    record = company.get("item-groups", group_id)
    if record is None:
        raise invalid_reference("ItemGroup", group_id, res.display)
    return record


def _expand(company, res, source: Record, quantity, shared: dict, now_ts: int, path: str):
    """The item group's components as lines, for ``quantity`` groups."""
    lines = []
    for index, component in enumerate(source.data["lines"]):
        body = {
            "itemId": component["item"]["id"],
            "quantity": quantity_out(to_decimal(component["quantity"]) * to_decimal(quantity)),
            **shared,
        }
        if component.get("unitOfMeasure"):
            body["unitOfMeasure"] = component["unitOfMeasure"]
        lines.append(build_line(company, res, body, None, now_ts, f"{path}.lines[{index}]", {}))
    return lines


def group_lines(data: dict) -> list[dict]:
    """Every line inside the transaction's groups (tolerating broken raw edits)."""
    groups = data.get("lineGroups")
    return [
        line
        for group in (groups if isinstance(groups, list) else ())
        if isinstance(group, dict) and isinstance(group.get("lines"), list)
        for line in group["lines"]
        if isinstance(line, dict)
    ]
