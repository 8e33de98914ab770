"""rules about people (issue 18): 劝退 at the organization with a history, 骨干 per community,
the officials' 7 days and 工作单位, 认同和支持率

Revision ID: 0024_rules_people
Revises: 0025_rules_places
Create Date: 2026-12-07 05:00:00

- dismissal_event: every 劝退 / 恢复, at an organization or city-wide; a volunteer dismissed today
  becomes a city-wide 劝退 event (the old flag was city-wide).
- volunteer_membership.dismissed_on: the station's own 劝退 ends one membership.
- volunteer.work_unit (工作单位); volunteer_year_hours.days (days with verified service, filled here).
- volunteer_community_hours: verified hours per volunteer, community and year (骨干), filled here.
- assessment_indicator: the survey indicator is named 认同和支持率 (seed 000), frozen snapshots too.
New columns through batch_alter_table; the fills are plain SQL plus a small Python map (organization →
community), the same on SQLite and PostgreSQL.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0024_rules_people'
down_revision = '0025_rules_places'
branch_labels = None
depends_on = None

OLD_SURVEY = "群众对志愿服务满意率（问卷调查）"
NEW_SURVEY = "市民对志愿服务活动认同和支持率（问卷调查）"


def _year(column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"CAST(strftime('%Y', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"


def _org_communities(conn) -> dict[int, int]:
    """The same rule as ledger.org_communities: an organization of a community, or else the one
    community all the stations it manages lie in."""
    out = {}
    for oid, rid in conn.execute(sa.text(
            "SELECT o.id, r.id FROM organization o JOIN region r ON r.id = o.region_id WHERE r.level = 'community'")):
        out[oid] = rid
    stations: dict[int, set] = {}
    for oid, rid in conn.execute(sa.text(
            "SELECT s.organization_id, r.id FROM station s JOIN region r ON r.id = s.region_id "
            "WHERE s.organization_id IS NOT NULL AND r.level = 'community'")):
        stations.setdefault(oid, set()).add(rid)
    for oid, rids in stations.items():
        if oid not in out and len(rids) == 1:
            out[oid] = next(iter(rids))
    return out


def upgrade():
    op.create_table(
        'dismissal_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('level', sa.Enum('organization', 'city', name='dismissallevel', native_enum=False, length=16),
                  nullable=False),
        sa.Column('action', sa.Enum('dismiss', 'restore', name='dismissalaction', native_enum=False, length=16),
                  nullable=False),
        sa.Column('reason', sa.Enum('disobedience', 'violation', 'harm', 'profit', name='dismissreason',
                                    native_enum=False, length=16), nullable=True),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('report_status', sa.Enum('pending', 'escalated', 'filed', name='reportstatus', native_enum=False,
                                           length=16), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decision_note', sa.String(length=500), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('by_name', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("level IN ('organization', 'city')", name=op.f('ck_dismissal_event_level_enum')),
        sa.CheckConstraint("action IN ('dismiss', 'restore')", name=op.f('ck_dismissal_event_action_enum')),
        sa.CheckConstraint("reason IN ('disobedience', 'violation', 'harm', 'profit')",
                           name=op.f('ck_dismissal_event_reason_enum')),
        sa.CheckConstraint("report_status IN ('pending', 'escalated', 'filed')",
                           name=op.f('ck_dismissal_event_report_status_enum')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_dismissal_event_volunteer_id_volunteer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_dismissal_event_organization_id_organization')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_dismissal_event_decided_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_dismissal_event_by_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dismissal_event')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_dismissal_event_volunteer_id'), 'dismissal_event', ['volunteer_id'])
    op.create_index(op.f('ix_dismissal_event_organization_id'), 'dismissal_event', ['organization_id'])
    op.create_index(op.f('ix_dismissal_event_report_status'), 'dismissal_event', ['report_status'])
    op.create_table(
        'volunteer_community_hours',
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('hours', sa.Numeric(precision=8, scale=1), nullable=False),
        sa.CheckConstraint('hours >= 0', name=op.f('ck_volunteer_community_hours_hours_nonneg')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                                name=op.f('fk_volunteer_community_hours_volunteer_id_volunteer'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['community_id'], ['region.id'],
                                name=op.f('fk_volunteer_community_hours_community_id_region'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('volunteer_id', 'community_id', 'year', name=op.f('pk_volunteer_community_hours')),
    )
    op.create_index('ix_volunteer_community_hours_year_hours', 'volunteer_community_hours', ['year', 'hours'])
    with op.batch_alter_table('volunteer_membership') as batch_op:
        batch_op.add_column(sa.Column('dismissed_on', sa.Date(), nullable=True))
    with op.batch_alter_table('volunteer') as batch_op:
        batch_op.add_column(sa.Column('work_unit', sa.String(length=128), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_volunteer_work_unit'), ['work_unit'])
    with op.batch_alter_table('volunteer_year_hours') as batch_op:
        batch_op.add_column(sa.Column('days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_volunteer_year_hours_days_nonneg'), sa.text('days >= 0'))

    # A volunteer dismissed before this revision was dismissed city-wide: that becomes its first event.
    op.execute(
        "INSERT INTO dismissal_event (volunteer_id, organization_id, level, action, reason, effective_on, note, "
        "report_status, decision_note, by_name, at) "
        "SELECT id, NULL, 'city', 'dismiss', dismiss_reason, COALESCE(dismissed_on, registered_on), "
        "COALESCE(dismiss_note, ''), NULL, '', '', CURRENT_TIMESTAMP FROM volunteer WHERE status = 'dismissed'")
    year = _year('service_date')
    op.execute(
        "UPDATE volunteer_year_hours SET days = (SELECT COUNT(DISTINCT service_date) FROM service_record "
        "WHERE service_record.volunteer_id = volunteer_year_hours.volunteer_id AND service_record.status = 'verified' "
        f"AND {year} = volunteer_year_hours.year)")
    conn = op.get_bind()
    communities = _org_communities(conn)
    if communities:
        totals: dict[tuple, object] = {}
        for vid, oid, y, hours in conn.execute(sa.text(
                f"SELECT volunteer_id, organization_id, {year}, SUM(hours) FROM service_record "
                f"WHERE status = 'verified' GROUP BY volunteer_id, organization_id, {year}")):
            cid = communities.get(oid)
            if cid is not None:
                key = (vid, cid, int(y))
                totals[key] = totals.get(key, 0) + hours
        rows = [{"volunteer_id": k[0], "community_id": k[1], "year": k[2], "hours": h} for k, h in totals.items()]
        table = sa.table('volunteer_community_hours', sa.column('volunteer_id'), sa.column('community_id'),
                         sa.column('year'), sa.column('hours'))
        for start in range(0, len(rows), 1000):
            op.bulk_insert(table, rows[start:start + 1000])
    _rename_survey(conn, OLD_SURVEY, NEW_SURVEY)


def _rename_survey(conn, old: str, new: str) -> None:
    conn.execute(sa.text("UPDATE assessment_indicator SET name = :new WHERE code = 'survey' AND name = :old"),
                 {"new": new, "old": old})
    for sid, data in conn.execute(sa.text("SELECT id, data FROM assessment_snapshot")).all():
        # Stored as JSON text (escaped or not) on SQLite, parsed on PostgreSQL: compare the parsed value.
        text = json.dumps(json.loads(data) if isinstance(data, str) else data, ensure_ascii=False)
        if old in text:
            stmt = sa.text("UPDATE assessment_snapshot SET data = :data WHERE id = :id").bindparams(
                sa.bindparam("data", type_=sa.JSON))
            conn.execute(stmt, {"data": json.loads(text.replace(old, new)), "id": sid})


def downgrade():
    _rename_survey(op.get_bind(), NEW_SURVEY, OLD_SURVEY)
    with op.batch_alter_table('volunteer_year_hours') as batch_op:
        batch_op.drop_constraint(op.f('ck_volunteer_year_hours_days_nonneg'), type_='check')
        batch_op.drop_column('days')
    with op.batch_alter_table('volunteer') as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_work_unit'))
        batch_op.drop_column('work_unit')
    with op.batch_alter_table('volunteer_membership') as batch_op:
        batch_op.drop_column('dismissed_on')
    op.drop_index('ix_volunteer_community_hours_year_hours', table_name='volunteer_community_hours')
    op.drop_table('volunteer_community_hours')
    op.drop_index(op.f('ix_dismissal_event_report_status'), table_name='dismissal_event')
    op.drop_index(op.f('ix_dismissal_event_organization_id'), table_name='dismissal_event')
    op.drop_index(op.f('ix_dismissal_event_volunteer_id'), table_name='dismissal_event')
    op.drop_table('dismissal_event')
