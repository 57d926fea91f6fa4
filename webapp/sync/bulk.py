"""Writing many rows of one table through the driver's `executemany`, typed as SQLAlchemy would.

A page of 150 orders is some 450 rows. Through `Session.execute` every row pays for
SQLAlchemy's per-row parameter machinery, which cost more than QuickBooks took to send the
page. Here each statement is compiled once per dialect, table and column set; each row's
values go through the same bind processors SQLAlchemy would apply (UTC timestamps, JSON,
decimals on SQLite), and the rows go to the driver in one `executemany` (sqlite3 reuses one
prepared statement; psycopg pipelines). Stored values are identical to the ORM's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
        else:
            stmt = insert(table).inline()
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        self.sql = compiled.string
        self.multirow = None
        if dialect.positional:  # SQLite
            # sqlite3 steps an executemany (and hands the GIL to the page prefetch thread)
            # once per row, which cost more than the insert: one multi-row VALUES statement
            # per chunk of rows instead. (On PostgreSQL psycopg's pipelined executemany is
            # faster than one statement with thousands of parameters.)
            self.order = list(compiled.positiontup)
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

    @classmethod
    def get(cls, table: Table, columns: tuple[str, ...], *, upsert: bool = False) -> Bulk:
        dialect = db.session.get_bind().dialect
        key = (dialect.name, table.name, columns, upsert)
        bulk = _STATEMENTS.get(key)
        if bulk is None:
            bulk = _STATEMENTS[key] = cls(table, columns, dialect, upsert=upsert)
        return bulk

    def execute(self, rows: list[dict[str, Any]]) -> None:
        """Write `rows` (dicts with exactly this statement's columns; converted in place)."""
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
        if self.multirow is None:  # named parameters: the rows go as they are
            connection.exec_driver_sql(self.sql, rows)
            return
        head, one, tail = self.multirow
        order = self.order
        per_statement = max(self.max_parameters // len(order), 1)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = tuple([row[column] for row in chunk for column in order])
            connection.exec_driver_sql(head + ", ".join([one] * len(chunk)) + tail, values)


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

    `known` holds the local ids of rows that already exist; the new ones are read back in one
    query (sqlite3's executemany returns no rows).
    """
    if not rows:
        return {}
    qb_ids = [row["qb_id"] for row in rows]
    Bulk.get(table, tuple(rows[0]), upsert=True).execute(rows)
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
