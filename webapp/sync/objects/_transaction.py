"""Fields shared by the synced transactions and their lines, and their line groups."""

from typing import Any

from webapp.sync.base import SyncObject
from webapp.sync.fields import Address, Day, MappingError, Number, Ref, Text, compile_fields

HEADER_FIELDS = {
    "ref_number": Text("refNumber"),
    "transaction_date": Day("transactionDate", required=True),
    "memo": Text("memo"),
    "external_id": Text("externalId", create_only=True),
}
LINE_FIELDS = {
    # The name the line carries, kept where the WMS has no item row to name it (PageWriter)
    "item_name": Text("item.fullName", write=False, in_base=False),
    "description": Text("description"),
    "quantity": Number("quantity"),
    "unit_of_measure": Text("unitOfMeasure"),
    "rate": Number("rate", places=5),
    "amount": Number("amount", places=2),
}
# Lines often name items of kinds the WMS does not mirror (discounts, subtotals, sales taxes,
# assemblies): those are valid lines without a local item, not broken references; they keep
# the id and the name the line carries, and nothing is looked up for them.
LINE_ITEM = Ref("item", target="item", column="item_id", qb_column="item_qb_id",
                unmirrored=True)
# A line group's own row: its item group (never mirrored) and the group's figures in the line
# columns.
GROUP_ITEM = Ref("itemGroup", target="item", column="item_id", qb_column="item_qb_id",
                 unmirrored=True)
GROUP_FIELDS = {
    "item_name": Text("itemGroup.fullName", write=False, in_base=False),
    "description": Text("description"),
    "quantity": Number("quantity"),
    "unit_of_measure": Text("unitOfMeasure"),
    "amount": Number("totalAmount", places=2),
}
# Sales orders and invoices: documents addressed to a customer.
CUSTOMER_DOCUMENT_FIELDS = {
    **HEADER_FIELDS,
    "purchase_order_number": Text("purchaseOrderNumber"),
    "due_date": Day("dueDate"),
    "shipping_date": Day("shippingDate"),
    "billing_address": Address("billingAddress"),
    "shipping_address": Address("shippingAddress"),
    "subtotal": Number("subtotal", places=2, write=False),
    "sales_tax_total": Number("salesTaxTotal", places=2, write=False),
}
CUSTOMER = Ref("customer", target="customer", column="customer_id", qb_column="customer_qb_id",
               required=True)


class GroupedLinesSync(SyncObject):
    """Transactions whose lines may come in line groups (sales orders, purchase orders,
    invoices): each group becomes a line row (`is_line_group`) followed by its own lines
    (`group_qb_line_id` = the group's id), after the plain lines.

    QuickBooks sends `lines` and `lineGroups` as two arrays, so where a group stood among the
    plain lines is not known: positions put every plain line first, then each group with its
    lines. The line bases in `sync_base` follow the rows, so they keep the groups (their item
    group, figures and `shouldPrintItemsInGroup`) and which lines are in which.
    """

    @classmethod
    def lines_to_local(cls, record: dict[str, Any]) -> list[tuple[dict, dict, dict]]:
        out = super().lines_to_local(record)
        for values, _, _ in out:
            values.update(is_line_group=False, group_qb_line_id=None)
        groups = record.get("lineGroups")
        if groups is None:  # absent or null: no groups (QuickBooks sends [] when it has none)
            return out
        if not isinstance(groups, list):
            raise MappingError("lineGroups should be a list")
        for group in groups:
            if not isinstance(group, dict):
                raise MappingError("a line group should be an object")
            out.append(cls._group_to_local(group))
            lines = group.get("lines")
            if not isinstance(lines, list):
                raise MappingError("the lines of a line group should be a list")
            for values, base, refs in cls.map_lines(lines):
                values.update(is_line_group=False, group_qb_line_id=group.get("id"))
                base["group_qb_line_id"] = group.get("id")
                out.append((values, base, refs))
        return out

    @classmethod
    def _group_to_local(cls, group: dict[str, Any]) -> tuple[dict, dict, dict]:
        """The group's own row: the line columns it has no value for are empty (or their
        default where the column cannot be empty)."""
        values: dict[str, Any] = {"qb_line_id": group.get("id")}
        columns = cls.line_model.__table__.c
        for name in cls.line_fields:
            default = columns[name].default
            keep = not columns[name].nullable and default is not None and default.is_scalar
            values[name] = default.arg if keep else None
        base: dict[str, Any] = {"qb_line_id": values["qb_line_id"]}
        compile_fields(GROUP_FIELDS)(group, values, base)
        values.update(is_line_group=True, group_qb_line_id=None)
        item_group = GROUP_ITEM.qb_id(group)
        base.update(is_line_group=True, item_qb_id=item_group,
                    should_print_items_in_group=group.get("shouldPrintItemsInGroup"))
        return values, base, {GROUP_ITEM: item_group}
