"""骨干培训 admits the 骨干 of the session's community (issue 18: 骨干 are counted per community)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprints.training import services
from blueprints.volunteers.models import Membership
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


@pytest.fixture
def w(world):
    w = world
    w["core_course"] = f.training_course(w["city"], "core")
    w["org_a2"] = f.org(w["community_a2"], "赤坎区和平社区志愿服务队")
    w["org_town"] = f.org(w["town_a"], "中华街道志愿服务队")  # a street's team: no single community
    w["org_b_district"] = f.org(w["district_b"], "霞山区志愿者协会")
    w["leader"] = f.user("org_leader", "leader_all", orgs=[w["org_a"], w["org_a2"], w["org_town"], w["org_b_district"]])
    v = f.activity_volunteer(w["org_a"], "李明")
    for o in (w["org_a2"], w["org_town"], w["org_b_district"]):
        v.memberships.append(Membership(organization=o, is_primary=False, joined_on=v.registered_on))
    db.session.flush()
    today = local_today()
    for i in range(4):  # 32 h in 幸福社区 (org_a) and 32 h in 和平社区 (org_a2): 64 h, but 48 h in neither
        f.service_record(v, w["org_a"], day=today - timedelta(days=i + 1), hours="8", by=w["leader"])
        f.service_record(v, w["org_a2"], day=today - timedelta(days=i + 1), hours="8", by=w["leader"])
    w["v"] = v
    return w


def _session(w, org):
    return f.training_session(w["core_course"], org, held_on=local_today())


def test_core_training_counts_hours_per_community_not_in_total(w):
    """001 附件4 第四条: "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册，享有参加社区组织的各类志愿者
    培训活动资格。" — 64 hours spread over two communities (32 + 32) make no 骨干 of either."""
    for org in (w["org_a"], w["org_a2"], w["org_town"], w["org_b_district"]):
        assert services.may_attend(_session(w, org), [w["v"].id]) == set()
    with pytest.raises(services.TrainingError, match="骨干培训只限志愿者骨干"):
        services.mark_attended(w["leader"], _session(w, w["org_a"]), [w["v"].id])


def test_core_training_admits_the_core_of_the_sessions_community(w):
    """001 附件4 第四条: "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册，享有参加社区组织的各类志愿者
    培训活动资格。" — a 骨干 of 和平社区 may join the 骨干培训 of 和平社区's organization and of the street above it,
    not that of 幸福社区 nor of another district."""
    for i in range(2):  # 和平社区 now has 48 h
        f.service_record(w["v"], w["org_a2"], day=local_today() - timedelta(days=10 + i), hours="8", by=w["leader"])
    vid = w["v"].id
    assert services.may_attend(_session(w, w["org_a2"]), [vid]) == {vid}
    assert services.may_attend(_session(w, w["org_town"]), [vid]) == {vid}
    assert services.may_attend(_session(w, w["org_a"]), [vid]) == set()
    assert services.may_attend(_session(w, w["org_b_district"]), [vid]) == set()
