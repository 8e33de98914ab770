"""Station rules by place and time (issue 18): targets by district kind, the stations of the assessed
year, activities at a station and the stations below 2 activities in the last complete month."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.activities.models import Activity, ActivityStatus
from blueprints.assessment import services as assessment
from blueprints.stations import services
from core.extensions import db
from core.timeutil import local_today
from tests import factories


@pytest.fixture
def county(world):
    """遂溪县 with a town and two communities, beside the two 区 of the test city."""
    c = factories.region(world["city"], "遂溪县", "440823")
    town = factories.region(c, "遂城镇", "440823100")
    world["county"], world["county_c1"] = c, factories.region(town, "城东社区", "440823100001")
    world["county_c2"] = factories.region(town, "城西社区", "440823100002")
    return world


def _standard(community, n=1, met=True, on=date(2026, 3, 1)):
    for _ in range(n):
        factories.station_assessment(factories.station(community), met=met, on=on)


def test_a_district_is_measured_by_public_places_and_a_county_by_standardized_stations(county):
    """000: "每个区各选5至8个点设立志愿服务站。" 002: "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。" """
    w = county
    for _ in range(5):
        factories.station(w["community_a"], station_type="park")
    factories.station(w["county_c1"], station_type="park")  # a public place does not count for a 县
    _standard(w["county_c1"], 3)
    _standard(w["county_c2"], 1, met=False)  # not standardized
    board = services.coverage(w["city_admin"])
    rows = {r.district.name: r for r in board.rows}
    a, c = rows["赤坎区"], rows["遂溪县"]
    assert (a.target_fig.value, a.target_fig.tone) == (5, "green") and "区：5–8 个" in a.target_label
    assert (c.target_fig.value, c.target_fig.tone, c.standard) == (3, "red", 3)
    assert c.target_label == "标准化站点（县：不少于 5 个）"
    assert rows["霞山区"].target_fig.tone == "red"


def test_the_board_page_labels_each_target(as_role, county):
    _standard(county["county_c1"], 4)
    html = as_role("city_admin").get("/stations/coverage").get_data(as_text=True)
    assert "标准化站点（县：不少于 5 个）" in html and "公共场所站点（区：5–8 个）" in html
    assert 'data-kind="county"' in html and 'data-kind="urban"' in html
    assert "tone-amber" in html  # 4 of 5: within the amber line (80 %)


def test_the_assessment_scores_a_county_against_its_own_target(county):
    """002: "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。" """
    w = county
    _standard(w["county_c1"], 5)
    factories.station(w["community_a"], station_type="plaza")
    ids = [w["district_a"].id, w["county"].id]
    m = assessment.m_public_stations(2026, ids)
    assert (m[w["county"].id].value, m[w["county"].id].target) == (5, 5)
    assert "标准化社区志愿服务站（县" in m[w["county"].id].num_label
    assert (m[w["district_a"].id].value, m[w["district_a"].id].target) == (1, None)
    assert "公共场所志愿服务站（区" in m[w["district_a"].id].num_label
    assessment.ensure_year(2026)
    res = assessment.compute(2026)
    county_cell = next(c for c in res.district(w["county"].id).cells if c.code == "public_stations")
    assert county_cell.target == 5 and county_cell.met and county_cell.score == Decimal("10.00")


def test_indicators_count_the_stations_running_at_the_end_of_the_assessed_year(world):
    """Station and "五有" indicators count the stations of the assessed year, not today's."""
    ca = world["community_a"]
    factories.station(ca, station_type="park", opened_on=date(2024, 3, 1))  # 2024, 2025, 2026
    factories.station(ca, station_type="park", opened_on=date(2026, 2, 1))  # 2026 only
    factories.station(ca, station_type="park", opened_on=date(2024, 1, 1), active=False,
                      closed_on=date(2025, 6, 30))  # 2024 only
    ids = [world["district_a"].id]

    def public(year):
        return assessment.m_public_stations(year, ids)[ids[0]].value

    assert (public(2024), public(2025), public(2026)) == (2, 1, 2)
    s = factories.station(ca, opened_on=date(2024, 1, 1), active=False, closed_on=date(2025, 12, 31))
    factories.station_assessment(s, met=True, on=date(2024, 6, 1))
    wuyou = {y: assessment.m_wuyou(y, ids)[ids[0]].numerator for y in (2024, 2025, 2026)}
    assert wuyou == {2024: 1, 2025: 0, 2026: 0}  # closed on the last day of 2025: not running at its end


def _data(s, **kw) -> dict:
    data = {k: getattr(s, k) for k in services.STATION_FIELDS}
    data["station_type"] = s.station_type.value
    data.update(kw)
    return data


