"""Whatever Conductor's published description allows (issue 19): answers generated from the
response schemas of every endpoint a customer sync reads or writes — lists, lookups by id,
deleted lists, updates — served over HTTP to the real client. The session ends within a bound,
completed or failed with a plain reason, never "an unexpected error", and the API answers."""

from __future__ import annotations

import shutil
import time
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from qbdsim import contract
from tests.conftest import PASSWORD, make_app
from tests.sync.conftest import sim_config, sync
from tests.sync.hostile import hostile_conductor
from webapp.extensions import db
from webapp.models.wms import Customer
from webapp.sync.conductor import QuickBooks

SESSION_BOUND_S = 60
PAGES = 4  # answers drawn per kind; the last is given again to any further request
ENDPOINTS = {
    "list": ("get", "/quickbooks-desktop/customers"),
    "deleted": ("get", "/quickbooks-desktop/deleted-list-objects"),
    "write": ("post", "/quickbooks-desktop/customers/{id}"),
}
DROPPED = ("description", "title", "example", "examples", "deprecated")


def _resolved(node):
    """A schema with its `$ref`s replaced and arrays kept short (fast examples)."""
    if isinstance(node, list):
        return [_resolved(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _resolved(contract.component(node["$ref"].rsplit("/", 1)[-1]))
    out = {k: _resolved(v) for k, v in node.items() if k not in DROPPED}
    kinds = out.get("type")
    if kinds == "array" or (isinstance(kinds, list) and "array" in kinds):
        out["maxItems"] = min(out.get("maxItems", 3), 3)
    return out


def _answers(kind: str):
    method, path = ENDPOINTS[kind]
    return st.lists(from_schema(_resolved(contract.response_schema(method, path))),
                    min_size=1, max_size=PAGES)


@pytest.fixture(scope="module")
def synced_once(tmp_path_factory, migrated_sqlite_template, simulator):
    """A database that has synced customers once from the simulator (so the next session
    reads the deleted lists too)."""
    path = tmp_path_factory.mktemp("hostile") / "synced.db"
    shutil.copy(migrated_sqlite_template, path)
    app = make_app(f"sqlite:///{path}", **sim_config(simulator))
    with app.app_context():
        qb = QuickBooks.from_config(app.config)
        sync(["customer"], qb=qb)
        qb.close()
        db.session.remove()
        db.engine.dispose()
    return path


class Served:
    """Replays drawn answers per kind (the last one again past the end)."""

    def __init__(self, answers: dict[str, list]):
        self.answers = answers
        self.taken = {kind: count() for kind in answers}

    def next(self, kind: str):
        drawn = self.answers[kind]
        return drawn[min(next(self.taken[kind]), len(drawn) - 1)]

    def __call__(self, method, resource, query, answer):
        if resource == "customers" and method == "GET":
            return self.next("list")  # listings and lookups by id alike
        if resource == "deleted-list-objects":
            return self.next("deleted")
        if resource.startswith("customers/") and method == "POST":
            return self.next("write")
        return None


@settings(max_examples=8, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(lists=_answers("list"), deleted=_answers("deleted"), writes=_answers("write"))
def test_any_answer_the_spec_allows_ends_the_session_plainly(
        synced_once, simulator, tmp_path_factory, lists, deleted, writes):
    path = tmp_path_factory.mktemp("example") / "qbsync.db"
    shutil.copy(synced_once, path)
    served = Served({"list": lists, "deleted": deleted, "write": writes})
    with hostile_conductor(simulator.url, served, answer_all=True) as hostile:
        app = make_app(f"sqlite:///{path}",
                       **sim_config(simulator, CONDUCTOR_BASE_URL=hostile.base_url))
        with app.app_context():
            try:
                _run_example(app)
            finally:
                db.session.remove()
                db.engine.dispose()


def _run_example(app) -> None:
    from webapp.cli import create_or_update_user
    from webapp.models.auth import ApiToken

    _row, token = ApiToken.issue(create_or_update_user("wms@example.com", PASSWORD), "wms")
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    # Given a WMS change waiting to be pushed (so the sync writes too)
    local = db.session.scalars(db.select(Customer).where(Customer.parent_id.is_(None))).first()
    changed = client.patch(f"/api/v1/records/customer/{local.id}", headers=auth,
                           json={"fields": {"email": "wms@example.com"}})
    assert changed.status_code == 200, changed.get_json()
    # When a session runs against whatever QuickBooks answers
    qb = QuickBooks.from_config(app.config)
    start = time.monotonic()
    try:
        doc = sync(["customer"], qb=qb, expect=None, max_attempts=2)
    finally:
        qb.close()
    # Then it ended in time, plainly, and the API still answers
    assert time.monotonic() - start < SESSION_BOUND_S
    assert doc["status"] in ("completed", "failed"), doc
    if doc["status"] == "failed":
        assert doc["failure_reason"] and "unexpected error" not in doc["failure_reason"]
    for path in (f"/api/v1/sessions/{doc['id']}", f"/api/v1/sessions/{doc['id']}/errors",
                 "/api/v1/records/customer", f"/api/v1/records/customer/{local.id}",
                 "/api/v1/status"):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
