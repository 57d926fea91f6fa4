"""Which records a list request selects, and in what order.

Without name bounds the order is creation order (stable, so paging sees each record once); with
``nameFrom``/``nameTo`` it is QuickBooks' name order: case-insensitive, punctuation first, then
digits, then letters.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from qbdsim.errors import invalid_request, not_found, qbd_request_error
from qbdsim.resources import Resource
from qbdsim.store import Company, Record

_NAME_MATCHES = ("nameContains", "nameStartsWith", "nameEndsWith")
_REF_MATCHES = ("refNumberContains", "refNumberStartsWith", "refNumberEndsWith")
_BALANCE_TESTS = {
    "totalBalance": lambda value, bound: value == bound,
    "totalBalanceGreaterThan": lambda value, bound: value > bound,
    "totalBalanceGreaterThanOrEqualTo": lambda value, bound: value >= bound,
    "totalBalanceLessThan": lambda value, bound: value < bound,
    "totalBalanceLessThanOrEqualTo": lambda value, bound: value <= bound,
}


def qb_sort_key(text: str) -> str:
    """A string that sorts like QuickBooks sorts names.

    Each character becomes a class mark (punctuation and spaces, then digits, then letters)
    followed by the case-folded character with its accents removed.
    """
    out = []
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(char):
            continue
        if char.isdigit():
            out.append("\x02" + char)
        elif char.isalpha():
            out.append("\x03" + char)
        else:
            out.append("\x01" + char)
    return "".join(out)


def sort_key(record: Record) -> str:
    """The record's cached name sort key."""
    if record.sort_key is None:
        record.sort_key = qb_sort_key(record.name)
    return record.sort_key


def lookup(company: Company, res: Resource, params: dict) -> list[Record] | None:
    """Records asked for by ``ids`` / ``fullNames`` (``names``) / ``refNumbers``, in request order.

    QuickBooks then ignores every other parameter, and fails the whole request when one value
    is unknown. Returns ``None`` when none of these parameters is present.
    """
    ids = params.get("ids")
    names = params.get(res.names_param) if res.kind == "list" else None
    refs = params.get("refNumbers") if res.kind == "txn" else None
    if not (ids or names or refs):
        return None
    found: dict[str, Record] = {}
    for record_id in ids or ():
        record = company.get(res.path, record_id)
        if record is None:
            raise not_found(record_id)
        found[record.id] = record
    for name in names or ():
        record = company.by_full_name(res.path, name)
        if record is None:
            raise not_found(name)
        found[record.id] = record
    if refs:
        by_ref: dict[str, list[Record]] = {}
        for record in company.records[res.path].values():
            by_ref.setdefault(record.data["refNumber"], []).append(record)
        for ref in refs:
            if ref not in by_ref:
                raise not_found(ref)
            found.update((record.id, record) for record in by_ref[ref])
    return list(found.values())


def select(company: Company, res: Resource, params: dict) -> list[Record]:
    """Every record a list request selects, in the order QuickBooks would return them."""
    looked_up = lookup(company, res, params)
    if looked_up is not None:
        return looked_up
    tests = _tests(company, res, params)
    records = [r for r in company.records[res.path].values() if all(t(r) for t in tests)]
    if res.kind == "list" and ("nameFrom" in params or "nameTo" in params):
        records.sort(key=lambda r: (sort_key(r), r.seq))
    return records


def _ref_id(value) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def _tests(company: Company, res: Resource, params: dict) -> list:
    tests = []
    clock = company.clock
    status = params.get("status")
    if res.kind == "list" and status in ("active", "inactive"):
        wanted = status == "active"
        tests.append(lambda r: r.data["isActive"] is wanted)
    tests += updated_tests(clock, params)
    if res.kind == "list":
        tests += _name_tests(params)
    else:
        tests += txn_tests(clock, params)
    for param, field in (
        ("classIds", "class"),
        ("currencyIds", "currency"),
        ("customerIds", "customer"),
        ("vendorIds", "vendor"),
    ):
        if params.get(param):
            wanted_ids = set(params[param])
            tests.append(lambda r, f=field, w=wanted_ids: _ref_id(r.data.get(f)) in w)
    if params.get("accountIds"):
        tests.append(_account_test(set(params["accountIds"])))
    if params.get("itemIds"):
        item_ids = set(params["itemIds"])
        tests.append(
            lambda r: any(_ref_id(line.get("item")) in item_ids for line in r.data["lines"])
        )
    if params.get("accountType"):
        tests.append(lambda r: r.data["accountType"] == params["accountType"])
    if params.get("paymentStatus") in ("paid", "not_paid"):
        paid = params["paymentStatus"] == "paid"
        tests.append(lambda r: bool(r.data["isPaid"]) is paid)
    for param, compare in _BALANCE_TESTS.items():
        if params.get(param) is not None:
            bound = Decimal(params[param])
            tests.append(lambda r, c=compare, b=bound: c(Decimal(r.data["totalBalance"] or 0), b))
    return tests


