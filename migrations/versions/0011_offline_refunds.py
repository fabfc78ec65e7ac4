"""offline refunds: offline_at on reversals

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:50:00
"""
from alembic import op
import sqlalchemy as sa
import exchange.db.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reversals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline_at', exchange.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('reversals', schema=None) as batch_op:
        batch_op.drop_column('offline_at')
