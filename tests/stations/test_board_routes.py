"""HTTP tests: the 五有 assessment form (uploads), the coverage board, drill-down, PDF, targets,
the dashboard tile and the box on the organization page."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from blueprints.stations.models import StationAssessment
from core import settings
from core.extensions import db
from tests import factories
from tests.settings.helpers import policy_data

KEYS = ("place", "sign", "team", "rules", "ledger")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 12), (0, 90, 200)).save(buf, "PNG")
    return buf.getvalue()


def _assess_data(**kw):
    data = {"assessed_on": "2026-05-01", "assessor_name": "赤坎区文明办 李娜"}
    for k in KEYS:
        data[f"{k}_ok"] = "1"
        data[f"{k}_note"] = f"{k} 已落实"
    data.update(kw)
    return data


@pytest.fixture
def station(world):
    s = factories.station(world["community_a"], "幸福社区志愿服务站", organization=world["org_a"])
    db.session.commit()
    return s


def _post(c, station, data):
    return c.post(f"/stations/{station.id}/assess", data=data, content_type="multipart/form-data")


def test_assessment_with_photo_shows_on_detail(as_role, station):
    c = as_role("district_staff")
    assert "有服务场所" in c.get(f"/stations/{station.id}/assess").get_data(as_text=True)
    resp = _post(c, station, _assess_data(ledger_ok="0", sign_photo=(io.BytesIO(_png()), "标识.png")))
    assert resp.status_code == 303
    a = db.session.query(StationAssessment).one()
    assert not a.all_met and a.met_count == 4
    html = c.get(f"/stations/{station.id}").get_data(as_text=True)
    photo_item = next(i for i in a.items if i.photo)
    assert f"/stations/photos/{photo_item.id}" in html and "五有未达标" in html and "sign 已落实" in html
    assert a.assessor_name == "赤坎区文明办 李娜"
    assert "评估人 赤坎区文明办 李娜" in html


@pytest.mark.parametrize("upload,message", [
    ((b"just some text, not an image", "readme.txt"), "文件类型不支持"),
    ((_png() + b"\x00" * 2000, "huge.png"), "文件过大"),
])
def test_bad_upload_reshows_form_with_message(as_role, station, upload, message, monkeypatch):
    from blueprints.stations import services

    # The limit is lowered so the test request stays small; the rule is the same at 5 MB.
    monkeypatch.setattr(services, "PHOTO_MAX_BYTES", 1500)
    data, name = upload
    resp = _post(as_role("district_staff"), station, _assess_data(team_photo=(io.BytesIO(data), name)))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html and "team 已落实" in html
    assert db.session.query(StationAssessment).count() == 0


def test_photo_warning_only_when_a_photo_was_chosen(as_role, station):
    # QA: "浏览器不会保留已选择的照片" showed on every error, even when no photo had been chosen.
    c = as_role("district_staff")
    resp = _post(c, station, _assess_data(place_ok=""))
    assert resp.status_code == 422 and "浏览器不会保留" not in resp.get_data(as_text=True)
    resp = _post(c, station, _assess_data(place_ok="", sign_photo=(io.BytesIO(_png()), "标识.png")))
    assert resp.status_code == 422 and "浏览器不会保留" in resp.get_data(as_text=True)


def test_path_traversal_name_does_not_escape_upload_dir(as_role, station, app):
    resp = _post(as_role("district_staff"), station,
                 _assess_data(place_photo=(io.BytesIO(_png()), "../../../../tmp/evil.png")))
    assert resp.status_code == 303
    item = next(i for i in db.session.query(StationAssessment).one().items if i.photo)
    assert item.photo.startswith("stations/") and ".." not in item.photo and "evil" not in item.photo
    from core import uploads
    assert uploads.read_stored(item.photo) == _png()


def test_missing_choice_and_bad_date_are_refused(as_role, station):
    data = _assess_data(assessed_on="2026-13-01", assessor_name="")
    del data["rules_ok"]
    resp = _post(as_role("district_staff"), station, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "日期格式" in html and "请选择“有管理制度”是否达标" in html
    assert "请填写评估人" in html
    assert db.session.query(StationAssessment).count() == 0


def test_photo_route_refuses_unknown_and_photo_less_items(as_role, station, world):
    c = as_role("district_staff")
    assert c.get("/stations/photos/999999").status_code == 404
    a = factories.station_assessment(station)
    db.session.commit()
    assert c.get(f"/stations/photos/{a.items[0].id}").status_code == 404  # no photo on that item


def test_board_page_drill_down_and_pdf(as_role, world, station):
    factories.station_assessment(station)
    db.session.commit()
    c = as_role("city_admin")
    html = c.get("/stations/coverage").get_data(as_text=True)
    assert "全市志愿服务站" in html and "赤坎区" in html and "霞山区" in html and "调整目标" in html
    assert f'hx-get="/stations/coverage/{world["district_b"].id}"' in html
    part = c.htmx_get(f"/stations/coverage/{world['district_b'].id}").get_data(as_text=True)
    assert "<html" not in part and "幸福社区" in part and "和平社区" in part and "解放街道" in part
    full = c.get(f"/stations/coverage/{world['district_a'].id}").get_data(as_text=True)
    assert "<html" in full and "和平社区" in full and "幸福社区" not in full.split("尚无志愿服务站的社区")[1]
    assert c.get(f"/stations/coverage/{world['town_a'].id}").status_code == 404  # not a district
    pdf = c.get("/stations/coverage.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_board_for_roles(as_role):
    assert as_role("district_staff").get("/stations/coverage").status_code == 200
    assert "调整目标" not in as_role("district_staff").get("/stations/coverage").get_data(as_text=True)
    assert as_role("leader").get("/stations/coverage").status_code == 200
    assert as_role("org_leader").get("/stations/coverage").status_code == 403
    assert as_role("reviewer").get("/stations/coverage.pdf").status_code == 403


def test_targets_only_for_city_admin(as_role):
    for role in ("district_staff", "leader", "org_leader"):
        c = as_role(role)
        assert c.get("/stations/targets").status_code == 403
        assert c.post("/settings/policy", data=policy_data(**{"stations.city_min": 1})).status_code == 403
    assert settings.get_value("stations.city_min") is None
    assert as_role("city_admin").get("/stations/targets").headers["Location"].startswith("/settings/policy")


def test_city_admin_changes_targets_and_bad_values_are_refused(as_role):
    c = as_role("city_admin")
    resp = c.post("/settings/policy", data=policy_data(**{"stations.public_min": 9}))
    assert resp.status_code == 422 and "下限不能大于上限" in resp.get_data(as_text=True)
    resp = c.post("/settings/policy", data=dict(policy_data(), stations__city_min="三十"))
    assert resp.status_code == 422 and "请填写整数" in resp.get_data(as_text=True)
    assert settings.get_value("stations.city_min") is None
    assert c.post("/settings/policy", data=policy_data(**{"stations.city_min": 35})).status_code == 303
    assert settings.get_int("stations.city_min", 30) == 35
    assert "目标不少于 35 个" in c.get("/stations/coverage").get_data(as_text=True)


def test_dashboard_tile_shows_district_coverage(app, world, station):
    # Rendered in the home page's own tile frame, without the other features' tiles.
    from flask import render_template
    from flask_login import login_user

    from blueprints.stations.routes import coverage_tile
    from core.dashboard import Tiles, render_tile

    assert coverage_tile(world["org_leader"]) is None and coverage_tile(world["reviewer"]) is None
    with app.test_request_context("/"):
        login_user(world["district_staff"])
        tile = coverage_tile(world["district_staff"])
        html = render_template("home/index.html", home=Tiles([render_tile(tile)]))
    assert "志愿服务站" in html and "社区覆盖" in html and "公共场所站点" in html
    assert 'data-figure="stations.covered" data-value="1"' in html and 'data-figure="stations.communities" data-value="2"' in html
    assert "全市站点" not in html  # a district user gets the district's figures only
    with app.test_request_context("/"):
        login_user(world["city_admin"])
        html = render_template("home/index.html", home=Tiles([render_tile(coverage_tile(world["city_admin"]))]))
    assert "全市站点" in html and "目标 30" in html


def test_org_page_panel_lists_managed_stations(as_role, station, world, app):
    from core.panels import panels_for

    with app.test_request_context():
        panels = panels_for("org", world["org_a"], world["district_staff"])
    panel = next(p for p in panels if "志愿服务站" in p.title)
    assert [s.name for s in panel.context["stations"]] == ["幸福社区志愿服务站"]
    with app.test_request_context():
        panels = panels_for("org", world["org_a"], world["district_staff_2"])
    assert all(not p.context.get("stations") for p in panels if "志愿服务站" in p.title)
    if "orgs.detail" in app.view_functions:
        html = as_role("district_staff").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
        assert "管理的志愿服务站（1）" in html and "幸福社区志愿服务站" in html


def test_drill_down_links_office_users_to_a_prefilled_new_station(as_role, world):
    c = as_role("district_staff")
    part = c.htmx_get(f"/stations/coverage/{world['district_a'].id}").get_data(as_text=True)
    link = f"/stations/new?region_id={world['community_a2'].id}"
    assert link in part
    form = c.get(link).get_data(as_text=True)
    assert f'<option selected value="{world["community_a2"].id}">' in form
    leader = as_role("district_leader").htmx_get(f"/stations/coverage/{world['district_a'].id}").get_data(as_text=True)
    assert "和平社区" in leader and "/stations/new" not in leader  # read-only role: no link


def test_refused_photo_is_reported_together_with_other_mistakes(as_role, station):
    data = _assess_data(assessed_on="", place_photo=(io.BytesIO(b"not an image"), "a.txt"))
    resp = _post(as_role("district_staff"), station, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写评估日期" in html and "文件类型不支持" in html
    assert db.session.query(StationAssessment).count() == 0
