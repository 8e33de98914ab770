"""Training rules (培训制度, seeds 000, 001, 004 §4), without requests."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from blueprints.training import services
from blueprints.training.models import TrainingAttendee, TrainingCourse, TrainingSession
from blueprints.volunteers.models import TrainingRecord, Volunteer, VolunteerYearHours
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


@pytest.fixture
def w(world):
    w = world
    w["course"] = f.training_course(w["city"], "pre_service")
    w["core_course"] = f.training_course(w["city"], "core")
    w["v1"] = f.activity_volunteer(w["org_a"], "李明")
    w["v2"] = f.activity_volunteer(w["org_a"], "王芳")
    db.session.commit()
    return w


def test_attendance_writes_training_records_apart_from_service_hours(w):
    """000: "完善志愿者岗前培训制度、培训课程登记制度" — training is recorded with its hours, and those hours are
    never service hours (the ledger's verified hours stay as they were)."""
    f.service_record(w["v1"], w["org_a"], day=local_today() - timedelta(days=2), hours="3", by=w["org_leader"])
    db.session.flush()
    before = db.session.get(Volunteer, w["v1"].id).total_hours
    s = f.training_session(w["course"], w["org_a"], held_on=local_today() - timedelta(days=1), hours="4")
    added = services.mark_attended(w["org_leader"], s, [w["v1"].id, w["v2"].id])
    assert len(added) == 2
    rec = db.session.scalar(select(TrainingRecord).where(TrainingRecord.volunteer_id == w["v1"].id))
    assert rec.hours == Decimal("4.0") and rec.name == "志愿者岗前培训"
    db.session.refresh(w["v1"])
    assert w["v1"].total_hours == before == Decimal("3.0")
    year = db.session.scalar(select(func.sum(VolunteerYearHours.hours)).where(VolunteerYearHours.volunteer_id == w["v1"].id))
    assert year == Decimal("3.0")


def test_pre_service_done_is_derived_from_attended_pre_service_sessions(w):
    """000: "完善志愿者岗前培训制度" — a volunteer's 岗前培训 is done once they attended a 岗前 session."""
    skill = f.training_course(w["city"], "skill")
    s_skill = f.training_session(skill, w["org_a"], held_on=local_today() - timedelta(days=3))
    services.mark_attended(w["org_leader"], s_skill, [w["v1"].id])
    assert services.pre_service_date(w["v1"]) is None
    day = local_today() - timedelta(days=1)
    s = f.training_session(w["course"], w["org_a"], held_on=day)
    services.mark_attended(w["org_leader"], s, [w["v1"].id])
    assert services.pre_service_date(w["v1"]) == day
    done = set(db.session.scalars(select(Volunteer.id).where(services.pre_service_done_clause())))
    assert done == {w["v1"].id}
    services.remove_attendee(w["org_leader"], s.attendees[0])
    assert services.pre_service_date(w["v1"]) is None
    assert db.session.scalar(select(func.count()).select_from(TrainingRecord)) == 1  # the skill one only


def test_core_training_admits_only_core_volunteers(w):
    """001 附件4 第四条: "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册，享有参加社区组织的各类志愿者
    培训活动资格。" — a 骨干培训 session refuses a 流动志愿者 and admits a 骨干."""
    today = local_today()
    for i in range(6):  # 48 h verified on six days (this year or, early in January, the year before: both count)
        f.service_record(w["v1"], w["org_a"], day=today - timedelta(days=i + 1), hours="8", by=w["org_leader"])
    s = f.training_session(w["core_course"], w["org_a"], held_on=today)
    assert services.may_attend(s, [w["v1"].id, w["v2"].id]) == {w["v1"].id}
    with pytest.raises(services.TrainingError, match="骨干培训只限志愿者骨干"):
        services.mark_attended(w["org_leader"], s, [w["v1"].id, w["v2"].id])
    assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 0  # nothing half-saved
    services.mark_attended(w["org_leader"], s, [w["v1"].id])
    assert [a.volunteer_id for a in s.attendees] == [w["v1"].id]


def test_attendance_only_from_the_roster_after_the_session(w):
    """001: "由社区根据志愿服务项目的要求……对志愿者进行相关知识和技能培训" — attendance comes from the organizing
    organization's members, once the session has been held, within its capacity."""
    other = f.activity_volunteer(w["org_b"], "赵强")
    s = f.training_session(w["course"], w["org_a"], held_on=local_today() - timedelta(days=1), capacity=1)
    with pytest.raises(services.TrainingError, match="在册成员"):
        services.mark_attended(w["org_leader"], s, [other.id])
    with pytest.raises(services.TrainingError, match="人数上限"):
        services.mark_attended(w["org_leader"], s, [w["v1"].id, w["v2"].id])
    future = f.training_session(w["course"], w["org_a"], held_on=local_today() + timedelta(days=3))
    with pytest.raises(services.TrainingError, match="尚未举行"):
        services.mark_attended(w["org_leader"], future, [w["v1"].id])
    assert {v.id for v in services.roster(s)} == {w["v1"].id, w["v2"].id}


def test_share_of_new_volunteers_trained_per_district(w):
    """000: "完善志愿者岗前培训制度" — the share of the year's new volunteers who attended 岗前培训, per district."""
    year = local_today().year
    new_a = [f.activity_volunteer(w["org_a"], f"新人{i}", registered_on=date(year, 1, 2)) for i in range(4)]
    f.activity_volunteer(w["org_b"], "新人乙", registered_on=date(year, 1, 2))
    s = f.training_session(w["course"], w["org_a"], held_on=local_today())
    services.mark_attended(w["org_leader"], s, [new_a[0].id, w["v1"].id])  # v1 registered in 2020: not new
    rows, total = services.coverage(w["city_admin"], year)
    by_name = {r.name: r for r in rows}
    assert (by_name["赤坎区"].new, by_name["赤坎区"].trained, by_name["赤坎区"].share) == (4, 1, Decimal("25.0"))
    assert (by_name["霞山区"].new, by_name["霞山区"].trained) == (1, 0)
    assert (total.new, total.trained) == (5, 1)
    rows, total = services.coverage(w["district_staff_2"], year)  # scope: only their district
    assert [r.name for r in rows] == ["霞山区"] and total.trained == 0
    assert services.trained_new_count(w["district_staff"], year) == 1


def test_course_catalogue_kept_by_offices(w):
    """000: "设置志愿培训课程，完善……培训课程登记制度" — city and district offices keep the catalogue; a district
    edits only its own courses, an org leader none."""
    c = services.save_course(w["district_staff"], None, "法律援助技能", "skill", "", "3")
    assert c.region_id == w["district_a"].id
    assert services.can_edit_course(w["district_staff"], c) and services.can_edit_course(w["city_admin"], c)
    assert not services.can_edit_course(w["district_staff_2"], c)
    assert not services.can_edit_course(w["district_staff"], w["course"])  # the city's course
    with pytest.raises(services.TrainingError):
        services.save_course(w["org_leader"], None, "x", "skill", "", "2")
    with pytest.raises(services.TrainingError, match="学时"):
        services.save_course(w["city_admin"], None, "x", "skill", "", "30")


def test_a_refused_course_leaves_nothing_behind(w):
    """Bad input is refused before any row is added (the page re-shown after it must not flush half a course)."""
    with pytest.raises(services.TrainingError):
        services.save_course(w["city_admin"], None, "急救", "skill", "", "\ufeff\u200b")
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(TrainingCourse)) == 2


def test_a_refused_session_leaves_nothing_behind(w):
    d = services.SessionData(course_id=w["course"].id, organization_id=w["org_a"].id, held_on=local_today(),
                             place="社区", hours="长长长")
    with pytest.raises(services.TrainingError):
        services.save_session(w["org_leader"], None, d)
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0
