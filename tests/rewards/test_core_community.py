"""爱心回馈 for 骨干: the 骨干 of the providing community (issue 18: 骨干 are counted per community)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprints.funding.services import holder_from_org, holder_from_region
from blueprints.rewards import services
from blueprints.rewards.services import RewardError
from blueprints.volunteers.models import Membership
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


def _item(w, provider):
    return services.create_item(w["city_admin"], provider, services.ItemData(
        title="爱心超市礼包", kind="benefit", description="", cost="0", min_star=0, core_only=True, active=True))


@pytest.fixture
def w(world):
    w = world
    w["org_a2"] = f.org(w["community_a2"], "赤坎区和平社区志愿服务队")
    w["leader"] = f.user("org_leader", "leader_both", orgs=[w["org_a"], w["org_a2"]])
    v = f.activity_volunteer(w["org_a"], "李明")
    v.memberships.append(Membership(organization=w["org_a2"], is_primary=False, joined_on=v.registered_on))
    db.session.flush()
    for i in range(6):  # 48 h in 和平社区 (org_a2), none in 幸福社区
        f.service_record(v, w["org_a2"], day=local_today() - timedelta(days=i + 1), hours="8", by=w["leader"])
    w["v"] = v
    return w


def test_core_only_item_is_for_the_core_of_the_providers_community(w):
    """001 附件4 第四条: "志愿者骨干可以依据个人志愿服务时长兑换社区提供的爱心回馈" (骨干: "凡每年在本社区服务时长达
    48小时以上") — a 骨干 of 和平社区 redeems what 和平社区 (its organization, the community, the street or district
    above it, the city) provides, not what 幸福社区 or another district provides."""
    v = w["v"]
    for provider in (holder_from_org(w["org_a2"]), holder_from_region(w["community_a2"]),
                     holder_from_region(w["town_a"]), holder_from_region(w["city"])):
        assert services.unmet_conditions(_item(w, provider), v) == [], provider
    for provider in (holder_from_org(w["org_a"]), holder_from_region(w["community_a"]),
                     holder_from_region(w["district_b"])):
        item = _item(w, provider)
        assert any("骨干" in p for p in services.unmet_conditions(item, v)), provider
    with pytest.raises(RewardError, match="骨干"):
        services.redeem(w["city_admin"], _item(w, holder_from_org(w["org_a"])), v)
    assert [c.id for c in services.core_communities(v)] == [w["community_a2"].id]
