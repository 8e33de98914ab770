"""Region codes are normalized and checked against the parent's; population figures both ways."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.regions import services
from blueprints.regions.models import Region, RegionYearFigure
from core.extensions import db


def test_a_full_width_code_is_saved_as_ascii_digits(as_role, world):
    c = as_role("district_staff")
    resp = c.post(f"/regions/{world['town_a'].id}/new", data={"name": "海景社区", "code": " ４４０８０２００１００３\u200b"})
    assert resp.status_code == 303
    assert db.session.scalar(select(Region).where(Region.name == "海景社区")).code == "440802001003"


@pytest.mark.parametrize("parent,code,message", [
    ("town_a", "440803001003", "前 9 位 440802001"),      # a community of another town
    ("district_a", "440803009", "前 6 位 440802"),         # a town of another district
    ("city", "450802", "前 4 位 4408"),                    # a district of another city
    ("town_a", "440802001", "12 位数字"),                  # a town's length for a community
    ("district_a", "440802001003", "9 位数字"),
])
def test_a_code_that_does_not_fit_its_parent_is_refused(as_role, world, parent, code, message):
    c = as_role("city_admin")
    resp = c.post(f"/regions/{world[parent].id}/new", data={"name": "新区域", "code": code})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body, body[-3000:]
    assert db.session.scalar(select(Region).where(Region.name == "新区域")) is None


def test_editing_checks_the_code_against_the_parent_too(world):
    with pytest.raises(services.RegionError, match="前 9 位"):
        services.update_region(world["community_a"], "幸福社区", "440803001001", 0)


@pytest.mark.parametrize("figures,field,message", [
    ({"population": "1000", "urban_population": "2000"}, "urban_population", "城市建成区常住人口不能大于常住人口"),
    ({"population": "1000", "party_members": "1001"}, "party_members", "党员人数不能大于常住人口"),
    ({"population": "1000", "league_members": "5000"}, "league_members", "团员人数不能大于常住人口"),
    ({"population": "-1"}, "population", "1 亿"),
    ({"population": "100000001"}, "population", "1 亿"),
    ({"population": "9" * 40}, "population", "数值过大"),
])
def test_population_figures_are_checked(as_role, world, figures, field, message):
    c = as_role("district_staff")
    resp = c.post(f"/regions/{world['district_a'].id}/figures", data={"year": "2025", **figures})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body
    assert db.session.scalar(select(RegionYearFigure).where(RegionYearFigure.year == 2025)) is None


def test_lowering_the_population_below_its_parts_is_refused(world):
    # 2026 of district_a: 300 000 residents, 12 000 party members (tests/factories.city_tree).
    with pytest.raises(services.RegionError, match="党员人数不能大于常住人口"):
        services.save_figures(world["district_a"], 2026, population=11000, urban_population=None)
