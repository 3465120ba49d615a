"""Immersion pages moved to their own blueprint: stored notification endpoints follow

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

RENAMED = {
    'projects.immersions': 'immersions.index',
    'projects.apply': 'immersions.apply',
    'projects.consent': 'immersions.consent',
    'projects.select': 'immersions.select',
    'projects.convention': 'immersions.convention',
}


def _rename(pairs):
    notifications = sa.table('notifications', sa.column('link_endpoint', sa.String))
    for old, new in pairs:
        op.execute(notifications.update().where(notifications.c.link_endpoint == old)
                   .values(link_endpoint=new))


def upgrade():
    _rename(RENAMED.items())


def downgrade():
    _rename((new, old) for old, new in RENAMED.items())
