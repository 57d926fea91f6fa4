"""Fields shared by the synced transactions and their lines."""

from webapp.sync.fields import Day, Number, Ref, Text

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
LINE_ITEM = Ref("item", target="item", column="item_id", qb_column="item_qb_id")
