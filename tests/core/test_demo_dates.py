"""Demo data has no timestamps in the future (issue 15). A small demo city is seeded with every
feature's seeder; then every Date/DateTime column that records an event — created_at, submitted_at,
verified_at, recorded_at, service_date, steps' `at`, … (all of them, 88 today) — must lie at or before
now. Only the columns below hold planned things and may be in the future."""
from __future__ import annotations

from sqlalchemy import Date, DateTime, func, select

from core.extensions import db
from core.timeutil import local_today, utcnow

PLANNED = {
    "activity.held_on",  # upcoming activities open for sign-up
    "award_campaign.nomination_start", "award_campaign.nomination_end", "award_campaign.district_deadline",
    "award_campaign.review_deadline", "award_campaign.notice_start", "award_campaign.notice_end",
    "award_campaign.presentation_date",  # a campaign's timetable
    "funding_project.start_date", "funding_project.end_date",  # a purchased service's contract period
    "insurance_policy.start_date", "insurance_policy.end_date",  # cover bought ahead, cover running on
    "funding_rectification.due_date",  # an audit finding's deadline
    "user.locked_until",  # a lock's expiry
    "activation_code.expires_at",  # a printed activation code runs until then (issue 17)
    "training_session.held_on",  # a training session planned for next week (issue 18)
    "volunteer_project.end_date",  # a running project's planned end (issue 18)
}


def event_columns():
    for table in db.Model.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (Date, DateTime)) and f"{table.name}.{column.name}" not in PLANNED:
                yield table, column


def test_the_checked_columns_are_the_event_columns(app):
    names = {f"{t.name}.{c.name}" for t, c in event_columns()}
    assert {"service_record.recorded_at", "service_record.verified_at", "service_record.service_date",
            "monthly_report.submitted_at", "report_step.at", "organization.created_at", "org_step.at",
            "activity_participant.signed_up_at", "funding_entry.entry_date"} <= names
    assert not names & PLANNED and len(names) > 80


def test_seeded_demo_has_no_event_in_the_future(app, monkeypatch):
    from blueprints.activities import seed as activities_seed
    from blueprints.orgs import seed as orgs_seed
    from blueprints.volunteers import seed as volunteers_seed
    from blueprints.volunteers import seed_ledger
    from core.cli import run_seed

    # The demo city at a test's size (the real one: 300 orgs, 20,000 volunteers, 200,000 records).
    monkeypatch.setattr(orgs_seed, "TARGET", 40)
    monkeypatch.setattr(volunteers_seed, "TARGET", 300)
    monkeypatch.setattr(seed_ledger, "TARGET", 1500)
    monkeypatch.setattr(activities_seed, "TARGET", 100)
    run_seed(verbose=False)
    now, today = utcnow(), local_today()
    future = {}
    for table, column in event_columns():
        limit = now if isinstance(column.type, DateTime) else today
        n = db.session.scalar(select(func.count()).select_from(table).where(column > limit))
        if n:
            future[f"{table.name}.{column.name}"] = (n, db.session.scalar(select(func.max(column))))
    assert future == {}
    assert db.session.scalar(select(func.count()).select_from(db.Model.metadata.tables["service_record"])) > 100


def test_the_seed_leaves_the_planner_its_statistics(app, monkeypatch):
    """The ledger's plans depend on statistics (SQLite: ANALYZE) and, on PostgreSQL, on a vacuumed
    table: its index-only scans read the heap for every row until the visibility map exists."""
    from sqlalchemy import text

    from blueprints.activities import seed as activities_seed
    from blueprints.orgs import seed as orgs_seed
    from blueprints.volunteers import seed as volunteers_seed
    from blueprints.volunteers import seed_ledger
    from core.cli import run_seed

    monkeypatch.setattr(orgs_seed, "TARGET", 10)
    monkeypatch.setattr(volunteers_seed, "TARGET", 50)
    monkeypatch.setattr(seed_ledger, "TARGET", 200)
    monkeypatch.setattr(activities_seed, "TARGET", 10)
    run_seed(verbose=False)
    if db.engine.dialect.name == "postgresql":
        vacuumed = db.session.execute(text(
            "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'service_record'")).one()
        assert tuple(vacuumed) == (True, True)
    else:
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'service_record'")) > 0
