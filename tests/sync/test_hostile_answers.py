"""Answers Conductor's description allows but the simulator never sends (issue 19): nothing
hangs, one bad value is one bad record, and nothing stored makes the API fail later."""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, make_app
from tests.sync.conftest import sim_config, sync
from tests.sync.hostile import hostile_conductor
from webapp.extensions import db
from webapp.models.sync import SyncError
from webapp.models.wms import Customer
from webapp.sync.conductor import QuickBooks

SESSION_BOUND_S = 60


def _long_id() -> str:
    return "8000" + "1" * 60


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_uri")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def run_against(database, simulator):
    """Sync through a hostile Conductor: `run(rewrite, objects)` → the session document."""
    held = []

    def run(rewrite, objects=("customer",), expect=None, app=None):
        with hostile_conductor(simulator.url, rewrite) as hostile:
            if app is None:
                app = make_app(database, **sim_config(simulator,
                                                      CONDUCTOR_BASE_URL=hostile.base_url))
                held.append(app)
            app.config["CONDUCTOR_BASE_URL"] = hostile.base_url
            with app.app_context():
                if database.startswith("postgresql"):
                    from flask_migrate import upgrade

                    upgrade()
                    # Alembic's logging set-up turns existing loggers off: the sync's back on
                    for name, logger in logging.root.manager.loggerDict.items():
                        if name.startswith("webapp") and isinstance(logger, logging.Logger):
                            logger.disabled = False
                qb = QuickBooks.from_config(app.config)
                start = time.monotonic()
                try:
                    doc = sync(list(objects), qb=qb, expect=expect, max_attempts=2)
                finally:
                    qb.close()
                assert time.monotonic() - start < SESSION_BOUND_S
                assert "unexpected error" not in (doc["failure_reason"] or "")
                _api_answers(app, doc["id"])
                return app, hostile, doc

    yield run
    for app in held:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _api_answers(app, session_id: int) -> None:
    """The JSON API answers afterwards, whatever was stored."""
    from webapp.cli import create_or_update_user
    from webapp.models.auth import ApiToken

    user = create_or_update_user(f"{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    _row, token = ApiToken.issue(user, "t")
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for path in (f"/api/v1/sessions/{session_id}", f"/api/v1/sessions/{session_id}/errors",
                 "/api/v1/sessions", "/api/v1/records/customer", "/api/v1/status"):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


# --- paging that never ends ---------------------------------------------------------------


def test_pages_that_keep_saying_there_is_more_but_bring_nothing_new_end_the_object(
        run_against):
    first = {}

    def same_page_forever(method, resource, query, answer):
        if resource == "customers":
            first.setdefault("page", answer)
            return {**first["page"], "hasMore": True, "nextCursor": "c_same",
                    "remainingCount": 10}
        return answer

    _app, hostile, doc = run_against(same_page_forever)
    assert doc["status"] == "failed"
    assert "kept answering that there were more customers" in doc["failure_reason"]
    assert "nothing new" in doc["failure_reason"]
    assert len([a for a in hostile.asked if a[1] == "customers"]) < 10


def test_more_pages_than_the_first_page_counted_end_the_object(run_against):
    pages = {"n": 0}

    def new_ids_forever(method, resource, query, answer):
        if resource != "customers":
            return answer
        pages["n"] += 1
        page = copy.deepcopy(answer)
        page["data"] = page["data"][:2]
        for record in page["data"]:
            record["id"] = f"{pages['n']:04X}{record['id'][4:]}"
        return {**page, "hasMore": True, "nextCursor": "c_1", "remainingCount": 0}

    _app, _hostile, doc = run_against(new_ids_forever)
    assert doc["status"] == "failed"
    assert "more than it had counted" in doc["failure_reason"]
    assert pages["n"] <= 6


@pytest.mark.parametrize("count", ["many", -5, None, 1.5e30, True, "12"])
def test_a_bad_remaining_count_is_no_failure(run_against, count):
    def bad_count(method, resource, query, answer):
        if isinstance(answer, dict) and "remainingCount" in answer:
            return {**answer, "remainingCount": count}
        return answer

    _app, _hostile, doc = run_against(bad_count)
    assert doc["status"] == "completed", doc["failure_reason"]


# --- one bad value is one bad record --------------------------------------------------------


def test_overlong_ids_and_texts_and_nul_fail_their_records_alone(run_against):
    spoilt = {}

    def spoil(method, resource, query, answer):
        if resource == "customers" and not spoilt:
            page = copy.deepcopy(answer)
            records = [r for r in page["data"] if not r.get("parent")]
            spoilt["long_id"], spoilt["long_name"], spoilt["nul"] = (
                records[0]["id"], records[1]["id"], records[2]["id"])
            records[0]["id"] = _long_id()
            records[1]["name"] = "N" * 300
            records[2]["companyName"] = "Acme\x00Corp"
            return page
        return answer

    app, _hostile, doc = run_against(spoil)
    assert doc["status"] == "completed", doc["failure_reason"]
    with app.app_context():
        errors = db.session.scalars(select(SyncError)).all()
        held = set(db.session.scalars(select(Customer.qb_id)))
    messages = " ".join(e.message for e in errors)
    assert "longer than the 36 characters" in messages
    assert re.search(r"name is longer than (the )?41 characters", messages)
    assert "NUL" in messages
    assert _long_id() not in held and spoilt["long_name"] not in held
    assert spoilt["nul"] not in held
    assert len(held) > 10  # the rest of the page was written


def test_an_unreadable_deletion_is_one_failed_record(run_against):
    app, _hostile, doc = run_against(lambda *a: a[-1], expect="completed")
    with app.app_context():
        victim = db.session.scalars(select(Customer.qb_id).where(
            Customer.parent_qb_id.is_(None)).order_by(Customer.qb_id)).first()

    def deleted(method, resource, query, answer):
        if resource == "deleted-list-objects":
            return {**answer, "data": [
                {"id": "80000099-1234567890", "objectType": "qbd_deleted_list_object",
                 "listType": "customer", "deletedAt": "yesterday", "fullName": "Ghost"},
                {"id": victim, "objectType": "qbd_deleted_list_object", "listType": "customer",
                 "deletedAt": None, "fullName": "Ghost 2"},
                {"id": 12, "deletedAt": "2026-01-01T00:00:00+00:00"}]}
        return answer

    _app, _hostile, doc = run_against(deleted, app=app)
    assert doc["status"] == "completed", doc["failure_reason"]
    with app.app_context():
        codes = [e.code for e in db.session.scalars(select(SyncError).where(
            SyncError.session_id == doc["id"]))]
        assert codes.count("bad_deletion") == 3
        assert db.session.scalar(select(Customer.qb_deleted_at).where(
            Customer.qb_id == victim)) is None


# --- lookups by id ----------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_a_lookup_answering_records_not_asked_for_writes_only_those_asked(run_against):
    stranger = {}

    def extra(method, resource, query, answer):
        if resource == "customers" and "ids" in query and answer.get("data"):
            intruder = copy.deepcopy(answer["data"][0])
            intruder["id"] = "DEADBEEF-1111111111"
            intruder["name"] = intruder["fullName"] = "Never asked for"
            intruder.pop("parent", None)
            stranger["asked"] = query["ids"]
            return {**answer, "data": [*answer["data"], intruder]}
        if resource == "customers" and "ids" not in query:
            # parents left out of the listing: the jobs' references are looked up by id
            parents = {(r.get("parent") or {}).get("id") for r in answer["data"]}
            return {**answer, "data": [r for r in answer["data"] if r["id"] not in parents]}
        return answer

    said = _Lines()
    logging.getLogger("webapp.sync.pull.refs").addHandler(said)
    try:
        app, _hostile, doc = run_against(extra)
    finally:
        logging.getLogger("webapp.sync.pull.refs").removeHandler(said)
    assert doc["status"] == "completed", doc["failure_reason"]
    assert stranger, "some parent was looked up by id"
    with app.app_context():
        assert db.session.scalar(select(Customer.id).where(
            Customer.qb_id == "DEADBEEF-1111111111")) is None
    assert any("not asked for" in line for line in said.lines)
