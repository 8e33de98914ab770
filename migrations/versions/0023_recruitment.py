"""recruitment: activities published for sign-up, sign-up status, check-in/out, 补签, ratings (issue 17)

Revision ID: 0023_recruitment
Revises: 0026_training_projects
Create Date: 2026-12-07 05:00:00

- activity: the recruitment block (conditions, deadline, open to, automatic acceptance).
- activity_participant: sign-up status, check-in/out times and the code windows used, 补签, reminder, rating.
- service_record.source gains 'checkin' (签到): its CHECK is replaced (on SQLite by rebuilding the table,
  as 0019 does for user.role).
New NOT NULL columns get a server default so that existing rows are valid; staff sign-ups are accepted.
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_recruitment'
down_revision = '0026_training_projects'
branch_labels = None
depends_on = None


SOURCES_BEFORE = "source IN ('manual', 'attendance', 'transfer')"
SOURCES_AFTER = "source IN ('manual', 'attendance', 'transfer', 'checkin')"


def _batch(table: str):
    """A batch operation; on SQLite it rebuilds the table, keeping AUTOINCREMENT (ids never reused)."""
    kwargs = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}} \
        if op.get_bind().dialect.name == "sqlite" else {}
    return op.batch_alter_table(table, **kwargs)


def _source_check(condition: str) -> None:
    with _batch('service_record') as batch_op:
        batch_op.drop_constraint(op.f('ck_service_record_source_enum'), type_='check')
        batch_op.create_check_constraint(op.f('ck_service_record_source_enum'), sa.text(condition))


def upgrade():
    _source_check(SOURCES_AFTER)
    with _batch('activity') as batch_op:
        batch_op.add_column(sa.Column('recruiting', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('recruit_open_to', sa.String(length=16), nullable=False,
                                      server_default='members'))
        batch_op.add_column(sa.Column('recruit_min_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recruit_max_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recruit_skills', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recruit_minors', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('signup_deadline', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('auto_accept', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_activity_recruiting', ['recruiting'])
        batch_op.create_check_constraint(op.f('ck_activity_recruit_open_to_enum'),
                                         sa.text("recruit_open_to IN ('members', 'district')"))
    with _batch('activity_participant') as batch_op:
        batch_op.add_column(sa.Column('signup_status', sa.String(length=16), nullable=False,
                                      server_default='accepted'))
        batch_op.add_column(sa.Column('via_portal', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('guardian_present', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('checkin_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('checkout_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('checkin_window', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checkout_window', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('makeup_status', sa.String(length=16), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('makeup_checkout_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('makeup_note', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rating_comment', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_activity_participant_signup_status', ['signup_status'])
        batch_op.create_check_constraint(
            op.f('ck_activity_participant_signup_status_enum'),
            sa.text("signup_status IN ('pending', 'accepted', 'declined', 'cancelled')"))
        batch_op.create_check_constraint(
            op.f('ck_activity_participant_makeup_status_enum'),
            sa.text("makeup_status IN ('none', 'requested', 'confirmed', 'refused')"))
        batch_op.create_check_constraint(op.f('ck_activity_participant_rating_range'),
                                         sa.text('rating >= 1 AND rating <= 5'))


def downgrade():
    with _batch('activity_participant') as batch_op:
        batch_op.drop_constraint(op.f('ck_activity_participant_rating_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_activity_participant_makeup_status_enum'), type_='check')
        batch_op.drop_constraint(op.f('ck_activity_participant_signup_status_enum'), type_='check')
        batch_op.drop_index('ix_activity_participant_signup_status')
        for name in ('rated_at', 'rating_comment', 'rating', 'reminded_on', 'makeup_note', 'makeup_checkout_at',
                     'makeup_status', 'checkout_window', 'checkin_window', 'checkout_at', 'checkin_at',
                     'decided_at', 'guardian_present', 'via_portal', 'signup_status'):
            batch_op.drop_column(name)
    with _batch('activity') as batch_op:
        batch_op.drop_constraint(op.f('ck_activity_recruit_open_to_enum'), type_='check')
        batch_op.drop_index('ix_activity_recruiting')
        for name in ('published_at', 'auto_accept', 'signup_deadline', 'recruit_minors', 'recruit_skills',
                     'recruit_max_age', 'recruit_min_age', 'recruit_open_to', 'recruiting'):
            batch_op.drop_column(name)
    op.execute("DELETE FROM service_record WHERE source = 'checkin'")
    _source_check(SOURCES_BEFORE)
