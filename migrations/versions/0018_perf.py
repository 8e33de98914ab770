"""perf: the ledger's sort-order indexes, volunteer.updated_at, the shared data version and cache

Revision ID: 0018_perf
Revises: 0017_cluster
Create Date: 2026-12-07 02:00:00

- service_record: one index per filter of the ledger list in its sort order (service_date, id), so that
  50 rows are read in order instead of sorting every scoped record (the single-column service_date and
  status indexes and (organization_id, status) are prefixes of the new ones and go).
- volunteer.updated_at: indexed.
- data_version: one row, bumped by every transaction that changes business data (core/cache.py).
- figure_cache: values computed per data version, shared by all workers (core/cache.py).
Plain CREATE/DROP INDEX and CREATE TABLE: no table rebuild, the same on SQLite and PostgreSQL.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_perf'
down_revision = '0017_cluster'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
        sqlite_autoincrement=True,
    )
    # Its one row exists from the start: two first writers must not both insert it.
    op.execute("INSERT INTO data_version (id, n) VALUES (1, 0)")
    op.create_table(
        'figure_cache',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('value', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_figure_cache')),
    )
    op.create_index('ix_service_record_day_id', 'service_record', ['service_date', 'id', 'organization_id'])
    op.create_index('ix_service_record_org_day', 'service_record', ['organization_id', 'service_date', 'id'])
    op.create_index('ix_service_record_status_day', 'service_record', ['status', 'service_date', 'id', 'organization_id'])
    op.create_index('ix_service_record_late_day', 'service_record', ['late_entry', 'service_date', 'id', 'organization_id'])
    op.create_index('ix_service_record_org_late_day', 'service_record',
                    ['organization_id', 'late_entry', 'service_date', 'id'])
    op.create_index('ix_service_record_org_status_day', 'service_record',
                    ['organization_id', 'status', 'service_date', 'id'])
    op.drop_index('ix_service_record_org_status', table_name='service_record')
    op.drop_index('ix_service_record_service_date', table_name='service_record')
    op.drop_index('ix_service_record_status', table_name='service_record')
    op.drop_index('ix_service_record_late_entry', table_name='service_record')
    op.create_index('ix_volunteer_updated_at', 'volunteer', ['updated_at'])


def downgrade():
    op.drop_index('ix_volunteer_updated_at', table_name='volunteer')
    op.create_index('ix_service_record_late_entry', 'service_record', ['late_entry'])
    op.create_index('ix_service_record_status', 'service_record', ['status'])
    op.create_index('ix_service_record_service_date', 'service_record', ['service_date'])
    op.create_index('ix_service_record_org_status', 'service_record', ['organization_id', 'status'])
    op.drop_index('ix_service_record_org_status_day', table_name='service_record')
    op.drop_index('ix_service_record_status_day', table_name='service_record')
    op.drop_index('ix_service_record_org_day', table_name='service_record')
    op.drop_index('ix_service_record_org_late_day', table_name='service_record')
    op.drop_index('ix_service_record_late_day', table_name='service_record')
    op.drop_index('ix_service_record_day_id', table_name='service_record')
    op.drop_table('figure_cache')
    op.drop_table('data_version')
