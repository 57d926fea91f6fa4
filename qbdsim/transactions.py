"""The transaction query (``/transactions``): every kind of transaction as one ``qbd_transaction``
row each, and, with ``detailLevel``, one row per line.

A row is found by its key ``(resource, transaction id, line id or None)``, so a cursor page
shows what the transaction says when the page is read. Rows come in creation order across the
kinds. What a kind does not have (an account on a sales order) is ``null``.

Filters on lines (``itemIds``, ``accountIds``, ``classIds``): a line row matches by its own
item, account and class (its transaction's class when it has none); a transaction row matches
when its header or any of its lines does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from qbdsim.errors import not_found
from qbdsim.query import txn_tests, updated_tests
from qbdsim.resources import ALL_ITEM_PATHS, ALL_TXN_PATHS, RESOURCES
from qbdsim.store import Company, Record, dumps
from qbdsim.values import fmt_money, to_decimal

Key = tuple[str, str, str | None]
TRANSACTIONS = "transactions"  # the cursor kind of this list
HEADER_ONLY = "transactions_without_lines"
LINES_ONLY = "transaction_lines_only"


def _money(value) -> Decimal:
    return to_decimal(value) if isinstance(value, str | int | float) else Decimal(0)


def _total(data: dict) -> str:
    return data["totalAmount"]


def _invoice_total(data: dict) -> str:
    return fmt_money(_money(data["subtotal"]) + _money(data["salesTaxTotal"]))


def _adjustment_value(data: dict) -> str:
    values = (_money(line.get("valueDifference")) for line in every_line(data))
    return fmt_money(sum(values, Decimal(0)))


@dataclass(frozen=True)
class Kind:
    """How one kind of transaction reads as a ``qbd_transaction``."""

    entity: str  # header field of the customer or vendor
    account: str | None  # header account field
    amount: Callable[[dict], str]
    home_amount: str | None = None  # header field of the amount in home currency
    sales: bool = True  # item lines post to income (sales) or to assets / expenses
    posting: bool = True  # False: non-posting (orders), whatever ``isPending`` says
    open_field: str | None = None  # a figure that is open while positive (paymentStatus)


KINDS: dict[str, Kind] = {
    "sales-orders": Kind("customer", None, _total, "totalAmountInHomeCurrency", posting=False),
    "purchase-orders": Kind(
        "vendor", None, _total, "totalAmountInHomeCurrency", sales=False, posting=False
    ),
    "invoices": Kind("customer", "receivablesAccount", _invoice_total,
                     open_field="balanceRemaining"),
    "inventory-adjustments": Kind("customer", "account", _adjustment_value, sales=False),
    "item-receipts": Kind(
        "vendor", "payablesAccount", _total, "totalAmountInHomeCurrency", sales=False
    ),
    "sales-receipts": Kind("customer", "depositToAccount", _total, "totalAmountInHomeCurrency"),
    "credit-memos": Kind("customer", "receivablesAccount", _total, open_field="creditRemaining"),
}
# Arrays of lines, and arrays of groups whose lines count as the transaction's lines.
_LINE_ARRAYS = ("lines", "itemLines", "expenseLines")
_GROUP_ARRAYS = {"lineGroups": "lines", "itemGroupLines": "itemLines"}


def every_line(data: dict) -> list[dict]:
    """A transaction's lines, those of its groups included, in the order QuickBooks lists them
    (tolerating what raw edits plant: anything that is not a line is skipped)."""

    def listed(value) -> list:
        return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []

    lines = [line for key in _LINE_ARRAYS for line in listed(data.get(key))]
    for key, inner in _GROUP_ARRAYS.items():
        lines += [line for group in listed(data.get(key)) for line in listed(group.get(inner))]
    return lines


def find(company: Company, txn_id: str) -> Record | None:
    """A transaction of any kind by id."""
    return company.find(ALL_TXN_PATHS, txn_id)


def select(company: Company, params: dict) -> list[Key]:
    """The keys of every row a ``/transactions`` request selects, in QuickBooks' order."""
    looked_up = _lookup(company, params)
    if looked_up is not None:
        return [(record.resource, record.id, None) for record in looked_up]
    level = params.get("detailLevel") or HEADER_ONLY
    record_tests = _record_tests(company, params)
    line_test = _line_test(company, params)
    records = [
        record
        for path in _paths(params.get("transactionTypes"))
        for record in company.records[path].values()
        if all(test(record) for test in record_tests)
    ]
    records.sort(key=lambda record: record.seq)
    keys: list[Key] = []
    for record in records:
        lines = [line for line in every_line(record.data) if isinstance(line.get("id"), str)]
        if level != LINES_ONLY and (
            line_test is None
            or line_test(record, None)
            or any(line_test(record, line) for line in lines)
        ):
            keys.append((record.resource, record.id, None))
        if level != HEADER_ONLY:
            keys += [
                (record.resource, record.id, line["id"])
                for line in lines
                if line_test is None or line_test(record, line)
            ]
    return keys


def resolve(company: Company, key: Key) -> Key | None:
    """``key`` while its transaction (and line) still exist, else ``None``."""
    record = company.get(key[0], key[1])
    if record is None:
        return None
    if key[2] is not None and not any(line.get("id") == key[2] for line in every_line(record.data)):
        return None
    return key


def row_json(company: Company, key: Key, options=None) -> bytes:
    """The ``qbd_transaction`` JSON of one row."""
    record = company.records[key[0]][key[1]]
    if key[2] is None:
        return dumps(header_row(company, record))
    line = next(line for line in every_line(record.data) if line.get("id") == key[2])
    return dumps(line_row(company, record, line))


