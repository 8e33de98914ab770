"""integrity: CHECK constraints (hours, money, enums, counts) and ids never reused on SQLite

Revision ID: 0009_integrity
Revises: 0007_pii
Create Date: 2026-12-07 01:30:00

Every table is altered in batch mode, which reflects the live table, so that columns changed by
other revisions are kept as they are; only the constraints below are added.

SQLite: every table with an integer `id` key is rebuilt with AUTOINCREMENT (the audit log points
at (table, id), and a deleted record's id must never be handed to a new one). PostgreSQL's serial
and identity sequences never hand an id out twice already, so there it only adds the CHECKs.
The rebuild runs with foreign keys off (migrations/env.py), or dropping a parent table would cascade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_integrity'
down_revision = '0007_pii'
branch_labels = None
depends_on = None


# Named as the models name them (core/extensions.py: harden_table, money_check, hours_check,
# nonnegative; the naming convention prefixes ck_<table>_).
CHECKS = {
    'activity': [
        ('ck_activity_capacity_nonneg', 'capacity >= 0'),
        ('ck_activity_category_enum', "category IN ('others', 'nature', 'society')"),
        ('ck_activity_participant_count_nonneg', 'participant_count >= 0'),
        ('ck_activity_status_enum', "status IN ('open', 'cancelled')"),
    ],
    'activity_participant': [
        ('ck_activity_participant_hours_range', 'hours > 0 AND hours <= 24'),
        ('ck_activity_participant_quality_enum', "quality IN ('excellent', 'good', 'fair', 'poor')"),
    ],
    'assessment_indicator': [
        ('ck_assessment_indicator_method_enum', "method IN ('linear', 'pass_fail')"),
    ],
    'assessment_year': [
        ('ck_assessment_year_status_enum', "status IN ('open', 'frozen')"),
    ],
    'award_campaign': [
        ('ck_award_campaign_deeds_limit_nonneg', 'deeds_limit >= 0'),
        ('ck_award_campaign_stage_enum', "stage IN ('nominating', 'scoring', 'ranked', 'notice', 'decided')"),
    ],
    'award_district_quota': [
        ('ck_award_district_quota_quota_nonneg', 'quota >= 0'),
    ],
    'award_kind': [
        ('ck_award_kind_min_hours_nonneg', 'min_hours >= 0'),
        ('ck_award_kind_min_star_nonneg', 'min_star >= 0'),
        ('ck_award_kind_min_years_nonneg', 'min_years >= 0'),
        ('ck_award_kind_nominee_type_enum', "nominee_type IN ('volunteer', 'project', 'organization')"),
        ('ck_award_kind_quota_nonneg', 'quota >= 0'),
    ],
    'award_nomination': [
        ('ck_award_nomination_status_enum', "status IN ('draft', 'submitted', 'recommended', 'rejected', 'ranked', 'publicized', 'not_selected', 'awarded')"),
    ],
    'award_objection': [
        ('ck_award_objection_status_enum', "status IN ('open', 'upheld', 'dismissed')"),
    ],
    'correction_request': [
        ('ck_correction_request_status_enum', "status IN ('open', 'accepted', 'rejected')"),
    ],
    'funding_entry': [
        ('ck_funding_entry_amount_money', 'amount > -1000000000000 AND amount < 1000000000000 AND round(amount, 2) = amount'),
        ('ck_funding_entry_kind_enum', "kind IN ('income', 'expense')"),
    ],
    'funding_payment': [
        ('ck_funding_payment_amount_money', 'amount >= 0 AND amount < 1000000000000 AND round(amount, 2) = amount'),
    ],
    'funding_project': [
        ('ck_funding_project_amount_money', 'amount >= 0 AND amount < 1000000000000 AND round(amount, 2) = amount'),
        ('ck_funding_project_status_enum', "status IN ('initiated', 'tendering', 'in_progress', 'acceptance', 'closed')"),
    ],
    'funding_rectification': [
        ('ck_funding_rectification_status_enum', "status IN ('open', 'in_progress', 'done')"),
    ],
    'insurance_policy': [
        ('ck_insurance_policy_head_count_nonneg', 'head_count >= 0'),
        ('ck_insurance_policy_mode_enum', "mode IN ('named', 'headcount')"),
        ('ck_insurance_policy_premium_money', 'premium > -1000000000000 AND premium < 1000000000000 AND round(premium, 2) = premium'),
        ('ck_insurance_policy_sum_insured_money', 'sum_insured > -1000000000000 AND sum_insured < 1000000000000 AND round(sum_insured, 2) = sum_insured'),
    ],
    'monthly_report': [
        ('ck_monthly_report_activity_count_nonneg', 'activity_count >= 0'),
        ('ck_monthly_report_level_enum', "level IN ('org', 'district')"),
        ('ck_monthly_report_new_volunteers_nonneg', 'new_volunteers >= 0'),
        ('ck_monthly_report_service_hours_nonneg', 'service_hours >= 0'),
        ('ck_monthly_report_status_enum', "status IN ('draft', 'submitted', 'returned', 'resubmitted', 'accepted')"),
        ('ck_monthly_report_volunteer_count_nonneg', 'volunteer_count >= 0'),
    ],
    'organization': [
        ('ck_organization_registration_type_enum', "registration_type IN ('registered', 'filed')"),
        ('ck_organization_status_enum', "status IN ('draft', 'submitted', 'returned', 'approved', 'suspended', 'deregistered')"),
    ],
    'region': [
        ('ck_region_level_enum', "level IN ('city', 'district', 'town', 'community')"),
    ],
    'region_year_figure': [
        ('ck_region_year_figure_league_members_nonneg', 'league_members >= 0'),
        ('ck_region_year_figure_party_members_nonneg', 'party_members >= 0'),
        ('ck_region_year_figure_population_nonneg', 'population >= 0'),
        ('ck_region_year_figure_urban_population_nonneg', 'urban_population >= 0'),
    ],
    'report_attachment': [
        ('ck_report_attachment_kind_enum', "kind IN ('plan', 'brief', 'photo', 'summary')"),
        ('ck_report_attachment_size_nonneg', 'size >= 0'),
    ],
    'report_reminder': [
        ('ck_report_reminder_emailed_nonneg', 'emailed >= 0'),
        ('ck_report_reminder_recipient_count_nonneg', 'recipient_count >= 0'),
        ('ck_report_reminder_unit_count_nonneg', 'unit_count >= 0'),
    ],
    'service_record': [
        ('ck_service_record_hours_range', 'hours > 0 AND hours <= 24'),
        ('ck_service_record_quality_enum', "quality IN ('excellent', 'good', 'fair', 'poor')"),
        ('ck_service_record_source_enum', "source IN ('manual', 'attendance', 'transfer')"),
        ('ck_service_record_status_enum', "status IN ('pending', 'verified', 'void')"),
    ],
    'station': [
        ('ck_station_station_type_enum', "station_type IN ('community', 'park', 'plaza', 'activity_center', 'service_window', 'other')"),
    ],
    'theme_plan': [
        ('ck_theme_plan_status_enum', "status IN ('draft', 'published')"),
    ],
    'training_record': [
        ('ck_training_record_hours_range', 'hours > 0 AND hours <= 24'),
    ],
    'user': [
        ('ck_user_role_enum', "role IN ('city_admin', 'district_staff', 'org_leader', 'leader', 'reviewer')"),
        ('ck_user_status_enum', "status IN ('active', 'pending', 'disabled')"),
    ],
    'volunteer': [
        ('ck_volunteer_dismiss_reason_enum', "dismiss_reason IN ('disobedience', 'violation', 'harm', 'profit')"),
        ('ck_volunteer_political_status_enum', "political_status IN ('party_member', 'probationary', 'league_member', 'democratic', 'masses')"),
        ('ck_volunteer_status_enum', "status IN ('active', 'dismissed')"),
    ],
    'volunteer_certificate': [
        ('ck_volunteer_certificate_record_count_nonneg', 'record_count >= 0'),
        ('ck_volunteer_certificate_total_hours_nonneg', 'total_hours >= 0'),
    ],
    'volunteer_sequence': [
        ('ck_volunteer_sequence_last_nonneg', 'last >= 0'),
    ],
    'volunteer_year_hours': [
        ('ck_volunteer_year_hours_hours_nonneg', 'hours >= 0'),
    ],
}


def _autoincrement_tables(bind) -> set[str]:
    """SQLite tables whose key is one INTEGER `id` column (rebuilt with AUTOINCREMENT)."""
    insp = sa.inspect(bind)
    out = set()
    for table in insp.get_table_names():
        if table.startswith(("alembic_", "sqlite_", "_alembic")):
            continue
        pk = insp.get_pk_constraint(table).get("constrained_columns") or []
        cols = {c["name"]: c for c in insp.get_columns(table)}
        if pk == ["id"] and isinstance(cols["id"]["type"], sa.Integer):
            out.add(table)
    return out


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        autoinc = _autoincrement_tables(bind)
        for table in sorted(autoinc | set(CHECKS)):
            kwargs = {"recreate": "always"}
            if table in autoinc:
                kwargs["table_kwargs"] = {"sqlite_autoincrement": True}
            with op.batch_alter_table(table, **kwargs) as batch_op:
                for name, condition in CHECKS.get(table, ()):
                    batch_op.create_check_constraint(op.f(name), sa.text(condition))
    else:
        for table in sorted(CHECKS):
            for name, condition in CHECKS[table]:
                op.create_check_constraint(op.f(name), table, sa.text(condition))


def downgrade():
    bind = op.get_bind()
    # AUTOINCREMENT stays (harmless, and ids must not be reused after a downgrade either).
    autoinc = _autoincrement_tables(bind) if bind.dialect.name == "sqlite" else set()
    for table in sorted(CHECKS):
        kwargs = {"table_kwargs": {"sqlite_autoincrement": True}} if table in autoinc else {}
        with op.batch_alter_table(table, **kwargs) as batch_op:
            for name, _ in CHECKS[table]:
                batch_op.drop_constraint(op.f(name), type_="check")
