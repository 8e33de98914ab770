"""Rules of 嘉许回馈: the balance from verified hours under the rate, conditions, the ledger."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.exceptions import Forbidden

from blueprints.rewards import services
from blueprints.rewards.models import Redemption, RewardItem
from blueprints.rewards.services import RewardError
from blueprints.funding.services import holder_from_org, holder_from_region
from core.extensions import db
from tests import factories


def _item(w, cost="10", min_star=0, core_only=False, provider=None, **kw) -> RewardItem:
    provider = provider or holder_from_org(w["org_a"])
    return services.create_item(w["city_admin"], provider, services.ItemData(
        title=kw.pop("title", "免费理发一次"), kind=kw.pop("kind", "service"), description="", cost=cost,
        min_star=min_star, core_only=core_only, active=kw.pop("active", True)))


def _volunteer(w, hours: int = 0):
    v = factories.activity_volunteer(w["org_a"], registered_on=date(date.today().year, 1, 1))
    day = date(date.today().year, 1, 2)
    while hours > 0:
        step = min(hours, 8)
        factories.service_record(v, w["org_a"], day=day, hours=str(step), by=w["org_leader"])
        hours -= step
        day = day.replace(day=day.day + 1) if day.day < 28 else day.replace(month=day.month + 1, day=1)
    db.session.flush()
    db.session.refresh(v)
    return v


def test_balance_derives_from_verified_hours_only(world):
    """001（六）: "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务" — only verified hours count."""
    v = _volunteer(world, 20)
    factories.service_record(v, world["org_a"], day=date(date.today().year, 3, 1), hours="5", verified=False,
                             by=world["org_leader"])
    bal = services.balance(v)
    assert (bal.hours, bal.earned, bal.spent, bal.available) == (Decimal("20.0"), Decimal("20.0"), 0, Decimal("20.0"))


def test_rate_setting_changes_the_balance_and_is_city_admins(world):
    """The rate is configurable (default 1 hour = 1 point); only the city admin sets it."""
    v = _volunteer(world, 10)
    assert services.rate() == Decimal("1")
    services.set_rate(world["city_admin"], "1.5")
    assert services.balance(v).available == Decimal("15.0")
    with pytest.raises(Forbidden):
        services.set_rate(world["district_staff"], "3")
    for bad in ("0", "-1", "abc", "1.25", "1000", "NaN", "1e9999"):
        with pytest.raises(RewardError):
            services.set_rate(world["city_admin"], bad)
    assert services.rate() == Decimal("1.5")


def test_redemption_spends_points_and_never_overdraws(world):
    """A redemption is a ledger entry; the balance never falls below zero."""
    v = _volunteer(world, 12)
    item = _item(world, cost="10")
    services.redeem(world["org_leader"], item, v)
    assert services.balance(v).available == Decimal("2.0")
    with pytest.raises(RewardError, match="可用积分不足"):
        services.redeem(world["org_leader"], item, v)
    assert db.session.query(Redemption).count() == 1


def test_reversal_gives_points_back_and_keeps_the_original(world):
    """Reversal instead of delete (like the funding ledger): the original stays, a negated line is added."""
    v = _volunteer(world, 12)
    item = _item(world, cost="10")
    r = services.redeem(world["org_leader"], item, v)
    rev = services.reverse(world["org_leader"], r, "登记错了人")
    assert rev.points == Decimal("-10.0") and rev.reverses_id == r.id
    assert services.balance(v).available == Decimal("12.0")
    with pytest.raises(RewardError, match="已经冲销"):
        services.reverse(world["org_leader"], r, "再冲一次")
    with pytest.raises(RewardError, match="不能再冲销"):
        services.reverse(world["org_leader"], rev, "冲销的冲销")
    with pytest.raises(RewardError, match="原因"):
        services.reverse(world["org_leader"], services.redeem(world["org_leader"], item, v), " ")


def test_star_condition(world):
    """004 7: 100/300/600/1000/1500 h → 一至五星; an item may ask for a star level."""
    v = _volunteer(world, 40)
    item = _item(world, cost="0", min_star=1, kind="priority", title="就医优先")
    assert any("一星" in p for p in services.unmet_conditions(item, v))
    v2 = _volunteer(world, 100)
    assert services.unmet_conditions(item, v2) == []
    services.redeem(world["org_leader"], item, v2)  # a free priority is still a ledger line, 0 points
    assert services.balance(v2).available == Decimal("100.0")


def test_core_only_condition(world):
    """001 附件4 第四条: "志愿者骨干可以依据个人志愿服务时长兑换社区提供的爱心回馈" (骨干: ≥ 48 h a year)."""
    item = _item(world, cost="5", core_only=True, kind="benefit", title="爱心超市礼包")
    v = _volunteer(world, 40)
    assert any("骨干" in p for p in services.unmet_conditions(item, v))
    with pytest.raises(RewardError, match="骨干"):
        services.redeem(world["org_leader"], item, v)
    v2 = _volunteer(world, 48)
    assert services.unmet_conditions(item, v2) == []


def test_inactive_item_cannot_be_redeemed(world):
    v = _volunteer(world, 20)
    item = _item(world, active=False)
    with pytest.raises(RewardError, match="停止"):
        services.redeem(world["org_leader"], item, v)


def test_staff_record_only_within_their_scope(world):
    """Another organization's leader cannot record a redemption for this volunteer."""
    v = _volunteer(world, 20)
    item = _item(world)
    with pytest.raises(RewardError):
        services.redeem(world["org_leader_2"], item, v)
    with pytest.raises(RewardError):
        services.find_volunteer(world["org_leader_2"], v.number)
    assert services.find_volunteer(world["org_leader"], v.number).id == v.id


def test_item_checks_its_fields(world):
    for cost in ("-1", "abc", "1.25"):
        with pytest.raises(RewardError) as e:
            _item(world, cost=cost)
        assert e.value.field == "cost"
    with pytest.raises(RewardError):
        _item(world, title="  ")


def test_redeemed_where_groups_by_provider_net_of_reversals(world):
    """The district sees what was redeemed where; another district sees none of it."""
    v = _volunteer(world, 50)
    a = _item(world, cost="10")
    b = _item(world, cost="5", provider=holder_from_region(world["community_a"]), title="社区食堂餐券")
    services.redeem(world["district_staff"], a, v)
    r = services.redeem(world["district_staff"], b, v)
    services.redeem(world["district_staff"], b, v)
    services.reverse(world["district_staff"], r, "未领取")
    rows = {w.provider: (w.count, w.points) for w in services.redeemed_where(world["district_staff"], date.today().year)}
    assert rows == {world["org_a"].name: (1, Decimal("10.0")), "幸福社区": (1, Decimal("5.0"))}
    assert services.redeemed_where(world["district_staff_2"], date.today().year) == []
