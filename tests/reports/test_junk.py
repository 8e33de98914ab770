"""No report route answers 500 to junk, with real record ids (the shared walk uses id 1)."""
from __future__ import annotations

import io

import pytest

from blueprints.reports import services
from blueprints.reports.models import AttachmentKind, Notification, ReportAttachment
from core.extensions import db
from tests import factories
from tests.test_robustness import JUNK_FORM, JUNK_QUERY

JUNK_REPORT = {"version": "99999999999999999999", "force_version": "-1", "summary": "\x00" * 10, "action": "submit",
               "need_what": ["x" * 500, ""], "need_place": "\x00", "need_contact": ["a", "b", "c"], "unit": "org-x",
               "period": "2026-13", "level": "zzz", "kind": "../../x", "comment": "x" * 10000, "day": "1e9"}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "reviewer"])
def test_report_routes_never_answer_500(app, world, as_role, role):
    y, m = services.default_period()
    r = factories.monthly_report(world["org_leader"], world["org_a"], y, m)
    att = ReportAttachment(report=r, kind=AttachmentKind.PLAN, stored_name="reports/" + "0" * 32 + ".pdf",
                           original_name="方案.pdf", content_type="application/pdf", size=10)
    db.session.add(att)
    services.notify([world[role]], "测试通知", url="//evil.example/x")
    db.session.commit()
    note_id = db.session.scalar(db.select(db.func.max(Notification.id)))
    ids = {"report_id": r.id, "attachment_id": att.id, "note_id": note_id}
    c = as_role(role)
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("reports."):
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, {a: ids[a] for a in rule.arguments})
        if "GET" in rule.methods:
            for u in (url, url + JUNK_QUERY, url + "?period=0-0&year=-5&quarter=99&district=99999999999999&level=x"):
                for resp in (c.get(u), c.htmx_get(u)):
                    if resp.status_code >= 500:
                        failures.append(f"GET {u} → {resp.status_code}")
                    resp.close()
        if "POST" in rule.methods:
            for form in (JUNK_FORM, JUNK_REPORT, {}):
                resp = c.post(url, data=form)
                if resp.status_code >= 500:
                    failures.append(f"POST {url} → {resp.status_code}")
            resp = c.post(url, data={"kind": "photo", "file": (io.BytesIO(b"GIF89a" + b"\x00" * 20), "x.gif")},
                          content_type="multipart/form-data")
            if resp.status_code >= 500:
                failures.append(f"POST upload {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)
