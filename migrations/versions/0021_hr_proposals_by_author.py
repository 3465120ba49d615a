"""The HR report: an agent's proposals of a period read from an index alone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 06:40:00

See incubator/engagement/queries.py (_proposals_statement) and docs/plans/hr-figures.txt.
(author_id, submitted_at, state, id) replaces the index on author_id alone: it serves the
same lookups, and the HR figures read each agent's proposals of the period as one range of
it, with their outcome, instead of every proposal of the agent, then each one's date from
another index. Full bench data, a batch of 500 agents: PostgreSQL 9 to 16 ms, now 1.5 ms;
SQLite 5 ms, now under 2 ms.
Plain create_index, not batch mode: a proposals table rebuilt by batch mode would lose its
search triggers (0017).
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_proposals_author_submitted', 'proposals', ['author_id', 'submitted_at', 'state', 'id'],
                    unique=False)
    op.drop_index('ix_proposals_author_id', table_name='proposals')


def downgrade():
    op.create_index('ix_proposals_author_id', 'proposals', ['author_id'], unique=False)
    op.drop_index('ix_proposals_author_submitted', table_name='proposals')
