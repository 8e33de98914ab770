"""volunteer accounts: the link of a volunteer's login to their person record (issue 17)

Revision ID: 0019_volunteer_accounts
Revises: 0018_perf
Create Date: 2026-12-07 04:00:00

A table of its own rather than a column on `user`. The role CHECK of `user` gains 'volunteer'
(on SQLite by rebuilding the table, with foreign keys off as migrations/env.py runs every revision).
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_volunteer_accounts'
down_revision = '0018_perf'
branch_labels = None
depends_on = None


ROLES_BEFORE = "role IN ('city_admin', 'district_staff', 'org_leader', 'leader', 'reviewer')"
ROLES_AFTER = "role IN ('city_admin', 'district_staff', 'org_leader', 'leader', 'reviewer', 'volunteer')"


def _role_check(condition: str) -> None:
    kwargs = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}} \
        if op.get_bind().dialect.name == "sqlite" else {}
    with op.batch_alter_table('user', **kwargs) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_role_enum'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_role_enum'), sa.text(condition))


def upgrade():
    _role_check(ROLES_AFTER)
    op.create_table(
        'volunteer_account',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_volunteer_account_user_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                                name=op.f('fk_volunteer_account_volunteer_id_volunteer'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_volunteer_account')),
        sa.UniqueConstraint('volunteer_id', name=op.f('uq_volunteer_account_volunteer_id')),
    )


def downgrade():
    op.drop_table('volunteer_account')
    op.execute("DELETE FROM \"user\" WHERE role = 'volunteer'")
    _role_check(ROLES_BEFORE)
