"""The one policy settings page (issue 18): every policy number with its seed default and source,
edited by the city admin only, validated with messages next to the fields, audited."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.reports import services as reports
from blueprints.stations import services as stations
from blueprints.volunteers import ledger
from core import settings
from core.audit import AuditEntry
from core.extensions import db
from tests.settings.helpers import policy_data

# What the issue lists: every one of these is on the page.
EXPECTED = {"volunteers.star_hours", "volunteers.core_hours", "volunteers.official_hours",
            "volunteers.late_working_days", "reports.deadline_day", "insurance.warn_days", "stations.city_min",
            "stations.public_min", "stations.public_max", "stations.county_min", "stations.monthly_activities",
            "rewards.points_per_hour", "activities.checkin_margin"}


def test_star_thresholds_default_to_the_seed(app):
    """004 第7条: "志愿服务累计达到100小时、300小时、600小时、1000小时和1500小时的志愿者，可依次认定为一至五星志愿者。" """
    assert ledger.star_thresholds() == (100, 300, 600, 1000, 1500)
    assert [ledger.star_level(h) for h in (99, 100, 299, 300, 1500)] == [0, 1, 1, 2, 5]


def test_core_and_official_hours_default_to_the_seeds(app):
    """001 附件4 第四条: "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册";
    004 第15条: "倡导全省党员、公职人员每年从双休日和节假日中拿出7天以上时间（服务时长累计不少于40小时）"."""
    assert (ledger.core_hours(), ledger.official_hours(), ledger.late_working_days()) == (48, 40, 10)
    assert ledger.is_core(Decimal(48)) and not ledger.is_core(Decimal("47.9"))
    assert ledger.official_below(True, False, Decimal(39)) and not ledger.official_below(True, False, Decimal(40))


def test_every_policy_number_is_registered_with_its_source(app):
    assert EXPECTED <= set(settings.POLICIES)
    for p in settings.POLICIES.values():
        assert p.source and p.label
        assert settings.policy(p.key) == p.default  # never saved: the seed's value


def test_the_page_shows_each_number_with_its_default_and_seed_sentence(as_role):
    html = as_role("city_admin").get("/settings/policy").get_data(as_text=True)
    for p in settings.POLICIES.values():
        assert p.label in html and p.source in html
        if p.quote:
            assert p.quote in html
    assert "《关于推进云岭志愿服务制度化的实施意见》第7条" in html
    assert "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。" in html


@pytest.mark.parametrize("role", ["district_staff", "org_leader", "leader", "reviewer", "volunteer"])
def test_only_the_city_admin_edits_policy_numbers(as_role, role):
    c = as_role(role)
    assert c.get("/settings/policy").status_code == 403
    assert c.post("/settings/policy", data=policy_data(**{"volunteers.core_hours": 60})).status_code == 403
    assert ledger.core_hours() == 48


def test_a_change_is_saved_used_by_the_rules_and_audited(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/settings/policy", data=policy_data(**{"volunteers.core_hours": 50,
                                                           "volunteers.star_hours": (120, 300, 600, 1000, 2000)}))
    assert resp.status_code == 303
    assert ledger.core_hours() == 50 and not ledger.is_core(Decimal(49))
    assert ledger.star_thresholds() == (120, 300, 600, 1000, 2000) and ledger.star_level(110) == 0
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.entity_label.contains("志愿者骨干的年服务时长"))))
    assert entries and entries[-1].user_id == world["city_admin"].id
    assert "50" in str(entries[-1].changes)
    # Unchanged numbers are not written (the log shows what was changed, nothing else).
    assert settings.get_value("volunteers.official_hours") is None
    html = c.get("/settings/policy").get_data(as_text=True)
    assert 'value="50"' in html and 'value="2000"' in html


def test_star_thresholds_must_strictly_increase(as_role):
    c = as_role("city_admin")
    resp = c.post("/settings/policy", data=policy_data(**{"volunteers.core_hours": 50,
                                                           "volunteers.star_hours": (100, 100, 600, 1000, 1500)}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "二星应大于一星（100小时）" in html
    assert 'value="50"' in html  # what was typed is shown again
    assert settings.get_value("volunteers.core_hours") is None and ledger.star_thresholds()[1] == 300


@pytest.mark.parametrize("key,value,message", [
    ("volunteers.core_hours", 0, "应为 1–8784 的整数"),
    ("volunteers.official_hours", -5, "应为 1–8784 的整数"),
    ("reports.deadline_day", 29, "应为 1–28 的整数"),
    ("reports.deadline_day", 0, "应为 1–28 的整数"),
    ("stations.monthly_activities", 0, "应为 1–100 的整数"),
])
def test_bad_numbers_are_refused_next_to_their_field(as_role, key, value, message):
    resp = as_role("city_admin").post("/settings/policy", data=policy_data(**{key: value}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    assert 'aria-invalid="true"' in html
    assert settings.get_value(key) is None


def test_unreadable_input_is_refused_in_chinese(as_role):
    data = dict(policy_data(), volunteers__star_hours__2="六百")
    resp = as_role("city_admin").post("/settings/policy", data=data)
    assert resp.status_code == 422 and "请填写整数" in resp.get_data(as_text=True)


def test_a_stored_value_outside_the_bounds_answers_the_default(app):
    settings.set_value("reports.deadline_day", 31)
    settings.set_value("volunteers.star_hours", [300, 100, 600, 1000, 1500])
    assert reports.deadline_day() == 5 and ledger.star_thresholds() == (100, 300, 600, 1000, 1500)


def test_county_target_is_its_own_number(app, world):
    """002: "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。" """
    settings.save_policies({"stations.county_min": 6}, world["city_admin"])
    assert stations.targets().county_min == 6 and stations.targets().public_min == 5


def test_pages_show_the_numbers_in_force_not_the_defaults(as_role, world):
    """A changed number reaches every page that states it (templates read policy(), never a typed number)."""
    from tests import factories

    settings.save_policies({"volunteers.late_working_days": 12, "volunteers.core_hours": 50,
                            "volunteers.official_hours": 45}, world["city_admin"])
    v = factories.volunteer(world["org_a"], political_status="party_member")
    db.session.commit()
    c = as_role("org_leader")
    assert "服务后超过 12 个工作日录入" in c.get("/volunteers/records/").get_data(as_text=True)
    html = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "在本社区年服务 ≥ 50 小时" in html and "未达到倡导的 7 天以上、45 小时" in html


def test_the_rewards_rate_and_the_checkin_margin_are_policies(as_role, world):
    """001 第三部分（六）: "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务" — the rate of hours to points,
    and the check-in margin (issue 17: "during the activity's time ± a margin"), are edited on the one page,
    validated next to their fields and audited; the rules read what was saved."""
    from datetime import timedelta

    from blueprints.activities import checkin
    from blueprints.rewards import services as rewards

    c = as_role("city_admin")
    assert rewards.rate() == Decimal("1") and checkin.margin() == timedelta(minutes=30)
    for key, bad, message in (("rewards.points_per_hour", "1.25", "最多 1 位小数"),
                              ("rewards.points_per_hour", "0", "应为 0.1–100 的数（最多 1 位小数）"),
                              ("rewards.points_per_hour", "NaN", "请填写数字"),
                              ("activities.checkin_margin", "241", "应为 0–240 的整数")):
        resp = c.post("/settings/policy", data=policy_data(**{key: bad}))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and message in html, (key, bad)
        assert f'value="{bad}"' in html  # what was typed is shown again
        assert settings.get_value(key) is None
    resp = c.post("/settings/policy", data=policy_data(**{"rewards.points_per_hour": "1.5",
                                                           "activities.checkin_margin": 45}))
    assert resp.status_code == 303
    assert rewards.rate() == Decimal("1.5") and checkin.margin() == timedelta(minutes=45)
    labels = {e.entity_label for e in db.session.scalars(select(AuditEntry).where(AuditEntry.user_id == world["city_admin"].id))}
    assert any("每小时服务折算积分" in (label or "") for label in labels)
    assert any("可签到的分钟数" in (label or "") for label in labels)
    assert 'value="1.5"' in c.get("/settings/policy").get_data(as_text=True)
