"""The rules of stations: board figures on constructed data, the 五有 assessment, targets."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from blueprints.stations import services
from blueprints.stations.models import WUYOU_KEYS, StationAssessment
from core import settings
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def _items(ok=True, **uploads):
    return [services.ItemInput(k, ok if isinstance(ok, bool) else k in ok, f"{k} 说明", uploads.get(k))
            for k in WUYOU_KEYS]


def _png(size=(10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(buf, "PNG")
    return buf.getvalue()


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="image/png")


# ---- board figures -------------------------------------------------------------------------------

@pytest.fixture
def board_world(world):
    """赤坎区: 2 communities, both with a 社区 station (one meets 五有, one not), 5 public places.
    霞山区: 2 communities, one with a station that meets 五有 (latest assessment), 1 public place."""
    w = world
    s1 = factories.station(w["community_a"])
    s2 = factories.station(w["community_a2"])
    factories.station_assessment(s1, met=True)
    factories.station_assessment(s2, met=True, on=date(2026, 1, 5))
    factories.station_assessment(s2, met={"place", "sign"}, on=date(2026, 4, 5))  # the latest counts: unmet
    for i in range(5):
        factories.station(w["town_a"], f"公园站{i}", station_type="park")
    factories.station(w["town_a"], "停用的广场站", station_type="plaza", active=False)  # not counted
    s3 = factories.station(w["community_b"])
    factories.station_assessment(s3, met={"place"}, on=date(2026, 1, 5))
    factories.station_assessment(s3, met=True, on=date(2026, 3, 1))
    factories.station(w["town_b"], "霞山商贸广场站", station_type="plaza")
    factories.station(w["community_b"], "第二个站", station_type="community")  # same community, counted once
    db.session.commit()
    return w


def test_board_figures_per_district(board_world):
    b = services.coverage(board_world["city_admin"])
    rows = {r.district.name: r for r in b.rows}
    a, x = rows["赤坎区"], rows["霞山区"]
    assert (a.communities, a.covered, a.stations, a.met, a.public) == (2, 2, 7, 1, 5)
    assert (x.communities, x.covered, x.stations, x.met, x.public) == (2, 1, 3, 1, 1)
    assert a.coverage.tone == "green" and x.coverage.tone == "red"  # 50 % < 80 % of 100 %
    assert a.public_fig.tone == "green" and x.public_fig.tone == "red"
    assert a.wuyou.tone == "red"  # 1 of 7
    assert b.totals == {"communities": 4, "covered": 3, "stations": 10, "met": 2, "public": 6}
    assert b.city_total.value == 10 and b.city_total.tone == "red"  # 10 < 80 % of 30
    assert b.total_coverage.tone == "red" and b.total_wuyou.tone == "red"  # 3/4 = 75 % < 80 %; 2/10


def test_board_tones_follow_configured_targets(board_world):
    settings.set_value("stations.city_min", 10)
    settings.set_value("stations.public_min", 1)
    settings.set_value("stations.coverage_percent", 50)
    settings.set_value("stations.wuyou_percent", 40)
    settings.set_value("stations.amber_percent", 50)
    b = services.coverage(board_world["city_admin"])
    rows = {r.district.name: r for r in b.rows}
    assert b.city_total.tone == "green"
    assert rows["霞山区"].coverage.tone == "green" and rows["霞山区"].public_fig.tone == "green"
    assert rows["霞山区"].wuyou.tone == "amber"  # 1/3 = 33 % ≥ 50 % of 40 %
    assert rows["赤坎区"].wuyou.tone == "red"  # 1/7 = 14 % < 20 %
    assert b.total_coverage.tone == "green"  # 3/4 ≥ 50 %
    assert b.total_wuyou.tone == "amber"  # 2/10 = 20 % ≥ 50 % of 40 %


def test_amber_between_threshold_and_target():
    assert services._tone_ratio(9, 10, 100, 80) == "amber"
    assert services._tone_ratio(7, 10, 100, 80) == "red"
    assert services._tone_ratio(10, 10, 100, 80) == "green"
    assert services._tone_min(4, 5, 80) == "amber" and services._tone_min(3, 5, 80) == "red"
    assert services._tone_min(9, 5, 80) == "green"


def test_district_user_sees_only_own_district_and_no_city_total(board_world):
    b = services.coverage(board_world["district_staff_2"])
    assert [r.district.name for r in b.rows] == ["霞山区"] and b.city_total is None


def test_uncovered_communities_are_listed_by_street(board_world):
    groups = services.uncovered_communities(board_world["city_admin"], board_world["district_b"])
    assert [(town, [c.name for c in cs]) for town, cs in groups] == [("解放街道", ["和平社区"])]
    assert services.uncovered_communities(board_world["city_admin"], board_world["district_a"]) == []


# ---- the 五有 assessment ----------------------------------------------------------------------------

def test_assessment_all_met_only_when_all_five(world):
    s = factories.station(world["community_a"])
    a = services.add_assessment(world["district_staff"], s, date(2026, 5, 1), _items(True))
    assert a.all_met and a.met_count == 5 and a.assessor_name == "测试用户"
    b = services.add_assessment(world["district_staff"], s, date(2026, 5, 2), _items({"place", "sign", "team", "rules"}))
    assert not b.all_met and b.met_count == 4
    db.session.expire(s)
    assert s.latest.id == b.id and len(s.assessments) == 2  # every assessment is kept, the latest counts


def test_later_date_counts_even_if_entered_first(world):
    s = factories.station(world["community_a"])
    late = services.add_assessment(world["district_staff"], s, date(2026, 6, 1), _items(True))
    services.add_assessment(world["district_staff"], s, date(2026, 1, 1), _items(False))
    db.session.expire(s)
    assert s.latest.id == late.id


def test_assessment_date_rules(world):
    s = factories.station(world["community_a"])
    with pytest.raises(services.StationError) as e:
        services.add_assessment(world["district_staff"], s, local_today() + timedelta(days=1), _items())
    assert e.value.field == "assessed_on"
    with pytest.raises(services.StationError):
        services.add_assessment(world["district_staff"], s, None, _items())
    with pytest.raises(services.StationError):
        services.add_assessment(world["district_staff"], s, date(2026, 1, 1), _items()[:4])


def test_only_office_of_the_district_assesses(world):
    s = factories.station(world["community_a"], organization=world["org_a"])
    for who in ("district_staff_2", "org_leader", "leader"):
        with pytest.raises(services.StationError):
            services.add_assessment(world[who], s, date(2026, 1, 1), _items())
    assert db.session.query(StationAssessment).count() == 0


def test_photo_is_stored_with_random_name(world, app):
    s = factories.station(world["community_a"])
    a = services.add_assessment(world["district_staff"], s, date(2026, 5, 1),
                                _items(True, place=_file(_png(), "../../etc/passwd.png")))
    item = a.items[0]
    assert item.photo.startswith("stations/") and "passwd" not in item.photo and ".." not in item.photo
    assert item.photo_name == "passwd.png"
    from core import uploads
    db.session.commit()
    assert uploads.read_stored(item.photo) == _png()


@pytest.mark.parametrize("data,name,message", [
    (b"%PDF-1.4 not an image", "scan.pdf", "文件类型不支持"),
    (b"MZ\x90\x00 an exe renamed", "photo.jpg", "文件类型不支持"),
    (b"\x89PNG\r\n\x1a\n truncated", "broken.png", "图片文件已损坏"),
    (None, "big.png", "文件过大"),
])
def test_bad_photo_refused_and_nothing_saved(world, app, data, name, message):
    s = factories.station(world["community_a"])
    if data is None:  # a real image over the 5 MB limit
        data = _png() + b"\x00" * (services.PHOTO_MAX_BYTES + 1)
    from core.uploads import FileBlob

    before = db.session.query(FileBlob).count()
    with pytest.raises(services.StationError) as e:
        services.add_assessment(world["district_staff"], s, date(2026, 5, 1),
                                _items(True, place=_file(_png(), "ok.png"), sign=_file(data, name)))
    assert message in e.value.message and e.value.field == "sign_photo"
    db.session.flush()
    assert db.session.query(FileBlob).count() == before  # the good photo of another item was not stored either
    assert db.session.query(StationAssessment).count() == 0


# ---- targets ----------------------------------------------------------------------------------------

def test_targets_default_to_the_seeds_and_are_saved(world):
    t = services.targets()
    assert (t.city_min, t.public_min, t.public_max, t.county_min, t.coverage_percent, t.wuyou_percent,
            t.monthly_activities) == (30, 5, 8, 5, 100, 100, 2)
    settings.save_policies({"stations.city_min": 40, "stations.public_min": 6, "stations.public_max": 9,
                            "stations.amber_percent": 75}, world["city_admin"])
    t = services.targets()
    assert (t.city_min, t.public_min, t.public_max, t.amber_percent) == (40, 6, 9, 75)
    with pytest.raises(settings.PolicyError):
        settings.save_policies({"stations.public_min": 9, "stations.public_max": 6}, world["city_admin"])
    assert services.targets().public_min == 6  # nothing of a refused change is saved
