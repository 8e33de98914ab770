"""HTTP tests of the station registry: list (HTMX filters), detail, create and edit, by role."""
from __future__ import annotations

import re

import pytest

from blueprints.stations.models import Station, StationType
from core.extensions import db
from tests import factories


@pytest.fixture
def stations(world):
    a = factories.station(world["community_a"], "幸福社区志愿服务站", organization=world["org_a"],
                          contact_phone="13912345678")
    b = factories.station(world["community_b"], "霞山幸福社区志愿服务站", organization=world["org_b"])
    park = factories.station(world["town_a"], "金沙湾公园志愿服务站", station_type="park")
    factories.station_assessment(a, met=True)
    db.session.commit()
    return {"a": a, "b": b, "park": park}


def test_list_shows_stations_in_scope_with_masked_phone(as_role, stations):
    html = as_role("district_staff").get("/stations/").get_data(as_text=True)
    assert "幸福社区志愿服务站" in html and "金沙湾公园志愿服务站" in html
    assert "霞山幸福社区志愿服务站" not in html
    assert "13912345678" not in html and "139****5678" in html


def test_city_admin_sees_every_district_and_filters_with_htmx(as_role, stations, world):
    c = as_role("city_admin")
    html = c.get("/stations/").get_data(as_text=True)
    assert "霞山幸福社区志愿服务站" in html and 'hx-get="/stations/"' in html
    resp = c.htmx_get(f"/stations/?district={world['district_b'].id}")
    part = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in part and "HX-Request" in resp.headers["Vary"]
    assert "霞山幸福社区志愿服务站" in part and "金沙湾公园志愿服务站" not in part
    part = c.htmx_get("/stations/?type=park").get_data(as_text=True)
    assert "金沙湾公园志愿服务站" in part and "幸福社区志愿服务站" not in part
    part = c.htmx_get("/stations/?wuyou=met").get_data(as_text=True)
    assert ">幸福社区志愿服务站<" in part and "金沙湾" not in part
    part = c.htmx_get("/stations/?wuyou=none&q=金沙").get_data(as_text=True)
    assert "金沙湾公园志愿服务站" in part and ">幸福社区志愿服务站<" not in part


def test_detail_shows_facts_and_latest_assessment(as_role, stations):
    html = as_role("district_staff").get(f"/stations/{stations['a'].id}").get_data(as_text=True)
    assert "幸福社区志愿服务站" in html and "五有达标" in html and "有服务场所" in html
    assert "13912345678" not in html


def _form(world, **kw):
    data = {"name": "和平社区志愿服务站", "station_type": "community", "region_id": str(world["community_a2"].id),
            "organization_id": str(world["org_a"].id), "address": "赤坎区和平路 8 号",
            "opening_hours": "周一至周五 08:30–17:30", "opened_on": "2025-11-20",
            "contact_name": "陈芳", "contact_phone": "13800138001", "active": "y"}
    data.update(kw)
    return data


def test_district_staff_creates_a_community_station(as_role, world):
    resp = as_role("district_staff").post("/stations/new", data=_form(world))
    assert resp.status_code == 303
    s = db.session.query(Station).filter_by(name="和平社区志愿服务站").one()
    assert s.district_id == world["district_a"].id and s.organization_id == world["org_a"].id
    assert s.station_type == StationType.COMMUNITY and str(s.opened_on) == "2025-11-20"
    assert resp.headers["Location"].endswith(f"/stations/{s.id}")


