"""A parent renamed in QuickBooks renames its jobs or sub-items without touching them.

QuickBooks keeps `fullName` = the parent's full name, ":", and the record's own name, so
renaming "Nelson, Christina" renames "Nelson, Christina:Parking Lot" and every level under
it; their `revisionNumber` and `updatedAt` stay as they were (the simulator does the same),
so an incremental pull alone would leave the old names in the WMS.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.sync.conftest import objects_by_name, snapshot, sync
from webapp.extensions import db
from webapp.models import Customer, Item, SyncObjectRun
from webapp.sync.conductor import QuickBooks

IDS_CALLS = "GET /v1/quickbooks-desktop/customers"


def _descendants(model, qb_id: str) -> list:
    found, level = [], [qb_id]
    while level:
        rows = list(db.session.scalars(select(model).where(model.parent_qb_id.in_(level))))
        found += rows
        level = [row.qb_id for row in rows]
    return found


def _top_customer_with_grandchildren(qb) -> str:
    customers = qb.list_page("customers", {"status": "all", "limit": 150})["data"]
    by_id = {c["id"]: c for c in customers}
    grandchild = next(c for c in customers if c["sublevel"] == 2 and c["isActive"])
    return by_id[grandchild["parent"]["id"]]["parent"]["id"]


def _assert_names_match_quickbooks(qb, resource: str, rows) -> None:
    listed = qb.list_page(resource, {"ids": [row.qb_id for row in rows]})["data"]
    wire = {record["id"]: record for record in listed}
    for row in rows:
        assert row.full_name == wire[row.qb_id]["fullName"]
        assert row.sync_base["full_name"] == wire[row.qb_id]["fullName"]
        assert row.qb_revision == wire[row.qb_id]["revisionNumber"]


def test_renaming_a_customer_renames_its_jobs_at_every_level(any_sync_app, sim, any_qb):
    qb = any_qb
    sync(["customer"])
    top = _top_customer_with_grandchildren(qb)
    jobs = _descendants(Customer, top)
    assert {job.sublevel for job in jobs} == {1, 2}
    before = {job.qb_id: (job.qb_revision, job.qb_updated_at) for job in jobs}
    sim.edits({"resource": "customers", "id": top, "fields": {"name": "Renamed Holdings"}})
    calls = sim.stats()["requests"].get(IDS_CALLS, 0)

    doc = sync(["customer"])
    spent = sim.stats()["requests"][IDS_CALLS] - calls

    db.session.expire_all()
    jobs = _descendants(Customer, top)
    assert all(job.full_name.startswith("Renamed Holdings:") for job in jobs)
    _assert_names_match_quickbooks(qb, "customers", jobs)
    # QuickBooks touched none of them: same revision and updatedAt, new name
    assert {job.qb_id: (job.qb_revision, job.qb_updated_at) for job in jobs} == before
    run = objects_by_name(doc)["customer"]
    assert run["updated"] == 1 + len(jobs) and run["failed"] == 0
    # the listing, one read of the jobs, one of theirs (the deleted-list check is not here)
    assert spent == 3
    # and the WMS now equals QuickBooks: a full pull finds nothing to change
    full = objects_by_name(sync(["customer"], mode="full"))["customer"]
    assert full["updated"] == full["created"] == 0


def test_renaming_an_item_renames_its_sub_items(sync_app, sim, qb):
    sync(["item"])
    sub = next(i for i in qb.list_page("inventory-items", {"limit": 150})["data"] if i["parent"])
    parent = sub["parent"]["id"]
    sim.edits({"resource": "inventory-items", "id": parent, "fields": {"name": "Renamed Stock"}})

    doc = sync(["item"])

    subs = _descendants(Item, parent)
    assert subs and all(s.full_name.startswith("Renamed Stock:") for s in subs)
    _assert_names_match_quickbooks(qb, "inventory-items", subs)
    assert objects_by_name(doc)["item"]["updated"] == 1 + len(subs)


def test_a_rename_checked_once_costs_nothing_more(sync_app, sim):
    sync(["customer", "item"])
    before = snapshot()
    calls = sim.stats()["total"]
    doc = sync(["customer", "item"])
    assert snapshot() == before
    # a listing per resource, one deleted-list check for all three (asked by the first) and
    # the items' look for stock moved by transactions (what changed, what was deleted): no
    # read of any job or sub-item
    assert {r["name"]: r["api_calls"] for r in doc["objects"]} == {
        "customer": 2, "vendor": 1, "item": 6}
    assert sim.stats()["total"] - calls == 9


def test_the_names_compared_are_the_ones_quickbooks_sent(sync_app, sim, qb):
    # A job whose name the warehouse edited is not read again on every sync.
    sync(["customer"])
    job = db.session.scalar(select(Customer).where(Customer.parent_qb_id.is_not(None)))
    db.session.execute(update(Customer).where(Customer.id == job.id)
                       .values(full_name="Edited in the warehouse"))
    db.session.commit()
    calls = sim.stats()["total"]
    sync(["customer"])
    assert sim.stats()["total"] - calls == 2
    assert db.session.get(Customer, job.id).full_name == "Edited in the warehouse"


def test_jobs_left_stale_before_are_mended_by_the_next_sync(sync_app, sim, qb):
    # Rows an older qbsync left with their parent's old name (their stored copy and hash
    # are the old record's) are mended by any later run, whatever QuickBooks reports changed.
    sync(["customer"])
    top = _top_customer_with_grandchildren(qb)
    sim.edits({"resource": "customers", "id": top, "fields": {"name": "Renamed Holdings"}})
    sync(["customer"])
    jobs = _descendants(Customer, top)
    for job in jobs:
        old = {**job.sync_base, "full_name": job.sync_base["full_name"].replace(
            "Renamed Holdings", "Old Name", 1)}
        db.session.execute(update(Customer).where(Customer.id == job.id).values(
            sync_base=old, full_name=old["full_name"], sync_hash="0" * 64))
    db.session.commit()
    sync(["customer"])
    db.session.expire_all()
    jobs = _descendants(Customer, top)
    assert all(job.full_name.startswith("Renamed Holdings:") for job in jobs)
    _assert_names_match_quickbooks(qb, "customers", jobs)


def test_a_job_moved_to_another_customer_takes_its_own_jobs_along(sync_app, sim, qb):
    sync(["customer"])
    top = _top_customer_with_grandchildren(qb)
    job = next(j for j in _descendants(Customer, top) if _descendants(Customer, j.qb_id))
    other = db.session.scalar(select(Customer).where(
        Customer.parent_qb_id.is_(None), Customer.qb_id != top, Customer.is_active))
    sim.edits({"resource": "customers", "id": job.qb_id, "fields": {"parentId": other.qb_id}})

    sync(["customer"])

    db.session.expire_all()
    moved = [db.session.get(Customer, job.id), *_descendants(Customer, job.qb_id)]
    assert all(row.full_name.startswith(f"{other.full_name}:") for row in moved)
    _assert_names_match_quickbooks(qb, "customers", moved)
    assert moved[0].parent_id == other.id


class Crash(Exception):
    """A worker dying right after its first page was committed."""


def _every_customer(qb) -> dict[str, str]:
    found, params = {}, {"status": "all", "limit": 150}
    while True:
        page = qb.list_page("customers", params)
        found.update((c["id"], c["fullName"]) for c in page["data"])
        if not page["hasMore"]:
            return found
        params = {"status": "all", "limit": 150, "cursor": page["nextCursor"]}


def _crash_after_a_page(app, monkeypatch):
    """A first full pull of customers (pages of 25 of the ~90) that dies once a page is in;
    returns its session and the name its listing resumes from."""
    from webapp.sync import manager
    from webapp.sync.engine import run_object
    from webapp.sync.pull import paging

    monkeypatch.setattr(paging, "PAGE_LIMIT", 25)
    session = manager.start_session(["customer"], "full")

    def crash_after_a_page(run):
        if run.processed:
            raise Crash()

    with QuickBooks.from_config(app.config) as client, pytest.raises(Crash):
        run_object(session.id, "customer", client, on_progress=crash_after_a_page)
    db.session.rollback()
    run = db.session.scalar(select(SyncObjectRun).where(SyncObjectRun.session_id == session.id))
    assert run.checkpoint["name_from"]  # a page in: the listing resumes from this name
    return session, run.checkpoint["name_from"]


def _resume(app, session) -> SyncObjectRun:
    from webapp.sync.engine import run_object

    with QuickBooks.from_config(app.config) as client:
        return run_object(session.id, "customer", client)


def _parent_further_on(qb, passed: str) -> tuple[dict, list[str]]:
    """A top customer with jobs, all named after `passed`; and its jobs' ids."""
    customers = qb.list_page("customers", {"status": "all", "limit": 150,
                                           "nameFrom": passed})["data"][1:]
    jobs_of: dict[str, list[str]] = {}
    for c in customers:
        if c["parent"]:
            jobs_of.setdefault(c["parent"]["id"], []).append(c["id"])
    parent = next(c for c in customers if not c["parent"] and c["id"] in jobs_of)
    return parent, jobs_of[parent["id"]]


