"""When things go wrong the dashboard says so plainly — never a blank panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import stand_in
from tests.browser.conftest import FAILED_LOAD, TABLET, open_page, screenshot, serve
from webapp.extensions import db
from webapp.models.auth import User

NETWORK = re.compile(r"net::ERR_")


def test_a_start_refused_by_the_api_shows_its_message(browser, tmp_path):
    # Given a dashboard that polls slowly, so it has not yet seen another tool's sync
    live = serve(tmp_path, QBSYNC_DASHBOARD_POLL_MS=600_000)
    try:
        page, watch = open_page(browser, live)
        expect(page.get_by_test_id("no-session")).to_be_visible()
        sid = live.db(lambda: stand_in.start(["vendor"], by="a nightly script"))
        # When staff press Start anyway
        page.get_by_role("checkbox", name="Customers", exact=True).check()
        page.get_by_test_id("start").click()
        # Then the API's 409 reaches them in words, naming the sync in the way
        expect(page.get_by_test_id("alert")).to_have_text(
            f"A sync is already in progress (session {sid} is pending); wait for it to end "
            "or cancel it first.")
        expect(page.get_by_test_id("start")).to_have_text("Start sync")
        watch.allow(FAILED_LOAD)  # Chrome logs the 409 itself
        watch.assert_clean()
    finally:
        live.close()


def test_an_expired_login_says_so_with_a_way_back(page, live):
    page.watch.allow(FAILED_LOAD)  # Chrome logs each 401 itself
    # Given a logged-in dashboard, polling
    expect(page.get_by_test_id("no-session")).to_be_visible()
    # When the user's sessions end elsewhere (password reset, account disabled)
    def end_sessions():
        user = db.session.scalar(db.select(User))
        user.rotate_sessions()
        db.session.commit()

    live.db(end_sessions)
    # Then the next poll explains it and offers the login page
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("Your login has expired. Please log in again.")
    expect(alert.get_by_role("link", name="Log in")).to_have_attribute("href", "/login?next=/")


def test_a_network_drop_shows_a_message_and_the_page_recovers(page, live):
    page.watch.allow(NETWORK)  # Chrome logs each refused fetch itself
    # Given a dashboard showing a running sync
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=100))
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
    # When the network drops
    page.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    alert = page.get_by_test_id("alert")
    # Then the page says so, and keeps what it last knew on screen
    expect(alert).to_have_text(
        "Can't reach qbsync. Check the network connection; the page keeps trying.")
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
    screenshot(page, "dashboard-network-drop")
    # When the network comes back, the message goes and progress resumes
    page.unroute("**/api/v1/**")
    live.db(lambda: stand_in.report(sid, "customer", processed=50, created=50))
    expect(alert).to_be_hidden()
    expect(page.get_by_test_id("overall-progress")).to_have_attribute("aria-valuenow", "50")


def test_a_stopped_server_shows_a_message(page, live):
    page.watch.allow(NETWORK)
    expect(page.get_by_test_id("no-session")).to_be_visible()
    live.stop()
    expect(page.get_by_test_id("alert")).to_contain_text("Can't reach qbsync")


def test_an_api_failure_shows_the_apis_message_not_a_blank_panel(page):
    page.watch.allow(FAILED_LOAD)
    # Given the status endpoint failing on the server side
    page.route("**/api/v1/status", lambda route: route.fulfill(
        status=500, content_type="application/json",
        body='{"error": {"code": "internal_error", "message": "Something went wrong on our '
             'side. It has been logged; please try again."}}'))
    # Then the dashboard passes the API's plain message on
    expect(page.get_by_test_id("alert")).to_have_text(
        "Something went wrong on our side. It has been logged; please try again.")


def test_history_failure_is_reported_in_the_history_panel(browser, live):
    context_page, watch = open_page(browser, live)
    context_page.route("**/api/v1/sessions?*", lambda route: route.fulfill(
        status=502, content_type="text/html", body="<html>Bad gateway</html>"))
    context_page.reload()
    expect(context_page.get_by_test_id("history-alert")).to_have_text(
        "History could not be loaded: qbsync answered with an error (HTTP 502). "
        "Please try again in a moment.")
    watch.allow(FAILED_LOAD)
    watch.assert_clean()
    context_page.context.close()


@pytest.mark.parametrize("viewport", [TABLET, {"width": 1024, "height": 768}],
                         ids=["tablet-portrait", "tablet-landscape"])
def test_the_dashboard_fits_a_tablet(browser, live, viewport):
    # Given a running sync with an error, seen on a tablet
    sid = live.db(lambda: stand_in.start(["sales_order"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=120))
    live.db(lambda: stand_in.report(sid, "customer", processed=40, created=40, record="8000-1"))
    live.db(lambda: stand_in.fail_record(sid, "customer", "8000-9", "Name is already in use"))
    page, watch = open_page(browser, live, viewport=viewport)
    expect(page.get_by_test_id("error-row")).to_have_count(1)
    # Then nothing pushes the page sideways: wide tables scroll inside their own box
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    expect(page.get_by_test_id("start")).to_be_visible()
    expect(page.get_by_test_id("cancel")).to_be_visible()
    screenshot(page, f"dashboard-tablet-{viewport['width']}")
    watch.assert_clean()
    page.context.close()


def test_a_stale_page_is_told_to_reload(page):
    page.watch.allow(FAILED_LOAD)
    # Given a page whose CSRF token is no longer valid (open for hours, or a new login elsewhere)
    page.evaluate("document.querySelector('meta[name=csrf-token]').content = 'stale'")
    # When staff start a sync
    page.get_by_role("checkbox", name="Customers", exact=True).check()
    page.get_by_test_id("start").click()
    # Then they are told what to do about it
    expect(page.get_by_test_id("alert")).to_have_text(
        "This page has been open too long to send changes. Reload the page and try again.")
