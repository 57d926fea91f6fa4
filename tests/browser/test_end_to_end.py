"""The whole story of issue 6, for real: the browser, the app, the embedded Dramatiq worker, the
engine and the QuickBooks simulator behind the real conductor-py client — nothing stands in.

Staff log in, sync customers and vendors against a slow QuickBooks and watch the bars and counts
move, see a deliberately broken customer in the errors panel, cancel a second sync and see it end
cancelled, find both in history with their durations, and open the first one's page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qbdsim.testing import SimHttp, conductor_client, running_simulator
from tests.browser.conftest import open_page, screenshot
from tests.sync.conftest import SIM_END_USER

SIM_SIZE = 3000  # 450 customers: three pages of 150, so the customer bar has steps to show
LATENCY_MS = 600  # per QuickBooks request: slow enough to watch, quick enough for a test
CANCEL_LATENCY_MS = 1500  # the second sync crawls, so the cancel lands in the middle of it
SYNC_TIMEOUT_MS = 90_000

# Runs in the page from before Start: remembers every value the overall bar and the customers'
# "created" count show, frame by frame, so the test sees movement it could not catch by polling.
RECORD_PROGRESS = """() => {
  window.__bar = [];
  window.__created = [];
  const keep = (list, value) => { if (list[list.length - 1] !== value) list.push(value); };
  const frame = () => {
    const bar = document.querySelector("[data-testid=overall-progress]");
    const created = document.querySelector("[data-object=customer] [data-count=created]");
    if (bar) keep(window.__bar, Number(bar.getAttribute("aria-valuenow")));
    if (created) keep(window.__created, Number(created.textContent.replace(/[^0-9]/g, "")));
    requestAnimationFrame(frame);
  };
  frame();
}"""


@pytest.fixture
def simulator():
    with running_simulator(size=SIM_SIZE, seed=11, latency_ms=LATENCY_MS) as server:
        yield server




def _break_a_customer(simulator) -> str:
    """Give one QuickBooks customer — one without jobs, so nothing else fails with it — a
    balance no bookkeeper could type; return its id."""
    with conductor_client(simulator, max_retries=0) as client:
        customers = list(client.qbd.customers.list(conductor_end_user_id=SIM_END_USER, limit=150))
    parents = {c.parent.id for c in customers if c.parent}
    customer = next(c for c in customers if not c.parent and c.id not in parents)
    with SimHttp(simulator) as sim:
        sim.sim("POST", "edits", {"resource": "customers", "id": customer.id, "raw": True,
                                  "fields": {"balance": "about forty dollars"}}).raise_for_status()
    return customer.id


def test_sync_watch_cancel_and_look_back(browser, simulator, live_sim):
    broken_id = _break_a_customer(simulator)
    page, watch = open_page(browser, live_sim)
    checkbox = page.get_by_role("checkbox", name="Customers", exact=True)

    # The connection is the simulator, and it answers
    expect(page.get_by_test_id("qb-mode")).to_have_text("QuickBooks simulator")
    expect(page.get_by_test_id("qb-reachable")).to_have_text("Connected")

    # 1. Start a full sync of customers and vendors
    checkbox.check()
    page.get_by_role("checkbox", name="Vendors", exact=True).check()
    page.get_by_label("Full — everything, from scratch (slower)").check()
    page.evaluate(RECORD_PROGRESS)
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("start")).to_be_disabled()

    # 2. Watch the bar and the counts move while it runs
    created = page.locator("[data-object=customer] [data-count=created]")
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
    expect(created).not_to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    expect(page.get_by_test_id("current-record")).not_to_have_text("—")
    expect(page.get_by_test_id("qb-down-note")).to_be_hidden()  # QuickBooks answers
    screenshot(page, "e2e-dashboard-mid-sync")
    expect(page.get_by_test_id("current-status")).to_have_text("Finished with errors",
                                                               timeout=SYNC_TIMEOUT_MS)
    bar, counts = page.evaluate("[window.__bar, window.__created]")
    steps = [v for v in bar if 0 < v < 100]
    assert len(steps) >= 2 and steps == sorted(steps), bar  # it moved, and never backwards
    assert bar[-1] == 100, bar
    assert len([c for c in counts if 0 < c < 449]) >= 1 and counts == sorted(counts), counts

    # 3. The broken customer is in the errors panel, and the rest arrived
    error = page.get_by_test_id("error-row")
    expect(error).to_have_count(1)
    expect(error.get_by_test_id("error-qb-id")).to_have_text(broken_id)
    expect(error).to_contain_text("Customers")
    expect(error.get_by_test_id("error-message")).to_contain_text("balance")
    expect(created).to_have_text("449")
    expect(page.locator("[data-object=customer] [data-count=failed]")).to_have_text("1")
    expect(page.locator("[data-object=vendor] [data-count=created]")).to_have_text("150")
    expect(page.get_by_test_id("last-success")).to_have_text("just now")
    screenshot(page, "e2e-dashboard-after-sync")

    # 4. A second, slower sync is cancelled and ends cancelled
    with SimHttp(simulator) as sim:
        sim.sim("POST", "faults", {"latency_ms": CANCEL_LATENCY_MS}).raise_for_status()
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("current-link")).to_have_text("Sync #2")
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing", timeout=SYNC_TIMEOUT_MS)
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("cancel")).to_be_disabled()
    expect(page.get_by_test_id("current-status")).to_have_text(
        re.compile("Cancelling…|Cancelled"))
    expect(page.get_by_test_id("current-status")).to_have_text("Cancelled",
                                                               timeout=SYNC_TIMEOUT_MS)
    screenshot(page, "e2e-dashboard-cancelled")

    # 5. Both are in history, with their durations
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_test_id("history-status")).to_have_text("Cancelled")
    expect(rows.nth(1).get_by_test_id("history-status")).to_have_text("Finished with errors")
    for i in range(2):
        expect(rows.nth(i).get_by_test_id("history-duration")).to_have_text(
            re.compile(r"^\d+ (s|min \d\d s)$"))
    expect(rows.nth(1)).to_contain_text("1 error")

    # 6. The first session's page has its results and its error log
    rows.nth(1).get_by_role("link", name="Sync #1").click()
    page.wait_for_url("**/sessions/1")
    expect(page.get_by_test_id("session-status")).to_have_text("Finished with errors")
    customer = page.locator("[data-testid=session-objects] [data-object=customer]")
    expect(customer.locator("[data-count=created]")).to_have_text("449")
    expect(page.get_by_test_id("log-row")).to_have_count(1)
    expect(page.get_by_test_id("log-row")).to_contain_text(broken_id)
    screenshot(page, "e2e-session-page")

    watch.assert_clean()
    page.context.close()
