"""The ledger's own routes with REAL ids (the global robustness walk only meets id 1): junk never
gives a 500, for any role; and no page carries inline script or style."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from blueprints.volunteers import certificates, ledger
from blueprints.volunteers.models import CorrectionRequest
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.test_robustness import JUNK_FORM, JUNK_QUERY

LEDGER_MODULES = ("blueprints.volunteers.routes_ledger",)


def _ids(w) -> dict:
    v = factories.activity_volunteer(w["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    day = local_today() - timedelta(days=3)
    pending = factories.service_record(v, w["org_a"], day, "2", verified=False, by=w["org_leader"])
    done = factories.service_record(v, w["org_a"], day - timedelta(days=1), "3", by=w["org_leader"])
    t = ledger.add_training(w["org_leader"], v, w["org_a"], "急救培训", "", "2", "红十字会", day)
    a = ledger.add_award(v, "优秀志愿者", day, "文明办", user=w["org_leader"], org=w["org_a"])
    q = CorrectionRequest(volunteer_id=v.id, organization_id=w["org_a"].id, received_on=day, content="x",
                          logged_by_id=w["org_leader"].id)
    db.session.add(q)
    cert = certificates.issue(w["org_leader"], v, w["org_a"], "王芳", date(2020, 1, 1), local_today())
    db.session.commit()
    return {"vid": v.id, "rid": pending.id, "tid": t.id, "aid": a.id, "qid": q.id, "cid": cert.id,
            "code": cert.code, "_done": done.id}


def _urls(app, ids):
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None or view.__module__ not in LEDGER_MODULES:
            continue
        values = {arg: ids.get(arg, 1) for arg in rule.arguments}
        yield rule, app.url_map.bind("localhost").build(rule.endpoint, values)


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "org_leader_2", "leader",
                                  "reviewer", None])
def test_no_ledger_route_answers_500_to_junk(app, world, as_role, client, role):
    ids = _ids(world)
    c = as_role(role) if role else client
    failures, seen = [], 0
    for rule, url in _urls(app, ids):
        seen += 1
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods:
            for u in (url, url + JUNK_QUERY):
                resp = c.get(u)
                if resp.status_code >= 500:
                    failures.append(f"GET {u} → {resp.status_code}")
        if "POST" in methods:
            for data in (JUNK_FORM, {"ids": ["x", "99999999999", str(ids["rid"])], "f_status": "<b>",
                                     "f_from": "2026-13-40", "token": "x", "decision": "maybe"}):
                resp = c.post(url, data=data)
                if resp.status_code >= 500:
                    failures.append(f"POST {url} → {resp.status_code}")
    assert seen > 20
    assert not failures, "\n".join(failures)


def test_ledger_pages_have_no_inline_script_or_style(app, world, as_role):
    ids = _ids(world)
    c = as_role("org_leader")
    pages = 0
    for rule, url in list(_urls(app, ids)) + [(None, f"/volunteers/{ids['vid']}")]:
        if rule is not None and "GET" not in rule.methods:
            continue
        resp = c.get(url)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        pages += 1
        body = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert not re.search(r"\son[a-z]+=\"", body), url
        assert not re.search(r"\sstyle=\"", body), url
    assert pages >= 10
