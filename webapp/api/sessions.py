"""Sync sessions: start, history, current, one session, cancel, and a session's errors."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from webapp.api import bp
from webapp.api.layer import ApiError, operation
from webapp.api.schemas import (
    ErrorDocument,
    ErrorPage,
    PageQuery,
    SessionDocument,
    SessionPage,
    StartSessionRequest,
)
from webapp.sync import manager

NOT_FOUND = (ErrorDocument, "There is no session with that id.")
CANCEL_ACCEPTED = (SessionDocument,
                   "Accepted: the session stops within one page and ends cancelled.")
BAD_PAGE = (ErrorDocument, "`limit` is not 1–100, or `cursor` is not one this list handed out.")


def _session_or_404(session_id: int):
    try:
        return manager.get_session(session_id)
    except manager.SessionNotFound:
        raise ApiError(404, "not_found", f"There is no sync session {session_id}.") from None


def _page_of(lister, *args):
    """A page from `lister`, or 400 when the cursor was not handed out by this listing."""
    try:
        return lister(*args)
    except manager.InvalidCursor as error:
        message = str(error)
        raise ApiError(400, "invalid_cursor", f"{message[0].upper()}{message[1:]}.") from None


@operation(
    bp, "POST", "/sessions", tag="sessions", summary="Start a sync",
    body=StartSessionRequest,
    responses={
        202: (SessionDocument, "Accepted: the new session, pending until a worker picks it up."),
        400: (ErrorDocument, "Unknown object, unknown mode, malformed JSON or wrong types."),
        409: (ErrorDocument, "A sync is already pending or running; the message names it."),
    },
)
def start_session(body: StartSessionRequest):
    """Start syncing the given objects (all when none are given), their dependencies first."""
    try:
        session = manager.start_session(body.objects, body.mode, created_by=current_user.email)
    except manager.UnknownObjectError as error:
        names = ", ".join(repr(n) for n in error.names)
        raise ApiError(400, "unknown_object",
                       f"Unknown object(s): {names}. GET /api/v1/objects lists them.") from None
    except manager.InvalidMode:
        raise ApiError(400, "invalid_mode", 'mode must be "incremental" or "full".') from None
    except manager.SessionAlreadyActive as error:
        active = error.active
        which = f"session {active.id} is {active.status}" if active else "another sync is active"
        advice = (f"but no worker has reported on it for over {manager.STALLED_MINUTES} minutes: "
                  "check that a worker is running, or cancel it" if error.unattended
                  else "wait for it to end or cancel it first")
        raise ApiError(409, "session_active",
                       f"A sync is already in progress ({which}); {advice}.") from None
    location = url_for("api.get_session", session_id=session.id)
    return 202, manager.session_document(session), {"Location": location}


@operation(
    bp, "GET", "/sessions", tag="sessions", summary="Sync history, newest first",
    query=PageQuery,
    responses={200: (SessionPage, "A page of sessions."), 400: BAD_PAGE},
)
def list_sessions(query: PageQuery):
    """Sessions newest first, `limit` per page (at most 100); follow `next_cursor` for more."""
    rows, next_cursor = _page_of(manager.list_sessions, query.limit, query.cursor)
    return {"sessions": [manager.session_document(s) for s in rows], "next_cursor": next_cursor}


@operation(
    bp, "GET", "/sessions/current", tag="sessions", summary="The current session",
    responses={
        200: (SessionDocument, "The pending or running session, else the latest one."),
        404: (ErrorDocument, "No sync has ever been started."),
    },
)
def current_session():
    """The session in progress, else the latest one."""
    session = manager.current_session()
    if session is None:
        raise ApiError(404, "not_found", "No sync has been started yet.")
    return manager.session_document(session)


@operation(
    bp, "GET", "/sessions/<int:session_id>", tag="sessions", summary="One session",
    responses={200: (SessionDocument, "The session."), 404: NOT_FOUND},
)
def get_session(session_id: int):
    """A session with its per-object progress and counts."""
    return manager.session_document(_session_or_404(session_id))


@operation(
    bp, "POST", "/sessions/<int:session_id>/cancel", tag="sessions", summary="Cancel a session",
    responses={
        202: CANCEL_ACCEPTED,
        404: NOT_FOUND,
        409: (ErrorDocument, "The session already ended."),
    },
)
def cancel_session(session_id: int):
    """Ask a pending or running session to stop. Asking again is harmless."""
    _session_or_404(session_id)
    try:
        session = manager.cancel_session(session_id)
    except manager.SessionEnded as error:
        raise ApiError(409, "session_ended",
                       f"Session {session_id} already ended ({error.session.status}); "
                       "there is nothing to cancel.") from None
    return 202, manager.session_document(session)


@operation(
    bp, "POST", "/sessions/current/cancel", tag="sessions", summary="Cancel the current session",
    responses={
        202: CANCEL_ACCEPTED,
        409: (ErrorDocument, "No sync is pending or running."),
    },
)
def cancel_current_session():
    """Ask the pending or running session, whichever it is, to stop (as `qbsync sync cancel`)."""
    session = manager.active_session()
    if session is not None:
        try:
            return 202, manager.session_document(manager.cancel_session(session.id))
        except manager.SessionEnded:
            pass  # it ended between the read and the cancel: nothing is running any more
    raise ApiError(409, "no_active_session",
                   "No sync is pending or running; there is nothing to cancel.")


@operation(
    bp, "GET", "/sessions/<int:session_id>/errors", tag="sessions",
    summary="A session's errors, oldest first",
    query=PageQuery,
    responses={200: (ErrorPage, "A page of errors."), 400: BAD_PAGE, 404: NOT_FOUND},
)
def list_session_errors(session_id: int, query: PageQuery):
    """Records that could not be synced (object, QuickBooks id, message), oldest first."""
    _session_or_404(session_id)
    rows, next_cursor = _page_of(manager.list_errors, session_id, query.limit, query.cursor)
    return {"errors": [manager.error_document(e) for e in rows], "next_cursor": next_cursor}