def test_a_customer_renamed_past_a_restarted_listing_is_read_with_its_jobs(sync_app, sim, qb,
                                                                           monkeypatch):
    """A first full pull crashes after its first page; before it resumes from that page's
    last name, a customer further on is renamed to sort before it. The resumed listing alone
    would never see the customer nor its jobs (they moved with it), and no later incremental
    sync would read the jobs (QuickBooks does not touch them): the pull reads them itself.
    One of the jobs was edited too: read twice, it is counted once."""
    session, passed = _crash_after_a_page(sync_app, monkeypatch)
    parent, jobs = _parent_further_on(qb, passed)
    sim.edits({"resource": "customers", "id": parent["id"], "fields": {"name": "!Moved Up"}})
    sim.edits({"resource": "customers", "id": jobs[0], "fields": {"phone": "555-0100"}})
    assert _every_customer(qb)[parent["id"]] == "!Moved Up"  # sorts before any letter

    run = _resume(sync_app, session)

    held = dict(db.session.execute(select(Customer.qb_id, Customer.full_name)).all())
    assert held == _every_customer(qb)
    assert all(held[job].startswith("!Moved Up:") for job in jobs)
    assert run.processed == run.total == len(held)


def test_a_rename_is_caught_up_with_quickbooks_clock_behind_ours(sync_app, sim, qb,
                                                                  monkeypatch):
    """The accounting computer's clock five minutes behind the server's: the rename is
    stamped before the pull began, by our clock; it is read all the same."""
    session, passed = _crash_after_a_page(sync_app, monkeypatch)
    parent, jobs = _parent_further_on(qb, passed)
    sim.faults(clock_offset_s=-300)
    sim.edits({"resource": "customers", "id": parent["id"], "fields": {"name": "!Moved Up"}})
    sim.faults(clock_offset_s=0)

    _resume(sync_app, session)

    held = dict(db.session.execute(select(Customer.qb_id, Customer.full_name)).all())
    assert held == _every_customer(qb)


def test_a_caught_up_record_that_did_not_move_costs_no_call(sync_app, sim, qb, monkeypatch):
    """Customers already written, edited (not renamed) before the resume: the catch-up reads
    them in its one call and looks under none of them."""
    session, passed = _crash_after_a_page(sync_app, monkeypatch)
    early = qb.list_page("customers", {"status": "all", "limit": 150, "nameTo": passed})["data"]
    for customer in early[:20]:
        sim.edits({"resource": "customers", "id": customer["id"],
                   "fields": {"phone": "555-0101"}})
    rest = len(_every_customer(qb)) - len(early)
    before = sim.stats()["requests"].get(IDS_CALLS, 0)

    _resume(sync_app, session)

    spent = sim.stats()["requests"][IDS_CALLS] - before
    assert spent == -(-rest // 25) + 1  # the rest of the listing, and the catch-up
    held = dict(db.session.execute(select(Customer.qb_id, Customer.full_name)).all())
    assert held == _every_customer(qb)
