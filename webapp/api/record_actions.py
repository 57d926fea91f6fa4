"""What staff do to one record beyond editing it (issue 18): count an object's records by
state, hold a record QuickBooks keeps refusing back from the push (and lift the hold), and
"Sync this record now" — a session limited to that record, under the one-session rule."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import update

from webapp.api import bp, record_store
from webapp.api.layer import ApiError, operation
from webapp.api.record_schemas import RecordCounts, models_for
from webapp.api.records import NOT_FOUND, PULL_ONLY, TAG, _document, _record_or_404
from webapp.api.schemas import ErrorDocument, SessionDocument
from webapp.extensions import db
from webapp.models.types import utcnow
from webapp.sync import manager
from webapp.sync.objects import registry

BUSY = (ErrorDocument, "Another sync is pending or running; the message names it.")


def _busy(error: manager.SessionAlreadyActive) -> ApiError:
    active = error.active
    which = f"sync #{active.id} is {active.status}" if active else "another sync is active"
    advice = (f"no worker has reported on it for over {manager.STALLED_MINUTES} minutes: "
              "check that a worker is running, or cancel it" if error.unattended
              else "wait for it to end (or cancel it), then sync this record")
    return ApiError(409, "session_active",
                    f"This record cannot be synced now: {which}; {advice}.")


def _set_hold(obj, record_id: int, held_at) -> None:
    table = obj.model.__table__
    db.session.execute(update(table).where(table.c.id == record_id).values(push_held_at=held_at))
    db.session.commit()


def register(name: str) -> None:
    """Declare the counts, hold and sync endpoints of object `name`."""
    obj, models = registry.get(name), models_for(name)
    path, display = f"/records/{name}", obj.display_name
    record_path = f"{path}/<int:record_id>"

    def counts():
        """How many records are in each sync state (from indexes: cheap on large tables)."""
        return record_store.counts(obj)

    def hold(record_id: int):
        """Hold the record back from the push: the sync leaves it until the WMS changes it
        again or the hold is lifted (for a record QuickBooks keeps refusing)."""
        row = _record_or_404(obj, record_id)
        if obj.direction != "both":
            raise ApiError(405, "pull_only", f"{display} are pull only: nothing is pushed.")
        # Not earlier than the row's own last change, whichever clock stamped that.
        now = utcnow()
        _set_hold(obj, record_id, max(now, row.local_updated_at or now))
        return _document(obj, models, record_store.get(obj, record_id))

    def unhold(record_id: int):
        """Lift the hold: the next sync sends the record if it is pending."""
        _record_or_404(obj, record_id)
        _set_hold(obj, record_id, None)
        return _document(obj, models, record_store.get(obj, record_id))

    def sync_record(record_id: int):
        """Start a session limited to this record: read again by id from QuickBooks (when it
        is there), then pushed if pending. Records it depends on that are not in QuickBooks
        yet are not sent with it (a full sync sends them)."""
        _record_or_404(obj, record_id)
        try:
            session = manager.start_session(
                [name], "incremental", created_by=current_user.email,
                only_record={"object": name, "id": record_id})
        except manager.SessionAlreadyActive as error:
            raise _busy(error) from None
        location = url_for("api.get_session", session_id=session.id)
        return 202, manager.session_document(session), {"Location": location}

    held = (models.record, "The record, `held` as it now is.")
    declare = [
        (counts, "GET", f"{path}/counts", f"{display}: records per sync state",
         {200: (RecordCounts, "Counts per state.")}),
        (hold, "POST", f"{record_path}/hold", f"{display}: hold a record back from the push",
         {200: held, 404: NOT_FOUND, 405: PULL_ONLY}),
        (unhold, "DELETE", f"{record_path}/hold", f"{display}: lift a record's hold",
         {200: held, 404: NOT_FOUND}),
        (sync_record, "POST", f"{record_path}/sync", f"{display}: sync this record now",
         {202: (SessionDocument, "Accepted: the session, limited to this record."),
          404: NOT_FOUND, 409: BUSY}),
    ]
    for view, method, rule, summary, responses in declare:
        view.__name__ = f"{view.__name__}_{name}"  # the operationId
        operation(bp, method, rule, tag=TAG, summary=summary, responses=responses)(view)


for _name in registry.order:
    register(_name)
