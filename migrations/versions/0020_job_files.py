"""job files in the database (any app server serves them) and each job's peak worker memory

Revision ID: 0020_job_files
Revises: 0023_recruitment
Create Date: 2026-12-07 04:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_job_files'
down_revision = '0023_recruitment'  # the lead re-chains at merge
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_file',
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=8), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_file_job_id_job'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('job_id', 'part', 'seq', name=op.f('pk_job_file')),
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peak_memory_kb', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('memory_growth_kb', sa.Integer(), nullable=True))
    # Result files written to instance/job-files by the previous version stay on that server's disk:
    # they are not carried over (they expire within days); their jobs show "文件已过期删除".
    op.execute("UPDATE job SET result_file = NULL, stage = '文件已过期删除' WHERE result_file IS NOT NULL")


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('memory_growth_kb')
        batch_op.drop_column('peak_memory_kb')
    op.drop_table('job_file')
