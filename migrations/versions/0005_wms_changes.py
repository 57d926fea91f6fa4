"""the WMS side of two-way sync: pending rows, the per-record ledger, change-stamping triggers

Every synced table gains `wms_pending` (a WMS change the sync has not sent yet; where to look,
the comparison with `sync_base` decides what changed) and `push_error` (why QuickBooks refused
its last push). `sync_record_event` is the per-record ledger. Triggers stamp
`local_updated_at` and `wms_pending` when a WMS writes the tables with SQL; the sync's own
writes carry a mark the triggers recognise (`sync_write_marker` on SQLite, a setting on
PostgreSQL). A later migration that rebuilds one of these tables on SQLite (batch "move and
copy") drops its triggers: call `triggers.drop` first and `triggers.install` after.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 15:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from webapp.models import triggers

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('wms_customer', 'wms_vendor', 'wms_item', 'wms_sales_order', 'wms_purchase_order',
          'wms_invoice', 'wms_inventory_adjustment')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    for table in TABLES:  # plain ALTERs: a batch rebuild on SQLite would cascade to the lines
        op.add_column(table, sa.Column('wms_pending', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
        op.add_column(table, sa.Column('push_error', sa.Text(), nullable=True))
        op.create_index(f'ix_{table}_wms_pending', table, ['wms_pending'], unique=False)
    op.create_table(
        'sync_write_marker',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'sync_record_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('object_type', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('qb_id', sa.String(length=64), nullable=True),
        sa.Column('record_label', sa.String(length=200), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('field', sa.String(length=80), nullable=True),
        sa.Column('fields', JSON, nullable=True),
        sa.Column('detail', JSON, nullable=True),
        sa.Column('revision_before', sa.String(length=20), nullable=True),
        sa.Column('revision_after', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sync_session.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sync_record_event', schema=None) as batch_op:
        batch_op.create_index('ix_sync_record_event_record', ['object_type', 'record_id', 'id'],
                              unique=False)
        batch_op.create_index('ix_sync_record_event_session', ['session_id', 'action', 'id'],
                              unique=False)
        batch_op.create_index('ix_sync_record_event_created', ['created_at'], unique=False)
    triggers.install(op.execute, op.get_bind().dialect.name)


def downgrade():
    triggers.drop(op.execute, op.get_bind().dialect.name)
    op.drop_table('sync_record_event')
    op.drop_table('sync_write_marker')
    for table in reversed(TABLES):
        # Not a batch rebuild on SQLite: dropping the old table would cascade to its lines.
        op.drop_index(f'ix_{table}_wms_pending', table_name=table)
        for column in ('push_error', 'wms_pending'):
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
