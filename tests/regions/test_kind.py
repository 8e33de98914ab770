"""County-level regions carry their kind, 区 / 县 / 县级市 (issue 18): station targets differ by kind."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from blueprints.regions import services
from blueprints.regions.models import DistrictKind, Region, guess_kind
from core.extensions import db
from tests import factories


@pytest.mark.parametrize("name,kind", [("麻章区", DistrictKind.URBAN), ("遂溪县", DistrictKind.COUNTY),
                                       ("廉江市", DistrictKind.COUNTY_CITY), ("湛江经济技术开发区", DistrictKind.URBAN)])
def test_the_kind_follows_the_name_unless_chosen(world, name, kind):
    assert guess_kind(name) == kind
    assert services.create_region(world["city"], name).kind == kind


def test_only_county_level_regions_have_a_kind(world):
    assert world["district_a"].kind == DistrictKind.URBAN and world["district_a"].district_kind.label == "区"
    assert world["town_a"].kind is None and world["town_a"].district_kind is None
    r = services.create_region(world["city"], "雷州市", kind="county")  # chosen: kept
    assert r.kind == DistrictKind.COUNTY
    services.update_region(r, "雷州市", None, 0)  # not given: kept
    assert r.kind == DistrictKind.COUNTY
    services.update_region(r, "雷州市", None, 0, "")  # "按名称判断"
    assert r.kind == DistrictKind.COUNTY_CITY


def test_the_form_sets_and_shows_the_kind(as_role, world):
    c = as_role("city_admin")
    assert "类别" in c.get(f"/regions/{world['city'].id}/new").get_data(as_text=True)
    assert "类别" not in c.get(f"/regions/{world['district_a'].id}/new").get_data(as_text=True)  # a town: none
    resp = c.post(f"/regions/{world['city'].id}/new", data={"name": "吴川市", "code": "440883", "sort": "3",
                                                          "kind": "county_city"})
    assert resp.status_code == 303
    r = db.session.scalar(select(Region).where(Region.name == "吴川市"))
    assert r.kind == DistrictKind.COUNTY_CITY
    assert "县(市、区)（县级市）" in c.get(f"/regions/{r.id}").get_data(as_text=True)
    resp = c.post(f"/regions/{r.id}/edit", data={"name": "吴川市", "code": "440883", "sort": "3", "kind": "十"})
    assert resp.status_code == 422 and "请从列表中选择" in resp.get_data(as_text=True)
    assert c.post(f"/regions/{r.id}/edit", data={"name": "吴川市", "code": "440883", "sort": "3",
                                                  "kind": "county"}).status_code == 303
    assert db.session.get(Region, r.id).kind == DistrictKind.COUNTY


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(services.IMPORT_COLUMNS)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_import_reads_the_kind_from_the_level_word(as_role, world):
    c = as_role("city_admin")
    data = {"file": (io.BytesIO(_xlsx([("遂溪县", "县", "440823", "440800"), ("徐闻", "县级市", "440825", "440800"),
                                       ("麻章区", "县(市、区)", "440811", "440800")])), "r.xlsx")}
    body = c.post("/regions/import", data=data, content_type="multipart/form-data").get_data(as_text=True)
    token = body.split('name="token" value="')[1].split('"')[0]
    assert c.post("/regions/import/confirm", data={"token": token}).status_code == 303
    kinds = dict(db.session.execute(select(Region.name, Region.kind).where(Region.code.in_(
        ["440823", "440825", "440811"]))).all())
    assert kinds == {"遂溪县": DistrictKind.COUNTY, "徐闻": DistrictKind.COUNTY_CITY, "麻章区": DistrictKind.URBAN}


def test_the_region_factory_tree_is_two_urban_districts(world):
    assert {world["district_a"].kind, world["district_b"].kind} == {DistrictKind.URBAN}
    county = factories.region(world["city"], "遂溪县", "440823")
    assert county.district_kind.is_county
