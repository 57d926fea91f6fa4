"""The session page: per-object results and the full error log, page by page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import stand_in
from tests.browser.conftest import EMAIL, FAILED_LOAD, screenshot


def _finished_session_with_errors(errors: int) -> int:
    sid = stand_in.start(["item"], mode="full", by=EMAIL)
    stand_in.begin(sid, "vendor", total=30)
    stand_in.report(sid, "vendor", processed=30, created=10, updated=5, unchanged=15,
                    api_calls=1)
    stand_in.complete(sid, "vendor")
    stand_in.begin(sid, "item", total=200)
    for i in range(errors):
        stand_in.fail_record(sid, "item", f"8000{i:04d}-1700000000", f"Item {i} has no account",
                             label=f"Pallet Wrap {i}" if i % 2 == 0 else None)
    stand_in.report(sid, "item", processed=200, created=150 - errors, unchanged=50,
                    failed=errors, api_calls=2)
    stand_in.complete(sid, "item")
    stand_in.finish(sid)
    return sid


def test_session_page_shows_results_and_the_whole_error_log(page, live):
    # Given a finished full sync of items (vendors came along) with 57 broken records
    sid = live.db(lambda: _finished_session_with_errors(57))
    # When staff open it from the history table
    page.reload()
    page.get_by_test_id("history-row").get_by_role("link", name=f"Sync #{sid}").click()
    page.wait_for_url(f"**/sessions/{sid}")
    # Then they see its outcome and results per object
    expect(page.get_by_role("heading", name=f"Sync #{sid}")).to_be_visible()
    expect(page.get_by_test_id("session-status")).to_have_text("Finished with errors")
    expect(page.get_by_test_id("session-duration")).not_to_have_text("—")
    expect(page.get_by_test_id("session-page")).to_contain_text("Full (everything)")
    vendor = page.locator("[data-testid=session-objects] [data-object=vendor]")
    expect(vendor).to_contain_text("needed by Items")
    expect(vendor.locator("[data-count=created]")).to_have_text("10")
    expect(vendor.locator("[data-count=api_calls]")).to_have_text("1")
    item = page.locator("[data-testid=session-objects] [data-object=item]")
    expect(item.locator("[data-count=failed]")).to_have_text("57")
    expect(item.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "100")
    # And the error log, fifty at a time, oldest first
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("80000000-1700000000")
    expect(rows.first.get_by_test_id("log-label")).to_have_text("Pallet Wrap 0")
    expect(rows.nth(1).get_by_test_id("log-label")).to_be_hidden()  # none: the id alone
    expect(rows.first).to_contain_text("Item 0 has no account")
    expect(rows.first).to_contain_text("Reading from QuickBooks")
    screenshot(page, "session-page")
    page.get_by_test_id("errors-next").click()
    expect(rows).to_have_count(7)
    expect(rows.last).to_contain_text("Item 56 has no account")
    expect(page.get_by_test_id("errors-next")).to_be_disabled()
    page.get_by_test_id("errors-previous").click()
    expect(rows).to_have_count(50)
    # And the navbar is there too
    expect(page.get_by_test_id("nav-user")).to_have_text(EMAIL)


def test_the_dashboards_error_link_opens_the_log(page, live):
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=10))
    live.db(lambda: stand_in.fail_record(sid, "customer", "80-1", "Duplicate name"))
    page.get_by_role("link", name="See the full error log").click()
    page.wait_for_url(f"**/sessions/{sid}#errors")
    expect(page.get_by_test_id("log-row")).to_have_count(1)
    expect(page.get_by_test_id("session-status")).to_have_text("Syncing")
    # While it runs, the page keeps itself up to date
    live.db(lambda: stand_in.fail_record(sid, "customer", "80-2", "Broken reference"))
    expect(page.get_by_test_id("log-row")).to_have_count(2)
    live.db(lambda: stand_in.complete(sid, "customer"))
    live.db(lambda: stand_in.finish(sid))
    expect(page.get_by_test_id("session-status")).to_have_text("Finished with errors")


def test_a_clean_session_says_there_were_no_errors(page, live):
    sid = live.db(lambda: _finished_session_with_errors(0))
    page.goto(f"{live.url}/sessions/{sid}")
    expect(page.get_by_test_id("no-errors")).to_have_text("No records failed in this sync.")


def test_an_unknown_session_page_is_a_404_with_the_navbar(page, live):
    page.watch.allow(FAILED_LOAD)  # Chrome logs the 404 of the page itself
    response = page.goto(f"{live.url}/sessions/999")
    assert response.status == 404
    expect(page.get_by_text("There is no sync #999.")).to_be_visible()
    expect(page.get_by_test_id("nav-user")).to_have_text(EMAIL)
