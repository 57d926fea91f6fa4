"""The dashboard in a real browser: choosing objects, starting, live progress, errors, cancel.

The workers' part is played by tests/browser/stand_in.py (same lifecycle steps, same rows), so
these stories need neither the simulator nor a broker; test_end_to_end.py runs the real thing,
and test_dashboard_engine.py checks progress and counts against what the real engine writes.
The stand-in stays only for states the real engine cannot be brought to on cue: exact counts at
an exact moment (a page half-written, a rate to show), a worker that went quiet or never came,
a cancel whose worker died, races between the page's own requests, and sixty errors at once.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import stand_in
from tests.browser.conftest import EMAIL, FAILED_LOAD, open_page, screenshot
from webapp.extensions import db
from webapp.models import SyncSession


def _polls(page, count: int) -> None:
    """Until the page has polled the status `count` more times: its own rhythm, however
    slowly a busy machine runs it (a bound of 30 s each, not a window of milliseconds)."""
    for _ in range(count):
        with page.expect_request(lambda request: "/api/v1/status" in request.url,
                                 timeout=30_000):
            pass


def _checkbox(page, label: str):
    return page.get_by_role("checkbox", name=label, exact=True)


def test_a_new_install_shows_connection_objects_and_an_empty_history(page):
    # Given a fresh install with no Conductor settings
    # Then the dashboard says QuickBooks is not reachable through Conductor, never synced
    expect(page.get_by_test_id("qb-reachable")).to_have_text("Not reachable")
    expect(page.get_by_test_id("qb-mode")).to_have_text("QuickBooks via Conductor")
    expect(page.get_by_test_id("last-success")).to_have_text("never")
    expect(page.get_by_test_id("no-session")).to_contain_text("No sync has run yet")
    expect(page.get_by_test_id("history")).to_contain_text("No syncs yet.")
    # And every object is offered, grouped by direction
    expect(page.locator(".object-group[data-direction='both'] input")).to_have_count(6)
    expect(page.locator(".object-group[data-direction='pull'] input")).to_have_count(1)
    expect(page.locator(".object-group[data-direction='pull']")).to_contain_text(
        "One-way: QuickBooks → warehouse")
    expect(_checkbox(page, "Sales Orders").locator("xpath=..")).to_contain_text(
        "Brings along Customers, Items")
    # And Start waits for a choice; the navbar names the user and offers logout
    expect(page.get_by_test_id("start")).to_be_disabled()
    expect(page.get_by_test_id("start-hint")).to_have_text(
        "Choose at least one kind of record to sync.")
    expect(page.get_by_test_id("nav-user")).to_have_text(EMAIL)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_selecting_sales_orders_brings_customers_and_items_along(page):
    # When staff tick Sales Orders
    _checkbox(page, "Sales Orders").check()
    # Then Customers and Items (and Vendors, which Items need) are ticked and locked, saying why
    for name, needer in (("Customers", "Sales Orders"), ("Items", "Sales Orders"),
                         ("Vendors", "Items")):
        box = _checkbox(page, name)
        expect(box).to_be_checked()
        expect(box).to_be_disabled()
        expect(box.locator("xpath=..")).to_contain_text(f"Included: needed by {needer}")
    expect(page.get_by_test_id("runs-label")).to_have_text(
        "This sync will run: Customers, Vendors, Items, Sales Orders")
    expect(_checkbox(page, "Invoices")).not_to_be_checked()
    expect(page.get_by_test_id("start")).to_be_enabled()
    # And unticking Sales Orders frees them again
    _checkbox(page, "Sales Orders").uncheck()
    expect(_checkbox(page, "Customers")).not_to_be_checked()
    expect(_checkbox(page, "Customers")).to_be_enabled()


def test_start_shows_the_pending_session_and_locks_start(page, live):
    # Given staff choose Customers and Vendors, full
    _checkbox(page, "Customers").check()
    _checkbox(page, "Vendors").check()
    page.get_by_label("Full — everything, from scratch (slower)").check()
    # When they press Start
    page.get_by_test_id("start").click()
    # Then the new session appears, waiting for a worker, and Start is locked while it runs
    expect(page.get_by_test_id("notice")).to_have_text("Sync #1 started.")
    expect(page.get_by_test_id("current-status")).to_have_text("Waiting to start")
    expect(page.get_by_test_id("start")).to_be_disabled()
    expect(page.get_by_test_id("start-hint")).to_contain_text("A sync is in progress")
    expect(page.locator("[data-testid=object-progress] tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("history-row")).to_have_count(1)
    # And the API received exactly that choice, from this user
    session = live.db(lambda: db.session.get(SyncSession, 1))
    assert session.selected_objects == ["customer", "vendor"] and session.mode == "full"
    assert session.created_by == EMAIL


def test_progress_counts_rate_and_errors_move_as_the_workers_report(page, live):
    # Given a sync of customers and items that a worker has started
    sid = live.db(lambda: stand_in.start(["customer", "item"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=400))
    bar = page.get_by_test_id("overall-progress")
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
    # When pages of customers are written, one after the other
    seen = []
    for page_no in range(1, 4):
        live.db(lambda n=page_no: stand_in.report(sid, "customer", processed=100, created=60,
                                                   updated=30, unchanged=10,
                                                   record=f"80000{n:03d}-1700000000"))
        expected = str(page_no * 100 // 4 // 3)  # 3 objects planned: vendor comes with item
        expect(bar).to_have_attribute("aria-valuenow", expected)
        seen.append(expected)
    # Then the overall bar, the per-object bar and counts, and the current record moved
    assert seen == ["8", "16", "25"]
    row = page.locator("[data-object=customer]")
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "75")
    expect(row.locator("[data-count=created]")).to_have_text("180")
    expect(row.locator("[data-count=updated]")).to_have_text("90")
    expect(row.locator("[data-count=unchanged]")).to_have_text("30")
    expect(row).to_contain_text("300 of 400")
    expect(page.get_by_test_id("current-record")).to_have_text(
        "Customers — QuickBooks record 80000003-1700000000")
    # And with the record's name known, staff see the name they know, not the id
    live.db(lambda: stand_in.report(sid, "customer", record="80000004-1700000000",
                                    label="Abercrombie Supply:Dock 4"))
    expect(page.get_by_test_id("current-record")).to_have_text(
        "Customers — Abercrombie Supply:Dock 4")
    expect(page.get_by_test_id("rate")).to_have_text(re.compile(r"^\d[\d,]* records/s$"))
    expect(page.get_by_test_id("time-left")).to_have_text(re.compile(r"^about \d"))
    expect(page.locator("[data-object=vendor]")).to_contain_text("needed by Items")
    # And a broken record shows up in the errors panel, linked to the full log
    live.db(lambda: stand_in.fail_record(sid, "customer", "80000042-1700000000",
                                         "Customer refers to a sales rep QuickBooks does not have",
                                         label="Gilbert, Austin"))
    error = page.get_by_test_id("error-row")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("Customers")
    expect(error.get_by_test_id("error-label")).to_have_text("Gilbert, Austin")
    expect(error.get_by_test_id("error-qb-id")).to_have_text("80000042-1700000000")
    expect(error.get_by_test_id("error-message")).to_have_text(
        "Customer refers to a sales rep QuickBooks does not have")
    expect(page.get_by_role("link", name="See the full error log")).to_have_attribute(
        "href", f"/sessions/{sid}#errors")
    screenshot(page, "dashboard-mid-sync-stand-in")
    # When the worker finishes every object
    for name in ("customer", "vendor", "item"):
        if name != "customer":
            live.db(lambda n=name: stand_in.begin(sid, n, total=50))
            live.db(lambda n=name: stand_in.report(sid, n, processed=50, unchanged=50))
        live.db(lambda n=name: stand_in.complete(sid, n))
    live.db(lambda: stand_in.report(sid, "customer", processed=100, created=100))
    assert live.db(lambda: stand_in.finish(sid)) == "completed"
    # Then the sync reads Finished (with its errors) at 100 %, Start is free again, history has it
    expect(page.get_by_test_id("current-status")).to_have_text("Finished with errors")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("last-success")).to_have_text("just now")
    expect(page.get_by_test_id("history-status")).to_have_text("Finished with errors")
    _checkbox(page, "Vendors").check()
    expect(page.get_by_test_id("start")).to_be_enabled()
    screenshot(page, "dashboard-after-sync-stand-in")


def test_cancel_shows_its_state_while_it_lands_then_cancelled(page, live):
    # Given a running sync started from the dashboard
    _checkbox(page, "Items").check()
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("current-status")).to_have_text("Waiting to start")
    live.db(lambda: stand_in.begin(1, "vendor", total=100))
    expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
    # When staff press Cancel
    page.get_by_test_id("cancel").click()
    # Then the page says the cancel is landing, and Cancel cannot be pressed twice
    expect(page.get_by_test_id("current-status")).to_have_text("Cancelling…")
    expect(page.get_by_test_id("cancel")).to_be_disabled()
    expect(page.get_by_test_id("cancel")).to_have_text("Cancelling…")
    expect(page.get_by_test_id("cancel-note")).to_contain_text("Records already saved are kept")
    assert live.db(lambda: stand_in.status(1)) == "cancelling"
    # When the worker honours it between pages
    assert live.db(lambda: stand_in.finish(1)) == "cancelled"
    # Then the session ends cancelled, in the panel and in history
    expect(page.get_by_test_id("current-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("cancel")).to_be_hidden()
    expect(page.get_by_test_id("history-status")).to_have_text("Cancelled")


def test_history_pages_back_and_forth(page, live):
    # Given 23 finished syncs
    def make_history():
        for _ in range(23):
            sid = stand_in.start(["customer"])
            stand_in.begin(sid, "customer", total=5)
            stand_in.report(sid, "customer", processed=5, created=2, unchanged=3)
            stand_in.complete(sid, "customer")
            stand_in.finish(sid)

    live.db(make_history)
    page.reload()
    rows = page.get_by_test_id("history-row")
    # When staff page through the history, ten at a time
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-session-id", "23")
    expect(page.get_by_test_id("history-newer")).to_be_disabled()
    page.get_by_test_id("history-older").click()
    expect(rows.first).to_have_attribute("data-session-id", "13")
    page.get_by_test_id("history-older").click()
    # Then the last page holds the three oldest and there is nothing older
    expect(rows).to_have_count(3)
    expect(rows.last).to_have_attribute("data-session-id", "1")
    expect(page.get_by_test_id("history-older")).to_be_disabled()
    page.get_by_test_id("history-newer").click()
    expect(rows.first).to_have_attribute("data-session-id", "13")
    # And each row has its times, duration, status, objects, counts and errors column
    first = rows.first
    expect(first.get_by_test_id("history-status")).to_have_text("Finished")
    expect(first.get_by_test_id("history-duration")).to_have_text(re.compile(r"^\d+ s$"))
    expect(first).to_contain_text("Customers")
    expect(first).to_contain_text("2 created · 0 updated · 3 unchanged · 0 deleted · 0 failed")
    expect(first).to_contain_text("None")


def test_a_worker_that_went_quiet_is_pointed_out(page, live):
    # Given a running sync whose worker stopped reporting minutes ago
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=100))
    live.db(lambda: stand_in.report(sid, "customer", processed=10, created=10))
    live.db(lambda: stand_in.heartbeat(sid, "customer", minutes_ago=5))
    # Then the dashboard says so in plain words, on the session and on the object
    expect(page.get_by_test_id("stalled-note")).to_contain_text(
        "The worker has not reported for a while. Check that a worker is running")
    expect(page.locator("[data-object=customer]")).to_contain_text("No news from the worker")
    expect(page.get_by_test_id("time-left")).to_have_text("Waiting for a worker")


def test_a_sync_no_worker_picked_up_is_pointed_out(page, live):
    # Given a sync queued minutes ago that no worker has picked up (none is running)
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.worker_gone(sid, minutes_ago=5))
    # Then the dashboard says so, and what to do
    expect(page.get_by_test_id("stalled-note")).to_contain_text(
        "No worker has picked this sync up yet. Check that a worker is running")
    expect(page.get_by_test_id("cancel")).to_be_enabled()


def test_a_cancel_whose_worker_died_can_be_ended_from_the_dashboard(page, live):
    # Given a running sync asked to stop, whose worker then died (nothing heard for minutes)
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=100))
    live.db(lambda: stand_in.cancel(sid))
    expect(page.get_by_test_id("current-status")).to_have_text("Cancelling…")
    expect(page.get_by_test_id("cancel")).to_be_disabled()  # the worker may still honour it
    live.db(lambda: stand_in.worker_gone(sid, minutes_ago=5))
    # Then the dashboard says nothing will end it, and offers to end it now
    expect(page.get_by_test_id("stalled-note")).to_contain_text("nothing will end it")
    button = page.get_by_test_id("cancel")
    expect(button).to_have_text("End it now")
    button.click()
    # And it ends cancelled, and a new sync can be started
    expect(page.get_by_test_id("current-status")).to_have_text("Cancelled")
    _checkbox(page, "Customers").check()
    expect(page.get_by_test_id("start")).to_be_enabled()


def test_quickbooks_not_answering_during_a_sync_is_said_on_the_sync(page, live):
    # Given a running sync while QuickBooks does not answer (here: no Conductor set up)
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=100))
    # Then the sync itself says so, and what happens next
    expect(page.get_by_test_id("qb-reachable")).to_have_text("Not reachable")
    expect(page.get_by_test_id("qb-down-note")).to_contain_text(
        "QuickBooks is not answering: it may be closed")
    expect(page.get_by_test_id("qb-down-note")).to_contain_text("tries again on its own")
    expect(page.get_by_test_id("time-left")).to_have_text("Waiting for QuickBooks")
    # And once the sync has ended, the note goes with it
    live.db(lambda: stand_in.complete(sid, "customer"))
    live.db(lambda: stand_in.finish(sid))
    expect(page.get_by_test_id("current-status")).to_have_text("Finished")
    expect(page.get_by_test_id("qb-down-note")).to_be_hidden()


def test_a_running_sync_s_history_row_keeps_up(page, live):
    # Given a running sync listed in the history
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=100))
    row = page.locator(f"[data-testid=history-row][data-session-id='{sid}']")
    expect(row).to_contain_text("0 created")
    # When its worker writes pages
    live.db(lambda: stand_in.report(sid, "customer", processed=40, created=40))
    # Then its row in the history moves on with the sync, not only the progress card
    expect(page.locator("[data-object=customer] [data-count=created]")).to_have_text("40")
    expect(row).to_contain_text("40 created")


def test_a_sync_started_between_the_history_s_read_and_the_first_poll_is_listed(browser, live):
    # Given the history reads its first page just before a sync starts, and the dashboard's first
    # poll (after it) already finds the sync running, so no "started" is ever announced
    started, history_reads = [], []

    def start_once():
        if not started:
            sid = live.db(lambda: stand_in.start(["customer"]))
            live.db(lambda: stand_in.begin(sid, "customer", total=100))
            started.append(sid)

    def history_read_then_start(route):
        history_reads.append(route.request.url)
        response = route.fetch()
        start_once()
        route.fulfill(response=response)

    def poll_after_the_history_read(route):
        for _ in range(500):  # the history's read comes first, as in the race (10 s at most)
            if started:
                break
            route.request.frame.page.wait_for_timeout(20)
        route.fallback()

    context = browser.new_context()
    context.route("**/api/v1/sessions?limit=*", history_read_then_start)
    context.route("**/api/v1/status", poll_after_the_history_read)
    page, watch = open_page(browser, live, context=context)
    try:
        # Then the running sync still shows up in the history, and keeps up with its progress
        expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
        row = page.locator(f"[data-testid=history-row][data-session-id='{started[0]}']")
        expect(page.get_by_test_id("history-row")).to_have_count(1)
        expect(row).to_contain_text("0 created")
        live.db(lambda: stand_in.report(started[0], "customer", processed=40, created=40))
        expect(row).to_contain_text("40 created")
        # And the first page was read again once, not on every poll
        _polls(page, 3)
        assert len(history_reads) == 2, history_reads
        watch.assert_clean()
    finally:
        context.close()


def test_a_history_that_fails_to_load_is_not_asked_again_on_every_poll(browser, live):
    # Given the history cannot be read (its first page answers 500) while a sync runs
    history_reads = []

    def broken_history(route):
        history_reads.append(route.request.url)
        route.fulfill(status=500, json={"error": {"code": "internal", "message": "Broken."}})

    context = browser.new_context()
    context.route("**/api/v1/sessions?limit=*", broken_history)
    page, watch = open_page(browser, live, context=context)
    watch.allow(FAILED_LOAD)  # Chrome logs each 500 itself
    try:
        expect(page.get_by_test_id("history")).to_contain_text("History could not be loaded")
        sid = live.db(lambda: stand_in.start(["customer"]))
        live.db(lambda: stand_in.begin(sid, "customer", total=100))
        expect(page.get_by_test_id("current-status")).to_have_text("Syncing")
        # Then the history is tried again for the new sync (its start announced, then its
        # progress polled), and not on every poll after that
        _polls(page, 3)
        tried = len(history_reads)
        assert tried <= 3, history_reads
        _polls(page, 6)
        assert len(history_reads) == tried, history_reads
        watch.assert_clean()
    finally:
        context.close()


def test_errors_keep_arriving_when_the_server_stops_taking_the_dashboard_s_cursor(browser, live):
    # Given a running sync whose first 60 errors the dashboard has read (it holds a cursor)
    sid = live.db(lambda: stand_in.start(["customer"]))
    live.db(lambda: stand_in.begin(sid, "customer", total=1000))
    for n in range(60):
        live.db(lambda n=n: stand_in.fail_record(sid, "customer", f"80000{n:03d}-1", f"Bad {n}"))
    refused = []

    def server_upgraded(route):  # cursors are refused until the list is read from its start
        if "cursor=" not in route.request.url and refused:
            refused.append(None)  # read from the start: cursors handed out now are good
        if "cursor=" in route.request.url and None not in refused:
            refused.append(route.request.url)
            route.fulfill(status=400, json={"error": {"code": "invalid_cursor",
                                                      "message": "The cursor is not one..."}})
        else:
            route.fallback()

    context = browser.new_context()
    page, watch = open_page(browser, live, context=context)
    watch.allow(FAILED_LOAD)  # Chrome logs the 400 itself
    try:
        expect(page.get_by_test_id("errors-more")).to_contain_text("of 60")
        context.route("**/api/v1/sessions/*/errors?*", server_upgraded)
        # When more records fail and the server no longer takes the cursor
        live.db(lambda: stand_in.fail_record(sid, "customer", "80000999-1", "Bad 60"))
        # Then the dashboard reads the errors again from the start: the new one shows, the
        # count is right, and no alert is raised
        expect(page.get_by_test_id("errors-more")).to_contain_text("of 61")
        expect(page.get_by_test_id("error-row").first).to_contain_text("Bad 60")
        assert refused
        expect(page.get_by_test_id("alert")).to_be_hidden()
        watch.assert_clean()
    finally:
        context.close()
