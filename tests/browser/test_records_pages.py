"""The records pages without QuickBooks (issue 18): a list with search, state filter and
counts, and pages; a record beside its base with its history (pulled, pushed, a conflict, an
error); the edit form's field errors from the API; a session page's conflicts beside its
errors. Rows are written as a WMS and the sync would have left them."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import FAILED_LOAD, TABLET, open_page, screenshot
from webapp.extensions import db
from webapp.models import Customer, SyncError, SyncRecordEvent, SyncSession
from webapp.models.types import utcnow
from webapp.sync import manager

BASE = {"name": "Harbor Supply", "full_name": "Harbor Supply", "phone": "555-0100",
        "email": "ap@harbor.example", "is_active": True, "sublevel": 0}


def _company() -> dict:
    """30 synced customers, one pending (WMS changed its phone), one refused, one deleted,
    one created in the WMS; a session with a conflict and an error on the first."""
    now = utcnow()
    rows = []
    for i in range(30):
        name = "Harbor Supply" if i == 0 else f"Customer {i:02d}"
        rows.append(Customer(
            name=name, full_name=name, qb_id=f"8000{i:04d}-1700000000", qb_revision="1",
            phone="555-0100", email="ap@harbor.example" if i == 0 else None,
            synced_at=now - timedelta(hours=1), is_active=True,
            sync_base={**BASE, "name": name, "full_name": name,
                       "email": "ap@harbor.example" if i == 0 else None}))
    db.session.add_all(rows)
    db.session.commit()
    harbor, refused, deleted = rows[0], rows[1], rows[2]
    harbor.phone = "555-0199"  # a WMS edit: the trigger marks it pending
    db.session.commit()
    refused.push_error = ("Customers: Customer 01 was not sent to QuickBooks: the name cannot "
                          "contain a colon.")
    deleted.qb_deleted_at = now
    db.session.add(Customer(name="Brand New Co", full_name="Brand New Co", is_active=True))
    session = SyncSession(end_user_id=manager.end_user_id(), status="completed",
                          mode="incremental", selected_objects=["customer"],
                          planned_objects=[{"name": "customer", "reason": "selected"}],
                          started_at=now, completed_at=now, error_count=1)
    db.session.add(session)
    db.session.flush()
    db.session.add_all([
        SyncRecordEvent(session_id=session.id, object_type="customer", record_id=harbor.id,
                        qb_id=harbor.qb_id, record_label="Harbor Supply", action="conflict",
                        field="email", detail={"base": "ap@harbor.example",
                                               "wms_value": "billing@harbor.example",
                                               "quickbooks_value": "accounts@harbor.example",
                                               "winner": "wms",
                                               "rule": "contact fields: the WMS wins"}),
        SyncRecordEvent(session_id=session.id, object_type="customer", record_id=harbor.id,
                        qb_id=harbor.qb_id, record_label="Harbor Supply",
                        action="pushed_updated", fields=["email"]),
        SyncRecordEvent(session_id=session.id, object_type="customer", record_id=refused.id,
                        qb_id=refused.qb_id, record_label="Customer 01", action="error",
                        detail={"code": "qb_3090", "message": refused.push_error,
                                "phase": "push"}),
        SyncError(session_id=session.id, object_type="customer", object_id=refused.qb_id,
                  local_id=refused.id, record_label="Customer 01", phase="push",
                  code="qb_3090", message=refused.push_error),
    ])
    db.session.commit()
    return {"harbor": harbor.id, "refused": refused.id, "session": session.id}


def test_records_list_searches_filters_and_pages(page, live):
    live.db(_company)
    # When staff open Customers from the navigation
    page.get_by_test_id("records-nav").get_by_role("link", name="Customers").click()
    page.wait_for_url("**/records/customer")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    rows = page.get_by_test_id("record-row")
    # Then the first page of 25, with counts per state
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("filter-all")).to_contain_text("31")
    expect(page.get_by_test_id("filter-pending")).to_contain_text("2")
    expect(page.get_by_test_id("filter-error")).to_contain_text("1")
    expect(page.get_by_test_id("filter-deleted")).to_contain_text("1")
    screenshot(page, "records-list")
    page.get_by_test_id("records-next").click()
    expect(rows).to_have_count(6)
    # When they filter pending records
    page.get_by_test_id("filter-pending").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("filter-pending")).to_have_attribute("aria-pressed", "true")
    expect(rows.get_by_test_id("record-state").first).to_have_text("Pending")
    expect(rows.nth(1)).to_contain_text("not in QuickBooks yet")
    # And search by name among them
    page.get_by_test_id("records-search").fill("harbor")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("record-link")).to_have_text("Harbor Supply")
    # The error filter lists the refused one
    page.get_by_test_id("records-search").fill("")
    page.get_by_test_id("filter-error").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Customer 01")


def test_a_record_beside_its_base_with_history(page, live):
    ids = live.db(_company)
    page.goto(f"{live.url}/records/customer/{ids['harbor']}")
    # The WMS's phone beside QuickBooks' last one, marked as changed
    expect(page.get_by_test_id("record-title")).to_have_text("Harbor Supply")
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    phone = page.get_by_test_id("field-phone")
    expect(phone.get_by_test_id("wms-value")).to_have_text("555-0199")
    expect(phone.get_by_test_id("base-value")).to_have_text("555-0100")
    expect(phone.get_by_test_id("differs")).to_be_visible()
    expect(page.get_by_test_id("field-email").get_by_test_id("differs")).to_be_hidden()
    # The history: the conflict in words, who won and by which rule, and the push
    conflict = page.get_by_test_id("event-conflict")
    expect(conflict).to_contain_text("Conflict on Email")
    expect(conflict).to_contain_text("the warehouse had “billing@harbor.example”")
    expect(conflict).to_contain_text("QuickBooks had “accounts@harbor.example”")
    expect(conflict).to_contain_text("The warehouse's value won — contact fields: the WMS wins")
    expect(page.get_by_test_id("event-pushed_updated")).to_contain_text("Sent: Email")
    expect(conflict.get_by_test_id("event-session")).to_have_text(f"Sync #{ids['session']}")
    screenshot(page, "record-page")
    # The refused one: its reason and what to do
    page.goto(f"{live.url}/records/customer/{ids['refused']}")
    expect(page.get_by_test_id("record-state")).to_have_text("Error")
    expect(page.get_by_test_id("push-error-reason")).to_contain_text("cannot contain a colon")
    expect(page.get_by_test_id("event-error")).to_contain_text("What to do")
    # Its session page lists the conflict beside the error, each linking to its record
    page.goto(f"{live.url}/sessions/{ids['session']}")
    row = page.get_by_test_id("conflict-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("conflict-field")).to_have_text("email")
    expect(row.get_by_test_id("conflict-winner")).to_have_text("The warehouse won")
    expect(row.get_by_test_id("conflict-rule")).to_have_text("contact fields: the WMS wins")
    expect(page.get_by_test_id("log-row").get_by_test_id("log-record")).to_have_attribute(
        "href", f"/records/customer/{ids['refused']}")
    screenshot(page, "session-conflicts")
    row.get_by_test_id("conflict-record").click()
    page.wait_for_url(f"**/records/customer/{ids['harbor']}")


def test_the_edit_form_shows_the_apis_refusal_at_the_field(page, live):
    page.watch.allow(FAILED_LOAD)  # the refused save is a 400, on purpose
    ids = live.db(_company)
    page.goto(f"{live.url}/records/customer/{ids['harbor']}")
    page.get_by_test_id("edit").click()
    page.wait_for_url("**/edit")
    name = page.locator("#f-name")
    expect(name).to_have_value("Harbor Supply")
    # When a name QuickBooks would refuse is saved
    name.fill("Harbor: Supply")
    page.get_by_test_id("save").click()
    # Then the API's message is shown at the field, and nothing was saved
    expect(name).to_have_class("form-control is-invalid")
    expect(page.locator("#err-name")).to_contain_text("cannot contain ':'")
    screenshot(page, "record-form-error")
    # When it is corrected, the record shows pending with the new name
    name.fill("Harbor Supply West")
    page.get_by_test_id("save").click()
    page.wait_for_url(f"**/records/customer/{ids['harbor']}")
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    expect(page.get_by_test_id("record-state")).to_have_text("Pending")
    expect(page.get_by_test_id("field-name").get_by_test_id("differs")).to_be_visible()


def test_records_pages_on_a_tablet(browser, live):
    ids = live.db(_company)
    page, watch = open_page(browser, live, viewport=TABLET)
    page.goto(f"{live.url}/records/customer")
    expect(page.get_by_test_id("record-row")).to_have_count(25)
    screenshot(page, "records-list-tablet")
    page.goto(f"{live.url}/records/customer/{ids['harbor']}")
    expect(page.get_by_test_id("field-phone")).to_be_visible()
    screenshot(page, "record-page-tablet")
    watch.assert_clean()
    page.context.close()
