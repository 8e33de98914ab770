"""The assessment's rules on constructed data: each indicator's numerator/denominator by hand,
scoring (linear vs pass/fail), grades, ranking with ties, freezing and re-opening."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.assessment import services
from blueprints.assessment.models import Method
from blueprints.regions.models import RegionYearFigure
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow
from blueprints.volunteers.models import PoliticalStatus, VolunteerStatus
from core.audit import AuditEntry
from core.extensions import db
from tests import factories

Y = 2026
D = Decimal


@pytest.fixture
def w(world):
    fig = db.session.scalar(select(RegionYearFigure).where(RegionYearFigure.region_id == world["district_a"].id,
                                                           RegionYearFigure.year == Y))
    fig.urban_population, fig.party_members, fig.league_members = 20, 6, 4
    db.session.flush()
    leader = factories.user(Role.ORG_LEADER, orgs=[world["org_a"], world["org_b"]])
    world["ol"] = leader
    return world


def vol(org, **kw):
    return factories.activity_volunteer(org, registered_on=kw.pop("registered_on", date(2025, 1, 1)), **kw)


def hours(v, org, by, *amounts, verified=True):
    for i, h in enumerate(amounts):
        factories.service_record(v, org, day=date(Y, 3, 1 + i), hours=str(h), verified=verified, by=by)


def measure(fn, w, key="district_a"):
    return fn(Y, [w["district_a"].id, w["district_b"].id])[w[key].id]


def test_registration_counts_registered_volunteers_of_the_district_against_urban_population(w):
    a = w["org_a"]
    vol(a), vol(a), vol(a)
    vol(a, registered_on=date(Y + 1, 1, 5))  # joins after the year: not counted
    vol(a, status=VolunteerStatus.DISMISSED, dismissed_on=date(2025, 6, 1))  # left before the year: not counted
    vol(w["org_b"])  # another district
    m = measure(services.m_registration, w)
    assert (m.numerator, m.denominator, m.value) == (3, 20, D("15.00"))
    assert m.link == ("volunteers.index", {"region": w["district_a"].id, "year": Y, "status": "active"})
    assert measure(services.m_registration, w, "district_b").numerator == 1


def test_party_league_counts_members_with_verified_hours(w):
    a, by = w["org_a"], w["ol"]
    p1 = vol(a, political_status=PoliticalStatus.PARTY_MEMBER)
    l1 = vol(a, political_status=PoliticalStatus.LEAGUE_MEMBER)
    p2 = vol(a, political_status=PoliticalStatus.PARTY_MEMBER)  # no hours
    p3 = vol(a, political_status=PoliticalStatus.PROBATIONARY)  # pending hours only
    m1 = vol(a)  # masses with hours
    hours(p1, a, by, 2), hours(l1, a, by, 3), hours(m1, a, by, 4), hours(p3, a, by, 5, verified=False)
    m = measure(services.m_party_league, w)
    assert (m.numerator, m.denominator, m.value) == (2, 10, D("20.00"))
    assert p2 is not None


def test_average_hours_only_verified_hours_per_registered_volunteer(w):
    a, by = w["org_a"], w["ol"]
    v1, v2, v3 = vol(a), vol(a), vol(a)
    hours(v1, a, by, 10, 5)
    hours(v2, a, by, 3)
    hours(v3, a, by, 8, verified=False)
    m = measure(services.m_avg_hours, w)
    assert (m.numerator, m.denominator, m.value) == (D("18.00"), 3, D("6.00"))


def test_officials_with_40_hours(w):
    """004 第15条: "倡导全省党员、公职人员每年从双休日和节假日中拿出7天以上时间（服务时长累计不少于40小时）"."""
    a, by = w["org_a"], w["ol"]
    ok = vol(a, political_status=PoliticalStatus.PARTY_MEMBER)
    hours(ok, a, by, 6, 6, 6, 6, 6, 6, 6)  # 42 h on 7 days
    few_days = vol(a, political_status=PoliticalStatus.PARTY_MEMBER)
    hours(few_days, a, by, 20, 20)  # 40 h, but on 2 days only
    short = vol(a, public_servant=True)
    hours(short, a, by, 10)
    vol(a, political_status=PoliticalStatus.PROBATIONARY)
    vol(a)  # not an official
    m = measure(services.m_officials, w)
    assert (m.numerator, m.denominator, m.value) == (1, 4, D("25.00"))
    assert m.link[1]["kind"] == "official_below" and m.link[1]["status"] == "active"
    assert "7 天以上" in m.num_label and "已注册为志愿者" in m.den_label


def test_officials_denominator_option_all_party_members(w):
    """004 第15条 (the same rule), measured against all party members of the district (区域年度数据 党员人数);
    the label says which denominator is used, and the option starts switched off."""
    a, by = w["org_a"], w["ol"]
    ok = vol(a, political_status=PoliticalStatus.PARTY_MEMBER)
    hours(ok, a, by, 6, 6, 6, 6, 6, 6, 6)
    official = vol(a, public_servant=True)  # a public servant who is no party member: not in this variant
    hours(official, a, by, 6, 6, 6, 6, 6, 6, 6)
    fig = db.session.scalar(select(RegionYearFigure).where(RegionYearFigure.region_id == w["district_a"].id,
                                                           RegionYearFigure.year == Y))
    m = measure(services.m_officials_all, w)
    assert m.numerator == 1 and m.denominator == fig.party_members
    assert m.value == (D(100) / D(fig.party_members)).quantize(D("0.01"))
    assert "全体党员" in m.den_label
    assert services.BY_CODE["officials_40h_all"].active is False and "全体党员" in services.BY_CODE["officials_40h_all"].name


def test_public_stations_and_wuyou(w):
    ca, ca2 = w["community_a"], w["community_a2"]
    factories.station(ca, station_type="park"), factories.station(w["town_a"], station_type="plaza")
    factories.station(ca, station_type="park", active=False)
    s_met = factories.station(ca)
    s_unmet = factories.station(ca2)
    factories.station_assessment(s_met, met=True, on=date(Y, 2, 1))
    factories.station_assessment(s_unmet, met=True, on=date(Y, 1, 1))
    factories.station_assessment(s_unmet, met={"place"}, on=date(Y, 4, 1))  # the latest one counts
    factories.station_assessment(s_met, met=False, on=date(Y + 1, 1, 1))  # after the year: ignored
    m = measure(services.m_public_stations, w)
    assert (m.numerator, m.value) == (2, 2)
    m = measure(services.m_wuyou, w)
    assert (m.numerator, m.denominator, m.value) == (1, 2, D("50.00"))


def test_theme_months_count_distinct_months_of_held_concentrated_activities(w):
    plan = ThemePlan(year=Y, region=w["city"], title="t", status=PlanStatus.PUBLISHED)
    row = ThemePlanRow(month_start=1, month_end=12, name="主题")
    plan.rows.append(row)
    db.session.add(plan)
    db.session.flush()
    for held, concentrated in ((date(Y, 1, 10), True), (date(Y, 2, 10), True), (date(Y, 2, 20), False),
                               (date(Y, 3, 5), False)):
        act = factories.activity(w["org_a"], held_on=held)
        db.session.add(ThemeActivity(activity_id=act.id, theme_row_id=row.id, unit_region_id=w["district_a"].id,
                                     year=Y, month=held.month, is_concentrated=concentrated))
    db.session.flush()
    m = measure(services.m_theme_months, w)
    assert (m.numerator, m.denominator, m.value) == (2, 12, 2)


@pytest.mark.parametrize("method,value,target,weight,expected", [
    (Method.LINEAR, D("10"), D("20"), D("15"), D("7.50")),
    (Method.LINEAR, D("30"), D("20"), D("15"), D("15.00")),  # capped at the weight
    (Method.LINEAR, D("0"), D("20"), D("15"), D("0.00")),
    (Method.LINEAR, None, D("20"), D("15"), D("0.00")),  # no data
    (Method.PASS_FAIL, D("89.99"), D("90"), D("15"), D("0.00")),
    (Method.PASS_FAIL, D("90"), D("90"), D("15"), D("15.00")),
    (Method.LINEAR, D("1"), D("3"), D("10"), D("3.33")),
])
def test_score(method, value, target, weight, expected):
    assert services.score(method, value, target, weight) == expected


@pytest.mark.parametrize("total,expected", [(D("90"), "优秀"), (D("89.99"), "良好"), (D("80"), "良好"),
                                            (D("60"), "合格"), (D("59.99"), "不合格"), (D("0"), "不合格")])
def test_grade_edges(total, expected):
    assert services.grade(total, D("100"), D("90"), D("80"), D("60")) == expected


def test_grade_is_a_share_of_the_total_weight():
    assert services.grade(D("45"), D("50"), D("90"), D("80"), D("60")) == "优秀"


def test_ranking_with_ties():
    assert services.rank([D("80"), D("90"), D("80"), D("70")]) == [2, 1, 2, 4]


def _setup(w):
    services.ensure_year(Y)
    survey = next(i for i in services.indicators(Y) if i.code == "survey")
    services.save_value(w["city_admin"], survey, w["district_a"], entered=D("95"), adjusted=None, reason="")
    services.save_value(w["city_admin"], survey, w["district_b"], entered=D("80"), adjusted=None, reason="")
    return survey


def test_results_score_entered_survey_and_rank_districts(w):
    _setup(w)
    res = services.compute(Y)
    a, b = res.district(w["district_a"].id), res.district(w["district_b"].id)
    sa = next(c for c in a.cells if c.code == "survey")
    sb = next(c for c in b.cells if c.code == "survey")
    assert (sa.value, sa.score, sb.score) == (D("95"), D("15.00"), D("0.00"))
    assert a.total > b.total and (a.rank, b.rank) == (1, 2)
    assert res.total_weight == D("100.00")


def test_adjustment_needs_a_reason_and_is_audited(w):
    _setup(w)
    ind = next(i for i in services.indicators(Y) if i.code == "public_stations")
    with pytest.raises(services.AssessmentError) as e:
        services.save_value(w["city_admin"], ind, w["district_a"], entered=None, adjusted=D("5"), reason="")
    assert e.value.field == "reason"
    with pytest.raises(services.AssessmentError):
        services.save_value(w["city_admin"], ind, w["district_a"], entered=D("5"), adjusted=None, reason="")
    services.save_value(w["city_admin"], ind, w["district_a"], entered=None, adjusted=D("5"), reason="核查后补录两处站点")
    db.session.flush()
    cell = next(c for c in services.compute(Y).district(w["district_a"].id).cells if c.code == "public_stations")
    assert (cell.computed, cell.value, cell.adjusted, cell.score) == (0, D("5"), True, D("10.00"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "assessment_value"))
    assert entry is not None and entry.region_id == w["district_a"].id


def test_ensure_year_copies_the_previous_year(w):
    services.ensure_year(Y)
    ind = services.indicators(Y)[0]
    services.update_indicator(ind, name=ind.name, target=D("12"), weight=ind.weight, method="pass_fail", active=True)
    services.ensure_year(Y + 1)
    nxt = services.indicators(Y + 1)[0]
    assert (nxt.code, nxt.target, nxt.method) == (ind.code, D("12"), Method.PASS_FAIL)


def test_freeze_keeps_results_when_data_changes_and_reopen_is_audited(w):
    _setup(w)
    a = w["org_a"]
    v = vol(a)
    hours(v, a, w["ol"], 4)
    services.freeze(w["city_admin"], Y)
    before = services.results(Y)
    assert before.frozen
    cell = next(c for c in before.district(w["district_a"].id).cells if c.code == "avg_hours")
    for _ in range(3):
        vol(a)  # later registrations would lower the average
    db.session.flush()
    live = next(c for c in services.compute(Y).district(w["district_a"].id).cells if c.code == "avg_hours")
    after = next(c for c in services.results(Y).district(w["district_a"].id).cells if c.code == "avg_hours")
    assert (cell.value, after.value, live.value) == (D("4.00"), D("4.00"), D("1.00"))
    with pytest.raises(services.AssessmentError):  # frozen: no edits
        survey = next(i for i in services.indicators(Y) if i.code == "survey")
        services.save_value(w["city_admin"], survey, w["district_a"], entered=D("50"), adjusted=None, reason="")
    with pytest.raises(services.AssessmentError):
        services.reopen(w["city_admin"], Y, "")
    services.reopen(w["city_admin"], Y, "区县数据补报后重新计算")
    assert not services.results(Y).frozen
    entries = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.entity == "assessment_year")).all()
    assert any("定稿" in s for s in entries) and any("区县数据补报后重新计算" in s for s in entries)


def test_frozen_time_is_shown_in_local_time(w):
    """The snapshot's created_at is stored as naive UTC; the badge shows Asia/Shanghai time."""
    from datetime import datetime
    _setup(w)
    snap = services.freeze(w["city_admin"], Y)
    snap.created_at = datetime(2026, 1, 5, 17, 30)  # 17:30 UTC = 01:30 the next day in 湛江
    db.session.flush()
    services._MEMO.clear()
    assert services.results(Y).frozen_at == "2026-01-06 01:30"


