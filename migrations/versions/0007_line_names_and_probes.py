"""lines keep their item's name; a session keeps what it asked QuickBooks once for all objects

`item_name` on the lines of sales orders, purchase orders and invoices is the item's full name
as the line carries it: lines naming item kinds the WMS does not mirror (discounts, subtotals,
item groups) are no longer looked up in QuickBooks, and this is the name they have. The lines
are synced tables, so the change-stamping triggers are dropped and installed again around it.
`sync_session.probes` keeps the deleted lists and the changed transactions a session asks for
once for all its objects.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models import triggers

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LINES = ('wms_sales_order_line', 'wms_purchase_order_line', 'wms_invoice_line')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    for table in LINES:  # plain ALTERs: a batch rebuild on SQLite would rebuild the table
        op.add_column(table, sa.Column('item_name', sa.String(length=209), nullable=True))
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probes', JSON, nullable=True))
    triggers.install(op.execute, dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    triggers.drop(op.execute, dialect)
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.drop_column('probes')
    for table in reversed(LINES):
        op.execute(f'ALTER TABLE {table} DROP COLUMN item_name')
    triggers.install(op.execute, dialect, absent=('item_name',))
