"""training (course catalogue, sessions, attendance) and the project library (issue 18)

Revision ID: 0026_training_projects
Revises: 0024_rules_people
Create Date: 2026-12-07 03:55:53

- training_course / training_session / training_attendee: 培训制度 (000, 001, 004 §4); attendance writes
  training_record rows, apart from the service ledger.
- volunteer_project (+ _step, _evaluation): 项目库, 立项 → 实施 → 评估 → 结项 (000 (五)1).
- activity / award_nomination / funding_project: a nullable project_id (batch mode: SQLite rebuilds them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_training_projects'
down_revision = '0024_rules_people'
branch_labels = None
depends_on = None


def _keep_autoincrement() -> dict:
    """On SQLite batch mode rebuilds a table: it keeps its never-reused ids (0009_integrity)."""
    return {"table_kwargs": {"sqlite_autoincrement": True}} if op.get_bind().dialect.name == "sqlite" else {}


def upgrade():
    op.create_table('training_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.Enum('pre_service', 'skill', 'core', name='coursekind', native_enum=False, length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('default_hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('pre_service', 'skill', 'core')", name=op.f('ck_training_course_kind_enum')),
    sa.CheckConstraint('default_hours > 0 AND default_hours <= 24', name=op.f('ck_training_course_default_hours_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_training_course_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_training_course_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_course')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_course_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_course_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_course_region_id'), ['region_id'], unique=False)

    op.create_table('volunteer_project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('target_group', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('initiated', 'implementing', 'evaluating', 'closed', name='projectstatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('initiated', 'implementing', 'evaluating', 'closed')", name=op.f('ck_volunteer_project_status_enum')),
    sa.CheckConstraint('budget >= 0 AND budget < 1000000000000 AND round(budget, 2) = budget', name=op.f('ck_volunteer_project_budget_money')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_volunteer_project_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_volunteer_project_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_project')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('volunteer_project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_project_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_project_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_project_title'), ['title'], unique=False)

    op.create_table('training_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('trainer', sa.String(length=64), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_training_session_capacity_nonneg')),
    sa.CheckConstraint('hours > 0 AND hours <= 24', name=op.f('ck_training_session_hours_range')),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_session_course_id_training_course')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_training_session_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_training_session_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_session')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_session_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_session_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_session_organization_id'), ['organization_id'], unique=False)

    op.create_table('volunteer_project_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('evaluator', sa.String(length=128), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('evaluated_by_id', sa.Integer(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['evaluated_by_id'], ['user.id'], name=op.f('fk_volunteer_project_evaluation_evaluated_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['volunteer_project.id'], name=op.f('fk_volunteer_project_evaluation_project_id_volunteer_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_project_evaluation')),
    sa.UniqueConstraint('project_id', name=op.f('uq_volunteer_project_evaluation_project_id')),
    sqlite_autoincrement=True
    )
    op.create_table('volunteer_project_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_volunteer_project_step_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['volunteer_project.id'], name=op.f('fk_volunteer_project_step_project_id_volunteer_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_project_step')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('volunteer_project_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_project_step_project_id'), ['project_id'], unique=False)

    op.create_table('training_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['training_record.id'], name=op.f('fk_training_attendee_record_id_training_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_training_attendee_session_id_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_training_attendee_volunteer_id_volunteer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attendee')),
    sa.UniqueConstraint('session_id', 'volunteer_id', name=op.f('uq_training_attendee_session_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attendee_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_attendee_volunteer_id'), ['volunteer_id'], unique=False)

    with op.batch_alter_table('activity', **_keep_autoincrement()) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_activity_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_activity_project_id_volunteer_project'), 'volunteer_project', ['project_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('award_nomination', **_keep_autoincrement()) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_award_nomination_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_award_nomination_project_id_volunteer_project'), 'volunteer_project', ['project_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('funding_project', **_keep_autoincrement()) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_funding_project_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_funding_project_project_id_volunteer_project'), 'volunteer_project', ['project_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('funding_project', **_keep_autoincrement()) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_funding_project_project_id_volunteer_project'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_funding_project_project_id'))
        batch_op.drop_column('project_id')

    with op.batch_alter_table('award_nomination', **_keep_autoincrement()) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_award_nomination_project_id_volunteer_project'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_award_nomination_project_id'))
        batch_op.drop_column('project_id')

    with op.batch_alter_table('activity', **_keep_autoincrement()) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_activity_project_id_volunteer_project'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_activity_project_id'))
        batch_op.drop_column('project_id')

    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attendee_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_training_attendee_session_id'))

    op.drop_table('training_attendee')
    with op.batch_alter_table('volunteer_project_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_project_step_project_id'))

    op.drop_table('volunteer_project_step')
    op.drop_table('volunteer_project_evaluation')
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_session_organization_id'))
        batch_op.drop_index(batch_op.f('ix_training_session_held_on'))
        batch_op.drop_index(batch_op.f('ix_training_session_course_id'))

    op.drop_table('training_session')
    with op.batch_alter_table('volunteer_project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_project_title'))
        batch_op.drop_index(batch_op.f('ix_volunteer_project_status'))
        batch_op.drop_index(batch_op.f('ix_volunteer_project_organization_id'))

    op.drop_table('volunteer_project')
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_course_region_id'))
        batch_op.drop_index(batch_op.f('ix_training_course_name'))
        batch_op.drop_index(batch_op.f('ix_training_course_kind'))

    op.drop_table('training_course')