def test_thresholds_must_descend(w):
    ay = services.ensure_year(Y)
    with pytest.raises(services.AssessmentError):
        services.update_thresholds(ay, D("80"), D("85"), D("60"))
    services.update_thresholds(ay, D("95"), D("85"), D("70"))
    assert ay.excellent == D("95")


def test_reports_on_time_counts_district_reports_first_submitted_by_the_deadline(w):
    from datetime import datetime

    staff = w["district_staff"]
    stamps = {1: datetime(2025, 2, 3, 2), 2: datetime(2025, 3, 20, 2), 3: datetime(2025, 4, 5, 8), 4: None}
    for month, first in stamps.items():
        r = factories.monthly_report(staff, w["district_a"], 2025, month, status="submitted" if first else "draft")
        r.first_submitted_at = first
    r = factories.monthly_report(w["district_staff_2"], w["district_b"], 2025, 1, status="submitted")
    r.first_submitted_at = datetime(2025, 2, 1, 2)
    db.session.flush()
    m = services.m_reports_on_time(2025, [w["district_a"].id, w["district_b"].id])
    a = m[w["district_a"].id]
    assert (a.numerator, a.denominator, a.value) == (2, 12, 2)  # January and March; February late, April never
    assert m[w["district_b"].id].numerator == 1
    assert a.link == ("reports.matrix", {"level": "district", "year": 2025})


