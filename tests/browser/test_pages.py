"""The dashboard's HTML as served (no browser needed): strict-CSP friendly, polling every 2 s."""

from __future__ import annotations

import re

import pytest

from webapp.sync import manager

INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)


@pytest.fixture
def pages(logged_in) -> dict[str, str]:
    session = manager.start_session(["customer"], "incremental", created_by="tests")
    return {path: logged_in.get(path).get_data(as_text=True)
            for path in ("/", f"/sessions/{session.id}")}


def test_pages_carry_no_inline_script_style_or_handlers(pages):
    for path, html in pages.items():
        for attributes, body in SCRIPT_TAG.findall(html):
            assert "src=" in attributes and body.strip() == "", path
        assert not INLINE_HANDLER.search(html), path
        assert " style=" not in html, path
        assert "<style" not in html, path


def test_the_dashboard_polls_every_two_seconds_by_default(pages):
    assert 'data-poll-ms="2000"' in pages["/"]
    assert 'x-data="dashboard"' in pages["/"] and 'x-data="history"' in pages["/"]


def test_alpine_attributes_hold_references_only(pages):
    # The Alpine CSP build evaluates property paths; keep expressions out of the templates.
    attribute = re.compile(r'\s(?:x-[a-z:.-]+|:[a-z-]+|@[a-z.-]+)="([^"]*)"')
    for path, html in pages.items():
        for value in attribute.findall(html):
            if " in " in value:  # x-for="row in rows"
                value = value.split(" in ", 1)[1]
            assert re.fullmatch(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*", value), (path, value)


@pytest.mark.parametrize("path", ["/sessions/4242", "/sessions/0", "/sessions/99999999999999"])
def test_an_unknown_session_page_is_404(logged_in, path):
    response = logged_in.get(path)
    assert response.status_code == 404
    assert "There is no sync" in response.get_data(as_text=True)


def test_pages_need_a_login(client):
    for path in ("/", "/sessions/1"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
