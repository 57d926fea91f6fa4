"""The sync's own writes, marked so the WMS-change triggers let them pass (webapp.models.triggers).

`sync_writer(session)` is held while the engine writes: every transaction the session begins
in it carries the mark. On PostgreSQL that is the transaction-local setting
`qbsync.sync_writer`. On SQLite it is an uncommitted row of `sync_write_marker`, inserted just
before the transaction's first write (not at its start: SQLite has one writer at a time, and a
transaction that waits on QuickBooks must not hold the write lock meanwhile) and deleted again
just before the commit. Neither outlives its transaction, so a crash or a rollback cannot
leave the mark behind for the WMS's writes to hide behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from webapp.models.triggers import SETTING

_KEY = "qbsync_sync_writer"  # session.info: the session writes as the sync
_PENDING = "qbsync_mark_pending"  # connection.info (SQLite): mark before the next write
_WROTE = "qbsync_marked"  # connection.info (SQLite): the marker row is in this transaction
_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")


@contextmanager
def sync_writer(session: Session) -> Iterator[None]:
    """Mark the session's transactions as the sync's while the block runs."""
    held = session.info.get(_KEY, False)
    session.info[_KEY] = True
    if session.in_transaction():
        _mark(session.connection())
    try:
        yield
    finally:
        session.info[_KEY] = held


def _mark(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config(:name, 'on', true)"), {"name": SETTING})
    elif not connection.info.get(_WROTE):
        connection.info[_PENDING] = True


@event.listens_for(Session, "after_begin")
def _after_begin(session, transaction, connection) -> None:
    if session.info.get(_KEY):
        _mark(connection)


@event.listens_for(Engine, "before_cursor_execute")
def _before_write(conn, cursor, statement, parameters, context, executemany) -> None:
    if conn.info.get(_PENDING) and statement.lstrip()[:6].upper().startswith(_WRITES):
        conn.info[_PENDING] = False
        conn.info[_WROTE] = True
        cursor.execute("INSERT INTO sync_write_marker (id) VALUES (NULL)")


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    if not session.in_transaction():
        return
    connection = session.connection()
    connection.info.pop(_PENDING, None)
    if connection.info.pop(_WROTE, False):
        connection.exec_driver_sql("DELETE FROM sync_write_marker")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _ended(conn) -> None:
    if conn.invalidated:  # its DBAPI connection is gone, and its flags with it
        return
    conn.info.pop(_PENDING, None)
    conn.info.pop(_WROTE, None)
