"""`GET /api/v1/status` while a sync runs: QuickBooks' state comes from the sync's own
requests, and the status poll adds no request of its own to QuickBooks' one-at-a-time queue."""

from __future__ import annotations

import pytest

from actors import embedded
from tests.actors.conftest import on_request, reload
from webapp.cli import create_or_update_user
from webapp.extensions import db
from webapp.models.auth import ApiToken
from webapp.models.sync import SyncSession
from webapp.sync import manager

HEALTH_CHECK = "GET /v1/quickbooks-desktop/health-check"


@pytest.fixture
def poll(embedded_app):
    """GET /api/v1/status as a script with an API token would; its `quickbooks` part."""
    user = create_or_update_user("clerk@example.com", "a long password")
    _row, token = ApiToken.issue(user, "tests")
    db.session.commit()

    def get() -> dict:
        response = embedded_app.test_client().get(
            "/api/v1/status", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        return response.get_json()["quickbooks"]

    return get


@pytest.mark.parametrize("sim_size", [3000])  # 450 customers: three pages
def test_status_polled_during_a_sync_asks_quickbooks_nothing(embedded_app, sim, poll):
    # Given a sync whose second page of customers is being answered, slowly, when the
    # dashboard polls
    seen = []
    sim.simulator.update_faults({"latency_ms": 300})
    on_request(sim, "/customers", 2, lambda: seen.extend(poll() for _ in range(3)))
    session = manager.start_session(["customer"])
    embedded.start(embedded_app).join()
    assert reload(SyncSession, session.id).status == "completed"
    # Then QuickBooks was reported reachable, from the page the sync had just read ...
    assert seen == [{"mode": "simulator", "reachable": True}] * 3
    # ... with no health check behind the sync's request: one request at a time throughout
    stats = sim.simulator.stats()
    assert HEALTH_CHECK not in stats["requests"]
    assert sim.simulator.peak_received == 1


@pytest.mark.parametrize("sim_size", [3000])
def test_quickbooks_closed_during_a_sync_shows_at_once(embedded_app, sim, poll):
    # Given QuickBooks that answered the first page, then was closed
    seen = []

    def close_quickbooks():
        seen.append(poll())  # still open: the first page came back
        sim.simulator.update_faults({"qb_running": False})

    on_request(sim, "/customers", 2, close_quickbooks)
    session = manager.start_session(["customer"])
    # When the sync's next request fails (it retries, then gives up)
    embedded.start(embedded_app).join()
    assert reload(SyncSession, session.id).status == "failed"
    # Then the status says QuickBooks is not reachable, from the sync's failures alone
    assert seen == [{"mode": "simulator", "reachable": True}]
    assert poll() == {"mode": "simulator", "reachable": False}
    assert HEALTH_CHECK not in sim.simulator.stats()["requests"]
