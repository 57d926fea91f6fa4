"""a session keeps the record it is on as people know it (ref number or name), not only its id

The dashboard's "Working on" showed a QuickBooks id (80000003-1700000000) that nobody in a
warehouse recognises; `current_record_label` holds the order's number or the customer's name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 01:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_record_label', sa.String(length=200),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.drop_column('current_record_label')
