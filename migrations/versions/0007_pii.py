"""personal data: birth year instead of the birth date, keyed last-4 search key, mask without the last 4

Revision ID: 0007_pii
Revises: 0006_sessions
Create Date: 2026-12-07 01:30:00

The volunteer table kept the plain birth date, the plain last four characters and a mask showing them
("4408**********1234"): with the city's county codes that left one candidate for most ID numbers
(docs/security-pii.md). This revision keeps only the birth year in clear, stores the last four as a
keyed hash (core/pii.py last4_key) and the mask "4408**************". Existing rows are converted by
decrypting their stored number with the app's PII_KEY (`flask db upgrade` runs inside the app, see
migrations/env.py); old masks already copied into the audit log and certificate snapshots are cut to
the new form as well.
"""
import json
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_pii'
down_revision = '0006_sessions'
branch_labels = None
depends_on = None

OLD_MASK = re.compile(r"(?<![0-9A-Z*])([0-9]{4})\*{10}[0-9X]{4}(?![0-9A-Z*])")

volunteer = sa.table(
    "volunteer", sa.column("id", sa.Integer), sa.column("id_number_enc", sa.Text),
    sa.column("birth_year", sa.Integer), sa.column("birth_date", sa.Date), sa.column("id_last4", sa.String),
    sa.column("id_last4_hash", sa.String), sa.column("id_masked", sa.String))


def _numbers(bind):
    """(id, decrypted number) of every volunteer; needs the app's PII_KEY when there are any."""
    rows = bind.execute(sa.select(volunteer.c.id, volunteer.c.id_number_enc)).all()
    if not rows:
        return []
    from core import pii  # the app's own key derivation; `flask db upgrade` provides the app context

    return [(vid, pii.decrypt(token)) for vid, token in rows]


def _cut_old_masks(bind, table: str, column: str, where=None) -> None:
    t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.JSON))
    stmt = sa.select(t.c.id, t.c[column])
    if where is not None:
        stmt = stmt.where(where(t))
    for row_id, value in bind.execute(stmt).all():
        if value is None:
            continue
        text = json.dumps(value, ensure_ascii=False)
        cut = OLD_MASK.sub(lambda m: m.group(1) + "*" * 14, text)
        if cut != text:
            bind.execute(t.update().where(t.c.id == row_id).values({column: json.loads(cut)}))


def upgrade():
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('id_last4_hash', sa.String(length=64), nullable=True))

    bind = op.get_bind()
    from core import pii
    from core.validators import mask_id_number

    updates = [{"vid": vid, "year": int(n[6:10]), "key": pii.last4_key(n, int(n[6:10])), "mask": mask_id_number(n)}
               for vid, n in _numbers(bind)]
    if updates:
        bind.execute(volunteer.update().where(volunteer.c.id == sa.bindparam("vid")).values(
            birth_year=sa.bindparam("year"), id_last4_hash=sa.bindparam("key"), id_masked=sa.bindparam("mask")),
            updates)
    _cut_old_masks(bind, "audit_entry", "changes", lambda t: sa.text("entity = 'volunteer'"))
    _cut_old_masks(bind, "volunteer_certificate", "facts")

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.alter_column('birth_year', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('id_last4_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index(batch_op.f('ix_volunteer_id_last4'))
        batch_op.create_index(batch_op.f('ix_volunteer_id_last4_hash'), ['id_last4_hash'], unique=False)
        batch_op.drop_column('id_last4')
        batch_op.drop_column('birth_date')


def downgrade():
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('id_last4', sa.String(length=4), nullable=True))

    bind = op.get_bind()
    import datetime

    updates = [{"vid": vid, "birth": datetime.date(int(n[6:10]), int(n[10:12]), int(n[12:14])), "last4": n[-4:],
                "mask": n[:4] + "*" * 10 + n[-4:]} for vid, n in _numbers(bind)]
    if updates:
        bind.execute(volunteer.update().where(volunteer.c.id == sa.bindparam("vid")).values(
            birth_date=sa.bindparam("birth"), id_last4=sa.bindparam("last4"), id_masked=sa.bindparam("mask")),
            updates)

    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.alter_column('birth_date', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('id_last4', existing_type=sa.String(length=4), nullable=False)
        batch_op.drop_index(batch_op.f('ix_volunteer_id_last4_hash'))
        batch_op.create_index(batch_op.f('ix_volunteer_id_last4'), ['id_last4'], unique=False)
        batch_op.drop_column('id_last4_hash')
        batch_op.drop_column('birth_year')
