"""Covering indexes for the HR figures' project roles

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 04:00:00

The HR figures count, for each agent of a batch, the initiative projects they are a member
of and that run during the period. SQLite read each membership's row, then each project's
wide row (its texts) for four columns: at 20,000 agents, 900 memberships a batch of 500,
5.7 ms of the 8 the batch's counts took (export: 40 batches). The memberships' index by agent
now holds the project, and an index by project key holds what the count checks of it: the
same count reads two indexes, 1.5 to 2.7 ms.
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

RUNNING = ['id', 'state', 'kind', 'starts_on', 'ends_on']


def upgrade():
    op.drop_index('ix_project_members_user_id', table_name='project_members')
    op.create_index('ix_project_members_user_project', 'project_members', ['user_id', 'project_id'], unique=False)
    op.create_index('ix_projects_running', 'projects', RUNNING, unique=False)
    _refresh_statistics()


def _refresh_statistics():
    """As in 0024: where the database has statistics (SQLite's ANALYZE; PostgreSQL always),
    the two tables get them again, so that the new indexes are weighed with the others."""
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        if not connection.execute(sa.text(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first():
            return
    op.execute("ANALYZE project_members")
    op.execute("ANALYZE projects")


def downgrade():
    op.drop_index('ix_projects_running', table_name='projects')
    op.drop_index('ix_project_members_user_project', table_name='project_members')
    op.create_index('ix_project_members_user_id', 'project_members', ['user_id'], unique=False)
    _refresh_statistics()
