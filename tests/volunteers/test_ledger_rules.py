"""Rules of the service-hour ledger (blueprints/volunteers/ledger.py), without requests."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from blueprints.volunteers import ledger
from blueprints.volunteers.models import (PoliticalStatus, RecordCorrection, RecordStatus, RequestStatus,
                                          ServiceRecord, Volunteer, VolunteerYearHours)
from core.extensions import db
from core.timeutil import local_today
from tests import factories

TODAY = local_today()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def w(world):
    world["v"] = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    db.session.flush()
    return world


def _cache(v: Volunteer) -> tuple[Decimal, dict[int, Decimal]]:
    db.session.expire_all()
    v = db.session.get(Volunteer, v.id)
    years = {y: h for y, h in db.session.execute(
        select(VolunteerYearHours.year, VolunteerYearHours.hours).where(VolunteerYearHours.volunteer_id == v.id))}
    return v.total_hours, years


def _assert_cache_exact(v: Volunteer) -> None:
    records = list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)))
    total, years = _cache(v)
    assert total == ledger.verified_total(records)
    assert years == ledger.hours_per_year(records)


# ---- one record -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, message", [("0", "大于 0"), ("-2", "大于 0"), ("abc", "请填写时长"), ("", "请填写时长"),
                                          ("2.25", "一位小数"), ("25", "24 小时"), ("NaN", "请填写时长")])
def test_hours_must_be_a_positive_number_with_one_decimal(raw, message):
    with pytest.raises(ledger.LedgerError) as e:
        ledger.parse_hours(raw)
    assert message in e.value.message and e.value.field == "hours"


def test_a_new_record_is_pending_and_does_not_count(w):
    r = ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "3.5", "社区环境清洁")
    assert r.status == RecordStatus.PENDING and r.hours == Decimal("3.5") and r.recorded_by_id == w["org_leader"].id
    assert _cache(w["v"])[0] == 0
    fig = ledger.figures_for(w["v"])
    assert fig.total == 0 and fig.pending_count == 1 and fig.pending_hours == Decimal("3.5")


def test_24_hours_a_day_across_all_records_of_the_person(w):
    other = factories.org(w["community_a"], "赤坎区第二志愿服务队")
    w["v"].memberships.append(factories_membership(other))
    ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "20", "夜间值守")
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader"], w["v"], other, YESTERDAY, "4.5", "另一组织的服务")
    assert "24 小时" in e.value.message and "最多还可记录 4.0 小时" in e.value.message
    ledger.create_record(w["org_leader"], w["v"], other, YESTERDAY, "4", "另一组织的服务")  # exactly 24 is fine
    # another day is another day
    ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY - timedelta(days=1), "8", "次日")


def test_editing_a_record_does_not_count_itself_twice_and_void_records_free_the_day(w):
    r = ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "20", "夜间值守")
    ledger.update_record(w["org_leader"], r, YESTERDAY, "24", "夜间值守（全天）", "good")
    assert r.hours == 24
    ledger.verify_records(w["org_leader"], [r])
    ledger.correct_record(w["org_leader"], r, YESTERDAY, "1", "x", "good", "记错了人", void=True)
    ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "24", "真实的全天服务")


def test_service_date_not_in_the_future_nor_before_registration(w):
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader"], w["v"], w["org_a"], TODAY + timedelta(days=1), "2", "明天")
    assert "晚于今天" in e.value.message and e.value.field == "service_date"
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader"], w["v"], w["org_a"], date(2019, 12, 31), "2", "注册前")
    assert "注册日期" in e.value.message
    ledger.create_record(w["org_leader"], w["v"], w["org_a"], date(2020, 1, 1), "2", "注册当天")


def test_no_service_after_a_dismissal_but_earlier_service_may_still_be_entered(w):
    from blueprints.volunteers.models import VolunteerStatus
    v = w["v"]
    v.status, v.dismissed_on = VolunteerStatus.DISMISSED, TODAY - timedelta(days=5)
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader"], v, w["org_a"], YESTERDAY, "2", "劝退之后")
    assert "被劝退" in e.value.message and e.value.field == "service_date"
    ledger.create_record(w["org_leader"], v, w["org_a"], TODAY - timedelta(days=5), "2", "劝退当天之前的服务补录")


def test_only_member_organizations_record_and_content_is_required(w):
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader_2"], w["v"], w["org_b"], YESTERDAY, "2", "x")
    assert "不是所选组织的成员" in e.value.message
    with pytest.raises(ledger.LedgerError) as e:
        ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "2", "   ")
    assert e.value.field == "content"


def test_late_entries_are_flagged_after_ten_working_days(w):
    assert ledger.working_days_between(date(2026, 3, 2), date(2026, 3, 16)) == 10  # Mon → Mon two weeks later
    assert not ledger.is_late(date(2026, 3, 2), date(2026, 3, 16))
    assert ledger.is_late(date(2026, 3, 2), date(2026, 3, 17))
    assert ledger.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1  # Fri → Mon
    late = ledger.create_record(w["org_leader"], w["v"], w["org_a"], TODAY - timedelta(days=30), "2", "补录")
    recent = ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "2", "及时录入")
    assert late.late_entry and not recent.late_entry


# ---- verification and correction ----------------------------------------------------------------

def test_only_the_org_leader_verifies_and_only_verified_hours_count(w):
    r1 = ledger.create_record(w["district_staff"], w["v"], w["org_a"], YESTERDAY, "2", "a")
    r2 = ledger.create_record(w["org_leader"], w["v"], w["org_a"], date(TODAY.year - 1, 6, 1), "3", "b")
    with pytest.raises(ledger.LedgerError):
        ledger.verify_records(w["district_staff"], [r1])
    assert r1.status == RecordStatus.PENDING
    assert ledger.verify_records(w["org_leader"], [r1, r2]) == 2
    assert r1.status == RecordStatus.VERIFIED and r1.verified_by_id == w["org_leader"].id and r1.verified_at
    total, years = _cache(w["v"])
    expected = {TODAY.year - 1: Decimal("3.0")}
    expected[YESTERDAY.year] = expected.get(YESTERDAY.year, Decimal(0)) + Decimal("2.0")
    assert total == Decimal("5.0") and years == expected
    assert ledger.verify_records(w["org_leader"], [r1]) == 0  # already verified: nothing happens
    _assert_cache_exact(w["v"])


def test_a_verified_record_is_only_corrected_with_a_reason_and_the_original_stays(w):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "4", by=w["org_leader"])
    with pytest.raises(ledger.LedgerError):
        ledger.update_record(w["org_leader"], r, YESTERDAY, "5", "x", "good")
    with pytest.raises(ledger.LedgerError):
        ledger.delete_record(w["org_leader"], r)
    with pytest.raises(ledger.LedgerError) as e:
        ledger.correct_record(w["org_leader"], r, YESTERDAY, "3", r.content, "good", "  ")
    assert e.value.field == "reason"
    with pytest.raises(ledger.LedgerError):  # a district officer does not correct an organization's record
        ledger.correct_record(w["district_staff"], r, YESTERDAY, "3", r.content, "good", "多记了一小时")
    c = ledger.correct_record(w["org_leader"], r, YESTERDAY, "3", r.content, "good", "多记了一小时")
    assert c.before["hours"] == "4.0" and c.after["hours"] == "3.0" and c.reason == "多记了一小时"
    assert r.corrected and r.status == RecordStatus.VERIFIED
    assert _cache(w["v"])[0] == Decimal("3.0")
    ledger.correct_record(w["org_leader"], r, YESTERDAY, "3", r.content, "good", "并无此次服务", void=True)
    assert r.status == RecordStatus.VOID and _cache(w["v"])[0] == 0
    trace = list(db.session.scalars(select(RecordCorrection).where(RecordCorrection.record_id == r.id)
                                    .order_by(RecordCorrection.id)))
    assert [t.after["status"] for t in trace] == ["verified", "void"] and trace[0].before["hours"] == "4.0"
    _assert_cache_exact(w["v"])


def test_a_correction_that_changes_nothing_is_refused(w):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "4", by=w["org_leader"])
    with pytest.raises(ledger.LedgerError) as e:
        ledger.correct_record(w["org_leader"], r, YESTERDAY, "4", r.content, r.quality.value, "无变化")
    assert "相同" in e.value.message


def test_the_cache_stays_exact_through_a_mixed_history(w):
    days = [TODAY - timedelta(days=n) for n in (1, 2, 40, 400, 401)]
    recs = [factories.service_record(w["v"], w["org_a"], d, h, by=w["org_leader"], verified=(i % 2 == 0))
            for i, (d, h) in enumerate(zip(days, ["2", "3.5", "8", "1.5", "6"]))]
    _assert_cache_exact(w["v"])
    ledger.verify_records(w["org_leader"], recs)
    ledger.correct_record(w["org_leader"], recs[2], days[2], "7.5", "改正", "good", "少算半小时")
    ledger.correct_record(w["org_leader"], recs[4], days[4], "6", "x", "good", "重复录入", void=True)
    _assert_cache_exact(w["v"])
    # refresh and full rebuild agree
    before = _cache(w["v"])
    ledger.rebuild_all_figures()
    assert _cache(w["v"]) == before


# ---- derived figures on constructed data (pure functions) ---------------------------------------

def _rec(day, hours, status="verified"):
    return SimpleNamespace(service_date=day, hours=Decimal(hours), status=status)


def test_cumulative_and_per_year_count_verified_only():
    rs = [_rec(date(2025, 3, 1), "10"), _rec(date(2025, 12, 31), "2.5"), _rec(date(2026, 1, 1), "4"),
          _rec(date(2026, 2, 1), "100", "pending"), _rec(date(2026, 2, 2), "50", "void")]
    assert ledger.verified_total(rs) == Decimal("16.5")
    assert ledger.hours_per_year(rs) == {2025: Decimal("12.5"), 2026: Decimal("4.0")}
    assert ledger.verified_total([]) == 0


@pytest.mark.parametrize("hours, level, label", [
    ("0", 0, "未评星"), ("99.9", 0, "未评星"), ("100", 1, "一星"), ("299.9", 1, "一星"), ("300", 2, "二星"),
    ("600", 3, "三星"), ("999.9", 3, "三星"), ("1000", 4, "四星"), ("1500", 5, "五星"), ("9000", 5, "五星")])
def test_star_levels(app, hours, level, label):
    assert ledger.star_level(Decimal(hours)) == level and ledger.star_label(Decimal(hours)) == label


def test_core_volunteer_and_the_40_hour_check(app):
    assert ledger.is_core(Decimal("48")) and ledger.kind_label(Decimal("48")) == "志愿者骨干"
    assert not ledger.is_core(Decimal("47.9")) and ledger.kind_label(Decimal("47.9")) == "流动志愿者"
    assert ledger.official_below(True, False, Decimal("39.9"))
    assert ledger.official_below(False, True, Decimal("0"))
    assert not ledger.official_below(True, True, Decimal("40"))
    assert not ledger.official_below(False, False, Decimal("1"))  # the masses: no 40-hour expectation


def test_figures_for_a_party_member_read_the_cache(w):
    v = w["v"]
    v.political_status = PoliticalStatus.PARTY_MEMBER
    factories.service_record(v, w["org_a"], date(TODAY.year, 1, 2) if TODAY > date(TODAY.year, 1, 2) else TODAY,
                             "20", by=w["org_leader"])
    fig = ledger.figures_for(v)
    assert fig.year_hours == Decimal("20.0") and fig.official_below and not fig.is_core
    assert fig.kind_label == "流动志愿者" and fig.star == 0 and fig.next_star_at == 100


# ---- training, awards and correction requests ---------------------------------------------------

def test_training_is_kept_apart_from_service_hours(w):
    t = ledger.add_training(w["org_leader"], w["v"], w["org_a"], "急救培训", "心肺复苏", "6", "湛江市红十字会", YESTERDAY)
    assert t.hours == 6 and _cache(w["v"])[0] == 0
    with pytest.raises(ledger.LedgerError) as e:
        ledger.add_training(w["org_leader"], w["v"], w["org_a"], "x", "", "0", "y", YESTERDAY)
    assert "学习时长" in e.value.message


def test_an_award_from_commendation_is_not_duplicated(w):
    a1 = ledger.add_award(w["v"], "优秀志愿者", YESTERDAY, "湛江市文明办", source="commendation", source_ref="n-1")
    a2 = ledger.add_award(w["v"], "优秀志愿者", YESTERDAY, "湛江市文明办", source="commendation", source_ref="n-1")
    assert a1.id == a2.id


def test_a_correction_request_is_logged_and_answered_by_the_org_leader(w):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", by=w["org_leader"])
    q = ledger.log_request(w["district_staff"], w["v"], w["org_a"], "实际服务 3 小时", YESTERDAY, "电话", r)
    assert q.status == RequestStatus.OPEN and q.logged_by_id == w["district_staff"].id
    with pytest.raises(ledger.LedgerError):
        ledger.answer_request(w["district_staff"], q, True, "同意")
    ledger.answer_request(w["org_leader"], q, True, "经核实，同意更正")
    assert q.status == RequestStatus.ACCEPTED and q.answered_by_id == w["org_leader"].id
    with pytest.raises(ledger.LedgerError):
        ledger.answer_request(w["org_leader"], q, False, "再次答复")
    c = ledger.correct_record(w["org_leader"], r, YESTERDAY, "3", r.content, "good", "志愿者申请更正", request=q)
    assert c.request_id == q.id


def factories_membership(org_):
    from blueprints.volunteers.models import Membership

    return Membership(organization=org_, is_primary=False, joined_on=date(2020, 1, 1))


def test_a_whole_attendance_sheet_follows_the_same_rules_item_by_item(w):
    other = factories.activity_volunteer(w["org_a"], name="王芳", registered_on=date(2020, 1, 1))
    late_joiner = factories.activity_volunteer(w["org_a"], name="赵磊", registered_on=TODAY)
    outsider = factories.activity_volunteer(w["org_b"], name="钱进", registered_on=date(2020, 1, 1))
    ledger.create_record(w["org_leader"], w["v"], w["org_a"], YESTERDAY, "20", "夜间值守")
    made, refused = ledger.create_records(
        w["org_leader"], w["org_a"], YESTERDAY,
        [(w["v"], "5", "good"), (other, "3", "good"), (late_joiner, "2", "good"), (outsider, "2", "good"),
         (other, "21.5", "good"), (other, "0", "good")],
        "海滨公园清洁行动")
    assert set(made) == {1}  # only 王芳's 3 hours pass
    assert "24 小时" in refused[0].message and "最多还可记录 4.0 小时" in refused[0].message
    assert "注册日期" in refused[2].message
    assert refused[3].field == "organization_id"
    assert "24 小时" in refused[4].message  # the sheet's own earlier row counts towards the day
    assert refused[5].field == "hours"
    assert made[1].status == RecordStatus.PENDING and made[1].hours == Decimal("3.0")
    assert db.session.scalar(select(db.func.count()).select_from(ServiceRecord)) == 2
