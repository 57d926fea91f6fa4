"""The watermark's overlap (engine.OVERLAP_MARGIN_S plus the pull's own duration) at work.

A change QuickBooks stamps a little earlier than the newest `updatedAt` the last pull saw — a
save that committed after the pull read past it, or an edit made while the pull ran, under a
QuickBooks clock behind this server's — must still reach the WMS with the next incremental
sync. Without the back-off the watermark sits on the newest stamp seen and such a change is
never asked for again (issue 23: that mutation survived every other test).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from qbdsim.query import qb_sort_key
from qbdsim.testing import running_simulator
from tests.conftest import make_app
from tests.sync.conftest import SIM_SEED, SIM_SIZE, Sim, objects_by_name, sim_config, sync
from webapp.extensions import db
from webapp.models import Customer, SyncState
from webapp.sync.pull import paging


def _watermark() -> datetime:
    text = db.session.scalar(select(SyncState.watermark)
                             .where(SyncState.object_name == "customer"))
    return datetime.fromisoformat(text)


def _newest_seen() -> datetime:
    """The newest `updatedAt` the WMS holds for customers (what the last pull saw)."""
    stamps = db.session.scalars(select(Customer.qb_updated_at)).all()
    assert stamps, "the first sync wrote no customers"
    return max(datetime.fromisoformat(s) if isinstance(s, str) else s for s in stamps)


def _set_quickbooks_clock(control: Sim, moment: datetime) -> None:
    """QuickBooks' clock set so that `now` there is `moment` (to the second)."""
    control.faults(clock_offset_s=round(moment.timestamp() - time.time()))


def _phone(qb_id: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Customer.phone).where(Customer.qb_id == qb_id))


def test_an_edit_stamped_seconds_before_the_newest_stamp_seen_is_read_next_time(sync_app, sim):
    # Given customers synced (a full pull), QuickBooks' clock and this server's agreeing
    sync(["customer"])
    newest = _newest_seen()
    assert _watermark() <= newest
    # When QuickBooks commits an edit stamped five seconds before the newest stamp that pull
    # saw (a save that was in flight while the pull read past it)
    qb_id = db.session.scalar(select(Customer.qb_id).order_by(Customer.id).limit(1))
    _set_quickbooks_clock(sim, newest - timedelta(seconds=5))
    sim.edits({"resource": "customers", "id": qb_id, "fields": {"phone": "555-0142"}})
    sim.faults(clock_offset_s=0)
    # Then the next incremental sync reads it: its window starts before that stamp
    doc = sync(["customer"])
    run = objects_by_name(doc)["customer"]
    total = db.session.scalar(select(func.count()).select_from(Customer))
    assert run["processed"] < total  # incremental, not a full pull
    assert run["updated"] == 1
    assert _phone(qb_id) == "555-0142"


def test_an_edit_made_during_a_pull_reaches_the_wms_with_the_next_sync(sqlite_uri, monkeypatch):
    # Given QuickBooks whose clock runs an hour behind this server's (its history stamped by
    # that clock too), and customers read in pages of 10
    offset_s = -3600
    anchor = (datetime.now().astimezone() + timedelta(seconds=offset_s)).isoformat()
    monkeypatch.setattr(paging, "PAGE_LIMIT", 10)
    with running_simulator(size=SIM_SIZE, seed=SIM_SEED, anchor=anchor) as server:
        edits: list[tuple[str, str]] = []  # (first customer by name, last customer by name)
        fired = threading.Event()
        seen = {"customers": 0}
        control = Sim(server)

        @server.app.before_request
        def _edit_while_page_two_is_asked_for():
            # The second customers request arrives while page one is being written (the
            # one-page prefetch): page one is read, the last page is not.
            from flask import request

            if not request.path.endswith("/customers") or not edits or fired.is_set():
                return
            seen["customers"] += 1
            if seen["customers"] == 2:
                fired.set()
                first, last = edits[0]
                # An edit to a customer already read, then, ten QuickBooks seconds later, to
                # one the pull has still to read (its stamp becomes the newest seen)
                server.simulator.update_faults({"clock_offset_s": offset_s})
                control.edits({"resource": "customers", "id": first,
                               "fields": {"phone": "555-0177"}})
                server.simulator.update_faults({"clock_offset_s": offset_s + 10})
                control.edits({"resource": "customers", "id": last,
                               "fields": {"phone": "555-0178"}})

        control.faults(clock_offset_s=offset_s)
        app = make_app(sqlite_uri, **sim_config(server))
        try:
            with app.app_context():
                sync(["customer"])  # the first, full pull
                names = db.session.execute(
                    select(Customer.qb_id, Customer.full_name)).all()
                ordered = sorted(names, key=lambda row: qb_sort_key(row.full_name))
                assert len(ordered) > 2 * paging.PAGE_LIMIT  # several pages
                first, last = ordered[0].qb_id, ordered[-1].qb_id
                # When QuickBooks is edited in the middle of the next (incremental) pull ...
                # (a full one: every page is read, so it has pages to be in the middle of)
                state = db.session.scalar(select(SyncState)
                                          .where(SyncState.object_name == "customer"))
                state.watermark = None
                db.session.commit()
                edits.append((first, last))
                doc = sync(["customer"])
                assert fired.is_set(), "the pull never asked for a second page"
                # ... that pull read the later edit (on a page it had still to read) ...
                assert _phone(last) == "555-0178"
                assert objects_by_name(doc)["customer"]["processed"] == len(ordered)
                # Then the sync after it reads the earlier one too
                sync(["customer"])
                assert _phone(first) == "555-0177"
                assert _phone(last) == "555-0178"
        finally:
            control.http.close()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
