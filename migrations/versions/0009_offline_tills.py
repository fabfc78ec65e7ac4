"""offline tills: offline_at on redemptions, store risk limits, offline conflicts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import exchange.db.base


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline_at', exchange.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_redemptions_store_offline', ['store_id', 'offline_at'], unique=False)

    op.create_table('store_risk_limits',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('max_offline_redemptions_per_day', sa.Integer(), nullable=False),
    sa.Column('max_offline_discount_per_day', sa.BigInteger(), nullable=False),
    sa.Column('max_catalog_age_hours', sa.Integer(), nullable=False),
    sa.Column('updated_at', exchange.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_catalog_age_hours >= 1', name=op.f('ck_store_risk_limits_age_positive')),
    sa.CheckConstraint('max_offline_discount_per_day >= 0', name=op.f('ck_store_risk_limits_discount_not_negative')),
    sa.CheckConstraint('max_offline_redemptions_per_day >= 0',
                       name=op.f('ck_store_risk_limits_redemptions_not_negative')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_risk_limits_store_id_stores')),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_store_risk_limits'))
    )
    op.create_table('offline_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('till_id', sa.Integer(), nullable=True),
    sa.Column('coupon_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('order_ref', sa.String(length=64), nullable=True),
    sa.Column('order_amount', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('offline_at', exchange.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detected_at', exchange.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('double_spend', 'limit_exceeded')", name=op.f('ck_offline_conflicts_reason_known')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_offline_conflicts_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                            name=op.f('fk_offline_conflicts_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_offline_conflicts_store_id_stores')),
    sa.ForeignKeyConstraint(['till_id'], ['api_keys.id'], name=op.f('fk_offline_conflicts_till_id_api_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offline_conflicts'))
    )
    with op.batch_alter_table('offline_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_offline_conflicts_merchant', ['merchant_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('offline_conflicts', schema=None) as batch_op:
        batch_op.drop_index('ix_offline_conflicts_merchant')
    op.drop_table('offline_conflicts')
    op.drop_table('store_risk_limits')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_store_offline')
        batch_op.drop_column('offline_at')
