"""/accounts: city admins manage everyone, district staff the org leaders of their district."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.accounts.models import Role, User, UserSession, UserStatus
from core.audit import AuditEntry
from core.extensions import db
from tests import factories


@pytest.mark.parametrize("role,status", [
    ("city_admin", 200), ("district_staff", 200), ("org_leader", 403), ("leader", 403), ("reviewer", 403),
])
def test_account_list_by_role(as_role, role, status):
    assert as_role(role).get("/accounts").status_code == status


def test_district_staff_list_shows_only_their_district(as_role, world):
    body = as_role("district_staff").htmx_get("/accounts").get_data(as_text=True)
    assert "<td>org_leader</td>" in body
    assert "org_leader_2" not in body and "district_staff_2" not in body and "city_admin" not in body


def test_htmx_filter_returns_rows_only(as_role, world):
    resp = as_role("city_admin").htmx_get("/accounts?role=leader")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert "district_leader" in body and "org_leader" not in body


def test_city_admin_creates_district_staff(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/accounts/new", data={"username": "potou_staff", "display_name": "坡头区文明办", "password": "Start1234",
                                          "role": "district_staff", "region_id": world["district_b"].id})
    assert resp.status_code == 303
    u = db.session.scalar(select(User).where(User.username == "potou_staff"))
    assert u.role == Role.DISTRICT_STAFF and u.region_id == world["district_b"].id and u.must_change_password


def test_create_user_bad_input_is_kept_and_explained(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/accounts/new", data={"username": "有空格 的名字", "display_name": "", "password": "short",
                                          "role": "district_staff", "region_id": "0"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "用户名为 3–32 位" in body and "请填写姓名" in body and "至少 8 位" in body and "请选择管辖区域" in body
    assert "有空格 的名字" in body
    resp = c.post("/accounts/new", data={"username": "leader", "display_name": "x", "password": "Start1234",
                                          "role": "reviewer"})
    assert resp.status_code == 422 and "已被使用" in resp.get_data(as_text=True)


def test_district_staff_may_only_create_org_leaders_of_their_district(as_role, world):
    c = as_role("district_staff")
    resp = c.post("/accounts/new", data={"username": "boss", "display_name": "x", "password": "Start1234",
                                          "role": "city_admin"})
    assert resp.status_code == 422 and db.session.scalar(select(User).where(User.username == "boss")) is None
    resp = c.post("/accounts/new", data={"username": "lead_b", "display_name": "x", "password": "Start1234",
                                          "role": "org_leader", "organizations": [world["org_b"].id]})
    assert resp.status_code == 422
    resp = c.post("/accounts/new", data={"username": "lead_a", "display_name": "x", "password": "Start1234",
                                          "role": "org_leader", "organizations": [world["org_a"].id]})
    assert resp.status_code == 303
    u = db.session.scalar(select(User).where(User.username == "lead_a"))
    assert [o.id for o in u.organizations] == [world["org_a"].id]


def test_other_district_cannot_touch_an_account_by_url(as_role, world):
    target = world["org_leader"]
    c = as_role("district_staff_2")
    assert c.get(f"/accounts/{target.id}/edit").status_code == 404
    assert c.post(f"/accounts/{target.id}/reset").status_code == 404
    assert c.post(f"/accounts/{target.id}/active", data={"active": "0"}).status_code == 404
    db.session.refresh(target)
    assert target.status == UserStatus.ACTIVE


def test_district_staff_cannot_manage_staff_or_admins(as_role, world):
    c = as_role("district_staff")
    assert c.get(f"/accounts/{world['district_staff'].id}/edit").status_code == 403  # self
    assert c.get(f"/accounts/{world['city_admin'].id}/edit").status_code == 404  # out of scope


def test_deactivate_ends_sessions_and_blocks_login(app, as_role, world):
    victim = app.test_client()
    victim.login("org_leader")
    admin = as_role("district_staff")
    assert admin.post(f"/accounts/{world['org_leader'].id}/active", data={"active": "0"}).status_code == 303
    assert victim.get("/").status_code == 302
    assert db.session.scalar(select(UserSession.end_reason).where(UserSession.user_id == world["org_leader"].id)) == "disabled"
    # The right password of a disabled account gets the answer of any wrong one (no enumeration);
    # the reason is in the audit log.
    resp = app.test_client().post("/login", data={"username": "org_leader", "password": factories.PASSWORD})
    assert resp.status_code == 401 and "用户名或密码不正确" in resp.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "login_failed")).count("账户已停用")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.action == "update",
                                                       AuditEntry.entity_id == world["org_leader"].id))
    assert entry.changes["status"] == ["active", "disabled"] and entry.username == "district_staff"


def test_reset_password_forces_a_change(app, as_role, world):
    admin = as_role("city_admin")
    resp = admin.post(f"/accounts/{world['leader'].id}/reset")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    temp = body.split("<code>")[1].split("</code>")[0]
    c = app.test_client()
    c.login("leader", temp)
    resp = c.get("/regions/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password")
    assert c.post("/account/password", data={"current": temp, "new": "Mine12345", "confirm": "Mine12345"}).status_code == 303
    assert c.get("/regions/").status_code == 200


def test_temporary_password_is_never_in_a_cookie_or_the_log(as_role, world):
    admin = as_role("city_admin")
    resp = admin.post(f"/accounts/{world['leader'].id}/reset")
    temp = resp.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert temp not in (resp.headers.get("Set-Cookie") or "")
    for e in db.session.scalars(select(AuditEntry)):
        assert temp not in (e.summary or "") and temp not in str(e.changes or "")


def test_work_email_is_optional_checked_and_saved(as_role, world):
    c = as_role("city_admin")
    data = {"username": "potou_staff", "display_name": "坡头区文明办", "password": "Start1234",
            "role": "district_staff", "region_id": world["district_b"].id, "email": "not-an-address"}
    resp = c.post("/accounts/new", data=data)
    assert resp.status_code == 422 and "邮箱格式不正确" in resp.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "potou_staff")) is None
    resp = c.post("/accounts/new", data={**data, "email": " wmb@potou.gov.cn "})
    assert resp.status_code == 303
    u = db.session.scalar(select(User).where(User.username == "potou_staff"))
    assert u.email == "wmb@potou.gov.cn"
    resp = c.post(f"/accounts/{u.id}/edit", data={"username": "potou_staff", "display_name": "坡头区文明办",
                                                  "role": "district_staff", "region_id": world["district_b"].id,
                                                  "email": ""})
    assert resp.status_code == 303
    db.session.refresh(u)
    assert u.email == ""
