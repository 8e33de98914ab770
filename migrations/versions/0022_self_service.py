"""self service: volunteers' self-registration applications, activation codes, certificate requests (issue 17)

Revision ID: 0022_self_service
Revises: 0019_volunteer_accounts
Create Date: 2026-12-07 05:00:00

Three new tables; nothing existing changes (plain CREATE TABLE on SQLite and PostgreSQL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_self_service'
down_revision = '0019_volunteer_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'join_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'approved', 'refused', name='joinstatus', native_enum=False,
                                    create_constraint=False, length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('id_number_enc', sa.Text(), nullable=False),
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('id_masked', sa.String(length=18), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('skills', sa.String(length=200), nullable=False),
        sa.Column('availability', sa.String(length=100), nullable=False),
        sa.Column('guardian_name', sa.String(length=64), nullable=False),
        sa.Column('guardian_phone', sa.String(length=32), nullable=False),
        sa.Column('guardian_relation', sa.String(length=16), nullable=False),
        sa.Column('guardian_consent', sa.Boolean(), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=True),
        sa.Column('refuse_reason', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused')", name=op.f('ck_join_application_status_enum')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_join_application_decided_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_join_application_organization_id_organization')),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_join_application_region_id_region')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                                name=op.f('fk_join_application_volunteer_id_volunteer'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_join_application')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_join_application_org_status', 'join_application', ['organization_id', 'status'])
    op.create_index(op.f('ix_join_application_id_hash'), 'join_application', ['id_hash'])
    op.create_index(op.f('ix_join_application_volunteer_id'), 'join_application', ['volunteer_id'])
    op.create_index(op.f('ix_join_application_created_at'), 'join_application', ['created_at'])

    op.create_table(
        'activation_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_activation_code_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_activation_code_organization_id_organization')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                                name=op.f('fk_activation_code_volunteer_id_volunteer'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_activation_code_code_hash')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_activation_code_volunteer_id'), 'activation_code', ['volunteer_id'])
    op.create_index(op.f('ix_activation_code_organization_id'), 'activation_code', ['organization_id'])

    op.create_table(
        'certificate_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('status', sa.Enum('open', 'done', name='certrequeststatus', native_enum=False,
                                    create_constraint=False, length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_certificate_request_status_enum')),
        sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_certificate_request_done_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_certificate_request_organization_id_organization')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                                name=op.f('fk_certificate_request_volunteer_id_volunteer'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_request')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_certificate_request_volunteer_id'), 'certificate_request', ['volunteer_id'])
    op.create_index(op.f('ix_certificate_request_organization_id'), 'certificate_request', ['organization_id'])


def downgrade():
    op.drop_table('certificate_request')
    op.drop_table('activation_code')
    op.drop_table('join_application')
