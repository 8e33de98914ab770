"""lists: pinyin sort keys of organization and volunteer names (issue 15)

Revision ID: 0014_lists
Revises: 0009_integrity
Create Date: 2026-12-07 01:40:00

"""
from alembic import op
import sqlalchemy as sa

from core.collation import pinyin_key


# revision identifiers, used by Alembic.
revision = '0014_lists'
down_revision = '0009_integrity'
branch_labels = None
depends_on = None

TABLES = ('organization', 'volunteer')


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        # A plain ADD COLUMN (no batch rebuild): SQLite keeps the table's AUTOINCREMENT (0009).
        op.add_column(table, sa.Column('name_pinyin', sa.String(length=255), nullable=False, server_default=''))
        # Backfill: one pass over (id, name), updated in batches (20,000 volunteers take ~2 s).
        conn = op.get_bind()
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_pinyin', sa.String))
        rows = [{'rid': rid, 'key': pinyin_key(name)} for rid, name in conn.execute(sa.select(t.c.id, t.c.name))]
        stmt = t.update().where(t.c.id == sa.bindparam('rid')).values(name_pinyin=sa.bindparam('key'))
        for start in range(0, len(rows), 5000):
            conn.execute(stmt, rows[start:start + 5000])
        if not sqlite:  # SQLite cannot drop a default without rebuilding the table; it is harmless there
            op.alter_column(table, 'name_pinyin', server_default=None)
        op.create_index(op.f(f'ix_{table}_name_pinyin'), table, ['name_pinyin'], unique=False)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_name_pinyin'))
            batch_op.drop_column('name_pinyin')
