"""Rules of the administrative tree."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.regions import services
from blueprints.regions.models import Region, RegionLevel
from core.extensions import db
from core.tabular import ImportRow
from tests import factories


def test_levels_follow_the_four_level_tree(world):
    assert world["district_a"].level == RegionLevel.DISTRICT
    assert world["town_a"].level == RegionLevel.TOWN
    assert world["community_a"].level == RegionLevel.COMMUNITY
    with pytest.raises(services.RegionError):
        services.create_region(world["community_a"], "小组")


def test_path_and_district_are_maintained(world):
    c = world["community_a"]
    assert c.path == f"/{world['city'].id}/{world['district_a'].id}/{world['town_a'].id}/{c.id}/"
    assert c.district_id == world["district_a"].id
    assert world["district_a"].district_id == world["district_a"].id
    assert world["city"].district_id is None


def test_duplicate_code_and_sibling_name_are_refused(world):
    with pytest.raises(services.RegionError, match="代码已存在"):
        services.create_region(world["district_a"], "新街道", "440802001")
    with pytest.raises(services.RegionError, match="同名"):
        services.create_region(world["district_a"], "中华街道")


def test_moving_a_town_moves_its_subtree(world):
    ds = world["district_staff"]
    new_street = services.create_region(world["district_a"], "寸金街道", "440802002")
    # A community moves to another street of the same district.
    services.move_region(ds, world["community_a"], new_street)
    assert world["community_a"].path.startswith(new_street.path)
    # A city admin moves a whole street to another district: communities follow.
    admin = world["city_admin"]
    services.move_region(admin, world["town_a"], world["district_b"])
    db.session.flush()
    c2 = world["community_a2"]
    db.session.refresh(c2)
    assert c2.path.startswith(world["district_b"].path)
    assert c2.district_id == world["district_b"].id


def test_district_staff_cannot_move_into_another_district(world):
    with pytest.raises(services.RegionError):
        services.move_region(world["district_staff"], world["town_a"], world["district_b"])


def test_region_with_records_cannot_be_deleted(world):
    assert services.references_to(world["community_a"]) > 0  # org_a lives there
    with pytest.raises(services.RegionError, match="不能删除"):
        services.delete_region(world["community_a"])
    empty = services.create_region(world["town_a"], "空社区", "440802001009")
    assert services.references_to(empty) == 0
    services.delete_region(empty)
    assert db.session.get(Region, empty.id) is None


def test_deactivation_takes_the_subtree(world):
    services.set_active(world["town_a"], False)
    db.session.flush()
    db.session.refresh(world["community_a"])
    assert world["community_a"].active is False


def test_who_may_edit(world):
    assert services.can_edit(world["city_admin"], world["district_a"])
    assert not services.can_edit(world["district_staff"], world["district_a"])  # the district itself: city only
    assert services.can_edit(world["district_staff"], world["town_a"])
    assert not services.can_edit(world["district_staff"], world["town_b"])
    assert not services.can_edit(world["leader"], world["town_a"])
    assert services.can_edit_figures(world["district_staff"], world["district_a"])
    assert not services.can_edit_figures(world["district_staff"], world["district_b"])


def test_urban_population_cannot_exceed_population(world):
    with pytest.raises(services.RegionError):
        services.save_figures(world["district_a"], 2025, population=100, urban_population=200)


def _rows(*values):
    cols = services.IMPORT_COLUMNS
    return [ImportRow(line=i + 2, values=dict(zip(cols, v))) for i, v in enumerate(values)]


def test_import_validation_reports_every_bad_row(world):
    rows = services.validate_import(world["city_admin"], _rows(
        ("新街道", "街道", "440802005", "440802"),          # ok
        ("新社区", "社区", "440802005001", "440802005"),    # ok: parent earlier in the file
        ("", "社区", "440802005002", "440802005"),          # empty name
        ("某区", "省", "440899", "440800"),                 # bad level
        ("重复", "社区", "440802001001", "440802001"),      # code exists
        ("孤儿", "社区", "440802009001", "440802009"),      # unknown parent
        ("错级", "街道", "440802006", "440802001"),         # town under a town
    ))
    assert [bool(r.errors) for r in rows] == [False, False, True, True, True, True, True]
    assert "名称不能为空" in rows[2].errors
    assert any("级别" in e for e in rows[3].errors)
    assert any("已存在" in e for e in rows[4].errors)
    assert any("找不到上级" in e for e in rows[5].errors)
    assert any("上级区域的级别" in e for e in rows[6].errors)


def test_district_staff_cannot_import_into_another_district(world):
    rows = services.validate_import(world["district_staff"], _rows(("新街道", "街道", "440803009", "440803")))
    assert rows[0].errors


def test_apply_import_creates_the_tree(world):
    rows = [{"line": r.line, "values": r.values} for r in _rows(
        ("新街道", "街道", "440802005", "440802"), ("新社区", "社区", "440802005001", "440802005"))]
    assert services.apply_import(world["city_admin"], rows) == 2
    community = db.session.scalar(select(Region).where(Region.code == "440802005001"))
    assert community.parent.code == "440802005" and community.district_id == world["district_a"].id
