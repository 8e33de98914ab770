"""Junk input against real activity rows (the global robustness walk only reaches 404s here)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprints.activities.models import Participant
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.test_robustness import JUNK_FORM, JUNK_QUERY

JUNK_ACTIVITY_FORM = JUNK_FORM | {
    "title": "x" * 300, "organization_id": "abc", "held_on": "2026-02-30", "start_time": "25:61",
    "end_time": "%00", "place": "\x00", "region_id": "-1", "category": "zzz", "capacity": "1e309",
    "volunteer_id": ["x", "-5", "99999999999999999999"], "quality": "<b>", "reason": "x" * 1000,
}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "reviewer", None])
def test_no_500_on_real_rows(app, world, as_role, client, role):
    a = factories.activity(world["org_a"], held_on=local_today() - timedelta(days=1), capacity=5)
    p = Participant(activity_id=a.id, volunteer=factories.activity_volunteer(world["org_a"]))
    db.session.add(p)
    db.session.commit()
    ids = {"activity_id": a.id, "pid": p.id}
    c = as_role(role) if role else client
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/activities"):
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, ids)
        if "GET" in rule.methods:
            for u in (url, url + JUNK_QUERY, url + "?q=%00&all=1&from=0000-01-01&to=9999-12-31"):
                for headers in ({}, {"HX-Request": "true"}):
                    if c.get(u, headers=headers).status_code >= 500:
                        failures.append(f"GET {u} {headers}")
        if "POST" in rule.methods:
            for headers in ({}, {"HX-Request": "true"}):
                if c.post(url, data=JUNK_ACTIVITY_FORM, headers=headers).status_code >= 500:
                    failures.append(f"POST {url} {headers}")
    assert not failures, "\n".join(failures)
