"""Fields shared by the synced transactions and their lines."""

from webapp.sync.fields import Address, Day, Number, Ref, Text
from webapp.sync.objects.item import NOT_MIRRORED_ITEM_RESOURCES

HEADER_FIELDS = {
    "ref_number": Text("refNumber"),
    "transaction_date": Day("transactionDate", required=True),
    "memo": Text("memo"),
    "external_id": Text("externalId"),
}
LINE_FIELDS = {
    "description": Text("description"),
    "quantity": Number("quantity"),
    "unit_of_measure": Text("unitOfMeasure"),
    "rate": Number("rate", places=5),
    "amount": Number("amount", places=2),
}
# Lines often name items of kinds the WMS does not mirror (discounts, subtotals, sales taxes,
# assemblies): those are valid lines without a local item, not broken references.
LINE_ITEM = Ref("item", target="item", column="item_id", qb_column="item_qb_id",
                elsewhere=NOT_MIRRORED_ITEM_RESOURCES)
# Sales orders and invoices: documents addressed to a customer.
CUSTOMER_DOCUMENT_FIELDS = {
    **HEADER_FIELDS,
    "purchase_order_number": Text("purchaseOrderNumber"),
    "due_date": Day("dueDate"),
    "shipping_date": Day("shippingDate"),
    "billing_address": Address("billingAddress"),
    "shipping_address": Address("shippingAddress"),
    "subtotal": Number("subtotal", places=2),
    "sales_tax_total": Number("salesTaxTotal", places=2),
}
CUSTOMER = Ref("customer", target="customer", column="customer_id", qb_column="customer_qb_id",
               required=True)
