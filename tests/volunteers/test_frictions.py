"""Daily-use frictions of registration (issue 15): required fields marked, the ID's derived values
shown while typing, no organization chosen by default."""
from __future__ import annotations

from core.extensions import db
from core.validators import id_check_char
from tests import factories


def _id(birth: str = "19900504", seq: str = "123") -> str:
    first17 = "440802" + birth + seq
    return first17 + id_check_char(first17)


def test_id_preview_shows_sex_birth_date_and_age(as_role, world):
    c = as_role("district_staff")
    resp = c.post("/volunteers/id-preview", data={"id_number": _id()}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "男" in html and "1990年5月4日" in html and "周岁" in html
    assert _id() not in html  # the number itself is never echoed
    assert resp.headers["Cache-Control"] == "no-store"


def test_id_preview_warns_about_a_minor(as_role, world):
    from datetime import date
    year = date.today().year - 10
    html = as_role("org_leader").post("/volunteers/id-preview", data={"id_number": _id(f"{year}0101", "124")}) \
        .get_data(as_text=True)
    assert "女" in html and "未满 18 周岁" in html and "监护人" in html


def test_id_preview_explains_a_wrong_number_in_chinese(as_role, world):
    c = as_role("district_staff")
    wrong = _id()[:17] + ("0" if _id()[17] != "0" else "1")
    assert "校验位不正确" in c.post("/volunteers/id-preview", data={"id_number": wrong}).get_data(as_text=True)
    assert "已输入 6 位" in c.post("/volunteers/id-preview", data={"id_number": "440802"}).get_data(as_text=True)
    assert c.post("/volunteers/id-preview", data={"id_number": ""}).get_data(as_text=True).strip() == ""


def test_id_preview_is_post_only_csrf_protected_and_for_writers(as_role, world, client):
    c = as_role("district_staff")
    assert c.get("/volunteers/id-preview").status_code == 405
    assert c.post("/volunteers/id-preview", data={"id_number": _id()}, csrf=False).status_code == 400
    assert as_role("leader").post("/volunteers/id-preview", data={"id_number": _id()}).status_code == 403


def test_registration_form_asks_for_the_preview_by_post(as_role, world):
    html = as_role("district_staff").get("/volunteers/new").get_data(as_text=True)
    tag = html.split('id="id_number"', 1)[0].rsplit("<input", 1)[1] + html.split('id="id_number"', 1)[1].split(">", 1)[0]
    assert 'hx-post="/volunteers/id-preview"' in tag and "keyup changed delay:400ms" in tag
    assert 'id="id-preview"' in html


def test_registration_starts_on_no_organization_and_requires_one(as_role, world):
    factories.org(world["community_a"], "赤坎区中华街道党员志愿服务队")
    db.session.commit()
    c = as_role("district_staff")
    html = c.get("/volunteers/new").get_data(as_text=True)
    select = html.split('id="organization_id"', 1)[1].split("</select>", 1)[0]
    assert '<option selected value="">请选择…</option>' in select or '<option value="" selected>请选择…</option>' in select
    resp = c.post("/volunteers/new", data={"organization_id": "", "name": "张三", "id_number": _id(),
                                           "phone": "13800001234", "political_status": "masses",
                                           "registered_on": "2026-01-05", "region_id": "0"})
    assert resp.status_code == 422
    assert "请选择登记组织" in resp.get_data(as_text=True)
    assert "Not a valid choice" not in resp.get_data(as_text=True)


def test_a_single_organization_is_chosen_for_the_user(as_role, world):
    html = as_role("org_leader").get("/volunteers/new").get_data(as_text=True)
    select = html.split('id="organization_id"', 1)[1].split("</select>", 1)[0]
    assert "请选择…" not in select and f'selected value="{world["org_a"].id}"' in select


def test_a_long_organization_list_gets_a_name_filter(app):
    from flask import render_template_string

    from core.pickers import PickField
    from blueprints.volunteers.forms import CnForm

    class F(CnForm):
        org = PickField("登记组织")

    with app.test_request_context():
        short, long_ = F(meta={"csrf": False}), F(meta={"csrf": False})
        short.org.choices = [(i, f"组织{i}") for i in range(1, 301)]
        long_.org.choices = [(i, f"组织{i}") for i in range(1, 302)]
        tpl = '{% from "_macros/forms.html" import org_picker %}{{ org_picker(f.org) }}'
        assert "data-filter-select" not in render_template_string(tpl, f=short)
        html = render_template_string(tpl, f=long_)
        assert 'data-filter-select="org"' in html and "共 301 个" in html and "请选择…" in html
