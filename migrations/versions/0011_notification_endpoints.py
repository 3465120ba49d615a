"""Notifications lead to an endpoint and its values, built into an address when shown

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Older notifications keep their recorded path (`link`), which is still shown for them.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_endpoint', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('link_values', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('link_anchor', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('link_anchor')
        batch_op.drop_column('link_values')
        batch_op.drop_column('link_endpoint')
