"""The public registration, status and activation pages, and the organizations' queue and code sheet
(issue 17), over HTTP with CSRF on."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from blueprints.portal import services_join as sj
from blueprints.portal.models import ActivationCode, JoinApplication, JoinStatus
from blueprints.volunteers.models import Volunteer
from core.extensions import db
from tests import factories

PASSWORD = "Join2026ok"


def _form(org, number, **kw):
    data = {"organization_id": org.id, "name": "林小雨", "id_number": number, "phone": "13912345678",
            "region_id": "", "skills": ["助学"], "availability": ["周末"], "password": PASSWORD, "confirm": PASSWORD}
    data.update(kw)
    return data


def test_a_resident_registers_and_the_application_waits(world, client):
    assert client.get("/join").status_code == 200
    number = factories.id_number()
    resp = client.post("/join", data=_form(world["org_a"], number))
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/join/done")
    a = db.session.scalar(select(JoinApplication))
    assert a.status == JoinStatus.PENDING and a.id_masked != number and number not in (a.id_number_enc or "")
    resp = client.post("/join/status", data={"id_number": number, "password": PASSWORD})
    assert resp.status_code == 200 and "待审核" in resp.get_data(as_text=True)


def test_bad_input_is_shown_next_to_the_field_and_kept(world, client):
    resp = client.post("/join", data=_form(world["org_a"], "440802199001011234", name="林小雨"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "field-error" in body and 'value="林小雨"' in body
    minor = factories.id_number(birth=date(2012, 3, 1))
    resp = client.post("/join", data=_form(world["org_a"], minor))
    assert resp.status_code == 422 and "监护人" in resp.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(JoinApplication.id))) == 0


def test_registration_is_throttled_per_address(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_JOIN_MAX_PER_HOUR", 2)
    for _ in range(2):
        client.post("/join", data={"name": "x"})
    assert client.post("/join", data=_form(world["org_a"], factories.id_number())).status_code == 429
    assert db.session.scalar(select(db.func.count(JoinApplication.id))) == 0


def _pending(world, org_key="org_a"):
    a = sj.submit(sj.JoinData(name="林小雨", id_number=factories.id_number(), phone="13912345678",
                              organization_id=world[org_key].id, password=PASSWORD))
    db.session.commit()
    return a


def test_the_organization_approves_with_htmx_and_the_volunteer_logs_in(world, as_role, client):
    a = _pending(world)
    c = as_role("org_leader")
    page = c.get("/join/applications").get_data(as_text=True)
    assert "林小雨" in page and "13912345678" not in page  # phone masked
    resp = c.post(f"/join/applications/{a.id}/approve", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "已通过" in resp.get_data(as_text=True)
    db.session.refresh(a)
    assert a.status == JoinStatus.APPROVED
    number = db.session.get(Volunteer, a.volunteer_id).number
    client.login(number, PASSWORD)
    assert "林小雨" in client.get("/my/").get_data(as_text=True)


def test_a_refusal_without_reason_is_refused_and_with_one_is_kept(world, as_role, client):
    number = factories.id_number()
    a = sj.submit(sj.JoinData(name="林小雨", id_number=number, phone="13912345678",
                              organization_id=world["org_a"].id, password=PASSWORD))
    db.session.commit()
    c = as_role("org_leader")
    resp = c.post(f"/join/applications/{a.id}/refuse", data={"reason": ""}, headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "原因" in resp.get_data(as_text=True)
    db.session.refresh(a)
    assert a.status == JoinStatus.PENDING
    resp = c.post(f"/join/applications/{a.id}/refuse", data={"reason": "名额已满"})
    assert resp.status_code == 303
    db.session.refresh(a)
    assert a.status == JoinStatus.REFUSED and a.refuse_reason == "名额已满"
    body = client.post("/join/status", data={"id_number": number, "password": PASSWORD}).get_data(as_text=True)
    assert "未通过" in body and "名额已满" in body
    resp = client.post("/join/status", data={"id_number": number, "password": "Wrong-pass-9"})
    assert resp.status_code == 422 and "名额已满" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["org_leader_2", "district_staff_2"])
def test_another_organization_or_district_gets_404(world, as_role, role):
    a = _pending(world)
    c = as_role(role)
    assert c.post(f"/join/applications/{a.id}/approve").status_code == 404
    assert c.post(f"/join/applications/{a.id}/refuse", data={"reason": "x"}).status_code == 404
    assert "林小雨" not in c.get("/join/applications?status=all").get_data(as_text=True)
    db.session.refresh(a)
    assert a.status == JoinStatus.PENDING


@pytest.mark.parametrize("role", ["leader", "reviewer", "volunteer"])
def test_other_roles_cannot_open_the_queue(world, as_role, role):
    a = _pending(world)
    c = as_role(role)
    assert c.get("/join/applications").status_code == 403
    assert c.post(f"/join/applications/{a.id}/approve").status_code == 403


def test_district_staff_see_the_tile_and_the_queue(world, as_role):
    _pending(world)
    body = as_role("district_staff").get("/").get_data(as_text=True)
    assert "志愿者自主注册" in body and 'data-figure="portal.join_pending" data-value="1"' in body
    body = as_role("district_staff_2").get("/").get_data(as_text=True)
    assert 'data-figure="portal.join_pending" data-value="0"' in body


def test_the_code_sheet_prints_codes_with_qr_and_activation_works(world, as_role, client):
    v = factories.volunteer(world["org_a"], "赵敏", number=(number := factories.id_number()))
    db.session.commit()
    c = as_role("org_leader")
    page = c.get(f"/join/codes?org={world['org_a'].id}").get_data(as_text=True)
    assert "赵敏" in page
    resp = c.post("/join/codes", data={"organization_id": world["org_a"].id, "volunteer_ids": [v.id]})
    sheet = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "data:image/svg+xml" in sheet
    code = re.search(r'class="activation-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', sheet).group(1)
    assert db.session.scalar(select(ActivationCode.code_hash)) == sj.code_hash(code)
    assert client.get(f"/activate?c={code.replace('-', '')}").status_code == 200
    resp = client.post("/activate", data={"code": code, "id_text": number[-4:], "password": PASSWORD,
                                          "confirm": PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/my/")
    assert "赵敏" in client.get("/my/").get_data(as_text=True)
    replay = c.application.test_client()
    resp = replay.post("/activate", data={"code": code, "id_text": number, "password": PASSWORD, "confirm": PASSWORD})
    assert resp.status_code == 422 and "已使用" in resp.get_data(as_text=True)


def test_codes_of_another_organization_are_404(world, as_role):
    v = factories.volunteer(world["org_a"], "赵敏")
    db.session.commit()
    c = as_role("org_leader_2")
    assert c.get(f"/join/codes?org={world['org_a'].id}").status_code == 404
    assert c.post("/join/codes", data={"organization_id": world["org_a"].id, "volunteer_ids": [v.id]}).status_code == 404
    assert db.session.scalar(select(db.func.count(ActivationCode.id))) == 0


def test_a_logged_in_volunteer_is_sent_home_from_the_public_pages(as_role):
    c = as_role("volunteer")
    for url in ("/join", "/join/done", "/join/status", "/activate"):
        resp = c.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/my/"), url


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "leader", "reviewer", "volunteer"])
def test_only_organization_leaders_print_activation_codes(world, as_role, role):
    v = factories.volunteer(world["org_a"], "赵敏")
    db.session.commit()
    c = as_role(role)
    assert c.get("/join/codes").status_code == 403
    assert c.post("/join/codes", data={"organization_id": world["org_a"].id, "volunteer_ids": [v.id]}).status_code == 403
    assert db.session.scalar(select(db.func.count(ActivationCode.id))) == 0


def test_the_status_tabs_and_htmx_partial(world, as_role):
    _pending(world)
    c = as_role("org_leader")
    page = c.get("/join/applications?status=refused")
    assert page.status_code == 200 and "没有符合条件的申请" in page.get_data(as_text=True)
    part = c.htmx_get("/join/applications")
    assert part.status_code == 200 and "<html" not in part.get_data(as_text=True)
    assert "HX-Request" in part.headers.get("Vary", "")


def test_the_login_page_leads_volunteers_to_registration_and_activation(client):
    body = client.get("/login").get_data(as_text=True)
    assert 'href="/join"' in body and 'href="/activate"' in body and 'href="/join/status"' in body
