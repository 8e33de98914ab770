"""Scope by URL: a 霞山区 user cannot read or change a 赤坎区 station, its assessments or photos."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from blueprints.stations.models import Station, StationAssessment
from core.extensions import db
from tests import factories


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def chikan(world, as_role):
    """A 赤坎区 station with an assessment carrying a photo (recorded through the app)."""
    s = factories.station(world["community_a"], "赤坎幸福社区志愿服务站", organization=world["org_a"])
    db.session.commit()
    data = {"assessed_on": "2026-05-01", "assessor_name": "赤坎区文明办 李娜"}
    for key in ("place", "sign", "team", "rules", "ledger"):
        data[f"{key}_ok"] = "1"
        data[f"{key}_note"] = ""
    data["place_photo"] = (io.BytesIO(_png()), "门牌.png")
    resp = as_role("district_staff").post(f"/stations/{s.id}/assess", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303
    a = db.session.query(StationAssessment).one()
    item = next(i for i in a.items if i.photo)
    return {"station": s, "assessment": a, "item": item}


def test_own_district_reads_station_assessment_and_photo(as_role, chikan):
    c = as_role("district_staff")
    assert c.get(f"/stations/{chikan['station'].id}").status_code == 200
    assert c.get(f"/stations/assessments/{chikan['assessment'].id}").status_code == 200
    resp = c.get(f"/stations/photos/{chikan['item'].id}")
    body = resp.get_data()
    resp.close()
    assert resp.status_code == 200 and resp.mimetype == "image/png" and body == _png()
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_read_station_assessment_or_photo(as_role, chikan, role):
    c = as_role(role)
    assert c.get(f"/stations/{chikan['station'].id}").status_code == 404
    assert c.get(f"/stations/assessments/{chikan['assessment'].id}").status_code == 404
    assert c.get(f"/stations/photos/{chikan['item'].id}").status_code == 404
    assert "赤坎幸福社区志愿服务站" not in c.get("/stations/").get_data(as_text=True)


def test_other_district_cannot_change_or_assess_station(as_role, chikan, world):
    c = as_role("district_staff_2")
    s = chikan["station"]
    resp = c.post(f"/stations/{s.id}/edit", data={"name": "改名", "station_type": "community",
                                                  "region_id": str(world["community_b"].id)})
    assert resp.status_code == 404
    data = {"assessed_on": "2026-05-02", **{f"{k}_ok": "0" for k in ("place", "sign", "team", "rules", "ledger")}}
    assert c.post(f"/stations/{s.id}/assess", data=data).status_code == 404
    assert c.get(f"/stations/{s.id}/edit").status_code == 404
    db.session.expire_all()
    assert db.session.get(Station, s.id).name == "赤坎幸福社区志愿服务站"
    assert db.session.query(StationAssessment).count() == 1


def test_other_district_cannot_drill_into_foreign_district(as_role, world):
    assert as_role("district_staff_2").get(f"/stations/coverage/{world['district_a'].id}").status_code == 404
    assert as_role("district_staff").get(f"/stations/coverage/{world['district_a'].id}").status_code == 200


def test_org_leader_sees_only_own_org_stations(as_role, chikan, world):
    other = factories.station(world["community_a2"], "赤坎和平社区志愿服务站")
    db.session.commit()
    c = as_role("org_leader")
    assert c.get(f"/stations/{chikan['station'].id}").status_code == 200
    resp = c.get(f"/stations/photos/{chikan['item'].id}")
    resp.close()
    assert resp.status_code == 200
    assert c.get(f"/stations/{other.id}").status_code == 404
    assert c.get("/stations/coverage").status_code == 403
    # an org leader keeps details but does not assess their own station
    assert c.get(f"/stations/{chikan['station'].id}/assess").status_code == 403
