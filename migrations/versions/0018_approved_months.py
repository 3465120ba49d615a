"""Approved release minutes per agent and month, for the dashboard; the open proposals'
authors in the index of their state

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 03:30:00

See incubator/release_time/totals.py (kept in step by the approval) and
incubator/dashboard/queries.py (read).
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The same count as release_time.totals.rebuild: approved entries that no approved
# correction replaces, summed per institution, agent and month.
BACKFILL = """
INSERT INTO approved_months (institution_id, user_id, month, minutes)
SELECT institution_id, user_id, {month}, SUM(minutes) FROM time_entries
WHERE status = 'approved' AND id NOT IN (
    SELECT corrects_id FROM time_entries WHERE corrects_id IS NOT NULL AND status || '' = 'approved')
GROUP BY institution_id, user_id, {month}
"""
MONTH = {"sqlite": "substr(day, 1, 7)", "postgresql": "to_char(day, 'YYYY-MM')"}


STATE_INDEX = ('ix_proposals_institution_state', 'proposals')


# Plain create_index, not batch mode: a proposals table rebuilt by batch mode would lose
# its search triggers (0017).
def upgrade():
    op.drop_index(STATE_INDEX[0], table_name=STATE_INDEX[1])
    op.create_index(*STATE_INDEX, ['institution_id', 'state', 'state_changed_at', 'author_id'], unique=False)
    op.create_table(
        'approved_months',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_approved_months_institution_id_institutions')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_approved_months_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'month', 'institution_id', name=op.f('pk_approved_months')),
    )
    op.create_index('ix_approved_months_institution_month', 'approved_months',
                    ['institution_id', 'month', 'user_id', 'minutes'], unique=False)
    op.execute(BACKFILL.format(month=MONTH[op.get_bind().dialect.name]))


def downgrade():
    op.drop_index('ix_approved_months_institution_month', table_name='approved_months')
    op.drop_table('approved_months')
    op.drop_index(STATE_INDEX[0], table_name=STATE_INDEX[1])
    op.create_index(*STATE_INDEX, ['institution_id', 'state', 'state_changed_at'], unique=False)
