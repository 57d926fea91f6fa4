"""What a newcomer met on the dashboard: progress that reads true when a sync is cancelled or
waiting, one state for a session everywhere on the page, and a layout that does not break dates
and QuickBooks ids apart or offer pages of an empty history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import stand_in
from tests.browser.conftest import LAPTOP, TABLET, open_page, screenshot, serve

ALL = ["customer", "vendor", "item", "sales_order", "purchase_order", "invoice",
       "inventory_adjustment"]
# Count the lines an element's text takes (one rectangle per line box)
LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""
VIEW = """([doc, names]) => qbsync.views.session(doc, names, null).records"""
NAMES = {"customer": "Customers", "vendor": "Vendors", "item": "Items"}


def _column(page, heading: str) -> int:
    """The position (from 1) of a history column, by its heading."""
    headings = page.get_by_test_id("history-table").locator("thead th").all_inner_texts()
    return headings.index(heading) + 1


def _doc(status: str, processed: int, total: int, objects: list[dict]) -> dict:
    return {"id": 1, "status": status, "processed_records": processed, "total_records": total,
            "progress_percentage": 42, "objects": objects}


def test_a_cancelled_sync_s_records_say_what_its_bar_says(page):
    # Given a sync cancelled while items ran: customers and vendors done, items part-way
    objects = [{"name": "customer", "status": "completed", "total": 300, "processed": 300},
               {"name": "vendor", "status": "completed", "total": 150, "processed": 150},
               {"name": "item", "status": "cancelled", "total": 600, "processed": 150},
               {"name": "sales_order", "status": "skipped", "total": None, "processed": 0}]
    # Then the records are not "600 of 600" beside its 42 % bar: what was synced, and what not
    text = page.evaluate(VIEW, [_doc("cancelled", 600, 1050, objects), NAMES])
    assert text == ("600 records synced before it was cancelled; not finished: Items, "
                    "sales_order")
    failed = page.evaluate(VIEW, [_doc("failed", 600, 1050, objects), NAMES])
    assert failed.startswith("600 records synced before it stopped; not finished: Items")
    # And a sync that finished every object reads as a whole
    done = [{**o, "status": "completed"} for o in objects[:2]]
    assert page.evaluate(VIEW, [_doc("completed", 450, 450, done), NAMES]) == (
        "450 of 450 records")


@pytest.mark.parametrize(("status", "text"), [
    ("pending", "None yet: waiting for a worker to start it"),
    ("running", "None yet: waiting for QuickBooks to answer"),
])
def test_a_sync_that_has_read_nothing_yet_says_what_it_waits_for(page, status, text):
    objects = [{"name": "customer", "status": status, "total": None, "processed": 0}]
    assert page.evaluate(VIEW, [_doc(status, 0, 0, objects), NAMES]) == text


def test_a_cancel_that_lands_as_the_history_reads_shows_one_state_everywhere(browser,
                                                                            tmp_path):
    # Given a running sync, on a dashboard that will not poll again for a minute
    live = serve(tmp_path, QBSYNC_DASHBOARD_POLL_MS=60_000)
    try:
        sid = live.db(lambda: stand_in.start(["customer"]))
        live.db(lambda: stand_in.begin(sid, "customer", total=600))
        live.db(lambda: stand_in.report(sid, "customer", processed=150, created=150))
        page, watch = open_page(browser, live)
        expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
        expect(page.get_by_test_id("history-status")).to_have_text("Syncing")
        # and a worker that honours the cancel just as the history asks for its page again
        landed = []

        def worker_ends_it(route):
            if not landed and live.db(lambda: stand_in.status(sid)) == "cancelling":
                landed.append(live.db(lambda: stand_in.finish(sid)))
            route.continue_()

        page.route("**/api/v1/sessions?*", worker_ends_it)
        # When staff press Cancel
        page.get_by_test_id("cancel").click()
        # Then the history and the panel agree: cancelled, with the same records, no Cancel
        expect(page.get_by_test_id("history-status")).to_have_text("Cancelled")
        assert landed == ["cancelled"]
        expect(page.get_by_test_id("current-status")).to_have_text("Cancelled", timeout=5000)
        expect(page.get_by_test_id("cancel")).to_be_hidden()
        expect(page.get_by_test_id("records")).to_have_text(
            "150 records synced before it was cancelled; not finished: Customers")
        watch.assert_clean()
        page.context.close()
    finally:
        live.close()


def test_an_empty_history_offers_no_pages(page):
    expect(page.get_by_test_id("history")).to_contain_text("No syncs yet.")
    expect(page.get_by_test_id("history-page")).to_be_hidden()
    expect(page.get_by_test_id("history-newer")).to_be_hidden()
    expect(page.get_by_test_id("history-older")).to_be_hidden()


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_history_dates_stay_on_one_line(browser, live, viewport):
    # Given syncs of everything, with big counts, in the history
    def history():
        for _ in range(2):
            sid = stand_in.start(ALL)
            for name in ALL:
                stand_in.begin(sid, name, total=123456)
                stand_in.report(sid, name, processed=123456, created=100000, updated=23456)
                stand_in.complete(sid, name)
            stand_in.finish(sid)

    live.db(history)
    page, watch = open_page(browser, live, viewport=viewport)
    expect(page.get_by_test_id("history-row")).to_have_count(2)
    # Then each start and end reads on one line
    for column in ("Started", "Ended"):
        cells = page.locator(f"[data-testid=history-row] td:nth-child({_column(page, column)})")
        expect(cells).to_have_count(2)
        for cell in cells.all():
            assert cell.evaluate(LINES) == 1, cell.inner_text()
    screenshot(page, f"history-dates-{viewport['width']}")
    watch.assert_clean()
    page.context.close()


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_a_quickbooks_id_in_the_error_log_never_breaks_mid_string(browser, live, viewport):
    # Given a sync whose errors have long messages
    def session_with_errors():
        sid = stand_in.start(["customer"])
        stand_in.begin(sid, "customer", total=3)
        for i in range(3):
            stand_in.fail_record(sid, "customer", f"80000{i:03d}-1737819278",
                                 "QuickBooks refused this customer: " + "a long reason " * 40)
        stand_in.complete(sid, "customer")
        stand_in.finish(sid)
        return sid

    sid = live.db(session_with_errors)
    page, watch = open_page(browser, live, viewport=viewport)
    # Then on the dashboard and in the session's error log each id reads whole, on one line
    expect(page.get_by_test_id("error-qb-id")).to_have_count(3)
    for code in page.get_by_test_id("error-qb-id").all():
        assert code.evaluate(LINES) == 1, code.inner_text()
    page.goto(f"{live.url}/sessions/{sid}")
    ids = page.locator("[data-testid=log-row] code")
    expect(ids).to_have_count(3)
    for code in ids.all():
        assert code.evaluate(LINES) == 1, code.inner_text()
    screenshot(page, f"error-log-ids-{viewport['width']}")
    watch.assert_clean()
    page.context.close()
