"""The public application: a pending organization and a pending org_leader account; the applicant
sees the status and the return reason, edits and resubmits; approval activates the account; the
form is throttled."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.accounts.models import Role, User, UserStatus
from blueprints.orgs.models import ApplyAttempt, Organization, OrgStatus
from core.extensions import db
from tests import factories as F


def text(resp) -> str:
    return resp.get_data(as_text=True)


def application(world, **over):
    data = {"name": "赤坎区海滨社区巾帼志愿服务队", "kind": "社区志愿服务队", "region_id": world["community_a2"].id,
            "registration_type": "filed", "credit_code": "", "contact_name": "林小梅", "contact_phone": "13911112222",
            "address": "海滨路 3 号", "founded_on": "2023-03-05", "service_fields": ["扶老", "社区服务"],
            "description": "关爱社区老人。", "display_name": "林小梅", "username": "linxm",
            "password": "Haibin2026", "confirm": "Haibin2026"}
    data.update(over)
    return data


def test_apply_page_is_public(client, world):
    r = client.get("/orgs/apply")
    assert r.status_code == 200 and "志愿服务组织登记申请" in text(r)
    assert "霞山区" in text(r)  # every district may be chosen


def test_apply_creates_submitted_org_and_pending_leader(client, world):
    r = client.post("/orgs/apply", data=application(world))
    assert r.status_code == 303, text(r)
    org = db.session.scalar(select(Organization).where(Organization.name == "赤坎区海滨社区巾帼志愿服务队"))
    user = db.session.scalar(select(User).where(User.username == "linxm"))
    assert org.status == OrgStatus.SUBMITTED and org.district_id == world["district_a"].id
    assert user.role == Role.ORG_LEADER and user.status == UserStatus.PENDING and user.organizations == [org]
    assert [s.action for s in org.steps] == ["create", "submit"]
    assert user.check_password("Haibin2026")
    assert "linxm" in text(client.get(r.headers["Location"]))


@pytest.mark.parametrize("over,msg", [
    ({"username": "org_leader"}, "该用户名已被使用"),
    ({"confirm": "Other2026x"}, "两次输入的密码不一致"),
    ({"password": "short", "confirm": "short"}, "8"),
    ({"region_id": "999999"}, "请选择所属区域"),
    ({"name": "赤坎区幸福社区志愿服务队"}, "本县(市、区)已有同名已登记组织"),
    ({"registration_type": "registered", "credit_code": "123"}, "统一社会信用代码"),
])
def test_bad_application_is_refused_and_nothing_saved(client, world, over, msg):
    r = client.post("/orgs/apply", data=application(world, **over))
    assert r.status_code == 422 and msg in text(r)
    assert 'value="林小梅"' in text(r)
    assert db.session.scalar(select(User).where(User.username == "linxm")) is None or over.get("username") == "org_leader"
    assert db.session.scalar(select(Organization).where(Organization.name == "赤坎区海滨社区巾帼志愿服务队")) is None


def test_apply_is_throttled(app, client, world):
    app.config["ORG_APPLY_MAX_PER_HOUR"] = 3
    try:
        for _ in range(3):
            assert client.post("/orgs/apply", data=application(world, username="")).status_code == 422
        r = client.post("/orgs/apply", data=application(world))
        assert r.status_code == 429 and "提交过于频繁" in text(r)
        assert db.session.scalar(select(User).where(User.username == "linxm")) is None
        other = app.test_client()
        r = other.post("/orgs/apply", data=application(world), environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert r.status_code == 303  # another address is not held back
    finally:
        app.config.pop("ORG_APPLY_MAX_PER_HOUR")
    assert db.session.query(ApplyAttempt).count() == 4


def test_the_whole_application_round(client, app, world):
    assert client.post("/orgs/apply", data=application(world)).status_code == 303
    applicant = app.test_client()
    applicant.login("linxm", "Haibin2026")
    r = applicant.get("/", follow_redirects=True)
    assert "我的组织登记状态" in text(r) and "待审核" in text(r)
    # a pending account reaches nothing else
    assert applicant.get("/orgs/").status_code in (302, 303)
    assert applicant.get("/orgs/queue").status_code in (302, 303)
    org = db.session.scalar(select(Organization).where(Organization.name == "赤坎区海滨社区巾帼志愿服务队"))
    # it cannot edit while it is being reviewed
    assert applicant.get(f"/orgs/{org.id}/edit").status_code == 403

    staff = app.test_client()
    staff.login("district_staff")
    assert org.name in text(staff.get("/orgs/queue"))
    r = staff.post(f"/orgs/{org.id}/transition", data={"action": "return", "comment": "请填写统一社会信用代码"})
    assert r.status_code == 303

    body = text(applicant.get("/orgs/application"))
    assert "已退回" in body and "请填写统一社会信用代码" in body and "重新提交" in body
    r = applicant.post(f"/orgs/{org.id}/edit", data=application(world, registration_type="registered",
                                                                 credit_code=F.credit_code()))
    assert r.status_code == 303, text(r)
    r = applicant.post(f"/orgs/{org.id}/transition", data={"action": "resubmit"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/orgs/application")
    db.session.refresh(org)
    assert org.status == OrgStatus.SUBMITTED and org.registration_type.value == "registered"
    # the applicant cannot approve itself
    assert applicant.post(f"/orgs/{org.id}/transition", data={"action": "approve"}).status_code in (303, 403)
    db.session.refresh(org)
    assert org.status == OrgStatus.SUBMITTED

    assert staff.post(f"/orgs/{org.id}/transition", data={"action": "approve"}).status_code == 303
    user = db.session.scalar(select(User).where(User.username == "linxm"))
    assert user.status == UserStatus.ACTIVE
    assert applicant.get("/orgs/").status_code == 200
    assert org.name in text(applicant.get(f"/orgs/{org.id}"))
    steps = [s.action for s in org.steps]
    assert steps == ["create", "submit", "return", "resubmit", "approve"]


def test_pending_applicant_cannot_touch_other_orgs(client, app, world):
    org, leader = F.org_with_leader(world["community_a"], status=OrgStatus.RETURNED, username="pend1")
    c = app.test_client()
    c.login("pend1")
    assert c.get(f"/orgs/{world['org_a'].id}/edit").status_code == 404
    assert c.post(f"/orgs/{world['org_a'].id}/transition", data={"action": "suspend", "comment": "x"}).status_code == 404


def test_logged_in_user_is_sent_away_from_apply(as_role):
    assert as_role("district_staff").get("/orgs/apply").status_code == 302
