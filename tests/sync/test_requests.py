"""At QuickBooks' pace a request costs seconds: the number of requests is the cost of a sync
(issue 21). Counted here exactly, per object, as rows are counted elsewhere."""

import math

import pytest
from sqlalchemy import select, update

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import SalesOrder
from webapp.sync.pull import pulls

QBD = "GET /v1/quickbooks-desktop"
PAGE = 150
RESOURCES = {
    "customer": ("customers",),
    "vendor": ("vendors",),
    "item": ("inventory-items", "non-inventory-items", "service-items", "other-charge-items"),
    "sales_order": ("sales-orders",),
    "purchase_order": ("purchase-orders",),
    "invoice": ("invoices",),
}


def _pages(count: int) -> int:
    return max(math.ceil(count / PAGE), 1)


def _spent(sim, before: dict) -> dict[str, int]:
    after = sim.stats()["requests"]
    return {path: n - before.get(path, 0) for path, n in after.items() if n != before.get(path, 0)}


@pytest.mark.parametrize("size", [600, 2000])
def test_a_full_pull_makes_one_request_a_page_and_no_more(sync_app, sim, size):
    sim.reset(size=size)
    counts = sim.counts()
    before = sim.stats()["requests"]
    doc = sync(mode="full")
    runs = objects_by_name(doc)
    # Each object: one request per page of each of its resources — every listing fits in the
    # bound a crash may read again (QBSYNC_RESUME_RECORDS), so none is cut into windows
    for name, resources in RESOURCES.items():
        assert all(counts[r] <= pulls.RESUME_RECORDS for r in resources)
        assert runs[name]["api_calls"] == sum(_pages(counts[r]) for r in resources), name
    # adjustments: one unpaginated call; a first full pull has nothing to delete or refresh
    assert runs["inventory_adjustment"]["api_calls"] == 1
    spent = _spent(sim, before)
    planned = sum(_pages(counts[r]) for rs in RESOURCES.values() for r in rs) + 1
    assert sum(spent.values()) == planned, spent
    assert not any("deleted" in path or path.rsplit("/", 1)[1] == "transactions"
                   for path in spent)


def test_a_listing_over_the_bound_costs_its_first_page_and_a_page_a_window_more(
        sync_app, sim):
    # 500 sales orders with a bound of 200: read in windows of at most 200 (a crash reads one
    # again); the cost is the first page (its count and records size the windows) and each
    # window's part-filled last page, beside a shrink when a window was denser than planned
    sync_app.config["QBSYNC_RESUME_RECORDS"] = 200
    sim.reset(size=2000)
    count = sim.counts()["sales-orders"]
    doc = sync(["sales_order"], mode="full")
    run = objects_by_name(doc)["sales_order"]
    windows = math.ceil(count / pulls._window_target(200))
    assert run["processed"] == run["created"] == count
    assert run["api_calls"] <= 1 + _pages(count) + windows + 2, run["api_calls"]


def test_a_sync_where_nothing_changed_makes_nine_requests(sync_app, sim):
    sync(mode="full")
    before = sim.stats()["requests"]
    doc = sync()
    spent = _spent(sim, before)
    # one per list resource (their incremental listings), one GET /transactions for every
    # transaction type, one deleted-list request for all list types, one for all transactions
    assert spent == {
        **{f"{QBD}/{r}": 1 for name in ("customer", "vendor", "item")
           for r in RESOURCES[name]},
        f"{QBD}/transactions": 1,
        f"{QBD}/deleted-list-objects": 1,
        f"{QBD}/deleted-transactions": 1,
    }
    assert sum(o["api_calls"] for o in doc["objects"]) == 9
    assert all(o["created"] == o["updated"] == o["deleted"] == 0 for o in doc["objects"])


def test_a_change_is_listed_by_its_own_object_only(sync_app, sim, qb):
    sync(mode="full")
    order = qb.list_page("purchase-orders", {"limit": 1})["data"][0]
    sim.edits({"resource": "purchase-orders", "id": order["id"], "fields": {"memo": "Later"}})
    before = sim.stats()["requests"]
    doc = sync()
    spent = _spent(sim, before)
    runs = objects_by_name(doc)
    assert runs["purchase_order"]["updated"] == 1
    # the purchase orders are listed from their watermark; the other transactions are not
    assert spent[f"{QBD}/purchase-orders"] == 1
    assert not any(f"{QBD}/{r}" in spent for r in ("sales-orders", "invoices",
                                                    "inventory-adjustments"))
    assert spent[f"{QBD}/transactions"] == 1


def test_a_row_marked_deleted_that_quickbooks_lists_is_read_and_restored(sync_app, sim):
    sync(mode="full")
    newest = db.session.scalar(select(SalesOrder.id).order_by(
        SalesOrder.qb_updated_at.desc()).limit(1))
    db.session.execute(update(SalesOrder).where(SalesOrder.id == newest).values(
        qb_deleted_at=SalesOrder.synced_at))
    db.session.commit()
    # QuickBooks lists it (the watermark's overlap holds the newest): not taken for unchanged
    doc = sync()
    assert objects_by_name(doc)["sales_order"]["api_calls"] >= 1
    db.session.expire_all()
    assert db.session.get(SalesOrder, newest).qb_deleted_at is None
