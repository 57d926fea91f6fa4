"""A cancelled session's unfinished object is carried on by the next session that runs it,
from its committed checkpoint — only from the object's latest run, and never a narrower pull
into a wider one."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.sync import lifecycle, manager
from webapp.sync.carry import resumed_from

CHECKPOINT = {"started": "2025-01-02T03:04:05+00:00", "since": "2025-01-01T00:00:00-05:00",
              "full": False, "resource_index": 0, "name_from": "Miller"}


def _cancelled_mid_customers(checkpoint: dict) -> int:
    session = manager.start_session(["customer"])
    run = lifecycle.begin_object(session.id, "customer")
    run.checkpoint = dict(checkpoint)
    db.session.commit()
    manager.cancel_session(session.id)
    lifecycle.end_cancelled(session.id)
    return session.id


def _customer_run(session):
    return next(r for r in session.object_runs if r.object_name == "customer")


def test_the_next_session_carries_on_from_a_cancelled_object_s_checkpoint(app):
    cancelled = _cancelled_mid_customers(CHECKPOINT)
    session = manager.start_session(["customer"])
    run = _customer_run(session)
    assert run.checkpoint["name_from"] == "Miller" and resumed_from(run) == cancelled
    assert manager.session_document(session)["objects"][0]["resumed_from"] == cancelled


@pytest.mark.parametrize(("old_full", "new_mode", "carried"), [
    (False, "incremental", True),
    (True, "incremental", True),
    (True, "full", True),
    (False, "full", False),  # a full sync reads everything: an incremental place is no start
])
def test_a_checkpoint_is_carried_only_into_a_pull_as_wide(app, old_full, new_mode, carried):
    _cancelled_mid_customers({**CHECKPOINT, "full": old_full})
    run = _customer_run(manager.start_session(["customer"], new_mode))
    assert (resumed_from(run) is not None) is carried


def test_only_the_latest_run_of_the_object_counts(app):
    # Given a cancelled pull, then a later session that synced customers to the end
    _cancelled_mid_customers(CHECKPOINT)
    later = manager.start_session(["customer"])
    lifecycle.begin_object(later.id, "customer")
    lifecycle.complete_object(later.id, "customer")
    lifecycle.finish_session(later.id)
    # Then the next session reads customers from the watermark that one left, not the checkpoint
    assert _customer_run(manager.start_session(["customer"])).checkpoint is None
