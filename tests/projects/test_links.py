"""A 政府购买服务 contract and a 最佳志愿服务项目 nomination point at a project of the library."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.awards.models import Nomination, NominationStatus
from blueprints.funding.models import ServiceProject
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


def test_purchased_service_contract_points_at_a_library_project(as_role, world):
    """000: "规范项目的立项、管理及评估等流程" — the contract that buys a service names its project."""
    p = f.volunteer_project(world["org_a"])
    p_b = f.volunteer_project(world["org_b"], "霞山助残行动")
    db.session.commit()
    c = as_role("district_staff")
    form = c.get("/funding/projects/new").get_data(as_text=True)
    assert "银龄关爱行动" in form and "霞山助残行动" not in form
    year = local_today().year
    data = {"title": "银龄关爱购买服务", "buyer_region_id": world["district_a"].id, "buyer_name": "",
            "provider_org_id": world["org_a"].id, "amount": "30000", "start_date": f"{year}-01-01",
            "end_date": f"{year}-12-31", "description": ""}
    resp = c.post("/funding/projects/new", data=data | {"project_id": p_b.id})
    assert resp.status_code == 422 and "项目库中的项目" in resp.get_data(as_text=True)
    assert c.post("/funding/projects/new", data=data | {"project_id": p.id}).status_code == 303
    sp = db.session.scalar(select(ServiceProject))
    assert sp.project_id == p.id
    assert f"/projects/{p.id}" in c.get(f"/funding/projects/{sp.id}").get_data(as_text=True)
    assert f"/funding/projects/{sp.id}" in c.get(f"/projects/{p.id}").get_data(as_text=True)  # and back
    other = f.org(world["community_a"], "另一支队伍")
    db.session.commit()
    resp = c.post(f"/funding/projects/{sp.id}/edit", data=data | {"provider_org_id": other.id, "project_id": p.id})
    assert resp.status_code == 303  # unchanged project: kept
    p2 = f.volunteer_project(world["org_a"], "第二个项目")
    db.session.commit()
    resp = c.post(f"/funding/projects/{sp.id}/edit", data=data | {"provider_org_id": other.id, "project_id": p2.id})
    assert resp.status_code == 422 and "不是承接组织实施的项目" in resp.get_data(as_text=True)


def test_best_project_nomination_points_at_a_library_project(as_role, world):
    """002: the award 最佳志愿服务项目 — its nominee may be a project of the library."""
    camp = f.award_campaign()
    kind = f.award_kind(camp, "project")
    p = f.volunteer_project(world["org_a"])
    p_b = f.volunteer_project(world["org_b"], "霞山助残行动")
    db.session.commit()
    c = as_role("org_leader")
    form = c.get(f"/awards/{camp.id}/nominate").get_data(as_text=True)
    assert "银龄关爱行动" in form and "霞山助残行动" not in form
    data = {"kind_id": kind.id, "organization_id": world["org_a"].id, "project_title": "", "summary": "关爱老人",
            "deeds": "事迹"}
    resp = c.post(f"/awards/{camp.id}/nominate", data=data | {"project_id": p_b.id})
    assert resp.status_code == 422 and "请选择本组织实施的项目" in resp.get_data(as_text=True)
    assert c.post(f"/awards/{camp.id}/nominate", data=data | {"project_id": p.id}).status_code == 303
    n = db.session.scalar(select(Nomination))
    assert n.project_id == p.id and n.nominee_name == "银龄关爱行动"
    assert f"/awards/nominations/{n.id}" not in c.get(f"/projects/{p.id}").get_data(as_text=True)  # a draft: not yet
    n.status = NominationStatus.SUBMITTED
    db.session.commit()
    assert f"/awards/nominations/{n.id}" in c.get(f"/projects/{p.id}").get_data(as_text=True)