@pytest.mark.parametrize("field,value,message", [
    ("name", "", "请填写站点名称"),
    ("region_id", "town", "请选择所在区域"),
    ("contact_phone", "12345", "电话"),
    ("opened_on", "2026-02-30", "日期格式"),
    ("opened_on", "2030-01-01", "设立日期不能晚于今天"),
    ("opened_on", "9999-12-31", "日期不能晚于"),
    ("station_type", "castle", "请选择站点类型"),
])
def test_bad_input_is_refused_with_message_and_nothing_saved(as_role, world, field, value, message):
    data = _form(world, **{field: value})
    if value == "town":
        data["region_id"] = str(world["town_a"].id)  # a 社区 station must sit in a community
        message = "社区志愿服务站的所在区域须为一个村(社区)"
    resp = as_role("district_staff").post("/stations/new", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    assert "赤坎区和平路 8 号" in html  # what was typed is kept
    assert db.session.query(Station).count() == 0


def test_station_cannot_be_placed_outside_scope_or_under_foreign_org(as_role, world):
    c = as_role("district_staff")
    resp = c.post("/stations/new", data=_form(world, region_id=str(world["community_b"].id),
                                               organization_id=""))
    assert resp.status_code == 422 and "须在您的管辖范围内" in resp.get_data(as_text=True)
    resp = c.post("/stations/new", data=_form(world, organization_id=str(world["org_b"].id)))
    assert resp.status_code == 422 and "管理组织须为本县" in resp.get_data(as_text=True)
    assert db.session.query(Station).count() == 0


def test_public_place_station_may_sit_in_a_street(as_role, world):
    resp = as_role("district_staff").post("/stations/new", data=_form(
        world, name="赤坎商贸广场志愿服务站", station_type="plaza", region_id=str(world["town_a"].id)))
    assert resp.status_code == 303
    assert db.session.query(Station).one().station_type == StationType.PLAZA


def test_edit_by_office_and_limited_edit_by_org_leader(as_role, stations, world):
    s = stations["a"]
    resp = as_role("district_staff").post(f"/stations/{s.id}/edit", data=_form(world, name="幸福社区志愿服务站（新）",
                                                                                region_id=str(world["community_a"].id)))
    assert resp.status_code == 303
    assert db.session.get(Station, s.id).name == "幸福社区志愿服务站（新）"
    leader = as_role("org_leader")
    html = leader.get(f"/stations/{s.id}/edit").get_data(as_text=True)
    assert 'name="opening_hours"' in html and 'name="name"' not in html
    resp = leader.post(f"/stations/{s.id}/edit", data={"address": "赤坎区幸福路 1 号", "opening_hours": "每天 09:00–17:00",
                                                      "contact_name": "王伟", "contact_phone": "13800138002",
                                                      "name": "篡改", "region_id": str(world["community_b"].id)})
    assert resp.status_code == 303
    s = db.session.get(Station, s.id)
    assert s.opening_hours == "每天 09:00–17:00" and s.name == "幸福社区志愿服务站（新）"
    assert s.region_id == world["community_a"].id


def test_org_leader_of_another_org_and_read_only_roles_cannot_edit(as_role, stations):
    s = stations["park"]  # no managing organization
    assert as_role("org_leader").get(f"/stations/{s.id}/edit").status_code in (403, 404)
    assert as_role("leader").get(f"/stations/{s.id}/edit").status_code == 403
    assert as_role("leader").post(f"/stations/{s.id}/edit", data={"name": "x"}).status_code == 403
    assert as_role("leader").get("/stations/new").status_code == 403
    assert as_role("org_leader").get("/stations/new").status_code == 403
    assert as_role("reviewer").get("/stations/").status_code == 403


def test_org_options_follow_the_region(as_role, world):
    c = as_role("city_admin")
    html = c.htmx_get(f"/stations/org-options?region_id={world['community_b'].id}").get_data(as_text=True)
    assert "霞山区幸福社区志愿服务队" in html and "赤坎区幸福社区志愿服务队" not in html
    form = c.get("/stations/new").get_data(as_text=True)
    assert re.search(r'hx-get="/stations/org-options"', form)


def test_anonymous_is_sent_to_login(client, stations):
    resp = client.get(f"/stations/{stations['a'].id}")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_creation_and_assessment_are_audited_without_the_phone(as_role, world):
    from core.audit import AuditEntry

    c = as_role("district_staff")
    assert c.post("/stations/new", data=_form(world)).status_code == 303
    s = db.session.query(Station).one()
    entries = db.session.query(AuditEntry).filter_by(entity_id=s.id).all()
    created = [e for e in entries if e.entity_label == "和平社区志愿服务站"]
    assert created and created[0].username == "district_staff" and created[0].region_id == world["community_a2"].id
    assert "13800138001" not in str(created[0].changes)
