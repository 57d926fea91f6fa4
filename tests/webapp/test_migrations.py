"""One Alembic migration creates the whole schema, and it equals the models, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tests.conftest import make_app
from webapp.extensions import db

EXPECTED_TABLES = {
    "user", "api_token", "sync_session", "sync_object_run", "sync_error", "sync_state",
    "wms_customer", "wms_vendor", "wms_item", "wms_sales_order", "wms_sales_order_line",
    "wms_purchase_order", "wms_purchase_order_line", "wms_invoice", "wms_invoice_line",
    "wms_inventory_adjustment", "wms_inventory_adjustment_line",
}


def _migrate_and_compare(uri: str) -> None:
    app = make_app(uri)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == EXPECTED_TABLES
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_migrations_equal_models_on_sqlite(tmp_path):
    _migrate_and_compare(f"sqlite:///{tmp_path}/m.db")


@pytest.mark.postgres
def test_migrations_equal_models_on_postgresql(postgres_url):
    _migrate_and_compare(postgres_url)
