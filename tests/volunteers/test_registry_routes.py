"""HTTP tests of the volunteers registry: registration, list, page, 显示, status, scope by URL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core import pii
from core.audit import AuditEntry
from core.extensions import db
from tests import factories


def _form(w, number, **kw):
    data = {"organization_id": w["org_a"].id, "name": "陈晓明", "id_number": number, "phone": "13812345678",
            "political_status": "party_member", "skills": ["扶老", "助学"], "availability": ["周末"],
            "registered_on": "2026-03-01", "region_id": "0"}
    data.update(kw)
    return data


def test_org_leader_registers_a_volunteer_with_derived_fields(world, as_role):
    c = as_role("org_leader")
    number = factories.id_number(date(1988, 2, 29), sex="女")
    resp = c.post("/volunteers/new", data=_form(world, number))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    v = db.session.scalar(select(Volunteer))
    assert v.name == "陈晓明" and v.sex == "女" and v.birth_date == date(1988, 2, 29)
    assert v.number.startswith("440802") and len(v.number) == 12
    assert v.id_number_enc != number and number not in v.id_number_enc
    assert v.id_masked == number[:4] + "*" * 14
    assert v.skills == ["助学", "扶老"] or set(v.skills) == {"扶老", "助学"}
    assert [m.organization_id for m in v.memberships] == [world["org_a"].id]
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "陈晓明" in page and v.id_masked in page and number not in page


def test_invalid_id_number_is_refused_next_to_the_field(world, as_role):
    c = as_role("org_leader")
    good = factories.id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # the same number with a wrong check character
    resp = c.post("/volunteers/new", data=_form(world, "440802199001011234"))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "校验位" in body and "陈晓明" in body  # message, and what was typed
    assert c.post("/volunteers/new", data=_form(world, bad)).status_code == 422
    assert db.session.scalar(select(Volunteer)) is None


def test_registering_an_existing_person_adds_a_membership(world, as_role):
    number = factories.id_number()
    first = factories.volunteer(world["org_a"], number=number)
    db.session.commit()
    c = as_role("org_leader_2")
    resp = c.post("/volunteers/new", data=_form(world, number, organization_id=world["org_b"].id, name="别名"))
    assert resp.status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Volunteer)) == 1
    orgs = set(db.session.scalars(select(Membership.organization_id).where(Membership.volunteer_id == first.id)))
    assert orgs == {world["org_a"].id, world["org_b"].id}
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "赤坎区" in page and "已在" in page


def test_minor_needs_guardian(world, as_role):
    c = as_role("org_leader")
    number = factories.id_number(date(2012, 6, 1))
    resp = c.post("/volunteers/new", data=_form(world, number))
    assert resp.status_code == 422 and "监护人" in resp.get_data(as_text=True)
    resp = c.post("/volunteers/new", data=_form(world, number, guardian_name="陈大明", guardian_phone="13900001111",
                                                guardian_consent="y", guardian_relation="父亲"))
    assert resp.status_code == 303
    assert db.session.scalar(select(Volunteer)).guardian_consent is True


def test_list_search_by_last4_and_filters(world, as_role):
    v = factories.volunteer(world["org_a"], name="林小红", phone="13711112222")
    factories.volunteer(world["org_a"], name="黄大伟")
    db.session.commit()
    c = as_role("district_staff")
    body = c.get("/volunteers/").get_data(as_text=True)
    assert "林小红" in body and "黄大伟" in body
    body = c.htmx_get(f"/volunteers/?q={pii.decrypt(v.id_number_enc)[-4:]}").get_data(as_text=True)
    assert "林小红" in body and "<html" not in body
    body = c.htmx_get("/volunteers/?q=2222").get_data(as_text=True)
    assert "林小红" in body and "黄大伟" not in body
    body = c.get("/volunteers/?q=林").get_data(as_text=True)
    assert "林小红" in body and "黄大伟" not in body
    body = c.get("/volunteers/?political=party_member").get_data(as_text=True)
    assert "林小红" not in body


def test_reveal_is_a_post_and_audited(world, as_role):
    number = factories.id_number()
    v = factories.volunteer(world["org_a"], number=number)
    db.session.commit()
    c = as_role("org_leader")
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert number not in page and "显示" in page
    assert c.get(f"/volunteers/{v.id}/reveal/id_number").status_code == 405
    resp = c.post(f"/volunteers/{v.id}/reveal/id_number", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and number in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reveal"))
    assert entry is not None and entry.username == "org_leader"
    logged = " ".join(str(e.summary) + str(e.changes) for e in db.session.scalars(select(AuditEntry)))
    assert number not in logged


def test_leader_and_city_admin_cannot_reveal(world, as_role):
    v = factories.volunteer(world["org_a"])
    db.session.commit()
    for role in ("leader", "city_admin"):
        c = as_role(role)
        assert "显示" not in c.get(f"/volunteers/{v.id}").get_data(as_text=True)
        assert c.post(f"/volunteers/{v.id}/reveal/id_number").status_code == 403


def test_other_district_cannot_read_or_change_by_url(world, as_role):
    v = factories.volunteer(world["org_a"], name="赤坎志愿者")
    db.session.commit()
    for role in ("district_staff_2", "org_leader_2"):
        c = as_role(role)
        assert c.get(f"/volunteers/{v.id}").status_code == 404
        assert c.get(f"/volunteers/{v.id}/edit").status_code == 404
        assert c.post(f"/volunteers/{v.id}/reveal/id_number").status_code == 404
        # The city-wide 劝退 is the district office's: another district's staff cannot find the person,
        # an organization leader may not use it at all.
        assert c.post(f"/volunteers/{v.id}/dismiss", data={"reason": "violation", "dismissed_on": "2026-05-01"}
                      ).status_code == (404 if role == "district_staff_2" else 403)
        mid = v.memberships[0].id
        assert c.post(f"/volunteers/{v.id}/memberships/{mid}/dismiss",
                      data={"reason": "violation", "dismissed_on": "2026-05-01"}).status_code == 404
        assert "赤坎志愿者" not in c.get("/volunteers/").get_data(as_text=True)
    db.session.refresh(v)
    assert v.status == VolunteerStatus.ACTIVE


def test_district_leader_reads_but_cannot_change(world, as_role):
    v = factories.volunteer(world["org_a"])
    db.session.commit()
    c = as_role("district_leader")
    assert c.get(f"/volunteers/{v.id}").status_code == 200
    assert c.get(f"/volunteers/{v.id}/edit").status_code == 403
    assert c.get("/volunteers/new").status_code == 403


def test_dismiss_keeps_the_record(world, as_role):
    v = factories.volunteer(world["org_a"], registered_on=date(2025, 1, 1))
    db.session.commit()
    c = as_role("district_staff")
    resp = c.post(f"/volunteers/{v.id}/dismiss", data={"reason": "nonsense", "dismissed_on": "2026-05-01"})
    assert resp.status_code == 422
    resp = c.post(f"/volunteers/{v.id}/dismiss", data={"reason": "profit", "dismissed_on": "2026-05-01",
                                                       "note": "以志愿者名义推销"})
    assert resp.status_code == 303
    db.session.refresh(v)
    assert v.status == VolunteerStatus.DISMISSED and v.dismiss_reason.value == "profit"
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "利用志愿者的名义" in page
    assert c.post(f"/volunteers/{v.id}/reinstate", data={"note": "经复核恢复"}).status_code == 303
    db.session.refresh(v)
    assert v.status == VolunteerStatus.ACTIVE


REGISTRY_ENDPOINTS = {"volunteers.index", "volunteers.export", "volunteers.create", "volunteers.edit",
                      "volunteers.detail", "volunteers.reveal", "volunteers.dismiss", "volunteers.reinstate",
                      "volunteers.add_membership", "volunteers.set_primary", "volunteers.import_template",
                      "volunteers.import_upload", "volunteers.import_confirm"}
JUNK = {"name": "x" * 5000, "id_number": "'; DROP TABLE volunteer; --", "organization_id": "abc",
        "registered_on": "2026-02-30", "reason": "<script>", "dismissed_on": "二〇二六", "skills": ["不存在"],
        "availability": ["\x00"], "political_status": "king", "region_id": "-1", "token": "../../x", "org": "x",
        "note": "y" * 3000, "phone": "1" * 40, "guardian_phone": "abc"}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "district_staff_2", "org_leader", "leader",
                                  "reviewer", None])
def test_registry_routes_answer_junk_without_500(app, world, as_role, client, role):
    v = factories.volunteer(world["org_a"])
    db.session.commit()
    m = v.memberships[0]
    c = as_role(role) if role else client
    args = {"vid": v.id, "mid": m.id, "what": "id_number"}
    seen = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in REGISTRY_ENDPOINTS:
            continue
        seen.add(rule.endpoint)
        url = app.url_map.bind("localhost").build(rule.endpoint, {k: args[k] for k in rule.arguments})
        if "GET" in rule.methods:
            for u in (url, url + "?page=-5&org=x&region=%00&status=zz&star=99&kind=x&political=x&skill=x&year=abc&q=%27"):
                assert c.get(u).status_code < 500, u
        if "POST" in rule.methods:
            assert c.post(url, data=JUNK).status_code < 500, url
    assert seen == REGISTRY_ENDPOINTS
    db.session.refresh(v)
    assert v.name == "张伟" and v.status == VolunteerStatus.ACTIVE


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 200), ("org_leader", 200),
                                         ("leader", 200), ("district_leader", 200), ("district_staff_2", 404),
                                         ("org_leader_2", 404), ("reviewer", 403)])
def test_volunteer_page_by_role(world, as_role, role, status):
    v = factories.volunteer(world["org_a"])
    db.session.commit()
    assert as_role(role).get(f"/volunteers/{v.id}").status_code == status


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 200), ("org_leader", 200),
                                         ("leader", 403), ("reviewer", 403)])
def test_registration_form_by_role(world, as_role, role, status):
    assert as_role(role).get("/volunteers/new").status_code == status


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/volunteers/")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_memberships_add_and_primary(world, as_role):
    v = factories.volunteer(world["org_a"])
    other = factories.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    db.session.commit()
    c = as_role("district_staff")
    assert c.post(f"/volunteers/{v.id}/memberships", data={"organization_id": other.id}).status_code == 303
    db.session.refresh(v)
    assert {m.organization_id for m in v.memberships} == {world["org_a"].id, other.id}
    m = next(m for m in v.memberships if m.organization_id == other.id)
    assert c.post(f"/volunteers/{v.id}/memberships/{m.id}/primary").status_code == 303
    db.session.refresh(v)
    assert v.primary_org_id == other.id and sum(x.is_primary for x in v.memberships) == 1
    # the org leader of org_a cannot add the person to an organization outside their scope
    c2 = as_role("org_leader")
    c2.post(f"/volunteers/{v.id}/memberships", data={"organization_id": world["org_b"].id})
    db.session.refresh(v)
    assert world["org_b"].id not in {m.organization_id for m in v.memberships}


def test_shared_volunteer_is_visible_in_both_districts(world, as_role):
    v = factories.volunteer(world["org_a"], name="两地人")
    db.session.commit()
    assert as_role("district_staff_2").get(f"/volunteers/{v.id}").status_code == 404
    from blueprints.volunteers import services
    services.add_membership(world["city_admin"], v, world["org_b"])
    db.session.commit()
    assert as_role("district_staff_2").get(f"/volunteers/{v.id}").status_code == 200
    assert "两地人" in as_role("org_leader_2").get("/volunteers/").get_data(as_text=True)


def test_htmx_list_answers_the_partial_with_vary(world, as_role):
    factories.volunteer(world["org_a"], name="部分页")
    db.session.commit()
    resp = as_role("district_staff").htmx_get("/volunteers/?status=active")
    body = resp.get_data(as_text=True)
    assert "部分页" in body and "<html" not in body and 'hx-swap-oob' in body
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_page_figures_come_from_verified_records_only(world, as_role):
    from blueprints.volunteers import ledger

    year = date.today().year
    v = factories.volunteer(world["org_a"], name="计时人", political_status="party_member",
                            registered_on=date(year - 1, 1, 5))
    leader = world["org_leader"]
    verified = [ledger.create_record(leader, v, world["org_a"], date(year - 1, 3, d), 10, "关爱老人")
                for d in range(1, 11)]  # 100 h last year → 一星
    verified += [ledger.create_record(leader, v, world["org_a"], date(year, 1, d), 8, "文明劝导")
                 for d in range(2, 8)]  # 48 h this year → 骨干
    ledger.create_record(leader, v, world["org_a"], date(year, 1, 9), 20, "待审核的一条")
    ledger.verify_records(leader, verified)
    db.session.commit()
    body = as_role("district_staff").get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "148.0" in body and "一星" in body and "志愿者骨干" in body
    assert "待审核（1 条，不计入）" in body
    assert "未达到倡导的 7 天以上、40 小时" in body  # 48 h on 6 days (004 第15条: 7 天以上)
    assert "<svg" in body and "<script>" not in body
    listing = as_role("district_staff").get("/volunteers/?kind=core").get_data(as_text=True)
    assert "计时人" in listing
    assert "计时人" not in as_role("district_staff").get("/volunteers/?star=2").get_data(as_text=True)


def test_party_member_below_40_hours_is_flagged(world, as_role):
    v = factories.volunteer(world["org_a"], name="少时党员", political_status="party_member")
    db.session.commit()
    body = as_role("district_staff").get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "未达到倡导的 7 天以上、40 小时" in body
    listing = as_role("district_staff").get("/volunteers/?kind=official_below").get_data(as_text=True)
    assert "少时党员" in listing


def test_dashboard_tile_counts_volunteers_in_scope(world, as_role):
    factories.volunteer(world["org_a"])
    factories.volunteer(world["org_a"])
    db.session.commit()
    body = as_role("district_staff").get("/").get_data(as_text=True)
    assert "名在册志愿者（按组织）" in body and 'data-figure="volunteers.registered" data-value="2"' in body


def test_dashboard_tile_hours_have_thousands_separators(world, as_role):
    # QA: the tile printed "39127.0 小时" while every other figure on the home page is grouped.
    from datetime import date, timedelta

    from core.timeutil import local_today

    v = factories.volunteer(world["org_a"], registered_on=date(local_today().year - 1, 1, 1))
    first = date(local_today().year, 1, 1)
    for i in range(60):  # 60 days × 20.5 h, verified, this year
        factories.service_record(v, world["org_a"], first + timedelta(days=i), "20.5", by=world["org_leader"])
    db.session.commit()
    body = as_role("district_staff").get("/").get_data(as_text=True)
    assert ">1,230.0</a> 小时" in body


def test_list_columns_name_the_unit(world, as_role):
    factories.volunteer(world["org_a"])
    db.session.commit()
    body = as_role("district_staff").get("/volunteers/").get_data(as_text=True)
    assert '累计时长<br><small class="muted">小时</small>' in body


def test_dismissal_note_ending_in_a_full_stop_is_not_doubled(world, as_role):
    # QA: "…经谈话仍未改正。。档案和服务时长予以保留。"
    v = factories.volunteer(world["org_a"], registered_on=date(2025, 1, 1))
    db.session.commit()
    c = as_role("district_staff")
    assert c.post(f"/volunteers/{v.id}/dismiss", data={"reason": "profit", "dismissed_on": "2026-05-01",
                                                       "note": "经谈话仍未改正。"}).status_code == 303
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "说明：经谈话仍未改正。档案" in page and "。。" not in page
