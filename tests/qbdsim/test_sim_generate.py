"""The generated company: deterministic, realistic, awkward where real files are, consistent."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest

from qbdsim import generate
from qbdsim.config import SimConfig
from qbdsim.generate import allocate, generate_company
from qbdsim.resources import ALL_ITEM_PATHS, ITEM_PATHS, OTHER_ITEM_PATHS, SIZED_PATHS

ANCHOR = "2026-01-15T12:00:00"


@pytest.fixture(scope="module")
def company():
    return generate_company(SimConfig(size=2000, seed=3, anchor=ANCHOR))


def _snapshot(company) -> str:
    return json.dumps(
        {path: [r.data for r in records.values()] for path, records in company.records.items()}
    )


def test_same_size_and_seed_give_the_same_company(company):
    again = generate_company(SimConfig(size=2000, seed=3, anchor=ANCHOR))
    assert _snapshot(again) == _snapshot(company)
    other = generate_company(SimConfig(size=2000, seed=4, anchor=ANCHOR))
    assert _snapshot(other) != _snapshot(company)


@pytest.mark.parametrize("size", [0, 1, 7, 39, 40, 301, 2000])
def test_size_is_the_total_number_of_records(size):
    counts = allocate(size)
    assert sum(counts.values()) == size
    assert set(counts) == set(SIZED_PATHS)


def test_mix_of_resources(company):
    counts = company.counts()
    assert counts["customers"] == 300 and counts["sales-orders"] == 500
    assert counts["invoices"] == 500 and counts["inventory-adjustments"] == 100
    assert all(counts[path] > 0 for path in ITEM_PATHS)
    assert 15 <= counts["accounts"] <= 40


def test_sub_customers_and_sub_items(company):
    jobs = [r for r in company.records["customers"].values() if r.data["parent"]]
    assert len(jobs) > 20
    for job in jobs:
        parent = company.get("customers", job.data["parent"]["id"])
        assert job.data["fullName"] == f"{parent.data['fullName']}:{job.data['name']}"
        assert job.data["sublevel"] == parent.data["sublevel"] + 1
    assert any(r.data["parent"] for r in company.records["inventory-items"].values())


def test_about_five_percent_of_list_objects_are_inactive(company):
    lists = [r for p in ("customers", "vendors", *ITEM_PATHS) for r in company.records[p].values()]
    inactive = sum(not r.data["isActive"] for r in lists)
    assert 0.02 * len(lists) <= inactive <= 0.09 * len(lists)


def test_awkward_data_is_present(company):
    names = [r.data["name"] for r in company.records["customers"].values()]
    names += [r.data["name"] for r in company.records["vendors"].values()]
    assert any(len(name) == 41 for name in names)
    assert any("'" in name for name in names)
    assert any(not name.isascii() for name in names)
    assert any(name[0].isdigit() for name in names) and any(not name[0].isalnum() for name in names)
    assert any(r.data["email"] is None for r in company.records["customers"].values())
    items = [r.data["name"] for p in ITEM_PATHS for r in company.records[p].values()]
    assert any(len(name) == 31 for name in items)
    assert all(len(name) <= 31 for name in items) and all(len(name) <= 41 for name in names)


def test_names_are_unique_in_their_name_spaces(company):
    entities = [
        r.name.casefold() for p in ("customers", "vendors") for r in company.records[p].values()
    ]
    assert len(entities) == len(set(entities))
    items = [r.name.casefold() for p in ALL_ITEM_PATHS for r in company.records[p].values()]
    assert len(items) == len(set(items))


def test_transactions_reference_real_records(company):
    items = {r.id for p in ITEM_PATHS for r in company.records[p].values()}
    any_item = items | {r.id for p in OTHER_ITEM_PATHS for r in company.records[p].values()}
    for path, party, parties, known in (
        ("sales-orders", "customer", "customers", any_item),
        ("invoices", "customer", "customers", any_item),
        ("purchase-orders", "vendor", "vendors", items),
    ):
        for record in company.records[path].values():
            assert company.get(parties, record.data[party]["id"]) is not None
            assert all(line["item"]["id"] in known for line in record.data["lines"])


def test_on_hand_agrees_with_opening_adjustments_and_invoices(company):
    movement = defaultdict(float)
    for record in company.records["inventory-adjustments"].values():
        for line in record.data["lines"]:
            movement[line["item"]["id"]] += line["quantityDifference"]
    for record in company.records["invoices"].values():
        for line in record.data["lines"]:
            movement[line["item"]["id"]] -= line["quantity"] or 0  # discounts have none
        for group in record.data["lineGroups"]:
            for line in group["lines"]:
                movement[line["item"]["id"]] -= line["quantity"]
    changed = [r for r in company.records["inventory-items"].values() if movement[r.id]]
    assert changed
    # opening quantities are between 0 and 300, everything else is the movement
    for item in changed:
        opening = item.data["quantityOnHand"] - movement[item.id]
        assert 0 <= opening <= 300


def test_timestamps_spread_over_two_years_before_the_anchor(company):
    stamps = sorted(r.data["updatedAt"] for p in SIZED_PATHS for r in company.records[p].values())
    assert stamps[0] < "2024-03-01" and stamps[-1] <= "2026-01-15T12:00:00-05:00"
    assert all(stamp.endswith("-05:00") for stamp in stamps)
    for record in company.records["invoices"].values():
        assert record.data["createdAt"] <= record.data["updatedAt"]
        assert record.data["revisionNumber"].isdigit()


def test_ids_have_quickbooks_formats(company):
    customer = next(iter(company.records["customers"].values())).data
    invoice = next(iter(company.records["invoices"].values())).data
    assert customer["id"][:1] == "8" and len(customer["id"].split("-")[1]) == 10
    assert all(len(part) for part in invoice["id"].split("-"))
    assert invoice["lines"][0]["id"] != invoice["id"]
    assert all(len(r.id) <= 36 for records in company.records.values() for r in records.values())


def test_one_hundred_thousand_records_generate_quickly():
    # the full benchmark is bench/sim_serve.py; this keeps an eye on the order of magnitude
    import time

    started = time.process_time()  # CPU time: other processes on the machine do not count
    company = generate_company(SimConfig(size=20_000, seed=2))
    assert sum(company.counts()[p] for p in SIZED_PATHS) == 20_000
    assert time.process_time() - started < 6  # about 1 s; 100k take about 5 s


def _kind(company, line) -> str | None:
    return next((p for p in OTHER_ITEM_PATHS if line["item"]["id"] in company.records[p]), None)


def test_other_item_kinds_come_on_top_of_the_size(company):
    counts = company.counts()
    assert sum(counts[path] for path in SIZED_PATHS) == 2000
    handful = [counts[path] for path in OTHER_ITEM_PATHS if path != "sales-tax-group-items"]
    assert all(2 <= count <= 6 for count in handful)
    assert counts["sales-tax-group-items"] == 1
    # the sales-tax items are the ones customers are taxed with
    tax_items = {r.id for r in company.records["sales-tax-items"].values()}
    taxed = [r for r in company.records["customers"].values() if r.data["salesTaxItem"]]
    assert taxed and all(r.data["salesTaxItem"]["id"] in tax_items for r in taxed)


def test_some_sales_carry_discount_subtotal_and_assembly_lines(company):
    records = [r for p in ("sales-orders", "invoices") for r in company.records[p].values()]
    special = [r for r in records if any(_kind(company, line) for line in r.data["lines"])]
    assert 0.05 * len(records) <= len(special) <= 0.12 * len(records)
    kinds = {_kind(company, line) for r in special for line in r.data["lines"]} - {None}
    assert kinds == {"discount-items", "subtotal-items", "inventory-assembly-items"}
    for record in special:
        data, running = record.data, Decimal(0)
        counted = Decimal(0)
        for line in data["lines"]:
            kind = _kind(company, line)
            amount = Decimal(line["amount"])
            if kind == "subtotal-items":
                assert line["quantity"] is None and amount == running
                continue
            if kind == "discount-items":
                assert line["quantity"] is None and amount < 0
            running += amount
            counted += amount
        counted += sum((Decimal(group["totalAmount"]) for group in data["lineGroups"]), Decimal(0))
        assert Decimal(data["subtotal"]) == counted
        total = counted + Decimal(data["salesTaxTotal"])
        if record.resource == "sales-orders":
            assert Decimal(data["totalAmount"]) == total
        else:
            paid = -Decimal(data["appliedAmount"])
            assert Decimal(data["balanceRemaining"]) == total - paid


class NoLineGroups:
    """Stands in for ``LineGroupMaker``: a company without line groups."""

    def __init__(self, *args) -> None:
        pass

    def add(self, tax_rates) -> None:
        pass


def test_other_item_kinds_leave_the_rest_of_the_company_as_the_seed_gave_it(monkeypatch):
    # (line groups, made from item groups, are left out of both: see the line-group tests)
    monkeypatch.setattr(generate, "LineGroupMaker", NoLineGroups)
    with_others = generate_company(SimConfig(size=600, seed=3, anchor=ANCHOR))

    class Nothing:
        def __init__(self, *args) -> None:
            pass

        def items(self) -> None:
            pass

        def sales_lines(self, tax_rates) -> None:
            pass

    monkeypatch.setattr(generate, "OtherItemMaker", Nothing)
    without = generate_company(SimConfig(size=600, seed=3, anchor=ANCHOR))
    for path in ("vendors", *ITEM_PATHS, "purchase-orders", "inventory-adjustments"):
        assert [r.data for r in with_others.records[path].values()] == [
            r.data for r in without.records[path].values()
        ], path
    for path in ("customers", "sales-orders", "invoices"):
        assert list(with_others.records[path]) == list(without.records[path])
    for path in ("sales-orders", "invoices"):
        for record in with_others.records[path].values():
            lines = [line for line in record.data["lines"] if not _kind(with_others, line)]
            assert lines == without.records[path][record.id].data["lines"]
