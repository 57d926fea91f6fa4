"""Field converters, their generated form, and rows written through the driver (webapp.sync.bulk).

The generated mapper must be the same function as reading each field one by one, errors
included; rows written by `Bulk` must read back exactly as rows written through the ORM.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import make_app
from webapp.extensions import db
from webapp.models.wms import Customer, SalesOrder, SalesOrderLine
from webapp.sync.bulk import insert_rows, upsert
from webapp.sync.fields import (
    Address,
    Bool,
    Day,
    Field,
    Integer,
    MappingError,
    Number,
    RefName,
    Text,
    compile_fields,
)
from webapp.sync.objects import registry
from webapp.sync.writing import sync_writer

FIELDS = {
    "plain": Field("plain"),
    "short": Field("short", max_length=3),
    "name": Text("name", required=True, max_length=5),
    "memo": Text("memo"),
    "flag": Bool("flag"),
    "count": Integer("count"),
    "money": Number("money", places=2),
    "qty": Number("qty"),
    "day": Day("day"),
    "terms": RefName("terms"),
    "city": Text("address.city"),
    "address": Address("address"),
}

GOOD = [
    {"name": "Ann", "plain": [1], "short": "ab", "memo": "x", "flag": False, "count": 3,
     "money": "12.345", "qty": 2.5, "day": "2026-01-31", "terms": {"fullName": "Net 30"},
     "address": {"city": "Oslo", "line1": "", "note": None}},
    {"name": "Bo"},
    {"name": "Cy", "qty": 7, "money": "-0.5", "address": None, "flag": True},
]
BAD = [
    {},  # name is required
    {"name": 5},
    {"name": "toolong"},
    {"name": "A", "short": "abcd"},
    {"name": "A", "flag": "yes"},
    {"name": "A", "count": 1.5},
    {"name": "A", "money": "abc"},
    {"name": "A", "money": True},
    {"name": "A", "money": "NaN"},
    {"name": "A", "money": "1e40"},
    {"name": "A", "qty": {"value": 1}},
    {"name": "A", "day": "31/01/2026"},
    {"name": "A", "terms": "Net 30"},
    {"name": "A", "address": "Oslo"},
    {"name": "A", "address": "Oslo", "city": None},
]


def read_one_by_one(record):
    values, base = {}, {}
    for column, field in FIELDS.items():
        base[column], values[column] = field.read(record)
    return values, base


@pytest.mark.parametrize("record", GOOD)
def test_the_generated_mapper_reads_what_each_field_reads(record):
    values, base = {}, {}
    compile_fields(FIELDS)(record, values, base)
    assert (values, base) == read_one_by_one(record)


@pytest.mark.parametrize("record", BAD)
def test_the_generated_mapper_refuses_what_each_field_refuses(record):
    with pytest.raises(MappingError) as expected:
        read_one_by_one(record)
    with pytest.raises(MappingError) as generated:
        compile_fields(FIELDS)(record, {}, {})
    assert str(generated.value) == str(expected.value)


def test_numbers_are_exact_and_say_what_is_wrong():
    money = Number("amount", places=2)
    assert money.convert("10.005") == Decimal("10.00")  # banker's rounding, as Decimal
    assert money.convert(0.1) == Decimal("0.10")
    assert Number("qty").convert(3) == Decimal(3)
    with pytest.raises(MappingError, match="too many digits"):
        money.convert("1e40")
    with pytest.raises(MappingError, match="finite"):
        money.convert("Infinity")


def test_every_synced_object_maps_through_generated_code():
    for obj in registry.all():
        for fields in (obj.fields, obj.line_fields):
            if fields:
                assert compile_fields(fields) is compile_fields(fields)  # compiled once


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'bulk.db'}"
    else:
        uri = request.getfixturevalue("postgres_url")
    migrated = _migrated(uri)
    application = next(migrated)
    with sync_writer(db.session()):  # these tests write as the sync does
        yield application
    next(migrated, None)


def _migrated(uri: str):
    """An app on a freshly migrated database at `uri`, inside its app context."""
    application = make_app(uri)
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


def customer_row(qb_id: str, **values):
    stamp = datetime(2026, 3, 1, 12, 30, 5, tzinfo=timezone(timedelta(hours=-5)))
    return {
        "qb_id": qb_id, "qb_revision": "17", "qb_updated_at": stamp,
        "synced_at": datetime(2026, 3, 2, tzinfo=UTC), "sync_base": {"name": qb_id, "n": [1]},
        "sync_hash": "ab" * 32, "is_active": True, "qb_deleted_at": None, "name": qb_id,
        "full_name": qb_id, "balance": Decimal("12.34"), "billing_address": {"city": "Oslo"},
        "shipping_address": None, "sublevel": 0, **values,
    }


def rows_of(table):
    return [dict(r._mapping) for r in db.session.execute(select(table).order_by(table.c.qb_id))]


def test_bulk_rows_read_back_as_orm_rows(database):
    table = Customer.__table__
    db.session.execute(insert(table), [customer_row("A"), customer_row("B", balance=None)])
    through_orm = rows_of(table)
    db.session.execute(table.delete())
    ids = upsert(table, [customer_row("A"), customer_row("B", balance=None)], {})
    assert set(ids) == {"A", "B"}
    through_bulk = rows_of(table)
    strip = [{k: v for k, v in row.items() if k != "id"} for row in through_bulk]
    assert strip == [{k: v for k, v in row.items() if k != "id"} for row in through_orm]
    assert through_bulk[0]["qb_updated_at"] == datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC)
    assert {row["qb_id"]: row["id"] for row in through_bulk} == ids


def test_bulk_upsert_updates_in_place_and_keeps_ids(database):
    table = Customer.__table__
    first = upsert(table, [customer_row("A"), customer_row("B")], {})
    again = upsert(table, [customer_row("A", name="A2"), customer_row("C")], {"A": first["A"]})
    assert again["A"] == first["A"] and again["C"] not in first.values()
    names = {row["qb_id"]: row["name"] for row in rows_of(table)}
    assert names == {"A": "A2", "B": "B", "C": "C"}


def test_bulk_upsert_after_a_rolled_back_one_writes_only_its_own_rows(database):
    # PostgreSQL stages upserts in a temporary table; one made in a transaction that rolled
    # back is gone, and what one upsert staged never reaches the next.
    table = Customer.__table__
    upsert(table, [customer_row("A"), customer_row("B")], {})
    db.session.rollback()
    upsert(table, [customer_row("C")], {})
    upsert(table, [customer_row("D", name="D2")], {})
    db.session.commit()
    assert {row["qb_id"]: row["name"] for row in rows_of(table)} == {"C": "C", "D": "D2"}


def test_bulk_upsert_of_a_qb_id_listed_twice_keeps_the_last(database):
    table = Customer.__table__
    upsert(table, [customer_row("A", name="first"), customer_row("A", name="last")], {})
    assert [(row["qb_id"], row["name"]) for row in rows_of(table)] == [("A", "last")]


@pytest.fixture
def postgres_database(postgres_url):
    """The `database` app on PostgreSQL only: for what only its COPY path does."""
    yield from _migrated(postgres_url)


@pytest.mark.postgres
def test_bulk_staging_leaves_nothing_behind_after_a_commit(postgres_database):
    # Temporary tables are never vacuumed: a stage only emptied by DELETE would grow with
    # every page for the life of the worker's connection.
    table = Customer.__table__
    for n in range(5):
        upsert(table, [customer_row(f"C{n}-{k}") for k in range(150)], {})
        db.session.commit()
    sizes = db.session.execute(text(
        "SELECT relname, pg_relation_size(oid) FROM pg_class "
        "WHERE relname LIKE 'qbsync_stage_%' AND relpersistence = 't'")).all()
    assert sizes and all(size == 0 for _, size in sizes), sizes
    assert len(rows_of(table)) == 750


@pytest.mark.postgres
def test_a_lost_connection_during_a_bulk_write_is_a_database_error_sqlalchemy_knows(
        postgres_database, postgres_url):
    # The retry middleware retries OperationalError; the pool must drop the dead connection.
    table = Customer.__table__
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    with pytest.raises(OperationalError):
        upsert(table, [customer_row("A")], {})
    db.session.rollback()  # the session is usable again, on a new connection
    upsert(table, [customer_row("A")], {})
    db.session.commit()
    assert [row["qb_id"] for row in rows_of(table)] == ["A"]


def test_bulk_inserts_lines_with_dates_and_decimals(database):
    customer = upsert(Customer.__table__, [customer_row("A")], {})["A"]
    order = upsert(SalesOrder.__table__, [{
        "qb_id": "SO1", "qb_revision": "1", "customer_id": customer, "customer_qb_id": "A",
        "transaction_date": date(2026, 3, 1), "total_amount": Decimal("5.00"),
        "sync_base": {}, "is_active": True, "synced_at": datetime.now(UTC),
    }], {})["SO1"]
    insert_rows(SalesOrderLine.__table__, [
        {"sales_order_id": order, "position": n, "qb_line_id": f"L{n}",
         "quantity": Decimal("1.5") * n, "rate": Decimal("2.12345"), "description": None}
        for n in range(3)
    ])
    lines = db.session.scalars(select(SalesOrderLine).order_by(SalesOrderLine.position)).all()
    assert [(line.qb_line_id, line.quantity, line.rate) for line in lines] == [
        (f"L{n}", Decimal("1.5") * n, Decimal("2.12345")) for n in range(3)
    ]
    assert db.session.get(SalesOrder, order).transaction_date == date(2026, 3, 1)
