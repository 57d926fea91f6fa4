"""The dashboard against what the real engine writes: the embedded Dramatiq worker, the engine
and the QuickBooks simulator (with latency, so progress has steps to show) — no stand-in.

The page's bars and counts are checked against the engine's own rows (sync_object_run,
sync_error) read from the database, not against numbers a test wrote. tests/browser/stand_in.py
stays for the states the real engine cannot be brought to on cue (see test_dashboard.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from qbdsim.testing import SimHttp, conductor_client, running_simulator
from tests.browser.conftest import open_page, screenshot
from tests.sync.conftest import SIM_END_USER
from webapp.extensions import db
from webapp.models import SyncError, SyncObjectRun, SyncSession
from webapp.sync import manager
from webapp.sync.pull.paging import PAGE_LIMIT

SIM_SIZE = 3000  # 450 customers: three pages of 150
LATENCY_MS = 400
SYNC_TIMEOUT_MS = 120_000

# Remembers, frame by frame, what the customers' row shows: its bar and its "N of T" text
RECORD_ROW = """() => {
  window.__rows = [];
  const frame = () => {
    const row = document.querySelector("[data-testid=object-progress] [data-object=customer]");
    if (row) {
      const bar = row.querySelector("[role=progressbar]");
      const seen = [Number(bar.getAttribute("aria-valuenow")), bar.getAttribute("aria-valuetext")];
      const last = window.__rows[window.__rows.length - 1];
      if (!last || last[0] !== seen[0] || last[1] !== seen[1]) window.__rows.push(seen);
    }
    requestAnimationFrame(frame);
  };
  frame();
}"""


@pytest.fixture
def simulator():
    with running_simulator(size=SIM_SIZE, seed=11, latency_ms=LATENCY_MS) as server:
        yield server




def _customers(simulator) -> list:
    with conductor_client(simulator, max_retries=0) as client:
        return list(client.qbd.customers.list(conductor_end_user_id=SIM_END_USER, limit=150))


def _engine_rows(session_id: int) -> tuple[dict, list[SyncError], str]:
    """What the engine wrote for the session: its customer run, its errors, its status."""
    run = db.session.scalar(select(SyncObjectRun).where(
        SyncObjectRun.session_id == session_id, SyncObjectRun.object_name == "customer"))
    counts = {name: getattr(run, name) for name in
              ("processed", "total", "created", "updated", "unchanged", "deleted", "failed")}
    errors = list(db.session.scalars(select(SyncError).where(SyncError.session_id == session_id)))
    for error in errors:
        db.session.expunge(error)
    return counts, errors, db.session.get(SyncSession, session_id).status


def test_progress_and_counts_are_what_the_engine_wrote(browser, simulator, live_sim):
    page, watch = open_page(browser, live_sim)
    expect(page.get_by_test_id("qb-reachable")).to_have_text("Connected")
    # Given customers synced once (started as another tool would; the embedded worker runs it)
    first = live_sim.db(lambda: manager.start_session(["customer"], "full", created_by="tool").id)
    expect(page.get_by_test_id("current-link")).to_have_text(f"Sync #{first}")
    expect(page.get_by_test_id("current-status")).to_have_text("Finished",
                                                               timeout=SYNC_TIMEOUT_MS)
    # and since then three customers edited in QuickBooks, and one given a balance no
    # bookkeeper could type (one without jobs, so nothing else fails with it)
    customers = _customers(simulator)
    parents = {c.parent.id for c in customers if c.parent}
    plain = [c for c in customers if not c.parent and c.id not in parents]
    broken, edited = plain[0], plain[1:4]
    with SimHttp(simulator) as sim:
        for n, customer in enumerate(edited):
            sim.sim("POST", "edits", {"resource": "customers", "id": customer.id,
                                      "fields": {"phone": f"555-01{n:02d}"}}).raise_for_status()
        sim.sim("POST", "edits", {"resource": "customers", "id": broken.id, "raw": True,
                                  "fields": {"balance": "about forty dollars"}}
                ).raise_for_status()

    # When staff start a full sync of customers and watch it
    page.get_by_role("checkbox", name="Customers", exact=True).check()
    page.get_by_label("Full — everything, from scratch (slower)").check()
    page.evaluate(RECORD_ROW)
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("current-link")).to_have_text(f"Sync #{first + 1}")
    expect(page.get_by_test_id("current-status")).to_have_text("Finished with errors",
                                                               timeout=SYNC_TIMEOUT_MS)
    counts, errors, status = live_sim.db(lambda: _engine_rows(first + 1))

    # Then the engine read every customer, found the edits and the broken one ...
    assert status == "completed"
    assert counts["processed"] == counts["total"] == 450  # inactive ones too
    assert counts["updated"] == len(edited) and counts["failed"] == 1
    assert counts["created"] == counts["deleted"] == 0
    assert [e.object_id for e in errors] == [broken.id]
    # ... the row moved a page at a time, as the engine committed each page, never backwards,
    # and ended full (the recorder samples once an animation frame: on a busy machine its last
    # sample may come after the status's)
    page.wait_for_function("window.__rows.length > 0 && window.__rows.at(-1)[0] === 100",
                           timeout=SYNC_TIMEOUT_MS)
    rows = page.evaluate("window.__rows")
    rows = rows[[percent for percent, _ in rows].index(0):]  # from the new sync's first frame
    percents = [percent for percent, _ in rows]
    assert percents == sorted(percents) and percents[-1] == 100, rows
    steps = [text for percent, text in rows if 0 < percent < 100]
    assert steps, rows  # progress was visible between the start and the end
    for text in steps:
        done = int(re.match(r"^([\d,]+) of 450", text).group(1).replace(",", ""))
        assert done % PAGE_LIMIT == 0, rows  # a committed page's count, not a guess
    # ... and the page shows exactly the engine's counts and error
    row = page.locator("[data-object=customer]")
    for name in ("created", "updated", "unchanged", "deleted", "failed"):
        expect(row.locator(f"[data-count={name}]")).to_have_text(f"{counts[name]:,}")
    expect(row).to_contain_text(f"{counts['processed']} of {counts['total']}")
    expect(page.get_by_test_id("overall-progress")).to_have_attribute("aria-valuenow", "100")
    error = page.get_by_test_id("error-row")
    expect(error).to_have_count(1)
    expect(error.get_by_test_id("error-qb-id")).to_have_text(broken.id)
    expect(error.get_by_test_id("error-message")).to_have_text(errors[0].message)
    expect(error.get_by_test_id("error-label")).to_have_text(errors[0].record_label)
    screenshot(page, "engine-dashboard-after-full-sync")
    watch.assert_clean()
    page.context.close()
