"""Scope by URL: a 霞山区 user cannot read or change a 赤坎区 organization."""
from __future__ import annotations

import pytest

from blueprints.orgs.models import OrgStatus
from core.extensions import db
from tests.jobs import export_file
from tests import factories as F

XIASHAN = ["district_staff_2", "org_leader_2"]


@pytest.mark.parametrize("role", XIASHAN)
def test_xiashan_user_cannot_read_a_chikan_org(as_role, world, role):
    c = as_role(role)
    org = world["org_a"]
    assert c.get(f"/orgs/{org.id}").status_code == 404
    assert org.name not in c.get("/orgs/?q=赤坎").get_data(as_text=True)
    assert org.name not in c.get(f"/orgs/?district={world['district_a'].id}").get_data(as_text=True)
    assert c.get(f"/orgs/parent-options?region_id={world['community_a'].id}&org_id={org.id}").status_code == 404


@pytest.mark.parametrize("role", XIASHAN)
def test_xiashan_user_cannot_change_a_chikan_org(as_role, world, role):
    c = as_role(role)
    org = F.org(world["community_a"], "赤坎区待审服务队", status=OrgStatus.SUBMITTED)
    assert c.get(f"/orgs/{org.id}/edit").status_code == 404
    assert c.post(f"/orgs/{org.id}/edit", data={"name": "被改名"}).status_code == 404
    for action in ("approve", "return", "suspend", "deregister"):
        assert c.post(f"/orgs/{org.id}/transition", data={"action": action, "comment": "x"}).status_code == 404
    db.session.refresh(org)
    assert org.status == OrgStatus.SUBMITTED and org.name == "赤坎区待审服务队"


def test_xiashan_export_has_no_chikan_rows(as_role, world):
    import io

    from openpyxl import load_workbook

    r = export_file(as_role("district_staff_2"), "/orgs/export.xlsx")
    names = [row[0].value for row in load_workbook(io.BytesIO(r.data)).active.iter_rows(min_row=2)]
    assert world["org_b"].name in names and world["org_a"].name not in names


def test_read_only_leader_cannot_change(as_role, world):
    org = F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    c = as_role("district_leader")
    assert c.get(f"/orgs/{org.id}").status_code == 200
    assert c.get(f"/orgs/{org.id}/edit").status_code == 403
    assert c.post(f"/orgs/{org.id}/transition", data={"action": "approve"}).status_code == 403
    assert c.get("/orgs/new").status_code == 403


def test_org_leader_sees_only_own_orgs(as_role, world):
    c = as_role("org_leader")
    body = c.get("/orgs/").get_data(as_text=True)
    assert world["org_a"].name in body and world["org_b"].name not in body
    assert c.get(f"/orgs/{world['org_b'].id}").status_code == 404


def test_org_leader_cannot_decide_on_own_org(as_role, world):
    org_a = world["org_a"]
    r = as_role("org_leader").post(f"/orgs/{org_a.id}/transition", data={"action": "suspend", "comment": "自己暂停"})
    assert r.status_code == 403
    db.session.refresh(org_a)
    assert org_a.status == OrgStatus.APPROVED


def test_staff_cannot_create_in_other_district(as_role, world):
    c = as_role("district_staff_2")
    r = c.post("/orgs/new", data={"name": "越界服务队", "kind": "社区志愿服务队", "region_id": world["community_a"].id,
                                  "registration_type": "filed", "contact_name": "甲", "contact_phone": "13900001111"})
    assert r.status_code == 422 and "管辖范围" in r.get_data(as_text=True)


def test_import_is_for_the_office_only(as_role, world):
    for role in ("org_leader", "leader", "reviewer"):
        c = as_role(role)
        assert c.get("/orgs/import").status_code == 403
        assert c.get("/orgs/import/template").status_code == 403
