"""Paging like QuickBooks' iterators behind Conductor: one cursor per list, each request the next
page, a window after each response, an error after the last page, name paging that resumes."""

from __future__ import annotations

import time

import conductor
import pytest

from qbdsim.query import qb_sort_key
from qbdsim.resources import RESOURCES
from qbdsim.testing import conductor_client, running_simulator


def test_sdk_auto_paging_returns_every_record_once(shared_client, shared_wire, eu):
    # Given a company whose counts the simulator reports
    counts = shared_wire.sim("GET", "counts").json()
    # When the real client pages through every paginated resource, 7 rows at a time
    for name, total in counts.items():
        if name in ("inventory-adjustments", "accounts"):
            continue
        resource = getattr(shared_client.qbd, name.replace("-", "_"))
        kwargs = {"status": "all"} if RESOURCES[name].kind == "list" else {}
        ids = [row.id for row in resource.list(conductor_end_user_id=eu, limit=7, **kwargs)]
        # Then each record arrives exactly once
        assert len(ids) == len(set(ids)) == total, name


def test_cursor_stays_the_same_and_remaining_count_counts_down(shared_wire):
    first = shared_wire.get("invoices", params={"limit": 40}).json()
    cursor, remaining = first["nextCursor"], first["remainingCount"]
    total = len(first["data"]) + remaining
    seen = [row["id"] for row in first["data"]]
    while cursor:
        page = shared_wire.get("invoices", params={"limit": 40, "cursor": cursor}).json()
        assert page["remainingCount"] == remaining - len(page["data"])
        remaining = page["remainingCount"]
        seen += [row["id"] for row in page["data"]]
        if page["hasMore"]:
            assert page["nextCursor"] == cursor
        else:
            assert page["nextCursor"] is None and remaining == 0
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)) == total


def test_cursor_requests_are_not_idempotent(shared_wire):
    # The same cursor sent twice returns two different pages (as QuickBooks' iterator does)
    first = shared_wire.get("sales-orders", params={"limit": 5}).json()
    second = shared_wire.get("sales-orders", params={"limit": 5, "cursor": first["nextCursor"]})
    third = shared_wire.get("sales-orders", params={"limit": 5, "cursor": first["nextCursor"]})
    ids = [[row["id"] for row in r.json()["data"]] for r in (second, third)]
    assert ids[0] != ids[1]
    assert not set(ids[0]) & {row["id"] for row in first["data"]}


def test_first_calls_filters_are_accepted_with_the_cursor(shared_wire):
    params = {"limit": 3, "status": "all", "nameFrom": "c"}
    first = shared_wire.get("customers", params=params).json()
    page = shared_wire.get("customers", params={**params, "cursor": first["nextCursor"]})
    assert page.status_code == 200
    names = [row["fullName"] for row in first["data"] + page.json()["data"]]
    assert names == sorted(names, key=qb_sort_key)


def test_asking_after_the_last_page_is_an_error(shared_wire):
    first = shared_wire.get("vendors", params={"limit": 150, "status": "all"}).json()
    cursor = first["nextCursor"]
    if cursor is None:  # one page: make it two
        first = shared_wire.get("vendors", params={"limit": 10, "status": "all"}).json()
        cursor = first["nextCursor"]
    last = None
    while True:
        last = shared_wire.get("vendors", params={"limit": 150, "cursor": cursor}).json()
        if not last["hasMore"]:
            break
    response = shared_wire.get("vendors", params={"limit": 150, "cursor": cursor})
    assert response.status_code == 400
    assert "no more results" in response.json()["error"]["message"]


def test_cursor_expires_after_the_window():
    with (
        running_simulator(size=300, cursor_ttl_s=1.0) as server,
        conductor_client(server, max_retries=0) as client,
    ):
        eu = server.config.end_user_id
        page = client.qbd.invoices.list(conductor_end_user_id=eu, limit=10)
        assert page.has_next_page()
        page = page.get_next_page()  # within the window
        time.sleep(1.3)  # the window itself is under test
        with pytest.raises(conductor.BadRequestError) as caught:
            page.get_next_page()
        assert caught.value.body["error"]["code"] == "INVALID_CURSOR"
        assert "expired" in caught.value.body["error"]["message"]


def test_cursor_of_another_resource_is_refused(shared_wire):
    first = shared_wire.get("invoices", params={"limit": 2}).json()
    response = shared_wire.get("sales-orders", params={"cursor": first["nextCursor"]})
    assert response.status_code == 400


def test_name_paging_resumes_in_quickbooks_order(shared_wire):
    # Given a checkpoint: the last full name seen on the previous run
    everything = []
    checkpoint = ""
    while True:
        params = {"limit": 25, "status": "all", "nameFrom": checkpoint}
        rows = shared_wire.get("customers", params=params).json()["data"]
        names = [row["fullName"] for row in rows]
        if names and names[0] == checkpoint:
            names = names[1:]  # nameFrom is inclusive
        if not names:
            break
        everything += names
        checkpoint = names[-1]
    # Then separate runs, each without a cursor, together saw every customer in name order
    total = shared_wire.sim("GET", "counts").json()["customers"]
    assert len(everything) == len(set(everything)) == total
    assert everything == sorted(everything, key=qb_sort_key)


@pytest.mark.parametrize("limit", [0, 151, "many"])
def test_limit_must_be_between_1_and_150(shared_wire, limit):
    response = shared_wire.get("customers", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "INVALID_REQUEST_ERROR"


def test_default_page_is_150(shared_wire):
    body = shared_wire.get("invoices").json()
    assert len(body["data"]) == 150 and body["hasMore"] is True


def test_unpaginated_lists_return_every_row(shared_wire):
    counts = shared_wire.sim("GET", "counts").json()
    body = shared_wire.get("inventory-adjustments").json()
    assert set(body) == {"objectType", "url", "data"}
    assert len(body["data"]) == counts["inventory-adjustments"]
    assert len(shared_wire.get("inventory-adjustments", params={"limit": 4}).json()["data"]) == 4
    response = shared_wire.get("inventory-adjustments", params={"cursor": "x"})
    assert response.status_code == 400  # not a parameter of this endpoint
