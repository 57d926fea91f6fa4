"""The inline runner's ways of ending (webapp.sync.runner): a failed object stops the session
and nothing after it runs; a session cancelled before it starts sends nothing; a cancel mid-way
ends it cancelled; a non-retryable failure fails at once; transient failures are retried with
a growing, capped back-off until the attempts run out; anything unexpected fails the session
with a plain reason and leaves the traceback in the log. QuickBooks' failures come from the
simulator's scripted answers (`/_sim/answers`), over real HTTP."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from webapp.extensions import db
from webapp.models.sync import SyncSession
from webapp.sync import manager, runner
from webapp.sync.flags import cancel_flags

SERVICE_DOWN = {"status": 503, "message": "Conductor is down for maintenance."}


def _script(sim, *answers) -> None:
    sim.http.post("/_sim/answers", json={"answers": list(answers)}).raise_for_status()


def _run(qb, objects=("customer", "vendor"), **kwargs) -> SyncSession:
    session = manager.start_session(list(objects))
    runner.run_session(session.id, qb, backoff_s=kwargs.pop("backoff_s", 0.01), **kwargs)
    db.session.expire_all()
    return db.session.get(SyncSession, session.id)


def _runs(session: SyncSession) -> dict[str, tuple[str, int | None]]:
    return {run.object_name: (run.status, run.attempts) for run in session.object_runs}


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The runner's back-off waits, noted (and not slept)."""
    noted: list[float] = []
    monkeypatch.setattr(runner, "time", SimpleNamespace(sleep=noted.append))
    return noted


def test_a_failed_object_stops_the_session_and_nothing_after_it_runs(sync_app, sim, qb):
    # Given QuickBooks refusing the first request (a permission Conductor does not give)
    _script(sim, {"status": 403, "message": "Not allowed."})
    # When customers then vendors are synced
    session = _run(qb)
    # Then the session failed with the reason, on customers; vendors never started
    assert session.status == "failed"
    assert session.failure_reason == "Conductor refused the request: Not allowed."
    assert _runs(session) == {"customer": ("failed", 1), "vendor": ("skipped", 0)}
    assert session.object_runs[0].error_message == session.failure_reason
    assert sim.stats()["total"] == 1  # no request for vendors


def test_an_object_already_done_is_passed_over_and_the_next_one_runs(sync_app, sim, qb):
    # Given a session whose customers are done (a resumed session, say)
    session = manager.start_session(["customer", "vendor"])
    session.object_runs[0].status = "completed"
    db.session.commit()
    # When the runner runs it
    runner.run_session(session.id, qb, backoff_s=0.01)
    db.session.expire_all()
    session = db.session.get(SyncSession, session.id)
    # Then customers are not read again, vendors are, and the session completes
    assert session.status == "completed"
    assert _runs(session) == {"customer": ("completed", 0), "vendor": ("completed", 1)}
    assert not any("customers" in key for key in sim.stats()["requests"])
    assert any(key.endswith("/vendors") for key in sim.stats()["requests"])


def test_a_session_cancelled_before_it_starts_ends_cancelled_having_sent_nothing(
        sync_app, sim, qb):
    session = manager.start_session(["customer", "vendor"])
    assert manager.cancel_session(session.id).status == "cancelling"
    runner.run_session(session.id, qb, backoff_s=0.01)
    db.session.expire_all()
    session = db.session.get(SyncSession, session.id)
    assert session.status == "cancelled" and session.failure_reason is None
    assert _runs(session) == {"customer": ("skipped", 0), "vendor": ("skipped", 0)}
    assert sim.stats()["total"] == 0
    assert not cancel_flags().is_set(session.id)


def test_a_cancel_during_an_object_ends_the_session_cancelled_there(sync_app, sim, qb):
    session = manager.start_session(["customer", "vendor"])

    def cancel_on_the_first_page(run):
        if run.object_name == "customer":
            cancel_flags().set(session.id)

    runner.run_session(session.id, qb, backoff_s=0.01, on_progress=cancel_on_the_first_page)
    db.session.expire_all()
    session = db.session.get(SyncSession, session.id)
    assert session.status == "cancelled"
    assert _runs(session) == {"customer": ("cancelled", 1), "vendor": ("skipped", 0)}
    assert not any(key.endswith("/vendors") for key in sim.stats()["requests"])


def test_a_failure_that_is_not_retryable_fails_the_session_at_once(sync_app, sim, qb, sleeps):
    # Given QuickBooks refusing the listing itself (an invalid request on a list)
    _script(sim, {"status": 400, "message": 'Invalid enum value at "status".'})
    session = _run(qb)
    # Then: failed on the first attempt, no back-off, no second request
    assert session.status == "failed"
    assert session.failure_reason == 'Invalid enum value at "status".'
    assert _runs(session) == {"customer": ("failed", 1), "vendor": ("skipped", 0)}
    assert sleeps == [] and sim.stats()["total"] == 1


def test_transient_failures_are_retried_with_a_growing_back_off(sync_app, sim, qb, sleeps):
    # Given the first two attempts at customers failing (each is three requests: the SDK's
    # own retries of a read), then QuickBooks answering again
    _script(sim, *[SERVICE_DOWN] * 6)
    session = _run(qb, max_attempts=3, backoff_s=0.25)
    # Then the third attempt completes the session, after waits of 0.25 s and 0.5 s
    assert session.status == "completed"
    assert _runs(session) == {"customer": ("completed", 3), "vendor": ("completed", 1)}
    assert sleeps == [0.25, 0.5]


def test_the_back_off_is_capped(sync_app, sim, qb, sleeps, monkeypatch):
    monkeypatch.setattr(runner, "MAX_BACKOFF_S", 0.3)
    _script(sim, *[SERVICE_DOWN] * 9)
    session = _run(qb, max_attempts=4, backoff_s=0.25)
    assert session.status == "completed"
    assert sleeps == [0.25, 0.3, 0.3]


def test_when_the_attempts_run_out_the_session_fails_with_the_last_reason(sync_app, sim, qb,
                                                                          sleeps):
    _script(sim, *[SERVICE_DOWN] * 6)
    session = _run(qb, max_attempts=2)
    assert session.status == "failed"
    assert session.failure_reason == "Conductor is down for maintenance."
    assert _runs(session) == {"customer": ("failed", 2), "vendor": ("skipped", 0)}
    assert sleeps == [0.01]  # one wait, between the two attempts; none after the last
    assert sim.stats()["total"] == 6  # two attempts of three requests, then nothing


def test_an_unexpected_error_fails_the_session_plainly_and_logs_the_traceback(
        sync_app, sim, qb, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the engine")

    monkeypatch.setattr(runner, "run_object", broken)
    with caplog.at_level(logging.ERROR, logger=runner.log.name):
        session = _run(qb)
    assert session.status == "failed"
    assert session.failure_reason == (
        "An unexpected error stopped the customer sync; see the logs.")
    assert _runs(session) == {"customer": ("failed", 1), "vendor": ("skipped", 0)}
    logged = [r for r in caplog.records if r.name == runner.log.name]
    assert [r.getMessage() for r in logged] == ["sync of customer failed unexpectedly"]
    assert logged[0].exc_info[1].args == ("a bug in the engine",)
