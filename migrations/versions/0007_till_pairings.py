"""till pairings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import exchange.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('till_pairings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', exchange.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', exchange.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', exchange.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_till_pairings_api_key_id_api_keys')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_till_pairings_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_till_pairings_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_till_pairings')),
    sa.UniqueConstraint('api_key_id', name=op.f('uq_till_pairings_api_key_id'))
    )
    with op.batch_alter_table('till_pairings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_till_pairings_code_hash'), ['code_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_till_pairings_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_till_pairings_store_id'), ['store_id'], unique=False)


def downgrade():
    with op.batch_alter_table('till_pairings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_till_pairings_store_id'))
        batch_op.drop_index(batch_op.f('ix_till_pairings_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_till_pairings_code_hash'))

    op.drop_table('till_pairings')
