"""The sync's own writes, marked so the WMS-change triggers let them pass (webapp.models.triggers).

`sync_writer(session)` is held while the engine writes: every transaction the session begins
in it carries the mark — on PostgreSQL the transaction-local setting `qbsync.sync_writer`, on
SQLite an uncommitted row of `sync_write_marker`, deleted again just before the commit. Neither
outlives its transaction, so a crash or a rollback cannot leave the mark behind for the WMS's
writes to hide behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from webapp.models.triggers import SETTING

_KEY = "qbsync_sync_writer"
_MARKED = "qbsync_marked"


@contextmanager
def sync_writer(session: Session) -> Iterator[None]:
    """Mark the session's transactions as the sync's while the block runs."""
    held = session.info.get(_KEY, False)
    session.info[_KEY] = True
    if session.in_transaction() and not session.info.get(_MARKED):
        _mark(session, session.connection())
    try:
        yield
    finally:
        session.info[_KEY] = held


def _mark(session: Session, connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config(:name, 'on', true)"), {"name": SETTING})
    else:
        connection.execute(text("INSERT INTO sync_write_marker (id) VALUES (NULL)"))
    session.info[_MARKED] = True


@event.listens_for(Session, "after_begin")
def _after_begin(session, transaction, connection) -> None:
    # Every new transaction is marked, whatever a flag left by the last one says: a
    # transaction ended by closing the session fires neither commit nor rollback events.
    if session.info.get(_KEY):
        _mark(session, connection)


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    if session.info.pop(_MARKED, False):
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            connection.execute(text("DELETE FROM sync_write_marker"))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop(_MARKED, None)
