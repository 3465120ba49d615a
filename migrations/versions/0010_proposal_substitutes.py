"""Substitute coordinator designated by an administrator for one proposal

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposal_substitutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('designated_by_id', sa.Integer(), nullable=False),
    sa.Column('designated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['designated_by_id'], ['users.id'],
                            name=op.f('fk_proposal_substitutes_designated_by_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                            name=op.f('fk_proposal_substitutes_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_proposal_substitutes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_substitutes')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_proposal_substitutes_proposal_id'))
    )
    with op.batch_alter_table('proposal_substitutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_substitutes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('proposal_substitutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_substitutes_user_id'))

    op.drop_table('proposal_substitutes')
