"""The HR report: an agent's assessments of a period read from an index alone

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 03:10:00

See incubator/engagement/queries.py (_counts_statement). (user_id, created_at) replaces the
index on user_id alone: it serves the same lookups, and with both PostgreSQL kept the
narrower one, then read each row to filter by date.
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_assessments_user_created', 'assessments', ['user_id', 'created_at'], unique=False)
    op.drop_index('ix_assessments_user_id', table_name='assessments')


def downgrade():
    op.create_index('ix_assessments_user_id', 'assessments', ['user_id'], unique=False)
    op.drop_index('ix_assessments_user_created', table_name='assessments')
