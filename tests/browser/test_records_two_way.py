"""Two-way sync as a person sees it on the records pages (issue 18), for real: the browser,
the app, the embedded worker and the QuickBooks simulator behind conductor-py. Each test
starts from a company pulled once; later syncs are started from the dashboard's Start button
(or "Sync this record now"), and what QuickBooks holds is read back from the simulator."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from qbdsim.testing import SimHttp, running_simulator
from tests.browser.conftest import FAILED_LOAD, open_page, screenshot
from webapp.extensions import db
from webapp.models import Customer, Item, SyncSession
from webapp.sync import manager

SYNC_TIMEOUT_MS = 90_000
FINISHED = re.compile(r"^Finished")


@pytest.fixture
def simulator():
    with running_simulator(size=150, seed=21) as server:
        yield server




@pytest.fixture
def people(browser, live_sim):
    page, watch = open_page(browser, live_sim)
    # The company pulled once, everything, from the dashboard
    page.get_by_role("button", name="Select all").click()
    start_sync(page, live_sim)
    expect(page.get_by_test_id("current-status")).to_have_text("Finished")
    yield page, watch
    watch.assert_clean()
    page.context.close()


def customers(count: int) -> list[tuple[int, str, str]]:
    """(id, name, QuickBooks id) of top-level customers with no jobs."""
    parents = select(Customer.parent_id).where(Customer.parent_id.is_not(None))
    rows = db.session.execute(select(Customer.id, Customer.name, Customer.qb_id).where(
        Customer.parent_id.is_(None), Customer.id.not_in(parents), Customer.is_active)
        .order_by(Customer.id).limit(count)).all()
    return [tuple(r) for r in rows]


def in_quickbooks(simulator, path: str) -> dict:
    with SimHttp(simulator) as sim:
        response = sim.get(path)
        response.raise_for_status()
        return response.json()


def start_sync(page, live, *displays: str) -> None:
    """Start a sync of these objects from the dashboard and wait for it to end."""
    if displays:
        page.goto(f"{live.url}/")
    for display in displays:
        page.get_by_role("checkbox", name=display, exact=True).check()
    expect(page.get_by_test_id("start")).to_be_enabled()
    before = live.db(lambda: db.session.scalar(select(func.max(SyncSession.id)))) or 0
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("current-link")).to_have_text(f"Sync #{before + 1}")
    expect(page.get_by_test_id("current-status")).to_have_text(FINISHED, timeout=SYNC_TIMEOUT_MS)


def open_record(page, live, name: str, label: str) -> None:
    page.goto(f"{live.url}/records/{name}")
    page.get_by_test_id("records-search").fill(label)
    page.get_by_test_id("record-row").get_by_role("link", name=label, exact=True).click()
    page.wait_for_url(re.compile(rf"/records/{name}/\d+$"))


def test_an_edited_phone_is_pushed_and_quickbooks_has_it(people, live_sim, simulator):
    page, _ = people
    (_, name, qb_id), = live_sim.db(lambda: customers(1))
    # A person finds the customer and edits the phone
    open_record(page, live_sim, "customer", name)
    page.get_by_test_id("edit").click()
    page.locator("#f-phone").fill("555-0142")
    page.get_by_test_id("save").click()
    # and sees it pending, the change marked against what QuickBooks last sent
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    expect(page.get_by_test_id("field-phone").get_by_test_id("differs")).to_be_visible()
    screenshot(page, "two-way-phone-pending")
    record_url = page.url
    # When a sync runs from the dashboard
    start_sync(page, live_sim, "Customers")
    # Then the record is synced, its history says pushed, and QuickBooks has the phone
    page.goto(record_url)
    expect(page.get_by_test_id("record-state")).to_have_text("Synced")
    expect(page.get_by_test_id("event-pushed_updated")).to_contain_text("Sent: Phone")
    screenshot(page, "two-way-phone-pushed")
    assert in_quickbooks(simulator, f"customers/{qb_id}")["phone"] == "555-0142"


def _two_items():
    return list(db.session.scalars(select(Item.name).where(
        Item.item_type == "inventory", Item.parent_id.is_(None), Item.is_active)
        .order_by(Item.id).limit(2)))


def test_a_new_sales_order_for_a_new_customer_is_created_in_quickbooks(people, live_sim,
                                                                       simulator):
    page, _ = people
    items = live_sim.db(_two_items)
    # A new customer
    page.goto(f"{live_sim.url}/records/customer")
    page.get_by_test_id("new-record").click()
    page.locator("#f-name").fill("Lighthouse Cafe")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    expect(page.get_by_test_id("record-qb-id")).to_have_text("not in QuickBooks yet")
    # A new sales order for it, with two lines
    page.goto(f"{live_sim.url}/records/sales_order/new")
    page.get_by_test_id("ref-customer_id").fill("Lighthouse")
    page.get_by_test_id("ref-option").filter(has_text="Lighthouse Cafe").click()
    page.locator("#f-ref_number").fill("WEB-1001")
    for number, item in enumerate(items):
        page.get_by_test_id("add-line").click()
        line = page.get_by_test_id("form-line").nth(number)
        line.get_by_test_id("line-item").fill(item)
        line.get_by_test_id("line-item-option").filter(has_text=item).first.click()
        line.get_by_test_id("line-quantity").fill(str(number + 2))
        line.get_by_test_id("line-rate").fill("12.50")
    screenshot(page, "two-way-new-order-form")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/records/sales_order/\d+$"))
    order_url = page.url
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    expect(page.get_by_test_id("line-row")).to_have_count(2)
    # When a sync of sales orders runs (customers and items come along)
    start_sync(page, live_sim, "Sales Orders")
    # Then both are in QuickBooks: the order with its two lines, for the new customer
    page.goto(order_url)
    expect(page.get_by_test_id("record-state")).to_have_text("Synced")
    expect(page.get_by_test_id("event-pushed_created")).to_be_visible()
    screenshot(page, "two-way-new-order-created")
    qb_id = page.get_by_test_id("record-qb-id").inner_text()
    order = in_quickbooks(simulator, f"sales-orders/{qb_id}")
    assert order["refNumber"] == "WEB-1001"
    assert order["customer"]["fullName"] == "Lighthouse Cafe"
    assert [line["item"]["fullName"] for line in order["lines"]] == items
    assert [line["quantity"] for line in order["lines"]] == [2, 3]
    customer = in_quickbooks(simulator, f"customers/{order['customer']['id']}")
    assert customer["name"] == "Lighthouse Cafe"


def test_a_conflict_and_who_won_on_the_record_and_session_pages(people, live_sim, simulator):
    page, _ = people
    (_, name, qb_id), = live_sim.db(lambda: customers(1))
    # The warehouse changes the phone and the note...
    open_record(page, live_sim, "customer", name)
    record_url = page.url
    page.get_by_test_id("edit").click()
    page.locator("#f-phone").fill("555-0161")
    page.locator("#f-note").fill("Warehouse note")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    # ...and so does someone in QuickBooks
    with SimHttp(simulator) as sim:
        sim.sim("POST", "edits", {"resource": "customers", "id": qb_id,
                                  "fields": {"phone": "555-0162", "note": "QuickBooks note"}}
                ).raise_for_status()
    start_sync(page, live_sim, "Customers")
    # The record page says who won each, and by which rule
    page.goto(record_url)
    conflicts = page.get_by_test_id("event-conflict")
    expect(conflicts).to_have_count(2)
    phone = conflicts.filter(has_text="Conflict on Phone")
    expect(phone).to_contain_text("the warehouse had “555-0161”, QuickBooks had “555-0162”")
    expect(phone).to_contain_text("The warehouse's value won")
    expect(conflicts.filter(has_text="Conflict on Note")).to_contain_text("QuickBooks' value won")
    expect(page.get_by_test_id("field-note").get_by_test_id("wms-value")).to_have_text(
        "QuickBooks note")
    screenshot(page, "two-way-conflict-record")
    # And so does the session page, each linking to the record
    phone.get_by_test_id("event-session").click()
    rows = page.get_by_test_id("conflict-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="phone").get_by_test_id("conflict-winner")).to_have_text(
        "The warehouse won")
    expect(rows.filter(has_text="note").get_by_test_id("conflict-winner")).to_have_text(
        "QuickBooks won")
    screenshot(page, "two-way-conflict-session")
    rows.first.get_by_test_id("conflict-record").click()
    page.wait_for_url(record_url)
    assert in_quickbooks(simulator, f"customers/{qb_id}")["phone"] == "555-0161"


def test_a_refused_record_is_held_then_edited_and_pushed(people, live_sim, simulator):
    page, _ = people
    (record_id, name, qb_id), = live_sim.db(lambda: customers(1))

    def rename_with_sql():  # a WMS writing a name QuickBooks refuses (a colon)
        db.session.execute(update(Customer).where(Customer.id == record_id)
                           .values(name="Depot:North"))
        db.session.commit()

    live_sim.db(rename_with_sql)
    start_sync(page, live_sim, "Customers")
    expect(page.get_by_test_id("current-status")).to_have_text("Finished with errors")
    # The error is shown with its reason on the record
    page.goto(f"{live_sim.url}/records/customer/{record_id}")
    expect(page.get_by_test_id("record-state")).to_have_text("Error")
    expect(page.get_by_test_id("push-error-reason")).to_contain_text("was not sent to QuickBooks")
    expect(page.get_by_test_id("event-error")).to_contain_text("What to do")
    screenshot(page, "two-way-refused")
    # Hold
    page.get_by_test_id("hold").click()
    expect(page.get_by_test_id("record-state")).to_have_text("Held")
    expect(page.get_by_test_id("unhold")).to_be_visible()
    # The next sync leaves it
    start_sync(page, live_sim, "Customers")
    expect(page.get_by_test_id("current-status")).to_have_text("Finished")
    page.goto(f"{live_sim.url}/records/customer/{record_id}")
    expect(page.get_by_test_id("event-error")).to_have_count(1)
    expect(page.get_by_test_id("record-state")).to_have_text("Held")
    screenshot(page, "two-way-held")
    assert in_quickbooks(simulator, f"customers/{qb_id}")["name"] == name
    # Edited: no longer held, and the next sync sends it
    page.get_by_test_id("edit").click()
    page.locator("#f-name").fill("Depot North")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("record-state")).to_have_text("Error")  # until it is sent
    expect(page.get_by_test_id("hold")).to_be_visible()
    start_sync(page, live_sim, "Customers")
    page.goto(f"{live_sim.url}/records/customer/{record_id}")
    expect(page.get_by_test_id("record-state")).to_have_text("Synced")
    expect(page.get_by_test_id("event-pushed_updated")).to_contain_text("Sent: Name")
    assert in_quickbooks(simulator, f"customers/{qb_id}")["name"] == "Depot North"


def test_sync_this_record_now_and_refused_while_another_runs(people, live_sim, simulator):
    page, watch = people
    watch.allow(FAILED_LOAD)  # the refused start is a 409, on purpose
    (record_id, name, qb_id), = live_sim.db(lambda: customers(1))
    page.goto(f"{live_sim.url}/records/customer/{record_id}/edit")
    page.locator("#f-fax").fill("555-0177")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")

    def another_sync_running() -> int:  # as another tool's session would be
        session = SyncSession(end_user_id=manager.end_user_id(), status="running",
                              mode="incremental", selected_objects=["vendor"],
                              planned_objects=[{"name": "vendor", "reason": "selected"}])
        db.session.add(session)
        db.session.commit()
        return session.id

    other = live_sim.db(another_sync_running)
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("alert")).to_contain_text(
        f"This record cannot be synced now: sync #{other} is running")

    def end_it():
        db.session.execute(update(SyncSession).where(SyncSession.id == other)
                           .values(status="cancelled"))
        db.session.commit()

    live_sim.db(end_it)
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("notice")).to_contain_text("started for this record alone")
    expect(page.get_by_test_id("notice")).to_contain_text("finished", timeout=SYNC_TIMEOUT_MS)
    expect(page.get_by_test_id("record-state")).to_have_text("Synced")
    screenshot(page, "two-way-sync-now")
    assert in_quickbooks(simulator, f"customers/{qb_id}")["fax"] == "555-0177"
    page.get_by_test_id("notice").get_by_role("link", name="Open the sync").click()
    expect(page.get_by_test_id("one-record")).to_contain_text("one record only")
