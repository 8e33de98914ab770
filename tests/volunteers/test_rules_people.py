"""Rules about people that act at the right level (issue 18): 劝退 at the station with its history,
骨干 per community, the officials' 40 h on 7 days, 工作单位."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.awards.services import eligibility, volunteer_facts
from blueprints.volunteers import ledger, services
from blueprints.volunteers.models import (DismissalAction, DismissalEvent, DismissalLevel, ReportStatus,
                                          VolunteerCommunityHours, VolunteerStatus, VolunteerYearHours)
from core.extensions import db
from core.timeutil import local_today
from tests import factories

TODAY = local_today()
YEAR = TODAY.year


def _member(v, org):
    return next(m for m in v.memberships if m.organization_id == org.id)


def _two_org_volunteer(world, **kw):
    v = factories.volunteer(world["org_a"], registered_on=date(YEAR - 1, 1, 1), **kw)
    other = factories.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    services.add_membership(world["city_admin"], v, other)
    return v, other


# ---- 劝退 -------------------------------------------------------------------------------------------

def test_station_dismissal_ends_that_membership_only(world):
    """001 附件4 第五条: "志愿者出现下列情形之一的，本站可以对其劝退" — the station's act ends the
    membership in that organization, not the person's standing in the city."""
    v, other = _two_org_volunteer(world)
    m = _member(v, world["org_a"])
    e = services.dismiss_membership(world["org_leader"], m, "disobedience", TODAY, "多次无故缺席")
    assert m.dismissed_on == TODAY and not m.is_active
    assert v.status == VolunteerStatus.ACTIVE  # still registered city-wide
    assert _member(v, other).is_active and _member(v, other).is_primary  # the primary moved to where they serve
    assert (e.level, e.action, e.organization_id, e.report_status) == (
        DismissalLevel.ORGANIZATION, DismissalAction.DISMISS, world["org_a"].id, None)
    # The dismissing organization records no later service; the other one still does.
    m.dismissed_on = TODAY - timedelta(days=3)
    with pytest.raises(ledger.LedgerError, match="被本组织劝退"):
        ledger.create_record(world["org_leader"], v, world["org_a"], TODAY, 2, "清洁")
    ledger.create_record(world["org_leader"], v, world["org_a"], TODAY - timedelta(days=4), 2, "补录劝退前的服务")
    ledger.create_record(world["city_admin"], v, other, TODAY, 2, "在和平社区服务")
    # Nor can the same organization register the person again.
    with pytest.raises(services.VolunteerError, match="被该组织劝退"):
        services.add_membership(world["city_admin"], v, world["org_a"])


def test_dismissal_needs_a_reason_date_and_a_note_when_reported(world):
    """001 附件4 第五条: one of the four grounds; "行为加重者，报上级志愿服务组织备案" needs the facts."""
    v = factories.volunteer(world["org_a"], registered_on=date(YEAR - 1, 1, 1))
    m = _member(v, world["org_a"])
    with pytest.raises(services.VolunteerError, match="劝退原因"):
        services.dismiss_membership(world["org_leader"], m, "rude", TODAY)
    with pytest.raises(services.VolunteerError, match="晚于今天"):
        services.dismiss_membership(world["org_leader"], m, "harm", TODAY + timedelta(days=1))
    with pytest.raises(services.VolunteerError, match="早于加入本组织"):
        services.dismiss_membership(world["org_leader"], m, "harm", m.joined_on - timedelta(days=1))
    with pytest.raises(services.VolunteerError, match="情况说明") as e:
        services.dismiss_membership(world["org_leader"], m, "harm", TODAY, "", report=True)
    assert e.value.field == "note"
    assert m.is_active and not db.session.scalars(select(DismissalEvent)).all()


def test_serious_case_is_reported_and_the_district_decides_city_wide(world):
    """001 附件4 第五条: "行为加重者，报上级志愿服务组织备案" — the district office sees the report in its
    queue and may decide a city-wide 劝退, kept as its own record."""
    v, other = _two_org_volunteer(world)
    report = services.dismiss_membership(world["org_leader"], _member(v, world["org_a"]), "profit", TODAY,
                                         "以志愿者名义推销保健品", report=True)
    assert report.report_status == ReportStatus.PENDING
    assert services.report_queue(world["district_staff"]) == [report]
    assert services.report_queue(world["district_staff_2"]) == []  # another district's office
    assert services.report_queue(world["org_leader"]) == [report]  # the reporting org sees its own
    with pytest.raises(services.VolunteerError, match="区县文明办"):
        services.decide_report(world["org_leader"], report, "city", "同意")
    with pytest.raises(services.VolunteerError, match="处理意见"):
        services.decide_report(world["district_staff"], report, "city", " ")
    services.decide_report(world["district_staff"], report, "city", "情节严重，全市劝退")
    assert report.report_status == ReportStatus.ESCALATED and report.decided_by_id == world["district_staff"].id
    assert v.status == VolunteerStatus.DISMISSED and v.dismiss_reason.value == "profit"
    city = [e for e in services.dismissal_history(v) if e.level == DismissalLevel.CITY]
    assert len(city) == 1 and city[0].note == "情节严重，全市劝退" and city[0].organization_id is None
    assert services.report_queue(world["district_staff"]) == []
    assert services.report_queue(world["district_staff"], pending=False) == [report]
    # City-wide: no organization may take the person in.
    with pytest.raises(services.VolunteerError, match="全市劝退"):
        services.add_membership(world["city_admin"], v, factories.org(world["community_b"]))
    with pytest.raises(services.VolunteerError, match="已处理"):
        services.decide_report(world["district_staff"], report, "file", "再次处理")


