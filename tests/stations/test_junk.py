"""No station route answers 500 to junk, with ids that exist (the global walk only uses id 1)."""
from __future__ import annotations

import io

import pytest

from core.extensions import db
from tests import factories
from tests.test_robustness import JUNK_FORM, JUNK_QUERY

JUNK_ASSESS = {"assessed_on": "0000-00-00", "place_ok": "maybe", "sign_ok": "1", "team_ok": "", "rules_ok": "0",
               "ledger_ok": "1", "place_note": "x" * 600}


@pytest.mark.parametrize("role", ["city_admin", "district_staff_2", "org_leader", "leader"])
def test_station_routes_survive_junk(app, world, as_role, role):
    s = factories.station(world["community_a"], organization=world["org_a"])
    a = factories.station_assessment(s)
    db.session.commit()
    ids = {"station_id": s.id, "assessment_id": a.id, "item_id": a.items[0].id, "district_id": world["district_a"].id}
    c = as_role(role)
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("stations."):
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, {k: ids[k] for k in rule.arguments})
        if "GET" in rule.methods:
            for u in (url, url + JUNK_QUERY, url + "?region_id=-5&organization_id=x&district=9999999999999999999999"):
                resp = c.get(u)
                resp.close()
                if resp.status_code >= 500:
                    failures.append(f"GET {u} → {resp.status_code}")
        if "POST" in rule.methods:
            for data in (JUNK_FORM, dict(JUNK_ASSESS, place_photo=(io.BytesIO(b"\x00" * 10), "../x.png")),
                         {"region_id": "999999", "station_type": "park", "name": "x", "organization_id": "-1",
                          "city_min": "-3", "public_min": "99999999999999999999"}):
                resp = c.post(url, data=data, content_type="multipart/form-data")
                if resp.status_code >= 500:
                    failures.append(f"POST {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_huge_ids_in_urls_are_not_found(as_role):
    c = as_role("city_admin")
    for url in ("/stations/99999999999999999999", "/stations/99999999999999999999/edit",
                "/stations/99999999999999999999/assess", "/stations/photos/99999999999999999999",
                "/stations/assessments/99999999999999999999", "/stations/coverage/99999999999999999999"):
        assert c.get(url).status_code == 404, url
