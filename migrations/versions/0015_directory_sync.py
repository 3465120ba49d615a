"""Directory sync (LDAP / Active Directory): the entry's stable key and the employee number

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('employee_number', sa.String(length=50), nullable=True))
        batch_op.create_index('ix_users_directory_key', ['institution_id', 'directory_key'], unique=True)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_directory_key')
        batch_op.drop_column('employee_number')
        batch_op.drop_column('directory_key')
