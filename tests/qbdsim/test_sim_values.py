"""QuickBooks' value formats: money, rates, timestamps, revision numbers, ids, JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from qbdsim import store
from qbdsim.config import SimConfig
from qbdsim.errors import SimError
from qbdsim.values import Clock, IdMint, fmt_cents, fmt_rate, next_revision, parse_amount


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (5, "0.05"), (123456, "1234.56"), (-1999, "-19.99")]
)
def test_money_has_two_places(cents, text):
    assert fmt_cents(cents) == text


@pytest.mark.parametrize(
    ("value", "text"), [("12.5", "12.50"), ("7", "7.00"), ("1.23456", "1.23456"), ("0.1", "0.10")]
)
def test_rates_have_two_to_five_places(value, text):
    assert fmt_rate(Decimal(value)) == text


@pytest.mark.parametrize("text", ["1.234", "abc", "1,000.00", ""])
def test_malformed_amounts_are_invalid_requests(text):
    with pytest.raises(SimError) as caught:
        parse_amount(text, "lines[0].amount")
    assert caught.value.status == 400 and "lines[0].amount" in caught.value.message


def test_timestamps_carry_the_configured_offset():
    clock = Clock(SimConfig(tz_offset="-05:00").tzinfo)
    assert clock.fmt(1_700_000_000) == "2023-11-14T17:13:20-05:00"
    assert Clock(SimConfig(tz_offset="+01:00").tzinfo).fmt(1_700_000_000).endswith("+01:00")
    start = clock.parse_bound("2023-11-14", "updatedAfter", end_of_day=False)
    end = clock.parse_bound("2023-11-14", "updatedBefore", end_of_day=True)
    assert clock.fmt(start) == "2023-11-14T00:00:00-05:00"
    assert clock.fmt(end) == "2023-11-14T23:59:59-05:00"
    assert clock.parse_bound("2023-11-14T22:13:20+00:00", "x", False) == 1_700_000_000
    assert clock.parse_bound("2023-11-14T17:13:20", "x", False) == 1_700_000_000


def test_revision_numbers_always_move_forward():
    assert next_revision("1700000000", 1700000100) == "1700000100"
    assert next_revision("1700000100", 1700000100) == "1700000101"
    assert next_revision("1700000200", 1700000100) == "1700000201"


def test_ids_look_like_quickbooks_ids():
    mint = IdMint()
    assert mint.list_id(1700000000) == "80000001-1700000000"
    assert mint.txn_id(1700000000).endswith("-1700000000")
    assert mint.line_id(1700000000) != mint.line_id(1700000000)


def test_json_is_the_same_with_or_without_orjson(monkeypatch):
    payload = {"name": 'Café "Crème"', "quantity": 2.5, "lines": [], "ref": None, "ok": True}
    fast = store.dumps(payload)
    monkeypatch.setattr(store, "orjson", None)
    assert store.dumps(payload) == fast
    assert json.loads(fast) == payload