def updated_tests(clock, params: dict) -> list:
    """``updatedAfter`` / ``updatedBefore``, both inclusive (a date alone: its whole day)."""
    tests = []
    if params.get("updatedAfter"):
        after = clock.parse_bound(params["updatedAfter"], "updatedAfter", end_of_day=False)
        tests.append(lambda r: r.updated_ts >= after)
    if params.get("updatedBefore"):
        before = clock.parse_bound(params["updatedBefore"], "updatedBefore", end_of_day=True)
        tests.append(lambda r: r.updated_ts <= before)
    return tests


def _account_test(wanted: set[str]):
    def test(record: Record) -> bool:
        data = record.data
        for field in ("account", "receivablesAccount", "payablesAccount", "depositToAccount"):
            if _ref_id(data.get(field)) in wanted:
                return True
        return False

    return test


def _name_tests(params: dict) -> list:
    tests = []
    matches = [name for name in _NAME_MATCHES if params.get(name)]
    name_from, name_to = params.get("nameFrom"), params.get("nameTo")
    if len(matches) > 1 or (matches and (name_from is not None or name_to is not None)):
        raise invalid_request(
            "nameContains, nameStartsWith and nameEndsWith cannot be combined with each other "
            "or with nameFrom/nameTo"
        )
    if matches:
        needle = params[matches[0]].casefold()
        check = {
            "nameContains": lambda name: needle in name,
            "nameStartsWith": lambda name: name.startswith(needle),
            "nameEndsWith": lambda name: name.endswith(needle),
        }[matches[0]]
        tests.append(lambda r: check(r.name.casefold()))
    low = qb_sort_key(name_from) if name_from is not None else None
    high = qb_sort_key(name_to) if name_to is not None else None
    if low is not None and high is not None and low > high:
        raise qbd_request_error(
            "3031", f'The string range is invalid: "{name_from}" sorts after "{name_to}".'
        )
    if low is not None:
        tests.append(lambda r: sort_key(r) >= low)
    if high is not None:
        tests.append(lambda r: sort_key(r) <= high)
    return tests


def txn_tests(clock, params: dict) -> list:
    """The transaction-date range and the ``refNumber`` filters."""
    tests = []
    if params.get("transactionDateFrom"):
        low = clock.parse_date(params["transactionDateFrom"], "transactionDateFrom").isoformat()
        tests.append(lambda r: r.data["transactionDate"] >= low)
    if params.get("transactionDateTo"):
        high = clock.parse_date(params["transactionDateTo"], "transactionDateTo").isoformat()
        tests.append(lambda r: r.data["transactionDate"] <= high)
    matches = [name for name in _REF_MATCHES if params.get(name)]
    if len(matches) > 1:
        raise invalid_request(
            "refNumberContains, refNumberStartsWith and refNumberEndsWith cannot be combined"
        )
    if matches:
        needle = params[matches[0]]
        check = {
            "refNumberContains": lambda ref: needle in ref,
            "refNumberStartsWith": lambda ref: ref.startswith(needle),
            "refNumberEndsWith": lambda ref: ref.endswith(needle),
        }[matches[0]]
        tests.append(lambda r: r.data["refNumber"] is not None and check(r.data["refNumber"]))
    if params.get("refNumberFrom") or params.get("refNumberTo"):
        tests.append(_ref_range(params.get("refNumberFrom"), params.get("refNumberTo")))
    return tests


def _ref_range(low: str | None, high: str | None):
    """``refNumberFrom``/``To``: numeric comparison for digit-only values, else lexicographic."""

    def key(text: str):
        return (0, int(text), "") if text.isdigit() else (1, 0, text)

    low_key = key(low) if low else None
    high_key = key(high) if high else None

    def test(record: Record) -> bool:
        ref = record.data["refNumber"]
        if ref is None:
            return False
        value = key(ref)
        if low_key is not None and value < low_key:
            return False
        return high_key is None or value <= high_key

    return test
