"""A session's errors over the API: paged oldest first, with cursors only their own list takes."""

from __future__ import annotations

import base64

from tests.webapp.api.test_sessions import ISO_Z, _error


def test_errors_page_oldest_first_with_the_quickbooks_id(token_client, bearer, make_session):
    session = make_session("running", ("item",), errors=5)
    first = token_client.get(f"/api/v1/sessions/{session.id}/errors?limit=3",
                             headers=bearer).get_json()
    assert [e["message"] for e in first["errors"]] == [f"Record {i} is broken" for i in range(3)]
    error = first["errors"][0]
    assert {"object_type", "object_id", "phase", "code", "message", "created_at"} <= set(error)
    assert error["object_type"] == "item" and error["object_id"] == "80000000-1234567890"
    assert ISO_Z.match(error["created_at"])
    rest = token_client.get(
        f"/api/v1/sessions/{session.id}/errors?limit=3&cursor={first['next_cursor']}",
        headers=bearer,
    ).get_json()
    assert len(rest["errors"]) == 2 and rest["next_cursor"] is None


def test_errors_of_a_clean_session_are_an_empty_page(logged_in, make_session):
    body = logged_in.get(f"/api/v1/sessions/{make_session().id}/errors").get_json()
    assert body == {"errors": [], "next_cursor": None}


def test_errors_refuse_a_bad_cursor(logged_in, make_session):
    response = logged_in.get(f"/api/v1/sessions/{make_session().id}/errors?cursor=%%%")
    assert response.status_code == 400 and _error(response)["code"] == "invalid_cursor"


def test_errors_refuse_a_cursor_from_another_list(token_client, bearer, make_session):
    # Given two sessions with errors, and a cursor of the history and of each error list
    first = make_session("completed", ("item",), errors=4)
    second = make_session("running", ("item",), errors=4)

    def get(url):
        return token_client.get(url, headers=bearer)

    history_cursor = get("/api/v1/sessions?limit=1").get_json()["next_cursor"]
    first_cursor = get(f"/api/v1/sessions/{first.id}/errors?limit=2").get_json()["next_cursor"]
    second_cursor = get(f"/api/v1/sessions/{second.id}/errors?limit=2").get_json()["next_cursor"]
    assert history_cursor and first_cursor and second_cursor
    # When a list is asked for a page with a cursor another list handed out
    refused = [
        get(f"/api/v1/sessions/{second.id}/errors?cursor={history_cursor}"),
        get(f"/api/v1/sessions/{second.id}/errors?cursor={first_cursor}"),
        get(f"/api/v1/sessions?cursor={second_cursor}"),
    ]
    # Then each is refused with a message saying so, instead of a page that skips rows
    for response in refused:
        assert response.status_code == 400, response.get_json()
        error = _error(response)
        assert error["code"] == "invalid_cursor" and "another list" in error["message"]
    # And each list still pages with its own cursor
    rest = get(f"/api/v1/sessions/{second.id}/errors?limit=2&cursor={second_cursor}").get_json()
    assert [e["message"] for e in rest["errors"]] == ["Record 2 is broken", "Record 3 is broken"]


def test_a_cursor_handed_out_before_cursors_named_their_list_still_pages(token_client, bearer,
                                                                         make_session):
    session = make_session("running", ("item",), errors=4)
    ids = [make_session("completed").id for _ in range(3)]
    legacy = base64.urlsafe_b64encode(f"v1:{ids[-1]}".encode()).decode().rstrip("=")
    history = token_client.get(f"/api/v1/sessions?cursor={legacy}", headers=bearer)
    assert history.status_code == 200
    assert [s["id"] for s in history.get_json()["sessions"]] == [ids[1], ids[0], session.id]
    first_error = token_client.get(f"/api/v1/sessions/{session.id}/errors?limit=1",
                                   headers=bearer).get_json()["errors"][0]
    legacy = base64.urlsafe_b64encode(f"v1:{first_error['id']}".encode()).decode().rstrip("=")
    rest = token_client.get(f"/api/v1/sessions/{session.id}/errors?cursor={legacy}",
                            headers=bearer)
    assert rest.status_code == 200 and len(rest.get_json()["errors"]) == 3
