"""A proposal keeps the time of its first answer

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 02:00:00

The dashboard's time to answer looked up, for each proposal of the period, its first
answering decision (a session's outcome, or not eligible): 25,000 lookups into the
decisions for a year of a large institution, 170 ms of its computation. The proposal now
keeps that time (set by review.decisions.record when the decision is published, never
taken back by a correction), filled here from the decisions already there, and the
dashboard's covering index holds it; the decisions' index that served the lookup goes.
The projects get a covering index for the dashboard's projects and teams of a period,
which read 5,500 wide rows of the table.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

DASHBOARD_BEFORE = ['institution_id', 'submitted_at', 'state', 'author_id', 'theme_id', 'org_unit_id', 'id']
DASHBOARD_AFTER = ['institution_id', 'submitted_at', 'state', 'author_id', 'theme_id', 'org_unit_id',
                   'first_answered_at', 'id']
# The dashboard's projects (active, completed in the period) and teams of a period.
PROJECTS_DASHBOARD = ['institution_id', 'state', 'kind', 'state_changed_at', 'starts_on', 'ends_on', 'id']
ANSWER_INDEX = ['proposal_id', 'kind', 'outcome', 'published_at']


# Plain add_column and create_index, not batch mode: a table rebuilt by batch mode would
# lose the search triggers of the proposals.
def upgrade():
    op.add_column('proposals', sa.Column('first_answered_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE proposals SET first_answered_at = (SELECT min(decisions.published_at) FROM decisions "
               "WHERE decisions.proposal_id = proposals.id "
               "AND (decisions.kind = 'session' OR decisions.outcome = 'not_eligible'))")
    op.drop_index('ix_proposals_dashboard', table_name='proposals')
    op.create_index('ix_proposals_dashboard', 'proposals', DASHBOARD_AFTER, unique=False)
    op.drop_index('ix_decisions_proposal_answer', table_name='decisions')
    op.create_index('ix_projects_dashboard', 'projects', PROJECTS_DASHBOARD, unique=False)
    _refresh_statistics()


def _refresh_statistics():
    """SQLite's planner takes a new index without statistics, next to indexes with some, for
    the cheapest: the portfolio's list was read through ix_projects_dashboard and sorted
    (1 ms of SQL became 8 at full scale) instead of walking ix_projects_portfolio in order.
    Where the database has statistics (ANALYZE), those of the two tables are taken again;
    a database without any keeps none (its planner then weighs every index alike)."""
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        if not connection.execute(sa.text(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first():
            return
    op.execute("ANALYZE proposals")
    op.execute("ANALYZE projects")


def downgrade():
    op.drop_index('ix_projects_dashboard', table_name='projects')
    op.create_index('ix_decisions_proposal_answer', 'decisions', ANSWER_INDEX, unique=False)
    op.drop_index('ix_proposals_dashboard', table_name='proposals')
    op.create_index('ix_proposals_dashboard', 'proposals', DASHBOARD_BEFORE, unique=False)
    _refresh_statistics()
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not batch mode.
    op.drop_column('proposals', 'first_answered_at')
