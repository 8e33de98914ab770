"""劝退 is respected by the volunteer's own paths (issue 18): joining again, activation codes, 回馈."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.funding.services import holder_from_org
from blueprints.portal import services_join as sj
from blueprints.portal.models import JoinApplication
from blueprints.rewards import services as rewards
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import DismissReason
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def _dismissed(w, number):
    v = factories.volunteer(w["org_a"], "王芳", number=number)
    vs.add_membership(w["city_admin"], v, w["org_b"])
    m = next(m for m in v.memberships if m.organization_id == w["org_a"].id)
    vs.dismiss_membership(w["org_leader"], m, DismissReason.DISOBEDIENCE, local_today())
    db.session.flush()
    return v


def _join(org, number):
    return sj.JoinData(name="王芳", id_number=number, phone="13912345678", organization_id=org.id,
                       password="Join2026ok")


def test_a_person_dismissed_by_an_organization_cannot_apply_to_it_again(world):
    """001 附件4 第五条: "志愿者出现下列情形之一的，本站可以对其劝退" — the station's 劝退 ends the membership: the
    person cannot ask online to be taken in again (only the organization reinstates), nor get an activation code
    of it; another organization may still take them."""
    number = factories.id_number()
    v = _dismissed(world, number)
    with pytest.raises(sj.JoinError, match="已被该组织劝退"):
        sj.submit(_join(world["org_a"], number))
    assert db.session.scalar(select(JoinApplication.id)) is None
    assert v.id not in {p.id for p in sj.members_without_account(world["org_leader"], world["org_a"])}
    org_c = factories.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    assert sj.submit(_join(org_c, number)).volunteer_id == v.id


def test_a_dismissed_person_cannot_redeem_the_dismissing_organizations_items(world):
    """001 附件4 第五条: "本站可以对其劝退" — the station's 回馈 (爱心回馈, 001 附件4 第四条) is for those it serves with."""
    v = _dismissed(world, factories.id_number())
    item = rewards.create_item(world["city_admin"], holder_from_org(world["org_a"]), rewards.ItemData(
        title="免费理发一次", kind="service", description="", cost="0", min_star=0, core_only=False, active=True))
    other = rewards.create_item(world["city_admin"], holder_from_org(world["org_b"]), rewards.ItemData(
        title="爱心餐", kind="service", description="", cost="0", min_star=0, core_only=False, active=True))
    assert any("劝退" in p for p in rewards.unmet_conditions(item, v))
    with pytest.raises(rewards.RewardError, match="劝退"):
        rewards.redeem(world["city_admin"], item, v)
    assert rewards.unmet_conditions(other, v) == []


def test_a_city_wide_dismissal_keeps_the_record_readable_and_refuses_every_action(app, me, as_role):
    """001 附件4 第五条: "本站可以对其劝退，行为加重者，报上级志愿服务组织备案" — the upper level's 劝退 ends the
    person's standing in the whole city: they may still log in to read their own record (个人信息保护法 第四十五条,
    《志愿服务记录与证明出具办法》第十三条 correction requests), but cannot sign up, check in or join anywhere."""
    from datetime import time, timedelta

    from blueprints.accounts.services import authenticate
    from blueprints.activities import recruitment
    from blueprints.activities.services import ActivityError
    from core import pii
    from core.timeutil import utcnow

    person = me["person"]
    vs.dismiss(me["city_admin"], person, DismissReason.HARM, local_today(), "严重违反管理规定")
    db.session.commit()
    assert authenticate(person.number, factories.PASSWORD, "10.0.0.1").user is not None
    c = as_role("volunteer")
    assert c.get("/my/").status_code == 200
    a = factories.activity(me["org_v"], held_on=local_today() + timedelta(days=2), start_time=time(9, 0),
                           end_time=time(12, 0))
    a.recruiting, a.published_at, a.auto_accept = True, utcnow(), True
    db.session.flush()
    with pytest.raises(ActivityError, match="劝退"):
        recruitment.sign_up_self(me["volunteer"], a)
    with pytest.raises(sj.JoinError, match="劝退"):
        sj.submit(_join(me["org_a"], pii.decrypt(person.id_number_enc)))
