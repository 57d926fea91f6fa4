"""The dashboard pages (DESIGN §9): the one-page dashboard and a page per session.

The pages are shells: everything they show comes from the JSON API, fetched by the Alpine
components in static/js/ (CSP build, no inline script)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from webapp.api.schemas import MAX_ID
from webapp.sync import manager

bp = Blueprint("dashboard", __name__)

POLL_MS = 2000
HISTORY_PAGE_SIZE = 10
ERROR_LOG_PAGE_SIZE = 50


def _poll_ms() -> int:
    # Tests may poll faster; people get the two seconds DESIGN §9 asks for.
    return int(current_app.config.get("QBSYNC_DASHBOARD_POLL_MS", POLL_MS))


@bp.get("/")
def index():
    """The dashboard: connection, start, live progress, errors and history."""
    return render_template("dashboard/index.html", poll_ms=_poll_ms(),
                           history_page_size=HISTORY_PAGE_SIZE)


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int):
    """One session: per-object results and its full error log."""
    try:
        if not 1 <= session_id <= MAX_ID:
            raise manager.SessionNotFound(session_id)
        manager.get_session(session_id)
    except manager.SessionNotFound:
        abort(404, description=f"There is no sync #{session_id}.")
    return render_template("dashboard/session.html", session_id=session_id, poll_ms=_poll_ms(),
                           page_size=ERROR_LOG_PAGE_SIZE)


from webapp.dashboard import records  # noqa: E402,F401 - registers the records pages on bp
