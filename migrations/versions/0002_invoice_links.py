"""invoices keep the sales orders they invoiced: read every invoice again once

Invoices now carry `linked_sales_orders` in `sync_base`, so that deleting or voiding one gives
its sales orders back their invoiced quantities. Invoices synced before have no such key, and an
unchanged invoice is never rewritten; forgetting their fingerprints and the invoices' watermark
makes the next sync read every invoice again (a full pull of invoices only) and store it.
Data only: the schema does not change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE wms_invoice SET sync_hash = NULL")
    op.execute("UPDATE sync_state SET watermark = NULL WHERE object_name = 'invoice'")


def downgrade():
    pass  # the extra key in sync_base is harmless to the code before this revision
