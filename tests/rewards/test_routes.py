"""HTTP tests of 嘉许回馈: every route for each role, another district / organization by URL, the
volunteer's own page showing only their own balance."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from blueprints.funding.services import holder_from_org, holder_from_region
from blueprints.rewards import services
from blueprints.rewards.models import Redemption, RewardItem
from core.extensions import db
from core.timeutil import local_today
from tests import factories

STAFF = ["city_admin", "district_staff", "district_staff_2", "org_leader", "org_leader_2", "leader",
         "district_leader", "reviewer"]


def _hours(v, org, leader, hours: int):
    day = local_today() - timedelta(days=30)
    while hours > 0:
        factories.service_record(v, org, day=day, hours=str(min(8, hours)), by=leader)
        hours -= 8
        day += timedelta(days=1)


@pytest.fixture
def data(me):
    w = me
    v = factories.activity_volunteer(w["org_a"], name="王小明", registered_on=date(2020, 1, 1))
    _hours(v, w["org_a"], w["org_leader"], 30)
    item = services.create_item(w["city_admin"], holder_from_org(w["org_a"]), services.ItemData(
        title="免费理发", kind="service", description="每月第一个周六", cost="10", min_star=0, core_only=False))
    other = services.create_item(w["city_admin"], holder_from_org(w["org_b"]), services.ItemData(
        title="霞山爱心餐", kind="benefit", description="", cost="5", min_star=0, core_only=False))
    community = services.create_item(w["city_admin"], holder_from_region(w["community_a"]), services.ItemData(
        title="社区图书借阅优先", kind="priority", description="", cost="0", min_star=0, core_only=False))
    r = services.redeem(w["org_leader"], item, v)
    # The world's volunteer account (org_v, district A) has 12 verified hours.
    leader_v = factories.user("org_leader", orgs=[w["org_v"]])
    for hours in ("8", "4"):  # registered today: both on today
        factories.service_record(w["person"], w["org_v"], day=local_today(), hours=hours, by=leader_v)
    db.session.commit()
    return dict(w=w, v=v, item=item, other=other, community=community, r=r)


def test_pages_answer_each_role(data, as_role):
    item, v = data["item"], data["v"]
    expected = {  # role: (index, item A, redemptions, volunteer page, new item form, settings → /settings/policy)
        "city_admin": (200, 200, 200, 200, 200, 303),
        "district_staff": (200, 200, 200, 200, 200, 403),
        "district_staff_2": (200, 404, 200, 404, 200, 403),
        "org_leader": (200, 200, 200, 200, 200, 403),
        "org_leader_2": (200, 404, 200, 404, 200, 403),
        "leader": (200, 200, 200, 200, 403, 403),
        "district_leader": (200, 200, 200, 200, 403, 403),
        "reviewer": (403, 403, 403, 403, 403, 403),
        "volunteer": (403, 403, 403, 403, 403, 403),
    }
    for role, codes in expected.items():
        c = as_role(role)
        got = tuple(c.get(u).status_code for u in (
            "/rewards/", f"/rewards/items/{item.id}", "/rewards/redemptions", f"/rewards/volunteers/{v.id}",
            "/rewards/items/new", "/rewards/settings"))
        assert got == codes, role


def test_district_sees_what_was_redeemed_where_and_nothing_of_another(data, as_role):
    html = as_role("district_staff").get("/rewards/redemptions").get_data(as_text=True)
    assert "免费理发" in html and data["w"]["org_a"].name in html
    other = as_role("district_staff_2").get("/rewards/redemptions").get_data(as_text=True)
    assert "免费理发" not in other and "王小明" not in other


def test_publish_an_item_with_conditions(data, as_role):
    c = as_role("org_leader")
    resp = c.post("/rewards/items/new", data={"provider": f"org-{data['w']['org_a'].id}", "title": "助老陪诊",
                                             "kind": "service", "cost": "20", "min_star": "1", "core_only": "y",
                                             "active": "y"})
    assert resp.status_code == 303
    item = db.session.scalar(db.select(RewardItem).where(RewardItem.title == "助老陪诊"))
    assert (item.cost, item.min_star, item.core_only, item.organization_id) == (Decimal("20.0"), 1, True,
                                                                                 data["w"]["org_a"].id)


def test_publish_refuses_bad_input_and_keeps_what_was_typed(data, as_role):
    c = as_role("org_leader")
    resp = c.post("/rewards/items/new", data={"provider": f"org-{data['w']['org_b'].id}", "title": "助老陪诊",
                                             "kind": "service", "cost": "-3", "min_star": "0"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "助老陪诊" in html and "请从列表中选择" in html
    resp = c.post("/rewards/items/new", data={"provider": f"org-{data['w']['org_a'].id}", "title": "助老陪诊",
                                             "kind": "service", "cost": "-3", "min_star": "0"})
    assert resp.status_code == 422 and "不能为负数" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(RewardItem.id))) == 3


def test_edit_item_other_org_is_404(data, as_role):
    assert as_role("org_leader").get(f"/rewards/items/{data['other'].id}/edit").status_code == 404
    c = as_role("org_leader")
    resp = c.post(f"/rewards/items/{data['item'].id}/edit", data={"title": "免费理发（男女均可）", "kind": "service",
                                                                   "cost": "8", "min_star": "0", "active": "y"})
    assert resp.status_code == 303
    db.session.refresh(data["item"])
    assert data["item"].cost == Decimal("8.0")


def test_staff_record_a_redemption_and_the_balance_falls(data, as_role):
    c = as_role("org_leader")
    v = data["v"]
    assert services.balance(v).available == Decimal("20.0")
    resp = c.post(f"/rewards/items/{data['item'].id}/redeem",
                  data={"volunteer": v.number, "redeemed_on": local_today().isoformat(), "note": "现场兑换"})
    assert resp.status_code == 303
    assert services.balance(v).available == Decimal("10.0")
    from core.audit import AuditEntry

    logged = db.session.scalar(db.select(AuditEntry).where(AuditEntry.entity == "reward_redemption",
                                                            AuditEntry.username == "org_leader"))
    assert logged is not None and "王小明 兑换 免费理发" in logged.entity_label  # the operation log
    # Not enough points: the message next to the field, nothing saved.
    c.post(f"/rewards/items/{data['item'].id}/redeem",
           data={"volunteer": v.number, "redeemed_on": local_today().isoformat()})
    resp = c.post(f"/rewards/items/{data['item'].id}/redeem",
                  data={"volunteer": v.number, "redeemed_on": local_today().isoformat()})
    assert resp.status_code == 422 and "可用积分不足" in resp.get_data(as_text=True)
    assert services.balance(v).available == Decimal("0.0")


def test_redeem_for_a_volunteer_of_another_org_is_refused(data, as_role):
    other_person = factories.activity_volunteer(data["w"]["org_b"], registered_on=date(2020, 1, 1))
    db.session.commit()
    resp = as_role("org_leader").post(f"/rewards/items/{data['item'].id}/redeem",
                                      data={"volunteer": other_person.number, "redeemed_on": local_today().isoformat()})
    assert resp.status_code == 422 and "找不到该志愿者编号" in resp.get_data(as_text=True)
    assert as_role("org_leader_2").post(f"/rewards/items/{data['item'].id}/redeem",
                                        data={"volunteer": data["v"].number}).status_code == 404
    assert as_role("leader").post(f"/rewards/items/{data['item'].id}/redeem",
                                  data={"volunteer": data["v"].number}).status_code == 403


def test_reverse_a_redemption(data, as_role):
    r = data["r"]
    assert as_role("org_leader_2").get(f"/rewards/redemptions/{r.id}/reverse").status_code == 404
    c = as_role("org_leader")
    assert c.post(f"/rewards/redemptions/{r.id}/reverse", data={"reason": ""}).status_code == 422
    assert c.post(f"/rewards/redemptions/{r.id}/reverse", data={"reason": "登记错误"}).status_code == 303
    assert services.balance(data["v"]).available == Decimal("30.0")
    assert db.session.scalar(db.select(db.func.count(Redemption.id))) == 2  # the original stays


def test_rate_is_a_policy_on_the_one_settings_page(data, as_role):
    """The rate lives on /settings/policy; the old page sends its links there."""
    from tests.settings.helpers import policy_data

    c = as_role("city_admin")
    resp = c.get("/rewards/settings")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/settings/policy#policy-rewards__points_per_hour")
    assert c.post("/settings/policy", data=policy_data(**{services.RATE_KEY: "abc"})).status_code == 422
    assert c.post("/settings/policy", data=policy_data(**{services.RATE_KEY: "2"})).status_code == 303
    assert services.balance(data["v"]).available == Decimal("50.0")  # 30 h × 2 − 10


def test_volunteer_sees_only_their_own_balance_and_their_items(data, as_role):
    c = as_role("volunteer")
    resp = c.get("/my/rewards")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="my-balance">12.0<' in html
    assert "社区图书借阅优先" in html  # their organization's community (幸福社区, district A)
    assert "霞山爱心餐" not in html and "免费理发" not in html  # other organizations' items
    assert "王小明" not in html
    assert 'href="/my/rewards"' in c.get("/my/").get_data(as_text=True)  # linked from 我的


def test_staff_cannot_open_the_volunteer_page(data, as_role):
    assert as_role("city_admin").get("/my/rewards").status_code == 403
