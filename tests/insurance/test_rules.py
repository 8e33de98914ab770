"""Insurance rules on constructed data: validation, who is covered on a day, warnings, renewal, import."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from blueprints.activities.models import Participant
from blueprints.insurance import services
from blueprints.insurance.models import CoverageMode
from blueprints.insurance.services import InsuranceError, PolicyData
from blueprints.volunteers.models import VolunteerStatus
from core.extensions import db
from core.settings import set_value
from core.tabular import ImportRow
from core.timeutil import local_today
from tests import factories as f


def _data(org, **kw) -> PolicyData:
    base = dict(organization_id=org.id, insurer="中国人寿", policy_no="PX001", product="志愿者团体意外伤害保险",
                mode="named", head_count=None, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31),
                sum_insured="200000", premium="1,280.50", payer_source="财政拨款", volunteer_ids=[])
    base.update(kw)
    return PolicyData(**base)


def _vols(org, n, start=date(2020, 1, 1)):
    return [f.activity_volunteer(org, name=f"队员{i}", registered_on=start + timedelta(days=i)) for i in range(n)]


# ---- validation ------------------------------------------------------------------------------------

def test_valid_policy_is_saved_with_exact_decimals(world):
    v = _vols(world["org_a"], 2)
    p = services.create_policy(world["district_staff"], _data(world["org_a"], volunteer_ids=[x.id for x in v]))
    assert p.premium == Decimal("1280.50") and p.sum_insured == Decimal("200000.00")
    assert {i.volunteer_id for i in p.insured} == {x.id for x in v}


@pytest.mark.parametrize("field,value,message", [
    ("premium", "0", "保费必须大于 0"),
    ("premium", "-5", "保费必须大于 0"),
    ("premium", "abc", "保费格式不正确"),
    ("premium", "1.005", "两位小数"),
    ("sum_insured", "", "请填写保险金额"),
    ("sum_insured", "1e5", "格式不正确"),
])
def test_bad_amounts_are_refused(world, field, value, message):
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["city_admin"], _data(world["org_a"], **{field: value}))
    assert message in e.value.message and e.value.field == field


def test_end_before_start_is_refused(world):
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["city_admin"], _data(world["org_a"], start_date=date(2026, 5, 2),
                                                          end_date=date(2026, 5, 1)))
    assert e.value.field == "end_date"


def test_one_day_policy_is_allowed(world):
    p = services.create_policy(world["city_admin"], _data(world["org_a"], start_date=date(2026, 5, 1),
                                                          end_date=date(2026, 5, 1)))
    assert p.start_date == p.end_date


def test_policy_number_unique_per_insurer(world):
    services.create_policy(world["city_admin"], _data(world["org_a"]))
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["city_admin"], _data(world["org_b"]))
    assert e.value.field == "policy_no"
    # the same number at another insurer is a different policy
    services.create_policy(world["city_admin"], _data(world["org_b"], insurer="中国平安"))


def test_headcount_needs_a_count(world):
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["city_admin"], _data(world["org_a"], mode="headcount", head_count=None))
    assert e.value.field == "head_count"


def test_volunteers_of_another_org_are_refused(world):
    other = f.activity_volunteer(world["org_b"])
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["city_admin"], _data(world["org_a"], volunteer_ids=[other.id]))
    assert e.value.field == "volunteers"


def test_org_out_of_scope_is_refused(world):
    with pytest.raises(InsuranceError) as e:
        services.create_policy(world["district_staff_2"], _data(world["org_a"]))
    assert e.value.field == "organization"


# ---- coverage --------------------------------------------------------------------------------------

def test_named_policy_covers_its_period_inclusive(world):
    a, b = _vols(world["org_a"], 2)
    f.insurance_policy(world["org_a"], start=date(2026, 3, 1), end=date(2026, 3, 31), volunteers=[a])
    assert services.covered_ids(date(2026, 3, 1), [a.id, b.id]) == {a.id}
    assert services.covered_ids(date(2026, 3, 31), [a.id, b.id]) == {a.id}  # last day of coverage
    assert services.covered_ids(date(2026, 4, 1), [a.id, b.id]) == set()  # the day after
    assert services.covered_ids(date(2026, 2, 28), [a.id]) == set()


def test_headcount_covers_earliest_joiners_up_to_the_count(world):
    vols = _vols(world["org_a"], 5)
    f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), head_count=3)
    covered = services.covered_ids(date(2026, 6, 1), [v.id for v in vols])
    assert covered == {vols[0].id, vols[1].id, vols[2].id}


def test_headcount_skips_named_and_dismissed(world):
    vols = _vols(world["org_a"], 5)
    vols[1].status = VolunteerStatus.DISMISSED
    f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), volunteers=[vols[0]])
    f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), head_count=2)
    covered = services.covered_ids(date(2026, 6, 1), [v.id for v in vols])
    # 0 named; 1 dismissed; the head count of 2 goes to 2 and 3; 4 is left out
    assert covered == {vols[0].id, vols[2].id, vols[3].id}


def test_expired_headcount_covers_nobody(world):
    vols = _vols(world["org_a"], 2)
    f.insurance_policy(world["org_a"], start=date(2025, 1, 1), end=date(2025, 12, 31), head_count=10)
    assert services.covered_ids(date(2026, 1, 1), [v.id for v in vols]) == set()
    assert services.covered_ids(date(2025, 12, 31), [v.id for v in vols]) == {v.id for v in vols}


def test_coverage_share_per_org_and_district(world):
    vols = _vols(world["org_a"], 4)
    _vols(world["org_b"], 2)
    f.insurance_policy(world["org_a"], volunteers=vols[:3])
    rows = {r.name: r for r in services.coverage_by_org(world["city_admin"])}
    assert (rows[world["org_a"].name].active, rows[world["org_a"].name].covered) == (4, 3)
    assert rows[world["org_a"].name].share == Decimal("0.75")
    assert rows[world["org_b"].name].covered == 0
    districts = {r.name: r for r in services.coverage_by_district(world["city_admin"])}
    assert (districts["赤坎区"].active, districts["赤坎区"].covered) == (4, 3)
    assert (districts["霞山区"].active, districts["霞山区"].covered) == (2, 0)
    # district staff see only their district
    assert [r.name for r in services.coverage_by_district(world["district_staff_2"])] == ["霞山区"]
    row, uncovered = services.org_uncovered(world["org_a"])
    assert [v.id for v in uncovered] == [vols[3].id]


# ---- risky activity warning ----------------------------------------------------------------------

def _risky(org, vols, day):
    act = f.activity(org, title="河道清洁巡护", held_on=day, risky=True)
    for v in vols:
        db.session.add(Participant(activity_id=act.id, volunteer_id=v.id))
    act.participant_count = len(vols)
    db.session.flush()
    return act


def test_risky_activity_lists_uncovered_participants_until_insured(world):
    day = local_today() + timedelta(days=5)
    a, b = _vols(world["org_a"], 2)
    act = _risky(world["org_a"], [a, b], day)
    assert {v.id for v in services.uncovered_participants(act)} == {a.id, b.id}
    rows = services.risky_activities(world["district_staff"], local_today(), day)
    assert [r.activity.id for r in rows] == [act.id]
    f.insurance_policy(world["org_a"], start=day - timedelta(days=10), end=day, volunteers=[a, b])
    assert services.uncovered_participants(act) == []
    assert services.risky_activities(world["district_staff"], local_today(), day) == []


def test_policy_ending_the_day_before_leaves_the_activity_uncovered(world):
    day = local_today() + timedelta(days=5)
    a = _vols(world["org_a"], 1)[0]
    act = _risky(world["org_a"], [a], day)
    f.insurance_policy(world["org_a"], start=day - timedelta(days=10), end=day - timedelta(days=1), volunteers=[a])
    assert [v.id for v in services.uncovered_participants(act)] == [a.id]


def test_risky_list_is_scoped(world):
    day = local_today() + timedelta(days=2)
    _risky(world["org_a"], _vols(world["org_a"], 1), day)
    assert services.risky_activities(world["district_staff_2"], local_today(), day) == []


# ---- warnings, renewal -------------------------------------------------------------------------------

def test_expiry_warning_uses_configurable_days(world):
    today = local_today()
    f.insurance_policy(world["org_a"], start=today - timedelta(days=300), end=today + timedelta(days=20))
    f.insurance_policy(world["org_a"], start=today - timedelta(days=400), end=today - timedelta(days=3))
    counts = services.expiry_counts(world["district_staff"])
    assert (counts["expiring"], counts["expired"]) == (1, 1)
    set_value(services.WARN_DAYS_KEY, 10)
    assert services.expiry_counts(world["district_staff"])["expiring"] == 0
    assert services.expiry_counts(world["district_staff_2"]) == {"expiring": 0, "expired": 0, "days": 10}


def test_status_of_a_policy(world):
    today = local_today()
    p = f.insurance_policy(world["org_a"], start=today, end=today + timedelta(days=100))
    assert services.policy_status(p, today, 30) == "active"
    assert services.policy_status(p, today + timedelta(days=70), 30) == "expiring"
    assert services.policy_status(p, today + timedelta(days=101), 30) == "expired"
    assert services.policy_status(p, today - timedelta(days=1), 30) == "future"


def test_renewal_copies_to_next_period_and_clears_warning(world):
    today = local_today()
    vols = _vols(world["org_a"], 2)
    old = f.insurance_policy(world["org_a"], start=today - timedelta(days=350), end=today + timedelta(days=14),
                             volunteers=vols)
    data = services.renewal_data(old)
    assert data.start_date == old.end_date + timedelta(days=1)
    assert data.end_date - data.start_date == old.end_date - old.start_date  # 365 days, not whole months
    assert data.policy_no == "" and sorted(data.volunteer_ids) == sorted(v.id for v in vols)
    data.policy_no = "RENEW-1"
    new = services.create_policy(world["org_leader"], data, renewed_from=old)
    assert new.renewed_from_id == old.id and new.mode == CoverageMode.NAMED
    assert services.expiry_counts(world["org_leader"])["expiring"] == 0


# ---- XLSX import rows --------------------------------------------------------------------------------

def test_import_rows_match_by_id_number_and_report_errors(world, app):
    from core import pii

    a, b = _vols(world["org_a"], 2)
    other = f.activity_volunteer(world["org_b"])
    p = f.insurance_policy(world["org_a"], volunteers=[b])
    numbers = {v.id: pii.decrypt(v.id_number_enc) for v in (a, b, other)}
    rows = [ImportRow(2, {"姓名": a.name, "身份证号": numbers[a.id]}),
            ImportRow(3, {"姓名": "张三", "身份证号": "123"}),
            ImportRow(4, {"姓名": other.name, "身份证号": numbers[other.id]}),
            ImportRow(5, {"姓名": b.name, "身份证号": numbers[b.id]}),
            ImportRow(6, {"姓名": a.name, "身份证号": numbers[a.id].lower()}),
            ImportRow(7, {"姓名": "别人", "身份证号": numbers[a.id]})]
    services.check_import_rows(p, rows)
    assert rows[0].errors == [] and rows[0].values["volunteer_id"] == a.id
    assert rows[1].errors and rows[2].errors == ["该身份证号不是本组织的志愿者"]
    assert rows[3].errors == ["已在被保险人名单中"]
    assert rows[4].errors == ["与第 2 行重复"] and rows[5].errors == ["与第 2 行重复"]
    assert all(len(r.values["身份证号"]) == 0 for r in rows)  # the full number is dropped
    assert services.add_insured(p, [a.id, other.id]) == 1


def test_a_one_year_policy_renews_for_one_year_across_a_leap_day(world):
    old = f.insurance_policy(world["org_a"], start=date(2026, 9, 6), end=date(2027, 9, 5))
    data = services.renewal_data(old)
    assert (data.start_date, data.end_date) == (date(2027, 9, 6), date(2028, 9, 5))
    half = f.insurance_policy(world["org_a"], start=date(2026, 1, 31), end=date(2026, 7, 30))
    assert services.whole_months(half.start_date, half.end_date) == 6
    assert services.renewal_data(half).end_date == date(2027, 1, 30)


def test_large_questions_use_everyone_covered_and_follow_changes(world, app, monkeypatch):
    """Issue 16: thousands of ids (a large organization at 10×) are answered from everyone covered on the
    day, computed once per data version; the answer is the same as the exact one, and follows a change."""
    vols = _vols(world["org_a"], 5)
    vols[1].status = VolunteerStatus.DISMISSED
    f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), volunteers=[vols[0]])
    f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), head_count=2)
    db.session.commit()
    ids, day = [v.id for v in vols], date(2026, 6, 1)
    exact = services.covered_ids(day, ids)
    monkeypatch.setattr(services, "MANY", 0)
    with app.test_request_context():
        assert services.covered_ids(day, ids) == exact == {vols[0].id, vols[2].id, vols[3].id}
    db.session.remove()
    f.insurance_policy(db.session.merge(world["org_a"]), start=date(2026, 1, 1), end=date(2026, 12, 31),
                       volunteers=[db.session.merge(vols[4])])
    db.session.commit()
    with app.test_request_context():
        assert services.covered_ids(day, ids) == exact | {vols[4].id}
