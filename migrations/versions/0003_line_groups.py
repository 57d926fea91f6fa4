"""lines of sales orders, purchase orders and invoices can be line groups or belong to one

QuickBooks' `lineGroups` (an item group used on a transaction) were ignored, so the items inside
a group never reached the WMS. Each group is now a line row of its own (`is_line_group`, its
item group's id in `item_qb_id`, no local item), followed by its lines, each naming the group's
TxnLineID in `group_qb_line_id` (see `webapp.models.wms.LineMixin`).

Orders and invoices synced before have lost their groups, and an unchanged record is never
rewritten: forgetting their fingerprints and watermarks makes the next sync read every sales
order, purchase order and invoice again (a full pull of those objects only) and store the groups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LINE_TABLES = ('wms_sales_order_line', 'wms_purchase_order_line', 'wms_invoice_line')
HEADERS = {'wms_sales_order': 'sales_order', 'wms_purchase_order': 'purchase_order',
           'wms_invoice': 'invoice'}


def upgrade():
    for table in LINE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('is_line_group', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
            batch_op.add_column(sa.Column('group_qb_line_id', sa.String(length=36),
                                          nullable=True))
    for table, object_name in HEADERS.items():
        op.execute(f"UPDATE {table} SET sync_hash = NULL")
        op.execute(f"UPDATE sync_state SET watermark = NULL WHERE object_name = '{object_name}'")


def downgrade():
    # Group rows mean nothing to the code before this revision: drop them, keep plain lines
    # (their child lines go too, as before this revision they were never synced).
    for table in LINE_TABLES:
        op.execute(f"DELETE FROM {table} WHERE is_line_group OR group_qb_line_id IS NOT NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('group_qb_line_id')
            batch_op.drop_column('is_line_group')
