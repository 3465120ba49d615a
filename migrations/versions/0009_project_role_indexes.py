"""Indexes on the project roles read for each agent (HR report, engagement, home page)
and for the portfolio's order (benchmark findings)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:00:00

"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_sponsor_id'), ['sponsor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_lead_id'), ['lead_id'], unique=False)
        batch_op.drop_index('ix_projects_institution_state')
        batch_op.create_index('ix_projects_portfolio', ['institution_id', 'state_changed_at'], unique=False)
        batch_op.create_index('ix_projects_portfolio_state', ['institution_id', 'state', 'state_changed_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_portfolio_state')
        batch_op.drop_index('ix_projects_portfolio')
        batch_op.create_index('ix_projects_institution_state', ['institution_id', 'state'], unique=False)
        batch_op.drop_index(batch_op.f('ix_projects_lead_id'))
        batch_op.drop_index(batch_op.f('ix_projects_sponsor_id'))
