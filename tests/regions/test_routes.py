"""HTTP behaviour of /regions for every role, scope by URL, import, PDF."""
from __future__ import annotations

import io
import subprocess

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from blueprints.regions.models import Region, RegionYearFigure
from core.extensions import db


@pytest.mark.parametrize("role,status", [
    ("city_admin", 200), ("district_staff", 200), ("leader", 200), ("district_leader", 200),
    ("org_leader", 200), ("reviewer", 403),
])
def test_tree_page_by_role(as_role, role, status):
    assert as_role(role).get("/regions/").status_code == status


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/regions/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_district_staff_sees_only_their_district(as_role, world):
    c = as_role("district_staff")
    body = c.get("/regions/").get_data(as_text=True)
    assert "赤坎区" in body and "霞山区" not in body
    assert c.get(f"/regions/{world['town_b'].id}").status_code == 404
    assert c.get(f"/regions/{world['district_b'].id}/children").status_code == 404
    assert c.get(f"/regions/{world['town_a'].id}").status_code == 200


def test_other_district_cannot_change_by_url(as_role, world):
    c = as_role("district_staff_2")
    town = world["town_a"]
    assert c.post(f"/regions/{town.id}/edit", data={"name": "改名"}).status_code == 404
    assert c.post(f"/regions/{town.id}/new", data={"name": "新社区"}).status_code == 404
    assert c.post(f"/regions/{town.id}/active", data={"active": "0"}).status_code == 404
    assert c.post(f"/regions/{town.id}/delete").status_code == 404
    assert c.post(f"/regions/{world['district_a'].id}/figures", data={"year": 2026}).status_code == 404
    db.session.refresh(town)
    assert town.name == "中华街道" and town.active


def test_read_only_roles_cannot_change(as_role, world):
    for role in ("leader", "district_leader", "org_leader"):
        c = as_role(role)
        assert c.post(f"/regions/{world['town_a'].id}/edit", data={"name": "x"}).status_code == 403
    assert as_role("district_leader").post(f"/regions/{world['district_a'].id}/figures",
                                           data={"year": 2026, "population": 1}).status_code == 403


def test_htmx_children_partial(as_role, world):
    c = as_role("district_staff")
    resp = c.htmx_get(f"/regions/{world['town_a'].id}/children")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "幸福社区" in body and "<html" not in body


def test_create_edit_and_bad_input(as_role, world):
    c = as_role("district_staff")
    resp = c.post(f"/regions/{world['town_a'].id}/new", data={"name": "", "code": "12ab"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写名称" in body and "6、9 或 12 位数字" in body
    assert 'value="12ab"' in body  # what the user typed is kept
    resp = c.post(f"/regions/{world['town_a'].id}/new", data={"name": "海景社区", "code": "440802001003"})
    assert resp.status_code == 303
    new = db.session.scalar(select(Region).where(Region.code == "440802001003"))
    assert new.name == "海景社区"
    resp = c.post(f"/regions/{new.id}/edit", data={"name": "和平社区", "code": ""})
    assert resp.status_code == 422 and "同名" in resp.get_data(as_text=True)


def test_figures_form(as_role, world):
    c = as_role("district_staff")
    resp = c.post(f"/regions/{world['district_a'].id}/figures",
                  data={"year": "2025", "population": "abc"})
    assert resp.status_code == 422
    resp = c.post(f"/regions/{world['district_a'].id}/figures",
                  data={"year": "2025", "population": "331000", "urban_population": "318000",
                        "party_members": "15000", "league_members": "17000"})
    assert resp.status_code == 303
    fig = db.session.scalar(select(RegionYearFigure).where(RegionYearFigure.year == 2025))
    assert fig.population == 331000 and fig.region_id == world["district_a"].id


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "级别", "行政区划代码", "上级行政区划代码"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_preview_errors_save_nothing(as_role, world):
    c = as_role("city_admin")
    before = db.session.scalar(select(db.func.count()).select_from(Region))
    data = {"file": (io.BytesIO(_xlsx([("新街道", "街道", "440802005", "440802"), ("坏行", "社区", "x", "440802")])), "r.xlsx")}
    resp = c.post("/regions/import", data=data, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "1 行有错误" in body and "确认导入" not in body
    assert db.session.scalar(select(db.func.count()).select_from(Region)) == before


def test_import_preview_then_confirm(as_role, world):
    c = as_role("city_admin")
    data = {"file": (io.BytesIO(_xlsx([("新街道", "街道", "440802005", "440802"),
                                       ("新社区", "社区", "440802005001", "440802005")])), "r.xlsx")}
    resp = c.post("/regions/import", data=data, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "确认导入 2 行" in body
    token = body.split('name="token" value="')[1].split('"')[0]
    # Another user cannot use this preview.
    other = as_role("district_staff")
    assert other.post("/regions/import/confirm", data={"token": token}).status_code == 303
    assert db.session.scalar(select(Region).where(Region.code == "440802005001")) is None
    resp = c.post("/regions/import/confirm", data={"token": token})
    assert resp.status_code == 303
    assert db.session.scalar(select(Region).where(Region.code == "440802005001")) is not None
    # The token is single-use.
    resp = c.post("/regions/import/confirm", data={"token": token})
    assert resp.status_code == 303 and db.session.scalar(
        select(db.func.count()).select_from(Region).where(Region.code == "440802005")) == 1


def test_import_rejects_wrong_file_types(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/regions/import", data={"file": (io.BytesIO(b"MZ\x90"), "evil.exe")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "只支持" in resp.get_data(as_text=True)
    resp = c.post("/regions/import", data={"file": (io.BytesIO(b"not a zip"), "fake.xlsx")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "无法读取" in resp.get_data(as_text=True)
    resp = c.post("/regions/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要导入的文件" in resp.get_data(as_text=True)


def test_import_csv_in_gbk(as_role, world):
    c = as_role("city_admin")
    csv_bytes = "名称,级别,行政区划代码,上级行政区划代码\n新街道,街道,440802005,440802\n".encode("gb18030")
    resp = c.post("/regions/import", data={"file": (io.BytesIO(csv_bytes), "r.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 200 and "确认导入 1 行" in resp.get_data(as_text=True)


def test_template_download(as_role):
    resp = as_role("city_admin").get("/regions/import/template")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def test_region_pdf_lists_the_districts_with_figures(as_role, world, tmp_path):
    resp = as_role("city_admin").get("/regions/report.pdf?year=2026")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2026 年度区域及人口数据" in text
    assert "赤坎区" in text and "霞山区" in text and "300,000" in text and "第 1 页 共 1 页" in text


def test_region_pdf_is_scoped(as_role, world, tmp_path):
    resp = as_role("district_staff").get("/regions/report.pdf?year=2026")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "赤坎区" in text and "霞山区" not in text
