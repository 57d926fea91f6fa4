"""records pages: cheap state counts, a hold on a record's push, sessions limited to one record

The dashboard's records pages count and list deleted, refused and held rows of 100,000-row
tables: partial indexes on `id` where `qb_deleted_at` / `push_error` / `push_held_at` is set
answer both from a small index. `push_held_at` holds a record back from the push until the
WMS changes it again ("Hold"); it is a sync column, so the change-stamping triggers, which are
generated from `SYNC_COLUMNS`, are dropped and installed again around the new column.
`sync_session.only_record` names the one record of a "Sync this record now" session.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models import triggers

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ('wms_customer', 'wms_vendor', 'wms_item', 'wms_sales_order', 'wms_purchase_order',
          'wms_invoice', 'wms_inventory_adjustment')
PARTIAL = (('deleted', 'qb_deleted_at IS NOT NULL'), ('refused', 'push_error IS NOT NULL'),
           ('held', 'push_held_at IS NOT NULL'))
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    for table in TABLES:  # plain ALTERs: a batch rebuild on SQLite would cascade to the lines
        op.add_column(table, sa.Column('push_held_at', sa.DateTime(timezone=True),
                                       nullable=True))
        for name, where in PARTIAL:
            op.create_index(f'ix_{table}_{name}', table, ['id'], unique=False,
                            sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('only_record', JSON, nullable=True))
    triggers.install(op.execute, dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.drop_column('only_record')
    for table in reversed(TABLES):
        for name, _ in reversed(PARTIAL):
            op.drop_index(f'ix_{table}_{name}', table_name=table)
        op.execute(f'ALTER TABLE {table} DROP COLUMN push_held_at')
    # Installed again from the models: `push_held_at` stays in the excluded columns, which
    # SQLite's triggers then never name and PostgreSQL's simply do not find.
    triggers.install(op.execute, dialect)
