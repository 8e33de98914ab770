"""perf at 10x: one person's records index also covers the ledger's sort and scope; volunteer names with ids;
the ledger's "corrected" filter indexed

Revision ID: 0028_slow10x
Revises: 0020_job_files
Create Date: 2026-12-07 07:00:00

ix_service_record_volunteer_day (volunteer_id, service_date) becomes (volunteer_id, service_date, id,
organization_id, hours): a ledger name search reads the records of the matching people through it and checks
the district's or organization's scope, the newest-first order and the hours in the index itself (no row read
per record).
ix_volunteer_name (name) becomes (name, id): a name search scans the narrow index, not the wide table, and
on PostgreSQL answers from the index alone (an index-only scan; SQLite's indexes hold the rowid anyway).
ix_service_record_corrected_day (corrected, service_date, id, organization_id): the ledger's 已更正 filter in
its sort order, like the late-entry filter's index of 0018_perf (it read all 2,000,000 records at 10×: 1 s).
Plain DROP/CREATE INDEX: the same on SQLite and PostgreSQL. On SQLite the planner's statistics of the
dropped index go with it: where the database has statistics (`flask seed-demo` runs ANALYZE), the new index
gets its own at once, else the planner would misjudge it against the others (PostgreSQL's statistics are
per column and stay).
"""
from alembic import op
import sqlalchemy as sa


revision = '0028_slow10x'
down_revision = '0020_job_files'  # the lead re-chains at merge
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_volunteer_name', table_name='volunteer')
    op.create_index('ix_volunteer_name', 'volunteer', ['name', 'id'])
    op.drop_index('ix_service_record_volunteer_day', table_name='service_record')
    op.create_index('ix_service_record_volunteer_day', 'service_record',
                    ['volunteer_id', 'service_date', 'id', 'organization_id', 'hours'])
    op.create_index('ix_service_record_corrected_day', 'service_record',
                    ['corrected', 'service_date', 'id', 'organization_id'])
    _analyze(('volunteer', 'ix_volunteer_name'), ('service_record', 'ix_service_record_volunteer_day'),
             ('service_record', 'ix_service_record_corrected_day'))


def downgrade():
    op.drop_index('ix_service_record_corrected_day', table_name='service_record')
    op.drop_index('ix_volunteer_name', table_name='volunteer')
    op.create_index('ix_volunteer_name', 'volunteer', ['name'])
    op.drop_index('ix_service_record_volunteer_day', table_name='service_record')
    op.create_index('ix_service_record_volunteer_day', 'service_record', ['volunteer_id', 'service_date'])
    _analyze(('volunteer', 'ix_volunteer_name'), ('service_record', 'ix_service_record_volunteer_day'))


def _analyze(*indexes):
    """SQLite: statistics for the new indexes where the database keeps statistics for their tables."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    has_stats = bind.execute(sa.text(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first()
    if not has_stats:
        return
    for table, index in indexes:
        if bind.execute(sa.text("SELECT 1 FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {'t': table}).first():
            op.execute(f"ANALYZE {index}")
