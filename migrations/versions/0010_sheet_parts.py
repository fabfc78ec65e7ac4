"""sheet parts: a batch's printable sheets as PDFs of up to 1,200 coupons each, in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00.000000

Sheets drawn before this revision were files in EXCHANGE_SHEET_DIR, which the database does not
hold: their batches go back to `sheet_status = 'none'` and are drawn again when next asked for.
"""
from alembic import op
import sqlalchemy as sa
import exchange.db.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sheet_parts',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('first_coupon_id', sa.Integer(), nullable=False),
    sa.Column('coupons', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', exchange.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('drawn_at', exchange.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'ready')", name=op.f('ck_sheet_parts_status_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['coupon_batches.id'], name=op.f('fk_sheet_parts_batch_id_coupon_batches')),
    sa.PrimaryKeyConstraint('batch_id', 'number', name=op.f('pk_sheet_parts'))
    )
    with op.batch_alter_table('sheet_parts', schema=None) as batch_op:
        batch_op.create_index('ix_sheet_parts_status', ['status'], unique=False)
    op.execute("UPDATE coupon_batches SET sheet_status = 'none'")
    # SQLite drops a plain column in place (3.35+); no table copy of coupon_batches.
    op.drop_column('coupon_batches', 'sheet_file')


def downgrade():
    op.add_column('coupon_batches', sa.Column('sheet_file', sa.String(length=300), nullable=True))
    op.execute("UPDATE coupon_batches SET sheet_status = 'none'")
    with op.batch_alter_table('sheet_parts', schema=None) as batch_op:
        batch_op.drop_index('ix_sheet_parts_status')

    op.drop_table('sheet_parts')
