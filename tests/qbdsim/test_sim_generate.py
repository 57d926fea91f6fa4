"""The generated company: deterministic, realistic, awkward where real files are, consistent."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from qbdsim.config import SimConfig
from qbdsim.generate import allocate, generate_company
from qbdsim.resources import ITEM_PATHS, SIZED_PATHS

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
    items = [r.name.casefold() for p in ITEM_PATHS for r in company.records[p].values()]
    assert len(items) == len(set(items))


def test_transactions_reference_real_records(company):
    items = {r.id for p in ITEM_PATHS for r in company.records[p].values()}
    for path, party, parties in (
        ("sales-orders", "customer", "customers"),
        ("invoices", "customer", "customers"),
        ("purchase-orders", "vendor", "vendors"),
    ):
        for record in company.records[path].values():
            assert company.get(parties, record.data[party]["id"]) is not None
            assert all(line["item"]["id"] in items for line in record.data["lines"])


def test_on_hand_agrees_with_opening_adjustments_and_invoices(company):
    movement = defaultdict(float)
    for record in company.records["inventory-adjustments"].values():
        for line in record.data["lines"]:
            movement[line["item"]["id"]] += line["quantityDifference"]
    for record in company.records["invoices"].values():
        for line in record.data["lines"]:
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
