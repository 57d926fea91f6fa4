"""The Alembic migrations create the whole schema, equal to the models, on both databases; data
migrations do what they say."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import make_app
from webapp.extensions import db

EXPECTED_TABLES = {
    "user", "api_token", "sync_session", "sync_object_run", "sync_error", "sync_state",
    "wms_customer", "wms_vendor", "wms_item", "wms_sales_order", "wms_sales_order_line",
    "wms_purchase_order", "wms_purchase_order_line", "wms_invoice", "wms_invoice_line",
    "wms_inventory_adjustment", "wms_inventory_adjustment_line",
    "sync_record_event", "sync_write_marker",
}


def _migrate_and_compare(uri: str) -> None:
    app = make_app(uri)
    with app.app_context():
        try:
            upgrade()
            tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert tables == EXPECTED_TABLES
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
        finally:  # a failed comparison must not leave a pooled connection to the GC
            db.engine.dispose()


def test_migrations_equal_models_on_sqlite(tmp_path):
    _migrate_and_compare(f"sqlite:///{tmp_path}/m.db")


@pytest.mark.postgres
def test_migrations_equal_models_on_postgresql(postgres_url):
    _migrate_and_compare(postgres_url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_invoices_synced_before_0002_are_read_again_once(backend, tmp_path, request):
    uri = (f"sqlite:///{tmp_path}/m.db" if backend == "sqlite"
           else request.getfixturevalue("postgres_url"))
    app = make_app(uri)
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO wms_invoice (qb_id, sync_hash, is_active, transaction_date)"
                " VALUES ('INV-1', 'abc', true, '2026-01-02')"))
            conn.execute(text(
                "INSERT INTO sync_state (end_user_id, object_name, watermark) VALUES"
                " ('eu', 'invoice', '2026-01-01T00:00:00+00:00'),"
                " ('eu', 'customer', '2026-01-01T00:00:00+00:00')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT sync_hash FROM wms_invoice")) is None
            marks = dict(conn.execute(text("SELECT object_name, watermark FROM sync_state")).all())
        assert marks == {"invoice": None, "customer": "2026-01-01T00:00:00+00:00"}
        db.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_orders_and_invoices_synced_before_0003_are_read_again_for_their_line_groups(
        backend, tmp_path, request):
    uri = (f"sqlite:///{tmp_path}/m.db" if backend == "sqlite"
           else request.getfixturevalue("postgres_url"))
    app = make_app(uri)
    with app.app_context():
        # Given an order with one line and watermarks, synced before line groups were kept
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO wms_sales_order (qb_id, sync_hash, is_active, transaction_date,"
                " is_manually_closed) VALUES ('SO-1', 'abc', true, '2026-01-02', false)"))
            conn.execute(text(
                "INSERT INTO wms_sales_order_line (sales_order_id, position, is_manually_closed)"
                " SELECT id, 0, false FROM wms_sales_order"))
            conn.execute(text(
                "INSERT INTO sync_state (end_user_id, object_name, watermark) VALUES"
                " ('eu', 'sales_order', '2026-01-01T00:00:00+00:00'),"
                " ('eu', 'purchase_order', '2026-01-01T00:00:00+00:00'),"
                " ('eu', 'invoice', '2026-01-01T00:00:00+00:00'),"
                " ('eu', 'item', '2026-01-01T00:00:00+00:00')"))
        # When the schema is upgraded
        upgrade()
        with db.engine.connect() as conn:
            # Then the old line is a plain line, and the order will be read again
            line = conn.execute(text(
                "SELECT is_line_group, group_qb_line_id FROM wms_sales_order_line")).one()
            assert (bool(line[0]), line[1]) == (False, None)
            assert conn.scalar(text("SELECT sync_hash FROM wms_sales_order")) is None
            marks = dict(conn.execute(text("SELECT object_name, watermark FROM sync_state")).all())
        assert marks == {"sales_order": None, "purchase_order": None, "invoice": None,
                         "item": "2026-01-01T00:00:00+00:00"}
        # And the downgrade keeps plain lines
        downgrade(revision="0002")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM wms_sales_order_line")) == 1
        db.engine.dispose()
