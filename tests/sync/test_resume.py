"""Crash anywhere, resume, lose nothing; faults and cursor expiry change nothing."""

import time

import pytest
from sqlalchemy import delete, select

from tests.sync.conftest import objects_by_name, snapshot, sync
from webapp.extensions import db
from webapp.models import SyncSession, SyncState
from webapp.sync import manager
from webapp.sync.conductor import QuickBooks
from webapp.sync.engine import run_object
from webapp.sync.objects import registry
from webapp.sync.pull.paging import PAGE_LIMIT


class Crash(Exception):
    """A worker dying right after a checkpoint was committed."""


class CountingQuickBooks(QuickBooks):
    """The real client, noting the ids of the records QuickBooks sent back."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ids: list[str] = []

    def list_page(self, resource, params, cursor=None):
        page = super().list_page(resource, params, cursor)
        self.ids.extend(r["id"] for r in page["data"])
        return page

    def list_all(self, resource, params):
        rows = super().list_all(resource, params)
        self.ids.extend(r["id"] for r in rows)
        return rows


def _client(app, cls=CountingQuickBooks):
    return cls.from_config(app.config)


def _fresh_session(name):
    db.session.execute(
        SyncSession.__table__.update().where(SyncSession.status.in_(["pending", "running"]))
        .values(status="completed"))
    db.session.commit()
    return manager.start_session([name], "full")


def _wipe(name):
    obj = registry.get(name)
    if obj.line_model is not None:
        db.session.execute(delete(obj.line_model))
    db.session.execute(delete(obj.model))
    db.session.execute(delete(SyncState).where(SyncState.object_name == name))
    db.session.commit()


@pytest.mark.parametrize(("name", "bound"), [
    ("customer", None), ("item", None),
    ("sales_order", None),  # 500: one cursor listing (a crash reads it again: at most the bound)
    ("sales_order", 150),  # more than the bound: date windows of at most a page
    ("inventory_adjustment", None),  # about 100: one call
    ("inventory_adjustment", 20),  # more than one call holds: date windows
])
def test_resuming_after_each_checkpoint_gives_the_same_rows(sync_app, sim, name, bound):
    from webapp.sync.pull import pulls

    if bound:
        sync_app.config["QBSYNC_RESUME_RECORDS"] = bound
    sim.reset(size=2000)
    deps = [p.name for p in registry.plan([name]) if p.name != name]
    session = _fresh_session(name)
    with _client(sync_app) as qb:
        for dep in deps:
            run_object(session.id, dep, qb, settings=sync_app.config)
        checkpoints = []
        run_object(session.id, name, qb, settings=sync_app.config,
                   on_progress=lambda run: checkpoints.append(run.processed))
    reference = snapshot()
    assert len(checkpoints) >= 4
    # Lists resume from the last name (a page); the rest read again at most the bound.
    most_read_again = PAGE_LIMIT if registry.get(name).kind == "list" else (
        bound or pulls.RESUME_RECORDS)
    if bound:  # windows of about the bound's WINDOW_FILL happened
        assert len(checkpoints) >= 100 // bound

    for crash_at in range(1, len(checkpoints) + 1):
        _wipe(name)
        session = _fresh_session(name)
        seen = []

        def crash(run, crash_at=crash_at, seen=seen):
            seen.append(run.processed)
            if len(seen) == crash_at:
                raise Crash()

        with _client(sync_app) as qb, pytest.raises(Crash):
            run_object(session.id, name, qb, on_progress=crash, settings=sync_app.config)
        db.session.rollback()
        committed = set(db.session.scalars(select(registry.get(name).model.qb_id)))
        with _client(sync_app) as qb:
            run_object(session.id, name, qb, settings=sync_app.config)
            read_again = [i for i in qb.ids if i in committed]
        assert snapshot() == reference, f"crash after checkpoint {crash_at}"
        # what was committed before the crash is read again at most one page's worth
        assert len(read_again) <= most_read_again, (crash_at, len(read_again), len(committed))


class FlakyCursorQuickBooks(QuickBooks):
    """Lets every third cursor wait past the simulator's 10-second window (shortened)."""

    ttl_s = 0.3
    cursor_requests = 0

    def list_page(self, resource, params, cursor=None):
        if cursor is not None:
            self.cursor_requests += 1
            if self.cursor_requests % 3 == 0:
                time.sleep(self.ttl_s + 0.2)
        return super().list_page(resource, params, cursor)


def test_faults_and_expired_cursors_still_give_the_same_rows(sync_app, sim):
    sim.reset(size=1500)
    sim.faults(fault_rate=0.1, cursor_ttl_s=FlakyCursorQuickBooks.ttl_s)
    with FlakyCursorQuickBooks.from_config(sync_app.config) as qb:
        doc = sync(mode="full", qb=qb, max_attempts=30)
        assert qb.cursor_requests >= 3
    assert doc["status"] == "completed", doc["failure_reason"]
    assert doc["error_count"] == 0
    for run in doc["objects"]:  # restarted listings are not counted twice
        assert run["processed"] == run["total"] == run["created"], run
    faulty = snapshot()
    sim.faults(fault_rate=0.0, cursor_ttl_s=10.0)
    clean = sync(mode="full")
    for run in objects_by_name(clean).values():
        assert run["created"] == run["updated"] == run["deleted"] == 0, run
    assert snapshot() == faulty


def test_a_cancel_between_pages_stops_the_object(sync_app, sim):
    from webapp.sync.engine import Cancelled

    session = manager.start_session(["customer"], "full")
    pages = []
    with _client(sync_app) as qb, pytest.raises(Cancelled):
        run_object(session.id, "customer", qb, is_cancelled=lambda: len(pages) >= 2,
                   on_progress=lambda run: pages.append(run.processed))
    assert db.session.scalar(select(SyncSession.id)) == session.id


def test_a_listing_read_again_by_a_later_attempt_counts_each_record_once(sync_app, sim):
    # 500 sales orders: one cursor listing (within the bound), which cannot be resumed part-way
    sim.reset(size=2000)
    count = sim.counts()["sales-orders"]
    session = _fresh_session("sales_order")
    with _client(sync_app) as qb:
        for dep in [p.name for p in registry.plan(["sales_order"]) if p.name != "sales_order"]:
            run_object(session.id, dep, qb, settings=sync_app.config)
        pages = []

        def crash_after_two_pages(run):
            pages.append(run.processed)
            if run.processed >= 2 * PAGE_LIMIT:
                raise Crash()

        with pytest.raises(Crash):
            run_object(session.id, "sales_order", qb, on_progress=crash_after_two_pages,
                       settings=sync_app.config)
        db.session.rollback()
        assert pages[-1] == 2 * PAGE_LIMIT
        run = run_object(session.id, "sales_order", qb, settings=sync_app.config)
        read_again = [i for i in qb.ids if i in set(db.session.scalars(
            select(registry.get("sales_order").model.qb_id)))]
    # The second attempt read the listing again from its start (the two pages the first wrote
    # included), and counted each record once
    assert len(read_again) >= count + 2 * PAGE_LIMIT
    assert run.processed == run.total == run.created == count, (run.processed, run.total)
