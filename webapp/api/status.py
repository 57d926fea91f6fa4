"""`GET /api/v1/status`: the one call a dashboard polls — last success, current session,
and the QuickBooks connection."""

from __future__ import annotations

from flask import current_app

from webapp.api import bp
from webapp.api.layer import operation
from webapp.api.quickbooks import ReachabilityCache, connection_mode
from webapp.api.schemas import Status
from webapp.sync import manager

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
            "reachable": reachability().reachable(config),
        },
    }