def header_row(company: Company, record: Record) -> dict:
    """The row of a whole transaction."""
    data, kind = record.data, KINDS[record.resource]
    return {
        "transactionType": RESOURCES[record.resource].deleted_type,
        "transactionId": record.id,
        "transactionLineId": None,
        "createdAt": data["createdAt"],
        "updatedAt": data["updatedAt"],
        "entity": data.get(kind.entity),
        "account": data.get(kind.account) if kind.account else None,
        "transactionDate": data["transactionDate"],
        "refNumber": data["refNumber"],
        "amount": kind.amount(data) or "0.00",
        "currency": data.get("currency"),
        "exchangeRate": data.get("exchangeRate"),
        "amountInHomeCurrency": data.get(kind.home_amount) if kind.home_amount else None,
        "memo": data["memo"],
    }


def line_row(company: Company, record: Record, line: dict) -> dict:
    """The row of one line: its own account, amount and memo, its transaction's the rest."""
    row = header_row(company, record)
    amount = line.get("amount")
    if "valueDifference" in line:  # an adjustment line: the value it moves
        amount = fmt_money(_money(line["valueDifference"]))
    row.update(
        transactionLineId=line["id"],
        account=_line_account(company, record, line),
        amount=amount if isinstance(amount, str) else "0.00",
        amountInHomeCurrency=None,
        memo=line.get("memo", line.get("description")),
    )
    return row


def _line_account(company: Company, record: Record, line: dict) -> dict | None:
    """The account a line posts to: an expense line's own; an item line's from its item
    (income on sales, inventory asset or expense on purchases)."""
    if isinstance(line.get("account"), dict):
        return line["account"]
    item_id = (line.get("item") or {}).get("id") if isinstance(line.get("item"), dict) else None
    item = company.find(ALL_ITEM_PATHS, item_id) if isinstance(item_id, str) else None
    if item is None:
        return None
    data, sales = item.data, KINDS[record.resource].sales
    if "assetAccount" in data:
        return data["incomeAccount" if sales else "assetAccount"]
    if data.get("salesOrPurchaseDetails"):
        return data["salesOrPurchaseDetails"]["postingAccount"]
    if data.get("salesAndPurchaseDetails"):
        return data["salesAndPurchaseDetails"]["incomeAccount" if sales else "expenseAccount"]
    return data.get("account")


def _lookup(company: Company, params: dict) -> list[Record] | None:
    """``ids`` / ``refNumbers``, in request order: QuickBooks then ignores every other
    parameter, and fails the request when one value is unknown."""
    ids, refs = params.get("ids"), params.get("refNumbers")
    if not (ids or refs):
        return None
    found: dict[str, Record] = {}
    for txn_id in ids or ():
        record = find(company, txn_id)
        if record is None:
            raise not_found(txn_id)
        found[record.id] = record
    if refs:
        by_ref: dict[str, list[Record]] = {}
        for path in ALL_TXN_PATHS:
            for record in company.records[path].values():
                by_ref.setdefault(record.data["refNumber"], []).append(record)
        for ref in refs:
            if ref not in by_ref:
                raise not_found(ref)
            found.update((record.id, record) for record in by_ref[ref])
    return list(found.values())


def _paths(types: list[str] | None) -> tuple[str, ...]:
    if not types or "all" in types:
        return ALL_TXN_PATHS
    return tuple(path for path in ALL_TXN_PATHS if RESOURCES[path].deleted_type in types)


def _ref_id(value) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def _record_tests(company: Company, params: dict) -> list:
    """The filters that apply to a transaction as a whole."""
    tests = updated_tests(company.clock, params) + txn_tests(company.clock, params)
    if params.get("entityIds"):
        entities = set(params["entityIds"])
        tests.append(lambda r: _ref_id(r.data.get(KINDS[r.resource].entity)) in entities)
    if params.get("currencyIds"):
        currencies = set(params["currencyIds"])
        tests.append(lambda r: _ref_id(r.data.get("currency")) in currencies)
    posting = params.get("postingStatus")
    if posting in ("posting", "non_posting"):
        tests.append(lambda r: _is_posting(r) is (posting == "posting"))
    payment = params.get("paymentStatus")
    if payment in ("open", "closed"):
        tests.append(lambda r: _is_open(r) is (payment == "open"))
    return tests


def _is_posting(record: Record) -> bool:
    """Orders never post; a pending invoice, sales receipt or credit memo does not yet."""
    return KINDS[record.resource].posting and not record.data.get("isPending")


def _is_open(record: Record) -> bool | None:
    """Whether something remains to pay or apply; ``None`` for kinds that carry no balance
    (they match neither ``open`` nor ``closed``)."""
    field = KINDS[record.resource].open_field
    return None if field is None else _money(record.data.get(field)) > 0


def _line_test(company: Company, params: dict):
    """``test(record, line)`` for the line filters (``line=None``: the header), or ``None``."""
    items = set(params.get("itemIds") or ())
    accounts = set(params.get("accountIds") or ())
    classes = set(params.get("classIds") or ())
    if not (items or accounts or classes):
        return None

    def test(record: Record, line: dict | None) -> bool:
        data = record.data
        if line is None:
            return (
                not items
                and (not accounts or _ref_id(header_row(company, record)["account"]) in accounts)
                and (not classes or _ref_id(data.get("class")) in classes)
            )
        line_class = _ref_id(line.get("class")) or _ref_id(data.get("class"))
        return (
            (not items or _ref_id(line.get("item")) in items)
            and (not accounts or _ref_id(_line_account(company, record, line)) in accounts)
            and (not classes or line_class in classes)
        )

    return test