def test_stopping_a_station_dates_it_and_a_running_one_has_no_closing_date(world):
    s = factories.station(world["community_a"])
    admin = world["city_admin"]
    with pytest.raises(services.StationError) as e:
        services.update_station(admin, s, _data(s, active=True, closed_on=date(2026, 1, 5)))
    assert e.value.field == "closed_on"
    services.update_station(admin, s, _data(s, active=False, closed_on=None))
    assert s.closed_on == local_today()
    services.update_station(admin, s, _data(s, active=True, closed_on=None))
    assert s.closed_on is None
    with pytest.raises(services.StationError) as e:
        services.update_station(admin, s, _data(s, active=False, opened_on=date(2026, 3, 1), closed_on=date(2026, 2, 1)))
    assert "不能早于设立日期" in e.value.message


# ---- activities at a station (001 附件2) -----------------------------------------------------------

def _month():
    year, month = services.last_complete_month()
    return date(year, month, 1), date(year, month, 1) + timedelta(days=27)


def test_stations_below_two_activities_last_month_are_flagged(world):
    """001 附件2: "每月组织2-3次社区志愿服务活动" — stations below 2 in the last complete month are listed."""
    first, late = _month()
    busy = factories.station(world["community_a"], name="幸福社区志愿服务站", opened_on=date(2025, 1, 1))
    quiet = factories.station(world["community_a2"], name="和平社区志愿服务站", opened_on=date(2025, 1, 1))
    factories.station(world["community_b"], name="新设站", opened_on=first + timedelta(days=3))  # not a whole month
    for day in (first, late):
        factories.activity(world["org_a"], held_on=day, station_id=busy.id)
    factories.activity(world["org_a"], held_on=first, station_id=quiet.id)
    factories.activity(world["org_a"], held_on=late, station_id=quiet.id, status=ActivityStatus.CANCELLED)
    factories.activity(world["org_a"], held_on=first - timedelta(days=1), station_id=quiet.id)  # month before
    listed, month = services.quiet_stations(world["city_admin"], 2)
    assert month == services.last_complete_month()
    assert [(q.station.name, q.activities) for q in listed] == [("和平社区志愿服务站", 1)]
    board = services.coverage(world["city_admin"])
    assert [q.station.id for q in board.quiet] == [quiet.id]
    assert {r.district.name: r.quiet for r in board.rows} == {"赤坎区": 1, "霞山区": 0}
    # District staff of the other district do not see it.
    assert services.quiet_stations(world["district_staff_2"], 2)[0] == []


def test_the_coverage_page_lists_the_quiet_stations(as_role, world):
    """001 附件2: "每月组织2-3次社区志愿服务活动"."""
    factories.station(world["community_a"], name="和平社区志愿服务站", opened_on=date(2025, 1, 1))
    db.session.commit()
    html = as_role("district_staff").get("/stations/coverage").get_data(as_text=True)
    year, month = services.last_complete_month()
    assert f"{year} 年 {month} 月活动少于 2 次的站点（1 个）" in html and "和平社区志愿服务站" in html
    assert "每月组织2-3次社区志愿服务活动" in html


def _form(world, **kw) -> dict:
    data = {"title": "站点便民服务", "organization_id": world["org_a"].id, "held_on": local_today().isoformat(),
            "place": "幸福社区志愿服务站", "region_id": "0", "category": "others", "station_id": "0"}
    data.update(kw)
    return data


def test_an_activity_takes_place_at_a_station_of_its_organizations_region(as_role, world):
    mine = factories.station(world["community_a"], name="幸福社区志愿服务站")
    other = factories.station(world["community_b"], name="霞山幸福社区志愿服务站")
    db.session.commit()
    c = as_role("org_leader")
    html = c.get("/activities/new").get_data(as_text=True)
    assert "幸福社区志愿服务站" in html and "霞山幸福社区志愿服务站" not in html
    resp = c.post("/activities/new", data=_form(world, station_id=other.id))
    assert resp.status_code == 422 and "所选站点须为组织单位所在区域内运行中的志愿服务站" in resp.get_data(as_text=True)
    # The city admin is offered every station, but not one outside the organization's region is accepted.
    resp = as_role("city_admin").post("/activities/new", data=_form(world, station_id=other.id))
    assert resp.status_code == 422 and "所选站点须为组织单位所在区域内运行中的志愿服务站" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Activity.id)) is None
    assert c.post("/activities/new", data=_form(world, station_id=mine.id)).status_code == 303
    a = db.session.scalar(select(Activity))
    assert a.station_id == mine.id
    assert "幸福社区志愿服务站" in c.get(f"/activities/{a.id}").get_data(as_text=True)


def test_the_home_tile_of_a_county_office_shows_its_own_target(app, county):
    """002: "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。" """
    from blueprints.accounts.models import Role

    _standard(county["county_c1"], 2)
    factories.station(county["county_c2"], opened_on=date(2025, 1, 1))  # no activities last month
    staff = factories.user(Role.DISTRICT_STAFF, "county_staff", county["county"])
    db.session.commit()
    c = app.test_client()
    c.login("county_staff")
    html = c.get("/").get_data(as_text=True)
    assert "标准化站点（县：不少于 5 个）" in html and "上月活动不足的站点" in html
    assert staff.region_id == county["county"].id
