"""Institution setting: managers see their direct reports' engagement records (off by default)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite has ADD and DROP COLUMN since 3.35): a batch
# operation would copy and drop `institutions`, which every other table refers to.


def upgrade():
    op.add_column('institutions', sa.Column('managers_see_engagement', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade():
    op.drop_column('institutions', 'managers_see_engagement')
