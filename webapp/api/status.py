"""`GET /api/v1/status`: the one call a dashboard polls — last success, current session,
and the QuickBooks connection."""

from __future__ import annotations

from flask import current_app

from webapp.api import bp
from webapp.api.layer import operation
from webapp.api.quickbooks import REACHABILITY_TTL_S, ReachabilityCache, connection_mode
from webapp.api.schemas import Status
from webapp.sync import manager
from webapp.sync.contact import CONTACT_TTL_S, contact_log

EXTENSION = "qbsync_quickbooks_reachability"


@bp.record_once
def _init_reachability(state) -> None:
    state.app.extensions.setdefault(EXTENSION, ReachabilityCache())


def reachability() -> ReachabilityCache:
    """This app's cached QuickBooks health-check answers."""
    return current_app.extensions[EXTENSION]


@operation(bp, "GET", "/status", tag="status", summary="Sync status at a glance",
           responses={200: (Status, "Last successful sync, current session, QuickBooks.")})
def status():
    """When the last sync succeeded, the current session, and whether QuickBooks answers."""
    session = manager.current_session()
    config = current_app.config
    return {
        "last_successful_sync_at": manager.iso(manager.last_successful_sync_at()),
        "current_session": manager.session_document(session) if session else None,
        "quickbooks": {
            "mode": connection_mode(config),
            "reachable": quickbooks_reachable(config, active=bool(session and session.is_active)),
        },
    }


def quickbooks_reachable(config, *, active: bool) -> bool:
    """Whether QuickBooks answers, from what the sync last heard while that is recent.

    While a session is active its worker is the one talking to QuickBooks, which serves one
    request at a time: a health check would queue behind the sync's request, slow it, and
    could time out. So then what the sync heard stands for as long as a request may take, and
    before it has heard anything, a health check's answer of that age does too. Otherwise
    Conductor's health check answers (cached).
    """
    heard = contact_log().last(config.get("CONDUCTOR_END_USER_ID") or "")
    if heard is not None and (active or heard[0] < REACHABILITY_TTL_S):
        return heard[1]
    checked = reachability().last(config)
    if active and heard is None and checked is not None and checked[0] < CONTACT_TTL_S:
        return checked[1]
    return reachability().reachable(config)