def test_results_follow_data_changes_through_the_memo(w):
    _setup(w)
    before = services.results(Y).district(w["district_a"].id)
    a = w["org_a"]
    v = vol(a)
    hours(v, a, w["ol"], 6)
    after = services.results(Y).district(w["district_a"].id)
    reg = lambda row: next(c for c in row.cells if c.code == "registration")  # noqa: E731
    assert reg(after).numerator == reg(before).numerator + 1
    assert services.data_version(Y) == services.data_version(Y)


def test_frozen_key_figures_do_not_follow_later_registrations(w):
    _setup(w)
    vol(w["org_a"])
    services.freeze(w["city_admin"], Y)
    ids = [w["district_a"].id, w["district_b"].id]
    before = services.key_figures(Y, ids)
    vol(w["org_a"]), vol(w["org_b"])
    db.session.flush()
    assert services.key_figures(Y, ids).volunteers == before.volunteers == 1
    assert services._key_figures(Y, ids).volunteers == 3  # the live figure moved on
    services.reopen(w["city_admin"], Y, "补报数据后重新计算")
    assert services.key_figures(Y, ids).volunteers == 3


def test_survey_indicator_is_approval_and_support_not_satisfaction(w):
    """000: "市民对志愿服务活动认同和支持率达到90%以上" — the survey indicator is 认同和支持率, not 满意率."""
    survey = services.BY_CODE["survey"]
    assert "认同和支持率" in survey.name and survey.target == 90 and survey.compute is None
    assert not any("满意" in d.name or "满意" in d.short for d in services.DEFINITIONS)
    services.ensure_year(Y + 1)
    stored = next(i for i in services.indicators(Y + 1) if i.code == "survey")
    assert stored.name == survey.name
    res = services.compute(Y + 1)
    cell = next(c for c in res.districts[0].cells if c.code == "survey")
    assert "认同和支持率" in cell.num_label
    # The denominator option starts switched off, so the default weights still sum to 100.
    assert sum(i.weight for i in services.indicators(Y + 1)) == 100
