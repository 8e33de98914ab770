"""more than one app server: uploads and pending imports in the database

Revision ID: 0017_cluster
Revises: 0016_jobs
Create Date: 2026-12-07 02:00:00

Uploads were files under UPLOAD_DIR and import previews JSON files under instance/: a photo uploaded
on one app server was 404 on another, and a preview made on one could not be confirmed on another
(issue 16). Both move into tables. Files that earlier versions stored under UPLOAD_DIR are copied
into `stored_file` here (the same names, so the rows that point to them keep working); pending import
files are not carried over (they expire within the hour; the user uploads again).
(Values computed per data version are shared through `figure_cache`, migration 0018.)
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_cluster'
down_revision = '0016_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
        sa.UniqueConstraint('name', name=op.f('uq_stored_file_name')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'pending_import',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_pending_import')),
    )
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_import_created_at'), ['created_at'], unique=False)

    _import_upload_dir()


def _import_upload_dir():
    """Existing uploads on this server's disk into the table (`flask import-uploads` does the same for
    the files of other servers)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    from core.uploads import import_upload_dir

    folder = current_app.config.get("UPLOAD_DIR")
    if folder:
        count = import_upload_dir(op.get_bind(), folder)
        if count:
            print(f"  已将 {count} 个上传文件从 {folder} 导入数据库")


def downgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_import_created_at'))
    op.drop_table('pending_import')
    op.drop_table('stored_file')
