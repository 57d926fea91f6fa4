"""records are named as people know them (ref number or name), not only by QuickBooks id

The dashboard's "Working on" and the error log showed QuickBooks ids (80000003-1700000000) that
nobody in a warehouse recognises, nor can look up in QuickBooks: `sync_session.current_record_label`
and `sync_error.record_label` hold the order's number or the customer's name. Errors logged
before have none; they keep their id.

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
    with op.batch_alter_table('sync_error', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_label', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_error', schema=None) as batch_op:
        batch_op.drop_column('record_label')
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.drop_column('current_record_label')