def test_a_report_may_be_filed_without_a_city_wide_dismissal(world):
    """001 附件4 第五条: "报上级志愿服务组织备案" — 备案 alone leaves the person's other memberships."""
    v, other = _two_org_volunteer(world)
    report = services.dismiss_membership(world["org_leader"], _member(v, world["org_a"]), "violation", TODAY,
                                         "屡次违反站点规定", report=True)
    services.decide_report(world["district_staff"], report, "file", "已备案，由本站处理")
    assert report.report_status == ReportStatus.FILED and v.status == VolunteerStatus.ACTIVE
    assert _member(v, other).is_active


def test_reinstating_keeps_the_history_and_awards_read_it(world):
    """001 附件4 第五条 (劝退) and the award rule "无劝退记录": reinstating adds a record (who, when, why)
    instead of clearing the 劝退, so the eligibility check still sees it."""
    v = factories.volunteer(world["org_a"], registered_on=date(YEAR - 1, 1, 1))
    m = _member(v, world["org_a"])
    kind = factories.award_kind(factories.award_campaign())
    assert not volunteer_facts(v, TODAY)["dismissed"]
    services.dismiss_membership(world["org_leader"], m, "disobedience", TODAY, "缺席")
    with pytest.raises(services.VolunteerError, match="恢复原因"):
        services.reinstate_membership(world["org_leader"], m, "")
    services.reinstate_membership(world["org_leader"], m, "经谈话已改正")
    assert m.is_active
    history = services.dismissal_history(v)
    assert [(e.level, e.action) for e in history] == [(DismissalLevel.ORGANIZATION, DismissalAction.DISMISS),
                                                      (DismissalLevel.ORGANIZATION, DismissalAction.RESTORE)]
    assert history[1].note == "经谈话已改正" and history[1].by_id == world["org_leader"].id
    facts = volunteer_facts(v, TODAY)
    assert facts["dismissed"] and world["org_a"].name in facts["dismissals"][0]
    assert "该志愿者有劝退记录，不符合推荐条件" in eligibility(kind, facts)
    # City-wide the same: reinstating in the city keeps the 劝退 row and adds a 恢复 row.
    services.dismiss_membership(world["org_leader"], m, "harm", TODAY, "造成损失")
    services.dismiss(world["district_staff"], v, "harm", TODAY, "造成损失")
    with pytest.raises(services.VolunteerError, match="区县文明办恢复"):
        services.reinstate_membership(world["org_leader"], m, "本站同意恢复")
    services.reinstate(world["district_staff"], v, "复核后恢复")
    assert v.status == VolunteerStatus.ACTIVE
    assert [e.action for e in services.dismissal_history(v)][-2:] == [DismissalAction.DISMISS, DismissalAction.RESTORE]
    assert len(services.dismissal_records(v.id)) == 3


# ---- 骨干 ----------------------------------------------------------------------------------------------

def _hours(v, org, amounts, start=None):
    start = start or date(YEAR, 1, 2)
    for i, h in enumerate(amounts):
        factories.service_record(v, org, day=min(start + timedelta(days=i), TODAY), hours=str(h))


def test_core_counts_the_hours_served_in_one_community(world):
    """001 附件4 第四条: "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册" — hours in
    organizations of that community count; hours spread over communities do not add up."""
    v, other = _two_org_volunteer(world)
    _hours(v, world["org_a"], [8, 8, 8])  # 24 h in 幸福社区
    _hours(v, other, [8, 8, 8], start=date(YEAR, 1, 10))  # 24 h in 和平社区
    assert v.total_hours >= 48
    assert ledger.core_communities(v, YEAR) == [] and not ledger.figures_for(v, YEAR).is_core
    assert not ledger.is_core_in(v, world["community_a"], YEAR)
    assert v.id not in ledger.core_id_set([v.id], YEAR)
    _hours(v, world["org_a"], [8, 8, 8], start=date(YEAR, 1, 20))  # now 48 h in 幸福社区
    assert ledger.core_communities(v, YEAR) == [world["community_a"]]
    assert ledger.is_core_in(v, world["community_a"], YEAR) and not ledger.is_core_in(v, world["community_a2"], YEAR)
    figures = ledger.figures_for(v, YEAR)
    assert figures.is_core and figures.kind_label == "志愿者骨干"
    assert [(c.community.id, c.hours) for c in figures.communities] == [
        (world["community_a"].id, Decimal("48.0")), (world["community_a2"].id, Decimal("24.0"))]
    rows = services.decorate([v], YEAR)
    assert rows[0].is_core


