"""Writing many rows of one table in as few driver calls as possible, typed as SQLAlchemy would.

A page of 150 orders is some 450 rows. Through `Session.execute` every row pays for
SQLAlchemy's per-row parameter machinery, which cost more than QuickBooks took to send the
page. Here each statement is compiled once per dialect, table and column set, and each row's
values go through the same bind processors SQLAlchemy would apply (UTC timestamps, JSON,
decimals on SQLite); stored values are identical to the ORM's. How the rows then reach the
database depends on it:

- SQLite: one multi-row `INSERT … VALUES (…), (…) [ON CONFLICT …]` per chunk of rows.
- PostgreSQL: `COPY … FROM STDIN`, whose rows psycopg formats in C. An upsert copies into a
  temporary table of the same columns and moves the rows from there with one
  `INSERT … SELECT … ON CONFLICT`. (psycopg's pipelined `executemany` cost ~100 µs a row,
  its Python and the server's work together: 6 s of a 20,000-record pull's 9.3-10.1 s.
  With `COPY` the same pull took 8.7 s, using ~1.3 CPU-s less both here and in the server;
  `bench/pull.py --postgres`.)
"""

from __future__ import annotations

import hashlib
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from webapp.extensions import db

_STATEMENTS: dict[tuple, Bulk] = {}
_UNSET = object()


