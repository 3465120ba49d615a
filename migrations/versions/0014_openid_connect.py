"""Single sign-on through OpenID Connect: agents' identities at providers, and each
institution's sign-in settings

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'external_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_external_identities_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identities')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_external_identities_issuer_subject')),
    )
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identities_user_id'), ['user_id'], unique=False)
    op.create_table(
        'sign_in_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('siret', sa.String(length=14), nullable=True),
        sa.Column('email_domains', sa.String(length=500), nullable=False),
        sa.Column('provisions_agents', sa.Boolean(), nullable=False),
        sa.Column('agents_use_passwords', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_sign_in_settings_institution_id_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_settings')),
        sa.UniqueConstraint('institution_id', name=op.f('uq_sign_in_settings_institution_id')),
        sa.UniqueConstraint('siret', name=op.f('uq_sign_in_settings_siret')),
    )


def downgrade():
    op.drop_table('sign_in_settings')
    with op.batch_alter_table('external_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identities_user_id'))
    op.drop_table('external_identities')
