"""A session's conflicts over the API (DESIGN §7): from the ledger, oldest first, paged with
cursors only their own list takes."""

from __future__ import annotations

import pytest

from tests.webapp.api.test_sessions import ISO_Z
from webapp.extensions import db
from webapp.models import SyncRecordEvent

CONTRACT_KEYS = {"object_type", "record_id", "qb_id", "record_label", "field", "base",
                 "wms_value", "quickbooks_value", "winner", "rule", "created_at"}


def add_conflicts(session_id: int, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        db.session.add(SyncRecordEvent(
            session_id=session_id, object_type="customer", record_id=100 + n,
            qb_id=f"80000{n:03d}-1234567890", record_label=f"Customer {n}",
            action="conflict", field="email",
            detail={"base": f"old{n}@example.com", "wms_value": f"wms{n}@example.com",
                    "quickbooks_value": f"qb{n}@example.com", "winner": "wms",
                    "rule": "contact fields: the WMS wins conflicts"}))
    db.session.commit()


def test_conflicts_page_oldest_first_with_who_won(token_client, bearer, make_session):
    # Given a session with five conflicts, other ledger events, and another session's conflict
    session, other = make_session("completed"), make_session("completed")
    add_conflicts(session.id, 2)
    db.session.add(SyncRecordEvent(session_id=session.id, object_type="customer", record_id=1,
                                   action="pulled_updated", fields=["email"]))
    db.session.add(SyncRecordEvent(session_id=session.id, object_type="item", record_id=7,
                                   action="conflict", field="sales_price",
                                   detail={"base": "1.00", "wms_value": "2.00",
                                           "quickbooks_value": "3.00", "winner": "quickbooks",
                                           "rule": "the later change wins"}))
    db.session.commit()
    add_conflicts(session.id, 2, start=2)
    add_conflicts(other.id, 1, start=9)
    url = f"/api/v1/sessions/{session.id}/conflicts"
    # When they are read two at a time
    first = token_client.get(f"{url}?limit=2", headers=bearer).get_json()
    pages = [first]
    while pages[-1]["next_cursor"]:
        pages.append(token_client.get(f"{url}?limit=2&cursor={pages[-1]['next_cursor']}",
                                      headers=bearer).get_json())
    conflicts = [c for page in pages for c in page["conflicts"]]
    # Then each of this session's conflicts comes once, oldest first, as the contract says
    assert [c["record_label"] for c in conflicts] == [
        "Customer 0", "Customer 1", None, "Customer 2", "Customer 3"]
    assert len(pages) == 3 and pages[-1]["next_cursor"] is None
    assert all(set(c) == CONTRACT_KEYS for c in conflicts)
    assert conflicts[0] == {
        "object_type": "customer", "record_id": 100, "qb_id": "80000000-1234567890",
        "record_label": "Customer 0", "field": "email", "base": "old0@example.com",
        "wms_value": "wms0@example.com", "quickbooks_value": "qb0@example.com",
        "winner": "wms", "rule": "contact fields: the WMS wins conflicts",
        "created_at": conflicts[0]["created_at"],
    }
    assert ISO_Z.match(conflicts[0]["created_at"])
    assert conflicts[2]["winner"] == "quickbooks" and conflicts[2]["field"] == "sales_price"


def test_a_session_without_conflicts_is_an_empty_page(logged_in, make_session):
    body = logged_in.get(f"/api/v1/sessions/{make_session().id}/conflicts").get_json()
    assert body == {"conflicts": [], "next_cursor": None}


def test_conflicts_of_an_unknown_session_are_404(token_client, bearer):
    response = token_client.get("/api/v1/sessions/424242/conflicts", headers=bearer)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_conflicts_refuse_cursors_of_other_lists(token_client, bearer, make_session):
    # Given two sessions with conflicts and errors, and a cursor from each list
    first = make_session("completed", errors=3)
    second = make_session("completed", errors=3)
    add_conflicts(first.id, 3)
    add_conflicts(second.id, 3)

    def cursor(url):
        return token_client.get(f"{url}?limit=1", headers=bearer).get_json()["next_cursor"]

    errors = cursor(f"/api/v1/sessions/{second.id}/errors")
    others = cursor(f"/api/v1/sessions/{first.id}/conflicts")
    own = cursor(f"/api/v1/sessions/{second.id}/conflicts")
    # When the second session's conflicts are asked for with another list's cursor
    for foreign in (errors, others, "%%%"):
        response = token_client.get(f"/api/v1/sessions/{second.id}/conflicts?cursor={foreign}",
                                    headers=bearer)
        # Then it is refused
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_cursor"
    # And a conflict cursor is refused by the error list too
    response = token_client.get(f"/api/v1/sessions/{second.id}/errors?cursor={own}",
                                headers=bearer)
    assert response.status_code == 400
    rest = token_client.get(f"/api/v1/sessions/{second.id}/conflicts?cursor={own}",
                            headers=bearer).get_json()
    assert [c["record_label"] for c in rest["conflicts"]] == ["Customer 1", "Customer 2"]


@pytest.mark.parametrize("bad", ["limit=0", "limit=101"])
def test_conflicts_refuse_a_bad_limit(token_client, bearer, make_session, bad):
    response = token_client.get(f"/api/v1/sessions/{make_session().id}/conflicts?{bad}",
                                headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_limit"


def test_conflicts_need_a_login_or_a_token(token_client, make_session):
    response = token_client.get(f"/api/v1/sessions/{make_session().id}/conflicts")
    assert response.status_code == 401