class Bulk:
    """One compiled INSERT (or upsert on `qb_id`) for a fixed set of columns."""

    def __init__(self, table: Table, columns: tuple[str, ...], dialect, *, upsert: bool):
        if upsert:
            builder = pg_insert if dialect.name == "postgresql" else sqlite_insert
            stmt = builder(table).inline()  # no RETURNING of the primary key
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.qb_id],
                set_={c: stmt.excluded[c] for c in columns if c not in ("id", "qb_id")},
            )
            if dialect.positional and dialect.insert_returning:  # SQLite >= 3.35
                # the rows' local ids come back with the statement, not from a second query
                stmt = stmt.returning(table.c.qb_id, table.c.id)
        else:
            stmt = insert(table).inline()
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        self.sql = compiled.string
        self.returns = bool(compiled.returning)
        self.multirow = self.copy = None
        if dialect.positional:  # SQLite
            # sqlite3 steps an executemany (and hands the GIL to the page prefetch thread)
            # once per row, which cost more than the insert: one multi-row VALUES statement
            # per chunk of rows instead. (On PostgreSQL psycopg's pipelined executemany is
            # faster than one statement with thousands of parameters.)
            self.order = list(compiled.positiontup)
            # a row's values in statement order, gathered in C (itemgetter of one key
            # returns the value itself, not a 1-tuple)
            self.gather = itemgetter(*self.order) if len(self.order) > 1 else (
                lambda row, key=self.order[0]: (row[key],))
            self.multirow = _split_values(self.sql)
            # SQLAlchemy knows the driver's limit (999 before SQLite 3.32)
            self.max_parameters = dialect.insertmanyvalues_max_parameters
        # Columns the rows leave out but that have a Python-side default are in the SQL too
        # (SQLAlchemy fills them in per row; here they are filled in once per call).
        self.defaults = {
            name: table.c[name].default for name in compiled.binds if name not in columns
        }
        self.processors = [
            (column, processor) for column in (*columns, *self.defaults)
            if (processor := table.c[column].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        if dialect.name == "postgresql":
            self.copy = _Copy(table, (*columns, *self.defaults), dialect, upsert=upsert,
                              updated=columns)

    @classmethod
    def get(cls, table: Table, columns: tuple[str, ...], *, upsert: bool = False) -> Bulk:
        dialect = db.session.get_bind().dialect
        key = (dialect.name, table.name, columns, upsert)
        bulk = _STATEMENTS.get(key)
        if bulk is None:
            bulk = _STATEMENTS[key] = cls(table, columns, dialect, upsert=upsert)
        return bulk

    def execute(self, rows: list[dict[str, Any]]) -> list | None:
        """Write `rows` (dicts with exactly this statement's columns; converted in place).
        An upsert on SQLite returns (qb_id, local id) of every row written."""
        for column, default in self.defaults.items():
            value = default.arg(None) if default.is_callable else default.arg
            for row in rows:
                row[column] = value
        for column, processor in self.processors:
            last, done = _UNSET, None  # runs of one value (None, a page's stamp) convert once
            for row in rows:
                value = row[column]
                if value is not last:
                    last, done = value, processor(value)
                row[column] = done
        connection = db.session.connection()
        if self.copy is not None:
            self.copy.execute(connection, rows)
            return
        if self.multirow is None:  # named parameters: the rows go as they are
            connection.exec_driver_sql(self.sql, rows)
            return
        head, one, tail = self.multirow
        order = self.order
        per_statement = max(self.max_parameters // len(order), 1)
        returned = [] if self.returns else None
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = tuple(chain.from_iterable(map(self.gather, chunk)))
            result = connection.exec_driver_sql(head + ", ".join([one] * len(chunk)) + tail,
                                                values)
            if returned is not None:
                returned += result.fetchall()
        return returned


class _Copy:
    """PostgreSQL: rows sent with `COPY`, into the table or, for an upsert, into a temporary
    table of the same columns, merged in one statement that also empties it. The temporary
    table is made when missing on every call (one made in a transaction that then rolled back
    is gone) and is truncated at each commit: autovacuum never visits temporary tables, so
    rows only deleted would leave it growing for the life of the worker's connection.

    The driver is called directly, so its errors are turned into SQLAlchemy's here (a lost
    connection is an `OperationalError` the retry middleware knows, and the pool drops it).
    """

    def __init__(self, table: Table, columns: tuple[str, ...], dialect, *, upsert: bool,
                 updated: tuple[str, ...] = ()):
        quote = dialect.identifier_preparer.quote
        self.dialect = dialect
        self.columns = columns
        names = ", ".join(quote(c) for c in columns)
        target = dialect.identifier_preparer.format_table(table)
        if not upsert:
            self.create = self.merge = None
            self.sql = f"COPY {target} ({names}) FROM STDIN"
            return
        # One staging table per table and column set; temporary tables belong to the
        # connection, so another worker's pull never sees these rows.
        digest = hashlib.blake2b(" ".join(columns).encode(), digest_size=6).hexdigest()
        stage = quote(f"qbsync_stage_{table.name}_{digest}")
        # (Every name in these statements is the schema's own, quoted by the dialect.)
        self.create = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "  # noqa: S608
                       f"ON COMMIT DELETE ROWS AS SELECT {names} FROM {target} WITH NO DATA")
        self.sql = f"COPY {stage} ({names}) FROM STDIN"
        # Only the row's own columns, as on SQLite: a column filled in by its Python default
        # is set on insert, not reset on update.
        updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated
                            if c not in ("id", "qb_id"))
        self.merge = (
            f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "  # noqa: S608
            f"INSERT INTO {target} ({names}) SELECT {names} FROM staged "
            f"ON CONFLICT (qb_id) DO UPDATE SET {updates}"
        )

    def execute(self, connection, rows: list[dict[str, Any]]) -> None:
        raw = connection.connection.driver_connection
        columns = self.columns
        statement = self.sql
        try:
            with raw.cursor() as cursor:
                if self.create is not None:
                    statement = self.create
                    cursor.execute(statement)
                statement = self.sql
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row([row[column] for column in columns])
                if self.merge is not None:
                    statement = self.merge
                    cursor.execute(statement)
        except self.dialect.loaded_dbapi.Error as error:
            lost = self.dialect.is_disconnect(error, raw, None)
            if lost:
                connection.invalidate(error)
            raise DBAPIError.instance(statement, None, error, self.dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost,
                                      dialect=self.dialect) from error


def _split_values(sql: str) -> tuple[str, str, str]:
    """`INSERT … VALUES (…) tail` as (`INSERT … VALUES `, `(…)`, ` tail`): the row's part
    (with any casts the dialect writes, e.g. `%s::JSONB`) repeats once per row."""
    start = sql.find(" VALUES (")
    if start < 0:
        raise ValueError(f"not a single-row INSERT … VALUES: {sql[:200]}")
    opening = start + len(" VALUES ")
    depth = 0
    for end in range(opening, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            return sql[:opening], sql[opening : end + 1], sql[end + 1 :]
    raise ValueError(f"unbalanced VALUES clause: {sql[:200]}")


def upsert(table: Table, rows: list[dict[str, Any]], known: dict[str, int]) -> dict[str, int]:
    """`INSERT … ON CONFLICT (qb_id) DO UPDATE` of `rows`: {qb_id: local id}.

    On SQLite the statement returns them; elsewhere `known` holds the local ids of rows that
    already exist and the new ones are read back in one query (`COPY` returns no rows).
    """
    if not rows:
        return {}
    if len({row["qb_id"] for row in rows}) < len(rows):  # the last of each wins, as SQLite's
        rows = list({row["qb_id"]: row for row in rows}.values())  # upsert would have it
    qb_ids = [row["qb_id"] for row in rows]
    returned = Bulk.get(table, tuple(rows[0]), upsert=True).execute(rows)
    if returned is not None:
        return dict(returned)
    ids = {qb_id: known[qb_id] for qb_id in qb_ids if qb_id in known}
    new = [qb_id for qb_id in qb_ids if qb_id not in ids]
    if new:
        query = select(table.c.qb_id, table.c.id).where(table.c.qb_id.in_(new))
        ids.update((qb_id, row_id) for qb_id, row_id in db.session.execute(query))
    return ids


def insert_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    """Plain INSERT of `rows` (all with the same columns)."""
    if rows:
        Bulk.get(table, tuple(rows[0])).execute(rows)
