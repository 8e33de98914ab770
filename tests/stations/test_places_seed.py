"""The demo shows district kinds, a stopped station and activities at stations (issue 18)."""
from __future__ import annotations

from sqlalchemy import func, select, update

from blueprints.accounts.models import Role
from blueprints.activities import seed as activities_seed
from blueprints.activities.models import Activity
from blueprints.regions import seed as regions_seed
from blueprints.regions.models import DistrictKind
from blueprints.stations import seed as stations_seed
from blueprints.stations import services
from blueprints.stations.models import Station
from core.extensions import db
from tests import factories


def test_demo_kinds_stopped_stations_and_station_activities(app):
    ctx: dict = {}
    regions_seed.seed(ctx)
    stations_seed.seed(ctx)
    d = ctx["districts"]
    assert (d["赤坎区"].kind, d["遂溪县"].kind, d["廉江市"].kind, d["吴川市"].kind) == (
        DistrictKind.URBAN, DistrictKind.COUNTY, DistrictKind.COUNTY_CITY, DistrictKind.COUNTY_CITY)
    stopped = db.session.scalars(select(Station).where(Station.closed_on.is_not(None))).all()
    assert len(stopped) == len(stations_seed.CLOSED) and not any(s.active for s in stopped)
    org = factories.org(d["赤坎区"], "赤坎区志愿服务联合会")
    db.session.execute(update(Station).where(Station.district_id == d["赤坎区"].id).values(organization_id=org.id))
    made = activities_seed._at_stations()
    assert made > 0 and activities_seed._at_stations() == 0  # idempotent
    admin = factories.user(Role.CITY_ADMIN, "seed_admin", ctx["city"])
    board = services.coverage(admin)
    labels = {r.district.name: r.target_label for r in board.rows}
    assert labels["遂溪县"].startswith("标准化站点（县") and labels["廉江市"].startswith("标准化站点（县级市")
    assert labels["赤坎区"].startswith("公共场所站点（区")
    chikan = [q for q in board.quiet if q.district_id == d["赤坎区"].id]
    managed = db.session.scalar(select(func.count()).select_from(Station).where(Station.organization_id == org.id))
    assert 0 < len(chikan) < managed  # some below 2 a month, most not
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.station_id.is_not(None))) == made
