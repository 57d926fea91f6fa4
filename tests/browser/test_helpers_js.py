"""The dashboard's JavaScript helpers (static/js/qbsync.js), run in the browser they serve."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (0, "0 s"), (59.4, "59 s"), (61, "1 min 01 s"), (3599, "59 min 59 s"),
    (3725, "1 h 02 min"),
])
def test_durations_read_naturally(page, seconds, text):
    assert page.evaluate("(s) => qbsync.format.duration(s)", seconds) == text


def test_dependencies_are_followed_to_the_end(page):
    plan = page.evaluate("""() => qbsync.objects.withDependencies(["sales_order"], {
        sales_order: {depends_on: ["customer", "item"]}, item: {depends_on: ["vendor"]},
        customer: {depends_on: []}, vendor: {depends_on: []}})""")
    assert plan == {"sales_order": None, "customer": "sales_order", "item": "sales_order",
                    "vendor": "item"}


def test_time_left_uses_the_rate_once_every_total_is_known(page):
    known = page.evaluate("""() => qbsync.progress.secondsLeft({duration_s: 10, objects: [
        {status: "completed", total: 100, processed: 100},
        {status: "running", total: 300, processed: 100}]}, 20)""")
    assert known == 10  # 200 records left at 20 records/s
    share = page.evaluate("""() => qbsync.progress.secondsLeft({duration_s: 30, objects: [
        {status: "running", total: 100, processed: 50},
        {status: "pending", total: null, processed: 0}]}, 20)""")
    assert share == 90  # a quarter done in 30 s: three quarters left
    assert page.evaluate("""() => qbsync.progress.secondsLeft({duration_s: 3, objects: [
        {status: "pending", total: null, processed: 0}]}, null)""") is None


def test_the_rate_is_measured_over_a_window_per_session(page):
    rates = page.evaluate("""() => {
        const meter = new qbsync.progress.RateMeter(10000);
        meter.add(1, 0, 0);
        const early = meter.rate();
        meter.add(1, 500, 5000);
        const steady = meter.rate();
        meter.add(2, 40, 6000);
        return [early, steady, meter.rate()];
    }""")
    assert rates == [None, 100, None]


def test_statuses_have_plain_labels(page):
    labels = page.evaluate("""() => ["pending", "running", "cancelling", "completed", "failed",
        "cancelled", "completed_with_errors"].map((s) => qbsync.format.status(s).label)""")
    assert labels == ["Waiting to start", "Syncing", "Cancelling…", "Finished", "Failed",
                      "Cancelled", "Finished with errors"]


def test_the_record_total_is_a_floor_while_the_sync_runs(page):
    # Items announce one kind at a time and adjustments one window at a time: until the
    # sync ends, more records may be announced.
    text = """(status) => qbsync.views.session(
        {id: 1, status, processed_records: 600, total_records: 650, progress_percentage: 40,
         objects: [{name: "item", status: "running", total: 650, processed: 600}]},
        {}, null).records"""
    assert page.evaluate(text, "running") == "600 of at least 650 records"
    assert page.evaluate(text, "cancelling") == "600 of at least 650 records"
    # Once it ended part-way, it says what it synced and what it did not finish (its bar
    # shows the same); once it completed, the total is whole
    assert page.evaluate(text, "cancelled") == (
        "600 records synced before it was cancelled; not finished: item")
    assert page.evaluate(text, "completed") == "600 of 650 records"
