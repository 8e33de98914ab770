"""Rules of the monthly reports: figures from the ledger, freezing, optimistic locking, the state
machine, deadlines, 催报 and the bulletin — on constructed data."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from blueprints.reports import services
from blueprints.reports.models import MonthlyReport, Notification, ReminderLog, ReportLevel, ReportStatus
from blueprints.reports.services import DraftData, ReportConflict, ReportError, ReportForbidden, Standing
from core.extensions import db
from core.settings import set_value
from tests import factories

MAY = (2026, 5)


def _ledger(w):
    """May 2026 for org_a: 2 activities (one cancelled → not counted), three volunteers, verified and
    pending hours, an April record (outside the month)."""
    from blueprints.activities.models import ActivityStatus

    org = w["org_a"]
    v1 = factories.activity_volunteer(org, registered_on=date(2026, 5, 3))
    v2 = factories.activity_volunteer(org, registered_on=date(2025, 1, 1))
    v3 = factories.activity_volunteer(org, registered_on=date(2025, 1, 1))
    factories.activity(org, held_on=date(2026, 5, 10))
    factories.activity(org, held_on=date(2026, 5, 20), status=ActivityStatus.CANCELLED)
    factories.activity(org, held_on=date(2026, 4, 30))
    leader = w["org_leader"]
    factories.service_record(v1, org, date(2026, 5, 10), "3", by=leader)
    factories.service_record(v2, org, date(2026, 5, 10), "2.5", by=leader)
    factories.service_record(v2, org, date(2026, 5, 31), "1", by=leader)
    factories.service_record(v3, org, date(2026, 5, 12), "8", verified=False, by=leader)  # pending: not counted
    factories.service_record(v3, org, date(2026, 4, 30), "4", by=leader)  # April
    return v1, v2, v3


def test_prefilled_figures_equal_the_verified_ledger(world):
    _ledger(world)
    r = services.open_report(world["org_leader"], ReportLevel.ORG, world["org_a"].id, *MAY, today=date(2026, 6, 1))
    assert r.status == ReportStatus.DRAFT
    assert r.activity_count == 1
    assert r.volunteer_count == 2
    assert r.service_hours == Decimal("6.5")
    assert r.new_volunteers == 1
    assert r.theme_held is False


def test_district_figures_roll_up_its_organizations(world):
    _ledger(world)
    other = factories.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    v = factories.activity_volunteer(other, registered_on=date(2025, 1, 1))
    factories.service_record(v, other, date(2026, 5, 2), "4", by=factories.user("org_leader", orgs=[other]))
    f = services.compute_figures(services.unit_org_ids(ReportLevel.DISTRICT, world["district_a"].id), *MAY,
                                 district_id=world["district_a"].id)
    assert f.volunteer_count == 3 and f.service_hours == Decimal("10.5")
    b = services.compute_figures(services.unit_org_ids(ReportLevel.DISTRICT, world["district_b"].id), *MAY)
    assert b.service_hours == 0


def test_theme_activity_held_from_theme_links(world):
    from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow

    act = factories.activity(world["org_a"], held_on=date(2026, 5, 9))
    plan = ThemePlan(region_id=world["city"].id, year=2026, title="2026 年主题", status=PlanStatus.PUBLISHED)
    db.session.add(plan)
    db.session.flush()
    row = ThemePlanRow(plan_id=plan.id, position=1, month_start=5, month_end=5, name="环保月", content="")
    db.session.add(row)
    db.session.flush()
    db.session.add(ThemeActivity(activity_id=act.id, theme_row_id=row.id, unit_region_id=world["district_a"].id,
                                 year=2026, month=5, is_concentrated=True))
    db.session.flush()
    assert services.compute_figures([world["org_a"].id], *MAY).theme_held
    assert not services.compute_figures([world["org_a"].id], 2026, 6).theme_held
    assert services.compute_figures([], *MAY, district_id=world["district_a"].id).theme_held


def test_figures_follow_the_ledger_until_submission_then_freeze(world):
    v1, v2, v3 = _ledger(world)
    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    factories.service_record(v3, world["org_a"], date(2026, 5, 20), "2", by=leader)
    services.save_draft(leader, r, DraftData(summary="概况"), r.version)
    assert r.service_hours == Decimal("8.5")  # recomputed while a draft
    services.transition(r, "submit", leader)
    assert r.figures_frozen_at is not None and r.service_hours == Decimal("8.5")
    factories.service_record(v1, world["org_a"], date(2026, 5, 21), "5", by=leader)
    services.refresh_figures(r)
    db.session.refresh(r)
    assert r.service_hours == Decimal("8.5")  # frozen in the submitted version
    assert services.figures_for(r).service_hours == Decimal("13.5")


def test_save_draft_keeps_narrative_and_needs(world):
    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    v = r.version
    data = DraftData(summary="概况", highlights="亮点", problems="问题", next_plan="计划",
                     needs=[{"what": "陪伴独居老人", "place": "幸福社区", "contact": "王芳", "when": "每周六上午"}])
    services.save_draft(leader, r, data, v)
    db.session.expire_all()
    r = db.session.get(MonthlyReport, r.id)
    assert r.version == v + 1 and r.highlights == "亮点" and [n.what for n in r.needs] == ["陪伴独居老人"]


def test_optimistic_lock_refuses_a_stale_version_and_changes_nothing(world):
    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    base = r.version
    services.save_draft(leader, r, DraftData(summary="第一个窗口"), base)
    with pytest.raises(ReportConflict) as exc:
        services.save_draft(leader, r, DraftData(summary="第二个窗口"), base)
    assert "其他窗口" in exc.value.message and exc.value.current_version == base + 1
    assert r.summary == "第一个窗口"
    with pytest.raises(ReportConflict):
        services.save_draft(leader, r, DraftData(summary="无版本"), None)


def test_draft_data_from_form_skips_blank_need_rows_and_checks_lengths():
    from werkzeug.datastructures import MultiDict

    d = DraftData.from_form(MultiDict([("summary", " 概况 "), ("need_what", "理发"), ("need_what", ""),
                                       ("need_place", "社区"), ("need_place", ""), ("need_contact", ""),
                                       ("need_when", "")]))
    assert d.summary == "概况" and len(d.needs) == 1 and not d.errors
    d = DraftData.from_form(MultiDict([("summary", "x" * 5001), ("need_what", ""), ("need_place", "只有地点")]))
    assert "summary" in d.errors and "needs" in d.errors


# ---- the state machine --------------------------------------------------------------------------

def test_full_workflow_and_timeline(world):
    leader, staff = world["org_leader"], world["district_staff"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    services.transition(r, "submit", leader)
    assert r.status == ReportStatus.SUBMITTED
    with pytest.raises(ReportError, match="退回意见"):
        services.transition(r, "return", staff, "  ")
    services.transition(r, "return", staff, "请补充活动图片")
    assert r.status == ReportStatus.RETURNED
    services.transition(r, "resubmit", leader)
    assert r.status == ReportStatus.RESUBMITTED
    services.transition(r, "accept", staff, "")
    assert r.status == ReportStatus.ACCEPTED
    assert [s.action for s in r.steps] == ["submit", "return", "resubmit", "accept"]
    assert r.steps[1].comment == "请补充活动图片" and r.steps[1].actor_name


@pytest.mark.parametrize("status,action", [
    ("draft", "accept"), ("draft", "return"), ("draft", "resubmit"),
    ("submitted", "submit"), ("submitted", "resubmit"),
    ("returned", "submit"), ("returned", "accept"),
    ("accepted", "submit"), ("accepted", "return"), ("accepted", "accept"), ("accepted", "resubmit"),
    ("resubmitted", "submit"), ("resubmitted", "resubmit"),
])
def test_illegal_transitions_are_refused(world, status, action):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, status=status)
    actor = world["org_leader"] if action in ("submit", "resubmit") else world["district_staff"]
    with pytest.raises(ReportError, match="不能"):
        services.transition(r, action, actor, "意见")
    assert r.status == ReportStatus(status)


def test_only_the_right_people_move_a_report(world):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY)
    for u in (world["district_staff"], world["org_leader_2"], world["city_admin"]):
        with pytest.raises(ReportForbidden):
            services.transition(r, "submit", u)
    services.transition(r, "submit", world["org_leader"])
    for u in (world["org_leader"], world["district_staff_2"], world["leader"], world["city_admin"]):
        with pytest.raises(ReportForbidden):
            services.transition(r, "accept", u)


def test_district_report_is_reviewed_by_the_city(world):
    staff = world["district_staff"]
    r = factories.monthly_report(staff, world["district_a"], *MAY)
    services.transition(r, "submit", staff)
    with pytest.raises(ReportForbidden):
        services.transition(r, "accept", staff)
    services.transition(r, "accept", world["city_admin"])
    assert r.status == ReportStatus.ACCEPTED


def test_accepted_and_submitted_reports_are_locked(world):
    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY, status="accepted")
    with pytest.raises(ReportError, match="不能再修改"):
        services.save_draft(leader, r, DraftData(summary="改"), r.version)


def test_submit_needs_a_summary(world):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, summary="")
    with pytest.raises(ReportError, match="工作概况"):
        services.transition(r, "submit", world["org_leader"])


def test_review_results_notify_the_filer(world):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, status="returned")
    titles = [n.title for n in db.session.scalars(db.select(Notification).where(
        Notification.user_id == world["org_leader"].id))]
    assert any("退回" in t for t in titles)


def test_open_report_refuses_other_units_and_future_months(world):
    with pytest.raises(ReportForbidden):
        services.open_report(world["org_leader"], ReportLevel.ORG, world["org_b"].id, *MAY)
    with pytest.raises(ReportError):
        services.open_report(world["org_leader"], ReportLevel.ORG, world["org_a"].id, 2026, 7, today=date(2026, 6, 3))
    a = services.open_report(world["org_leader"], ReportLevel.ORG, world["org_a"].id, *MAY, today=date(2026, 6, 3))
    assert services.open_report(world["org_leader"], ReportLevel.ORG, world["org_a"].id, *MAY,
                                today=date(2026, 6, 3)).id == a.id  # one per org and month


# ---- deadlines ----------------------------------------------------------------------------------

def test_due_date_is_a_configurable_day_of_the_next_month(world):
    assert services.due_date(2026, 5) == date(2026, 6, 5)
    assert services.due_date(2026, 12) == date(2027, 1, 5)
    set_value(services.DEADLINE_KEY, 10)
    assert services.due_date(2026, 1) == date(2026, 2, 10)
    with pytest.raises(ReportError):
        services.set_deadline_day(31, world["city_admin"])


def test_late_and_missing_around_the_deadline(world):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, status="submitted")
    # 23:59 on 5 June in Shanghai is 15:59 UTC: on time; one minute later is late.
    r.first_submitted_at = datetime(2026, 6, 5, 15, 59)
    assert services.standing(r, *MAY, date(2026, 7, 1)) == Standing.ON_TIME
    r.first_submitted_at = datetime(2026, 6, 5, 16, 0)
    assert services.standing(r, *MAY, date(2026, 7, 1)) == Standing.LATE
    assert services.standing(None, *MAY, date(2026, 6, 5)) == Standing.NOT_DUE
    assert services.standing(None, *MAY, date(2026, 6, 6)) == Standing.MISSING
    draft = factories.monthly_report(world["org_leader"], world["org_a"], 2026, 4)
    assert services.standing(draft, 2026, 4, date(2026, 5, 6)) == Standing.MISSING


def test_matrix_colours_units_by_month(world):
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, status="accepted")
    r.first_submitted_at = datetime(2026, 6, 2, 2, 0)
    months, rows = services.matrix(world["district_staff"], ReportLevel.ORG, 2026, today=date(2026, 7, 10))
    assert [row.name for row in rows] == [world["org_a"].name]  # scope: only 赤坎区
    cells = rows[0].cells
    assert cells[4]["tone"] == "accepted" and cells[4]["report_id"] == r.id
    assert cells[5]["tone"] == "missing" and cells[6]["tone"] == "future"
    _, only = services.matrix(world["city_admin"], ReportLevel.ORG, 2026, only_problems=True, today=date(2026, 1, 3))
    assert only == []


# ---- 催报 ----------------------------------------------------------------------------------------

def test_reminders_go_only_to_overdue_organizations(world):
    late_org = factories.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    late_leader = factories.user("org_leader", "late_leader", orgs=[late_org])
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY, status="submitted")
    r.first_submitted_at = datetime(2026, 6, 1, 1, 0)
    entry = services.send_reminders(world["district_staff"], ReportLevel.ORG, *MAY, today=date(2026, 6, 8))
    assert entry.unit_count == 1 and entry.recipient_count == 1 and late_org.name in entry.units
    notes = list(db.session.scalars(db.select(Notification).where(Notification.title.like("催报%"))))
    assert [n.user_id for n in notes] == [late_leader.id]
    assert services.unread_count(late_leader) == 1
    assert db.session.scalar(db.select(db.func.count(ReminderLog.id))) == 1
    # org_b (霞山区) is late too but outside 赤坎区 staff's scope: not chased by them
    assert not db.session.scalars(db.select(Notification).where(
        Notification.user_id == world["org_leader_2"].id)).first()


def test_reminders_refused_before_the_deadline_and_for_the_wrong_people(world):
    with pytest.raises(ReportError, match="截止日"):
        services.send_reminders(world["district_staff"], ReportLevel.ORG, *MAY, today=date(2026, 6, 5))
    with pytest.raises(ReportForbidden):
        services.send_reminders(world["org_leader"], ReportLevel.ORG, *MAY, today=date(2026, 6, 8))
    with pytest.raises(ReportForbidden):
        services.send_reminders(world["district_staff"], ReportLevel.DISTRICT, *MAY, today=date(2026, 6, 8))


def test_city_chases_overdue_districts(world):
    r = factories.monthly_report(world["district_staff"], world["district_a"], *MAY, status="submitted")
    r.first_submitted_at = datetime(2026, 6, 1, 1, 0)
    entry = services.send_reminders(world["city_admin"], ReportLevel.DISTRICT, *MAY, today=date(2026, 6, 8))
    assert entry.units == "霞山区" and entry.recipient_count == 1
    assert services.unread_count(world["district_staff_2"]) == 1 and services.unread_count(world["district_staff"]) == 0


def test_mark_read(world):
    services.notify([world["org_leader"]], "测试")
    services.notify([world["org_leader_2"]], "别人的")
    assert services.mark_read(world["org_leader"]) == 1
    assert services.unread_count(world["org_leader"]) == 0 and services.unread_count(world["org_leader_2"]) == 1


# ---- publications -------------------------------------------------------------------------------

def test_needs_list_only_from_accepted_reports(world):
    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    services.save_draft(leader, r, DraftData(summary="概况", needs=[
        {"what": "助老理发", "place": "幸福社区", "contact": "王芳", "when": "6月每周六"}]), r.version)
    services.transition(r, "submit", leader)
    assert services.published_needs(*MAY) == []
    services.transition(r, "accept", world["district_staff"])
    assert [n.what for _, n in services.published_needs(*MAY)] == ["助老理发"]


def test_bulletin_ranks_on_time_reporting_then_activity(world):
    leader, leader2 = world["org_leader"], world["org_leader_2"]
    for m in (4, 5, 6):
        r = factories.monthly_report(leader, world["org_a"], 2026, m, status="submitted")
        r.first_submitted_at = datetime(2026, m + 1, 2, 1, 0)
    r = factories.monthly_report(leader2, world["org_b"], 2026, 4, status="submitted")
    r.first_submitted_at = datetime(2026, 5, 20, 1, 0)  # late
    v = factories.activity_volunteer(world["org_b"], registered_on=date(2025, 1, 1))
    factories.service_record(v, world["org_b"], date(2026, 5, 3), "6", by=leader2)
    b = services.bulletin(2026, 2, today=date(2026, 7, 10))
    orgs = {r.name: r for r in b["orgs"]}
    a, bb = orgs[world["org_a"].name], orgs[world["org_b"].name]
    assert (a.on_time, a.missing, a.rank) == (3, 0, 1)
    assert (bb.on_time, bb.late, bb.missing, bb.rank) == (0, 1, 2, 2)
    assert bb.hours_per_volunteer == Decimal("6.0")
    assert "按时报送 3 份" in b["summary"]


def test_lock_holds_when_another_request_moved_the_version_behind_this_session(world):
    from sqlalchemy import update

    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    stale = r.version
    db.session.execute(update(MonthlyReport).where(MonthlyReport.id == r.id).values(version=stale + 1)
                       .execution_options(synchronize_session=False))
    assert r.version == stale  # this session still believes the old version
    with pytest.raises(ReportConflict):
        services.save_draft(leader, r, DraftData(summary="迟到的保存"), stale)
    assert r.version == stale + 1


def test_autosaves_are_not_audited_but_workflow_steps_are(world):
    from core.audit import AuditEntry

    leader = world["org_leader"]
    r = factories.monthly_report(leader, world["org_a"], *MAY)
    db.session.flush()
    before = db.session.scalar(db.select(db.func.count(AuditEntry.id)))
    services.save_draft(leader, r, DraftData(summary="一"), r.version)
    services.save_draft(leader, r, DraftData(summary="二"), r.version)
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == before
    services.transition(r, "submit", leader)
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == before + 1


def test_city_level_organization_reports_to_the_city(world):
    city_org = factories.org(world["city"], "湛江市志愿服务联合会")
    boss = factories.user("org_leader", "city_org_leader", orgs=[city_org])
    r = factories.monthly_report(boss, city_org, *MAY, status="submitted")
    assert r.region_id == world["city"].id
    assert services.pending_reviews(world["city_admin"]) == 1 and services.unread_count(world["city_admin"]) == 1
    with pytest.raises(ReportForbidden):
        services.transition(r, "accept", world["district_staff"])
    services.transition(r, "accept", world["city_admin"])
    assert r.status == ReportStatus.ACCEPTED


def test_a_month_is_submitted_only_once_it_is_over(world):
    # Freezing figures mid-month would leave out the rest of the month and count activities not yet held.
    r = factories.monthly_report(world["org_leader"], world["org_a"], *MAY)
    for today in (date(2026, 5, 20), date(2026, 5, 31), date(2026, 4, 30)):
        with pytest.raises(ReportError, match="尚未结束"):
            services.transition(r, "submit", world["org_leader"], today=today)
    assert r.status == ReportStatus.DRAFT and r.figures_frozen_at is None and not r.steps
    services.transition(r, "submit", world["org_leader"], today=date(2026, 6, 1))
    assert r.status == ReportStatus.SUBMITTED
