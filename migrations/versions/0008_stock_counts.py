"""stock counts: adjustments born of a WMS count, and updates whose outcome is not known

`wms_inventory_adjustment.from_count` marks an adjustment the sync recorded for a WMS count
(an item's `quantity_on_hand` changed directly): the WMS figure already includes its
difference, so when QuickBooks creates it only the item's base moves. `stock_sent` is set
while an update of an adjustment's lines has no known outcome: the revision it was sent at and
the differences per item it sent. Both
are sync columns, so the change-stamping triggers (generated from `SYNC_COLUMNS`) are dropped
and installed again around them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20 09:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models import triggers

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLE = 'wms_inventory_adjustment'
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    # plain ALTERs: a batch rebuild on SQLite would cascade to the lines
    op.add_column(TABLE, sa.Column('from_count', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.add_column(TABLE, sa.Column('stock_sent', JSON, nullable=True))
    triggers.install(op.execute, dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    op.execute(f'ALTER TABLE {TABLE} DROP COLUMN stock_sent')
    op.execute(f'ALTER TABLE {TABLE} DROP COLUMN from_count')
    triggers.install(op.execute, dialect)
