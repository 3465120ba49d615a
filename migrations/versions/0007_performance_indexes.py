"""Indexes for a large institution (benchmark findings)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_board_state_theme',
                              ['institution_id', 'state', 'theme_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_proposals_board_theme', ['institution_id', 'theme_id', 'submitted_at'],
                              unique=False)
        batch_op.create_index('ix_proposals_board_kind', ['institution_id', 'kind', 'submitted_at'], unique=False)
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_time_entries_corrects_id')
        batch_op.create_index('ix_time_entries_corrections', ['corrects_id'], unique=False,
                              sqlite_where=sa.text('corrects_id IS NOT NULL'),
                              postgresql_where=sa.text('corrects_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_board_kind')
        batch_op.drop_index('ix_proposals_board_theme')
        batch_op.drop_index('ix_proposals_board_state_theme')
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_time_entries_corrections',
                            sqlite_where=sa.text('corrects_id IS NOT NULL'),
                            postgresql_where=sa.text('corrects_id IS NOT NULL'))
        batch_op.create_index('ix_time_entries_corrects_id', ['corrects_id'], unique=False)