def test_a_town_organization_counts_for_the_community_of_the_station_it_manages(world):
    """001 附件4 第四条 "在本社区服务": an organization registered at the street that runs the station of
    one community counts for that community; one of no single community counts for none."""
    street_org = factories.org(world["town_a"], "中华街道志愿服务大队")
    assert street_org.id not in ledger.org_communities()
    station = factories.station(world["community_a2"])
    station.organization_id = street_org.id
    db.session.flush()
    assert ledger.org_communities()[street_org.id] == world["community_a2"].id
    v = factories.volunteer(street_org, registered_on=date(YEAR - 1, 1, 1))
    _hours(v, street_org, [12, 12, 12, 12])
    assert ledger.core_communities(v, YEAR) == [world["community_a2"]]


def test_the_cached_figures_equal_a_rebuild(world):
    """The per-community hours and the days are a cache of the verified ledger: a rebuild gives the same."""
    v, other = _two_org_volunteer(world)
    _hours(v, world["org_a"], [5, 5])
    _hours(v, other, [3])
    factories.service_record(v, other, day=date(YEAR, 1, 2), hours="1")  # a second record on a day already counted
    def snapshot():
        return (sorted((r.community_id, r.year, r.hours) for r in db.session.scalars(select(VolunteerCommunityHours))),
                sorted((r.volunteer_id, r.year, r.hours, r.days) for r in db.session.scalars(select(VolunteerYearHours))))
    before = snapshot()
    assert (v.id, YEAR, Decimal("14.0"), 2) in before[1]
    ledger.rebuild_all_figures()
    assert snapshot() == before


# ---- 党员、公职人员: 40 h on 7 days, 工作单位 -------------------------------------------------------

def test_officials_are_advocated_40_hours_on_7_days(world):
    """004 第15条: "倡导全省党员、公职人员每年从双休日和节假日中拿出7天以上时间（服务时长累计不少于40小时）"."""
    assert ledger.official_met(Decimal("40"), 7) and not ledger.official_met(Decimal("40"), 6)
    assert not ledger.official_met(Decimal("39.9"), 10)
    assert ledger.official_below(True, False, Decimal("48"), 6) and not ledger.official_below(False, False, 0, 0)
    v = factories.volunteer(world["org_a"], political_status="party_member", registered_on=date(YEAR - 1, 1, 1))
    _hours(v, world["org_a"], [10, 10, 10, 10])  # 40 h on 4 days
    figures = ledger.figures_for(v, YEAR)
    assert figures.year_days == 4 and figures.official_below


def test_work_unit_report_shows_a_units_members_in_scope(world):
    """004 第12条: "各级基层党组织要把共产党员志愿服务情况作为党的建设的重要内容" — by 工作单位."""
    a = factories.volunteer(world["org_a"], name="财政甲", political_status="party_member", work_unit="湛江市财政局",
                            registered_on=date(YEAR - 1, 1, 1))
    factories.volunteer(world["org_a"], name="教育乙", work_unit="赤坎区教育局")
    b = factories.volunteer(world["org_b"], name="财政丙", public_servant=True, work_unit="湛江市财政局")
    _hours(a, world["org_a"], [6] * 7)
    report = services.work_unit_report(world["district_staff"], "财政局", YEAR)
    assert [r.v.id for r in report.rows] == [a.id]  # 财政丙 is in another district
    assert report.rows[0].met and report.rows[0].days == 7 and report.met == 1 and report.total_hours == Decimal("42.0")
    assert {r.v.id for r in services.work_unit_report(world["city_admin"], "财政局", YEAR).rows} == {a.id, b.id}
    assert "湛江市财政局" in services.work_units(world["district_staff"])
    assert "赤坎区教育局" not in services.work_units(world["district_staff_2"])
    assert a.work_unit == "湛江市财政局"


def test_the_portal_counts_core_progress_in_one_community(world):
    """001 附件4 第四条: "每年在本社区服务时长达48小时以上" — the volunteer's own page measures the same."""
    from blueprints.portal.services import summary

    v, other = _two_org_volunteer(world)
    _hours(v, world["org_a"], [10, 10, 10])
    _hours(v, other, [10, 10], start=date(YEAR, 1, 10))
    s = summary(world["city_admin"], v, TODAY)
    assert s.year_hours == Decimal("50.0") and s.community_hours == Decimal("30.0") and not s.core_done
    _hours(v, world["org_a"], [9, 9], start=date(YEAR, 1, 20))
    assert summary(world["city_admin"], v, TODAY).core_done


def test_a_member_dismissed_by_the_organizer_cannot_sign_up_for_its_activities(world):
    """001 附件4 第五条: "本站可以对其劝退" — the organization's own activities are closed to them."""
    from blueprints.activities import services as activities

    v, other = _two_org_volunteer(world)
    a = factories.activity(world["org_a"], held_on=TODAY + timedelta(days=7))
    assert v in activities.candidates(a, "")[0]
    services.dismiss_membership(world["org_leader"], _member(v, world["org_a"]), "disobedience", TODAY, "缺席")
    assert v not in activities.candidates(a, "")[0]
    with pytest.raises(activities.ActivityError, match="劝退"):
        activities.sign_up(world["org_leader"], a, [v.id])
