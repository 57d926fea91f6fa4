"""The records API, reading (DESIGN §7): lists with search, state and change filters, keyset
cursors, one record, its history, 404s and auth. The data is a small simulated company pulled
once by the real sync, so "synced" rows carry the `sync_base` the sync wrote; the WMS side is
then changed with SQL, as a WMS would."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import quote

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from qbdsim.testing import running_simulator
from tests.conftest import make_app
from tests.sync.conftest import sim_config, sync
from tests.webapp.api.test_sessions import ISO_Z
from webapp.extensions import db
from webapp.models import (
    Customer,
    Item,
    SalesOrder,
    SyncRecordEvent,
    Vendor,
)
from webapp.models.types import utcnow
from webapp.sync.conductor import QuickBooks

COMPANY_SIZE = 80
COMPANY_SEED = 3


@pytest.fixture(scope="module")
def company():
    """A small QuickBooks company, only read (nothing pushes to it)."""
    with running_simulator(size=COMPANY_SIZE, seed=COMPANY_SEED) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, company):
    """The app (every fixture built on `app` uses this one) with the company pulled once."""
    if request.param == "sqlite":
        application = make_app(request.getfixturevalue("sqlite_uri"), **sim_config(company))
    else:
        application = make_app(request.getfixturevalue("postgres_url"), **sim_config(company))
    with application.app_context():
        if request.param == "postgresql":
            upgrade()
        qb = QuickBooks.from_config(application.config)
        try:
            sync(mode="full", qb=qb)
        finally:
            qb.close()
        yield application
        db.session.remove()
        db.engine.dispose()


def get(client, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def all_pages(client, url, headers, limit=7) -> list[dict]:
    """Every record of a list, following `next_cursor`."""
    sep = "&" if "?" in url else "?"
    page = get(client, f"{url}{sep}limit={limit}", headers)
    records = list(page["records"])
    while page["next_cursor"]:
        assert len(page["records"]) == limit
        page = get(client, f"{url}{sep}limit={limit}&cursor={page['next_cursor']}", headers)
        records += page["records"]
    return records


def ids(records) -> list[int]:
    return [r["id"] for r in records]


def edit_with_sql(model, record_id, **values):
    """A WMS writing straight into its table (the triggers stamp it)."""
    db.session.execute(update(model).where(model.id == record_id).values(**values))
    db.session.commit()


# --- lists and cursors ---------------------------------------------------------------------


def test_a_list_pages_every_record_once_by_id(token_client, bearer):
    # Given the pulled customers
    expected = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    assert len(expected) > 10
    # When the list is read page by page
    records = all_pages(token_client, "/api/v1/records/customer", bearer)
    # Then every customer comes once, in id order, none missed
    assert ids(records) == expected


def test_a_record_document_has_the_contract_shape(token_client, bearer):
    order = db.session.scalars(select(SalesOrder).where(SalesOrder.qb_id.is_not(None))
                               .order_by(SalesOrder.id)).first()
    doc = get(token_client, f"/api/v1/records/sales_order/{order.id}", bearer)
    assert set(doc) == {"id", "object", "qb_id", "label", "sync_state", "fields", "lines",
                        "sync", "held", "push_error", "base"}  # the last three: extras
    # The base: what QuickBooks last sent, as the WMS's columns, unchanged since
    assert doc["held"] is False and doc["push_error"] is None
    assert doc["base"]["fields"]["customer_qb_id"] == order.customer_qb_id
    assert doc["base"]["fields"]["transaction_date"] == doc["fields"]["transaction_date"]
    assert doc["base"]["changed"] == [] and doc["base"]["lines_changed"] is False
    assert [x["qb_line_id"] for x in doc["base"]["lines"]] == [
        x["qb_line_id"] for x in doc["lines"]]
    assert doc["object"] == "sales_order" and doc["qb_id"] == order.qb_id
    assert doc["label"] == order.ref_number and doc["sync_state"] == "synced"
    fields = doc["fields"]
    assert fields["customer_id"] == order.customer_id
    assert fields["transaction_date"] == order.transaction_date.isoformat()
    assert fields["total_amount"] == format(order.total_amount, "f")  # a decimal string
    assert set(doc["sync"]) == {"qb_revision", "qb_updated_at", "local_updated_at", "synced_at"}
    assert ISO_Z.match(doc["sync"]["synced_at"]) and doc["sync"]["local_updated_at"] is None
    line = doc["lines"][0]
    assert {"id", "qb_line_id", "item_id", "quantity", "rate", "amount"} <= set(line)
    assert [x["id"] for x in doc["lines"]] == [x.id for x in order.lines]


def test_list_objects_have_no_lines_and_addresses_are_objects(token_client, bearer):
    customer = db.session.scalars(select(Customer).where(Customer.billing_address.is_not(None))
                                  ).first()
    doc = get(token_client, f"/api/v1/records/customer/{customer.id}", bearer)
    assert "lines" not in doc
    assert doc["fields"]["billing_address"] == customer.billing_address
    assert doc["label"] == customer.full_name


def test_search_finds_names_full_names_and_ref_numbers(token_client, bearer):
    # Given a customer and an order whose name and ref number hold a rare text
    customer = db.session.scalars(select(Customer).order_by(Customer.id)).first()
    order = db.session.scalars(select(SalesOrder).order_by(SalesOrder.id)).first()
    edit_with_sql(Customer, customer.id, name="Zyx%Quarry", full_name="Zyx%Quarry")
    edit_with_sql(SalesOrder, order.id, ref_number="ZQ-77")
    # When searched, in another case, with a LIKE wildcard in the text
    found = get(token_client, "/api/v1/records/customer?q=zyx%25q", bearer)["records"]
    orders = get(token_client, "/api/v1/records/sales_order?q=zq-7", bearer)["records"]
    # Then exactly those come back (the % is a character, not a wildcard)
    assert ids(found) == [customer.id] and ids(orders) == [order.id]
    none = get(token_client, "/api/v1/records/customer?q=zyx%25%25", bearer)["records"]
    assert none == []


def test_state_filters_split_the_rows_exactly(token_client, bearer):
    # Given one customer changed by the WMS, one created there, one with a failed push,
    # one deleted in QuickBooks, and one touched to the very same value (no change)
    first, second, third, fourth = list(db.session.scalars(
        select(Customer.id).order_by(Customer.id).limit(4)))
    edit_with_sql(Customer, first, email="new@example.com")
    db.session.add(Customer(name="WMS Made", full_name="WMS Made"))
    db.session.commit()
    created = db.session.scalar(select(Customer.id).where(Customer.name == "WMS Made"))
    edit_with_sql(Customer, second, push_error="QuickBooks said no")
    edit_with_sql(Customer, third, qb_deleted_at=utcnow())
    edit_with_sql(Customer, fourth, wms_pending=True)  # flagged, but nothing differs
    every = ids(all_pages(token_client, "/api/v1/records/customer", bearer))

    def state(name):
        return ids(all_pages(token_client, f"/api/v1/records/customer?state={name}", bearer,
                             limit=3))

    # Then each state lists its rows, and together they are every row once
    assert state("pending") == [first, created]
    assert state("error") == [second]
    assert state("deleted") == [third]
    synced = state("synced")
    assert fourth in synced and first not in synced
    assert sorted(state("pending") + state("error") + state("deleted") + synced) == every
    doc = get(token_client, f"/api/v1/records/customer/{fourth}", bearer)
    assert doc["sync_state"] == "synced"


def test_changed_since_lists_sync_and_wms_changes_oldest_first(token_client, bearer):
    # Given a moment after the pull, then WMS edits of two items, the later one first by id
    item_ids = list(db.session.scalars(select(Item.id).order_by(Item.id).limit(3)))
    # (SQLite's clock, which the triggers stamp with, counts milliseconds: a moment taken
    # here to the microsecond could fall after an edit made in the same millisecond)
    now = utcnow()
    since = now.replace(microsecond=now.microsecond // 1000 * 1000)
    edit_with_sql(Item, item_ids[2], barcode="B-2")
    edit_with_sql(Item, item_ids[0], barcode="B-0")
    # When polled for changes since then
    url = "/api/v1/records/item?changed_since=" + since.isoformat().replace("+00:00", "Z")
    records = all_pages(token_client, url, bearer, limit=1)
    # Then exactly the two edits come, each once across pages, oldest change first (ties,
    # possible within SQLite's millisecond clock, by id)
    assert sorted(ids(records)) == [item_ids[0], item_ids[2]]
    assert records == sorted(records, key=changed_key)
    # And from before the pull, every item comes once, ordered by its latest change
    before = quote((since - timedelta(days=1)).isoformat())  # "+00:00", escaped
    everything = all_pages(token_client, f"/api/v1/records/item?changed_since={before}",
                           bearer, limit=4)
    assert sorted(ids(everything)) == list(db.session.scalars(select(Item.id).order_by(Item.id)))
    assert everything == sorted(everything, key=changed_key)
    assert set(ids(everything)[-2:]) == {item_ids[2], item_ids[0]}


def changed_key(record):
    times = [t for t in (record["sync"]["synced_at"], record["sync"]["local_updated_at"]) if t]
    return max(times), record["id"]


def test_changed_since_refuses_a_time_that_is_not_one(token_client, bearer):
    response = token_client.get("/api/v1/records/item?changed_since=yesterday", headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_changed_since"


def test_cursors_are_refused_by_lists_that_did_not_hand_them_out(token_client, bearer):
    by_id = get(token_client, "/api/v1/records/vendor?limit=1", bearer)["next_cursor"]
    by_change = get(token_client, "/api/v1/records/vendor?limit=1&changed_since=2000-01-01",
                    bearer)["next_cursor"]
    history = get(token_client, "/api/v1/sessions?limit=1", bearer)["next_cursor"]
    refused = [
        f"/api/v1/records/customer?cursor={by_id}",
        f"/api/v1/records/vendor?changed_since=2000-01-01&cursor={by_id}",
        f"/api/v1/records/vendor?cursor={by_change}",
        "/api/v1/records/vendor?cursor=%%%",
    ]
    if history:
        refused.append(f"/api/v1/records/vendor?cursor={history}")
    for url in refused:
        response = token_client.get(url, headers=bearer)
        assert response.status_code == 400, url
        assert response.get_json()["error"]["code"] == "invalid_cursor"


def test_forged_cursors_are_400_never_500(token_client, bearer):
    """Cursors this API never hands out: a time far past any calendar, signs, spaces and
    digits of other scripts."""
    from webapp.api.record_store import encode_cursor

    forged = [encode_cursor("records.vendor.changed", 2**62, 1),
              base64.urlsafe_b64encode(b"v2:records.vendor:+5").decode(),
              base64.urlsafe_b64encode(b"v2:records.vendor: 5").decode(),
              base64.urlsafe_b64encode("v2:records.vendor:\u0665".encode()).decode()]
    for cursor in forged:
        url = (f"/api/v1/records/vendor?changed_since=2000-01-01&cursor={cursor}"
               if cursor == forged[0] else f"/api/v1/records/vendor?cursor={cursor}")
        response = token_client.get(url, headers=bearer)
        assert response.status_code == 400, (cursor, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("bad", ["limit=0", "limit=101", "state=lost", "q=" + "x" * 201])
def test_bad_list_parameters_are_400(token_client, bearer, bad):
    response = token_client.get(f"/api/v1/records/customer?{bad}", headers=bearer)
    assert response.status_code == 400
    assert set(response.get_json()["error"]) == {"code", "message"}


# --- one record, history, 404, auth ---------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/records/widget", "/api/v1/records/widget/1", "/api/v1/records/customer/999999",
    "/api/v1/records/customer/999999/history", "/api/v1/records/customer/0",
])
def test_unknown_objects_and_records_are_404(token_client, bearer, url):
    response = token_client.get(url, headers=bearer)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_history_is_the_ledger_newest_first_in_pages(token_client, bearer):
    # Given a vendor with five ledger events (and another vendor's event beside them)
    first, other = list(db.session.scalars(select(Vendor.id).order_by(Vendor.id).limit(2)))
    before = db.session.scalar(select(SyncRecordEvent.id).order_by(SyncRecordEvent.id.desc()))
    for n in range(5):
        db.session.add(SyncRecordEvent(object_type="vendor", record_id=first, action="conflict",
                                       field="email", detail={"winner": "wms", "n": n}))
    db.session.add(SyncRecordEvent(object_type="vendor", record_id=other, action="error"))
    db.session.commit()
    url = f"/api/v1/records/vendor/{first}/history"
    # When it is read two at a time
    page = get(token_client, f"{url}?limit=2", bearer)
    events = list(page["events"])
    while page["next_cursor"]:
        page = get(token_client, f"{url}?limit=2&cursor={page['next_cursor']}", bearer)
        events += page["events"]
    # Then the pull's own event comes last and the five newest first, none twice
    added = [e for e in events if e["action"] == "conflict"]
    assert [e["detail"]["n"] for e in added] == [4, 3, 2, 1, 0]
    assert all(e["action"] != "error" for e in events)
    assert set(events[0]) >= {"session_id", "action", "fields", "detail", "created_at"}
    pulled = [e for e in events if e["action"].startswith("pulled")]
    assert pulled and pulled[-1]["session_id"] is not None and before is not None
    # And another record's history refuses this cursor
    cursor = get(token_client, f"{url}?limit=2", bearer)["next_cursor"]
    response = token_client.get(f"/api/v1/records/vendor/{other}/history?cursor={cursor}",
                                headers=bearer)
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/records/customer", "/api/v1/records/customer/1",
                                 "/api/v1/records/customer/1/history"])
def test_reading_needs_a_login_or_a_token(token_client, url):
    response = token_client.get(url)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_logged_in_browser_reads_records(logged_in):
    response = logged_in.get("/api/v1/records/item?limit=2")
    assert response.status_code == 200 and len(response.get_json()["records"]) == 2


def test_triggers_stamp_the_sql_edit_the_document_shows(token_client, bearer):
    customer_id = db.session.scalar(select(Customer.id).order_by(Customer.id))
    edit_with_sql(Customer, customer_id, phone="555-0100")
    doc = get(token_client, f"/api/v1/records/customer/{customer_id}", bearer)
    assert doc["sync_state"] == "pending" and doc["fields"]["phone"] == "555-0100"
    assert ISO_Z.match(doc["sync"]["local_updated_at"])
    assert db.session.execute(text("SELECT 1")).scalar() == 1
