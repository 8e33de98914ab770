"""HTTP: registry list (filters, HTMX partial, masking, export), detail, workflow buttons, create/edit."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from blueprints.orgs.models import Organization, OrgStatus, OrgStep, RegistrationType
from core.extensions import db
from tests.jobs import export_file
from tests import factories as F


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "district_leader"])
def test_registry_and_detail_open_for_readers(as_role, world, role):
    c = as_role(role)
    r = c.get("/orgs/")
    assert r.status_code == 200 and "志愿服务组织名录" in text(r)
    r = c.get(f"/orgs/{world['org_a'].id}")
    assert r.status_code == 200 and world["org_a"].name in text(r)


def test_reviewer_cannot_open_the_registry(as_role):
    assert as_role("reviewer").get("/orgs/").status_code == 403


def test_anonymous_goes_to_login(client, world):
    r = client.get("/orgs/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_phone_is_masked_in_the_list_and_the_export(as_role, world):
    F.org(world["community_a"], "赤坎区电话测试队", contact_name="李四", contact_phone="13812345678")
    c = as_role("district_staff")
    body = text(c.get("/orgs/?q=电话测试"))
    assert "138****5678" in body and "13812345678" not in body
    r = export_file(c, "/orgs/export.xlsx?q=电话测试")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[1][0] == "赤坎区电话测试队"
    assert "138****5678" in rows[1] and "13812345678" not in str(rows)


def test_htmx_filter_returns_only_the_rows(as_role, world):
    F.org(world["community_a"], "赤坎区示范点服务队", is_demo_site=True, demo_site_year=2025)
    c = as_role("city_admin")
    r = c.htmx_get("/orgs/?flag=demo")
    body = text(r)
    assert r.status_code == 200 and "<html" not in body
    assert "赤坎区示范点服务队" in body and world["org_a"].name not in body
    assert "HX-Request" in r.headers.get("Vary", "")


def test_filters_by_district_status_kind_and_field(as_role, world):
    a = F.org(world["community_a"], "赤坎区待审核服务队", status=OrgStatus.SUBMITTED, kind="党员志愿服务队")
    c = as_role("city_admin")
    assert a.name in text(c.get("/orgs/?status=submitted")) and world["org_a"].name not in text(c.get("/orgs/?status=submitted"))
    body = text(c.get(f"/orgs/?district={world['district_b'].id}"))
    assert world["org_b"].name in body and world["org_a"].name not in body
    assert a.name in text(c.get("/orgs/?kind=党员志愿服务队"))
    c.post(f"/orgs/{a.id}/edit", data={})  # no-op; service fields are set below through the service
    from blueprints.orgs.models import OrgServiceField
    a.service_field_rows = [OrgServiceField(field="助残")]
    db.session.commit()
    body = text(c.get("/orgs/?field=助残"))
    assert a.name in body and world["org_a"].name not in body


def test_sorting_and_pagination(as_role, world):
    for i in range(35):
        F.org(world["community_a"], f"赤坎区分页测试队{i:02d}")
    c = as_role("district_staff")
    body = text(c.get("/orgs/?q=分页测试&sort=-name"))
    assert body.index("分页测试队34") < body.index("分页测试队33")
    assert "共 35 条" in body and "分页测试队00" not in body
    body = text(c.get("/orgs/?q=分页测试&sort=-name&page=2"))
    assert "分页测试队00" in body


def test_junk_filters_do_not_fail(as_role, world):
    c = as_role("city_admin")
    for q in ["district=abc", "status=nope", "sort=evil", "page=-3", "flag=x", "q=%25_", "field=" + "x" * 500]:
        assert c.get("/orgs/?" + q).status_code == 200


def test_detail_shows_children_leaders_and_history(as_role, world):
    child = F.org(world["community_a"], "赤坎区幸福社区志愿服务大队", parent=world["org_a"])
    c = as_role("district_staff")
    body = text(c.get(f"/orgs/{world['org_a'].id}"))
    assert child.name in body and "org_leader" in body and "登记记录" in body


def test_staff_return_needs_a_reason_and_keeps_the_form(as_role, world):
    org = F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    c = as_role("district_staff")
    r = c.post(f"/orgs/{org.id}/transition", data={"action": "return", "comment": ""})
    assert r.status_code == 422 and "请填写退回原因" in text(r)
    db.session.refresh(org)
    assert org.status == OrgStatus.SUBMITTED
    r = c.post(f"/orgs/{org.id}/transition", data={"action": "return", "comment": "请补充信用代码"})
    assert r.status_code == 303
    db.session.refresh(org)
    assert org.status == OrgStatus.RETURNED
    assert "请补充信用代码" in text(c.get(f"/orgs/{org.id}"))


def test_illegal_move_by_url_is_refused_with_a_message(as_role, world):
    c = as_role("district_staff")
    r = c.post(f"/orgs/{world['org_a'].id}/transition", data={"action": "approve"}, follow_redirects=True)
    assert r.status_code == 200 and "不能执行" in text(r)
    db.session.refresh(world["org_a"])
    assert world["org_a"].status == OrgStatus.APPROVED


def test_transition_without_csrf_is_refused(as_role, world):
    org = F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    r = as_role("district_staff").post(f"/orgs/{org.id}/transition", data={"action": "approve"}, csrf=False)
    assert r.status_code == 400
    db.session.refresh(org)
    assert org.status == OrgStatus.SUBMITTED


def test_leader_role_cannot_decide(as_role, world):
    org = F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    assert as_role("district_leader").post(f"/orgs/{org.id}/transition", data={"action": "approve"}).status_code == 403


def _form(world, **over):
    data = {"name": "赤坎区新建应急救援队", "kind": "专业志愿服务队", "region_id": world["community_a"].id,
            "parent_id": "", "registration_type": "filed", "credit_code": "", "contact_name": "陈明",
            "contact_phone": "13900001111", "address": "幸福路 8 号", "founded_on": "2022-05-04",
            "service_fields": ["应急救援", "救灾"], "description": "", "submit": "1"}
    data.update(over)
    return data


def test_staff_create_and_submit(as_role, world):
    c = as_role("district_staff")
    r = c.post("/orgs/new", data=_form(world))
    assert r.status_code == 303, text(r)
    org = db.session.query(Organization).filter_by(name="赤坎区新建应急救援队").one()
    assert org.status == OrgStatus.SUBMITTED and org.district_id == world["district_a"].id
    assert org.service_fields == ["应急救援", "救灾"]
    assert [s.action for s in org.steps] == ["create", "submit"]


@pytest.mark.parametrize("over,field_msg", [
    ({"name": ""}, "请填写组织名称"),
    ({"registration_type": "registered", "credit_code": ""}, "依法登记的组织须填写统一社会信用代码"),
    ({"registration_type": "registered", "credit_code": "91440800MA4UTEST1X"}, "统一社会信用代码"),
    ({"registration_type": "filed", "credit_code": "91350100M000100Y43"}, "备案的组织不填"),
    ({"contact_phone": "12345"}, "手机号"),
    ({"founded_on": "2030-01-01"}, "不能晚于今天"),
        ({"founded_on": "2099-01-01"}, "日期不能晚于"),
        ({"founded_on": "0001-01-01"}, "日期不能早于 1900-01-01"),
    ({"founded_on": "yesterday"}, "日期格式"),
    ({"kind": "黑客组织"}, "请选择组织类型"),
    ({"service_fields": ["炒股"]}, "未知的服务领域"),
    ({"is_demo_site": "y", "demo_site_year": ""}, "请填写年度"),
    ({"is_incubated": "y", "incubated_year": "1800"}, "年度应在"),
])
def test_bad_input_is_shown_next_to_the_field(as_role, world, over, field_msg):
    c = as_role("district_staff")
    r = c.post("/orgs/new", data=_form(world, **over))
    assert r.status_code == 422 and field_msg in text(r)
    assert 'value="陈明"' in text(r)  # what was typed is kept
    assert db.session.query(Organization).filter_by(name="赤坎区新建应急救援队").count() == 0


def test_region_outside_scope_is_refused(as_role, world):
    r = as_role("district_staff").post("/orgs/new", data=_form(world, region_id=world["community_b"].id))
    assert r.status_code == 422 and "管辖范围" in text(r)


def test_credit_code_must_be_unique(as_role, world):
    code = F.credit_code()
    F.org(world["community_b"], "霞山区已登记协会", registration_type=RegistrationType.REGISTERED, credit_code=code)
    r = as_role("city_admin").post("/orgs/new", data=_form(world, registration_type="registered", credit_code=code.lower()))
    assert r.status_code == 422 and "已被其他组织使用" in text(r)


def test_same_name_in_the_same_district_is_refused(as_role, world):
    r = as_role("district_staff").post("/orgs/new", data=_form(world, name=world["org_a"].name))
    assert r.status_code == 422 and "已有同名组织" in text(r)


def test_same_name_elsewhere_warns_and_needs_confirmation(as_role, world):
    c = as_role("city_admin")
    data = _form(world, name="蓝海志愿服务队")
    F.org(world["community_b"], data["name"])  # same name in 霞山区
    r = c.post("/orgs/new", data=data)
    assert r.status_code == 422 and "可能重复" in text(r) and "确认不是重复登记" in text(r)
    r = c.post("/orgs/new", data={**data, "confirm_duplicate": "y"})
    assert r.status_code == 303


def test_duplicate_check_endpoint_warns_while_typing(client, world):
    r = client.get("/orgs/check-duplicate", query_string={"name": " 赤坎区幸福社区志愿服务队 "})
    assert r.status_code == 200 and "可能重复" in text(r)
    assert "可能重复" not in text(client.get("/orgs/check-duplicate", query_string={"name": "全新名称"}))


def test_parent_options_follow_the_region(as_role, world):
    r = as_role("district_staff").get(f"/orgs/parent-options?region_id={world['community_a'].id}")
    assert world["org_a"].name in text(r) and world["org_b"].name not in text(r)


def test_parent_cannot_be_itself_or_a_child(as_role, world):
    child = F.org(world["community_a"], "赤坎区下级大队", parent=world["org_a"])
    c = as_role("district_staff")
    r = c.post(f"/orgs/{world['org_a'].id}/edit", data=_form(world, name=world["org_a"].name, parent_id=child.id))
    assert r.status_code == 422 and "上级组织须为" in text(r)


def test_staff_edit_changes_flags_and_is_audited(as_role, world):
    c = as_role("district_staff")
    org = world["org_a"]
    r = c.post(f"/orgs/{org.id}/edit", data=_form(world, name=org.name, is_demo_site="y", demo_site_year="2025"))
    assert r.status_code == 303, text(r)
    db.session.refresh(org)
    assert org.is_demo_site and org.demo_site_year == 2025


def test_approved_leader_edits_only_contact_fields(as_role, world):
    c = as_role("org_leader")
    org = world["org_a"]
    r = c.get(f"/orgs/{org.id}/edit")
    assert r.status_code == 200 and 'name="contact_phone"' in text(r) and 'name="name"' not in text(r)
    r = c.post(f"/orgs/{org.id}/edit", data=_form(world, name="改名企图", contact_name="新联系人", contact_phone="13700002222"))
    assert r.status_code == 303
    db.session.refresh(org)
    assert org.name == "赤坎区幸福社区志愿服务队" and org.contact_name == "新联系人"


def test_deregistered_org_is_read_only(as_role, world):
    org = F.org(world["community_a"], status=OrgStatus.DEREGISTERED)
    c = as_role("city_admin")
    assert c.get(f"/orgs/{org.id}/edit").status_code == 403
    assert "只读" in text(c.get(f"/orgs/{org.id}"))


def test_queue_lists_submitted_in_scope(as_role, world):
    a = F.org(world["community_a"], "赤坎区排队服务队", status=OrgStatus.SUBMITTED)
    b = F.org(world["community_b"], "霞山区排队服务队", status=OrgStatus.SUBMITTED)
    body = text(as_role("district_staff").get("/orgs/queue"))
    assert a.name in body and b.name not in body
    body = text(as_role("city_admin").get("/orgs/queue"))
    assert a.name in body and b.name in body
    assert as_role("org_leader").get("/orgs/queue").status_code == 403


def test_dashboard_tile_counts_the_queue(app, world):
    from blueprints.orgs.routes import registry_tile
    from flask import render_template_string

    F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    F.org(world["community_a"], status=OrgStatus.SUBMITTED)
    F.org(world["community_b"], status=OrgStatus.SUBMITTED)
    from flask_login import login_user

    from core.figures import figure

    with app.test_request_context():
        login_user(world["district_staff"])
        tile = registry_tile(world["district_staff"])
        assert figure("orgs.submitted", world["district_staff"]).value == 2
        html = render_template_string("{% with ctx=c %}{% include t %}{% endwith %}", c=tile.context, t=tile.template)
        assert "个待审核组织" in html and 'data-figure="orgs.submitted" data-value="2"' in html
        assert figure("orgs.submitted", world["city_admin"]).value == 3
        assert registry_tile(world["reviewer"]) is None


def test_options_are_configurable_by_city_admin(as_role, world):
    c = as_role("city_admin")
    r = c.post("/orgs/options", data={"kinds": "党员志愿服务队\n巾帼志愿服务队", "service_fields": "扶老\n助残"})
    assert r.status_code == 303
    body = text(c.get("/orgs/new"))
    assert "巾帼志愿服务队" in body and "社区志愿服务队" not in body
    assert as_role("district_staff").get("/orgs/options").status_code == 403
    r = c.post("/orgs/options", data={"kinds": " \n ", "service_fields": "扶老"})
    assert r.status_code == 422


def test_contact_name_is_masked_in_the_list_and_export(as_role, world):
    F.org(world["community_a"], "赤坎区姓名测试队", contact_name="欧阳明月", contact_phone="13812345678")
    c = as_role("district_staff")
    body = text(c.get("/orgs/?q=姓名测试"))
    assert "欧***" in body and "欧阳明月" not in body
    ws = load_workbook(io.BytesIO(export_file(c, "/orgs/export.xlsx?q=姓名测试").data)).active
    assert "欧***" in [cell.value for cell in ws[2]] and "欧阳明月" not in str([[x.value for x in r] for r in ws.iter_rows()])


def test_full_phone_is_revealed_to_the_office_and_audited(as_role, world):
    from core.audit import AuditEntry

    org = F.org(world["community_a"], "赤坎区电话显示队", contact_name="李四", contact_phone="13812345678")
    c = as_role("district_staff")
    body = text(c.get(f"/orgs/{org.id}"))
    assert "138****5678" in body and "13812345678" not in body and "显示" in body
    r = c.post(f"/orgs/{org.id}/reveal-phone", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "13812345678" in text(r) and r.headers["Cache-Control"] == "no-store"
    entry = db.session.query(AuditEntry).filter_by(action="reveal", entity_id=org.id).one()
    assert entry.username == "district_staff" and "13812345678" not in (entry.summary or "")


@pytest.mark.parametrize("role,status", [("district_leader", 403), ("district_staff_2", 404), ("org_leader_2", 404)])
def test_others_cannot_reveal_the_phone(as_role, world, role, status):
    org = F.org(world["community_a"], contact_name="李四", contact_phone="13812345678")
    r = as_role(role).post(f"/orgs/{org.id}/reveal-phone")
    assert r.status_code == status and "13812345678" not in text(r)


def test_reveal_needs_csrf(as_role, world):
    org = F.org(world["community_a"], contact_name="李四", contact_phone="13812345678")
    r = as_role("district_staff").post(f"/orgs/{org.id}/reveal-phone", csrf=False)
    assert r.status_code == 400 and "13812345678" not in text(r)


def test_org_leader_registers_a_new_team_and_leads_it(as_role, world):
    c = as_role("org_leader")
    assert c.get("/orgs/new").status_code == 200
    r = c.post("/orgs/new", data=_form(world, name="赤坎区幸福社区青年突击队", parent_id=world["org_a"].id))
    assert r.status_code == 303, text(r)
    org = db.session.query(Organization).filter_by(name="赤坎区幸福社区青年突击队").one()
    assert org.status == OrgStatus.SUBMITTED and org.parent_id == world["org_a"].id
    assert org in world["org_leader"].organizations
    # …but only in the district where it already works
    r = c.post("/orgs/new", data=_form(world, name="霞山区越界队", region_id=world["community_b"].id))
    assert r.status_code == 422
    # and it cannot approve its own new team
    assert c.post(f"/orgs/{org.id}/transition", data={"action": "approve"}).status_code == 403
