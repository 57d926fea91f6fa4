"""Inventory adjustments (not paginated by QuickBooks): one call when it holds them all,
date windows sized by that call's records when it is cut short."""

from datetime import datetime

import pytest
from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import InventoryAdjustment
from webapp.sync import manager
from webapp.sync.conductor import QuickBooks
from webapp.sync.engine import run_object
from webapp.sync.pull import pulls

PATH = "GET /v1/quickbooks-desktop/inventory-adjustments"


class TracingQuickBooks(QuickBooks):
    """The real client, keeping the parameters of every adjustments call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.adjustment_calls: list[dict] = []

    def list_all(self, resource, params):
        if resource == "inventory-adjustments":
            self.adjustment_calls.append(dict(params))
        return super().list_all(resource, params)


def _adjustment_reads(sim) -> int:
    return sim.stats()["requests"].get(PATH, 0)


def _assert_mirrored(qb):
    """Every adjustment in QuickBooks is in the WMS at its revision, and nothing else."""
    wire = {r["id"]: r["revisionNumber"] for r in qb.list_all("inventory-adjustments", {})}
    local = dict(db.session.execute(
        select(InventoryAdjustment.qb_id, InventoryAdjustment.qb_revision)
        .where(InventoryAdjustment.qb_deleted_at.is_(None))).all())
    assert local == wire


def test_a_full_pull_of_a_small_company_reads_adjustments_in_one_call(sync_app, sim, qb):
    count = sim.counts()["inventory-adjustments"]
    assert 0 < count < pulls.RESUME_RECORDS
    with TracingQuickBooks.from_config(sync_app.config) as traced:
        before = _adjustment_reads(sim)
        doc = sync(["inventory_adjustment"], mode="full", qb=traced)
        assert _adjustment_reads(sim) - before == 1
        assert traced.adjustment_calls == [
            {"includeLineItems": True, "limit": pulls.RESUME_RECORDS + 1}
        ]
    run = objects_by_name(doc)["inventory_adjustment"]
    assert run["api_calls"] == 1
    assert run["processed"] == run["total"] == run["created"] == count, run
    _assert_mirrored(qb)

    # an incremental pull with no changes: no call at all, as the session's GET /transactions
    # lists none changed and its deleted-list request none deleted (the items, which the
    # session syncs first, asked both for every object, looking for stock moves)
    with TracingQuickBooks.from_config(sync_app.config) as traced:
        before = _adjustment_reads(sim)
        doc = sync(["inventory_adjustment"], qb=traced)
        assert _adjustment_reads(sim) - before == 0
        assert traced.adjustment_calls == []
    runs = objects_by_name(doc)
    assert runs["inventory_adjustment"]["api_calls"] == 0
    run = runs["inventory_adjustment"]
    assert run["created"] == run["updated"] == run["deleted"] == 0, run


def _window_calls_are_bounded(calls: list[dict], count: int, bound: int) -> None:
    first = calls[0]
    assert "updatedBefore" not in first and first["limit"] == bound + 1
    target = pulls._window_target(bound)
    # no walk through empty windows from 1990: the first window (up to the sample's oldest
    # record and a density span past it) starts there, and at most one shrink of it
    assert sum(c.get("updatedAfter") == pulls.FLOOR_TIME for c in calls) <= 2
    # the sample, about count/target windows, a shrink or two on the way, and the last,
    # open one
    assert len(calls) <= 4 + -(-count // target), calls


@pytest.mark.parametrize("bound", [10, 24])
def test_more_adjustments_than_one_call_holds_are_read_in_windows(sync_app, sim, qb, bound):
    sync_app.config["QBSYNC_RESUME_RECORDS"] = bound
    count = sim.counts()["inventory-adjustments"]
    assert count > bound + 1
    with TracingQuickBooks.from_config(sync_app.config) as traced:
        before = _adjustment_reads(sim)
        doc = sync(["inventory_adjustment"], mode="full", qb=traced)
        calls = traced.adjustment_calls
    assert _adjustment_reads(sim) - before == len(calls)
    _window_calls_are_bounded(calls, count, bound)
    assert all(c["limit"] == bound + 1 for c in calls)
    run = objects_by_name(doc)["inventory_adjustment"]
    assert run["api_calls"] == len(calls)
    assert run["processed"] == run["total"] == run["created"] == count, run
    _assert_mirrored(qb)


def test_more_changes_than_one_call_holds_are_read_in_windows_from_the_watermark(
        sync_app, sim, qb):
    sync(["inventory_adjustment"])
    sync_app.config["QBSYNC_RESUME_RECORDS"] = 8
    ids = [r["id"] for r in qb.list_all("inventory-adjustments", {})][:20]
    for number, qb_id in enumerate(ids):
        sim.edits({"resource": "inventory-adjustments", "id": qb_id,
                   "fields": {"memo": f"Recounted {number}"}})
    with TracingQuickBooks.from_config(sync_app.config) as traced:
        doc = sync(["inventory_adjustment"], qb=traced)
        calls = traced.adjustment_calls
    assert len(calls) > 1  # cut short: windows
    since = datetime.fromisoformat(calls[0]["updatedAfter"])
    # windows from the watermark on, up to an open last one
    assert all(datetime.fromisoformat(c["updatedAfter"]) >= since for c in calls[1:])
    assert "updatedBefore" not in calls[-1]
    _window_calls_are_bounded(calls, len(ids), 8)
    run = objects_by_name(doc)["inventory_adjustment"]
    assert run["updated"] == len(ids) and run["created"] == 0, run
    assert run["processed"] == run["total"], run
    _assert_mirrored(qb)


def test_a_crash_after_the_one_call_is_written_reads_nothing_again(sync_app, sim, qb):
    class Crash(Exception):
        pass

    sync(["item"])
    session = manager.start_session(["inventory_adjustment"], "full")

    def crash_once_written(run):
        if run.processed:
            raise Crash()

    with pytest.raises(Crash):
        run_object(session.id, "inventory_adjustment", qb, on_progress=crash_once_written)
    db.session.rollback()
    before = _adjustment_reads(sim)
    run = run_object(session.id, "inventory_adjustment", qb)
    assert _adjustment_reads(sim) == before  # the committed checkpoint says the read is done
    count = sim.counts()["inventory-adjustments"]
    assert run.processed == run.total == run.created == count
    _assert_mirrored(qb)
