"""No funding route answers 500 to junk, with real record ids (the shared walk uses id 1)."""
from __future__ import annotations

from datetime import date

import pytest

from core.extensions import db
from tests import factories
from tests.test_robustness import JUNK_FORM, JUNK_QUERY

JUNK_MONEY = {"amount": "1e309", "kind": "both", "holder": "org-99999999999", "source": "\x00", "entry_date": "2026-13-01",
              "paid_on": "昨天", "action": "../../x", "buyer_region_id": "abc", "provider_org_id": "-1",
              "period_start": "2026-02-30", "period_end": "x", "audit_date": "", "status": "zzz", "reason": "x" * 10000,
              "over_reason": "\x00", "start_date": "0000-00-00", "end_date": "9999-99-99", "sources": "\n".join(["x" * 40] * 40)}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader"])
def test_funding_routes_never_answer_500(app, world, as_role, role):
    from blueprints.funding.models import RectificationItem

    entry = factories.ledger_entry(world["org_a"], "10.00", entry_date=date(2025, 5, 1))
    project = factories.service_project(world["district_a"], world["org_a"], status="in_progress")
    audit = factories.fund_audit(world["org_a"], date(2025, 1, 1), date(2025, 3, 31), date(2025, 4, 10))
    audit.items.append(RectificationItem(description="补齐凭证"))
    from blueprints.funding.services import record_payment

    payment = record_payment(world["city_admin"], project, date(2026, 1, 5), "100.00")
    db.session.commit()
    ids = {"entry_id": entry.id, "project_id": project.id, "audit_id": audit.id, "item_id": audit.items[0].id,
           "org_id": world["org_a"].id, "region_id": world["district_a"].id, "payment_id": payment.id}
    c = as_role(role)
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("funding."):
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, {a: ids[a] for a in rule.arguments})
        if "GET" in rule.methods:
            for u in (url, url + JUNK_QUERY, url + "?year=0&holder=region-x&copy=99999999999999999999&page=999999"):
                for resp in (c.get(u), c.htmx_get(u)):
                    if resp.status_code >= 500:
                        failures.append(f"GET {u} → {resp.status_code}")
                    resp.close()
        if "POST" in rule.methods:
            for form in (JUNK_FORM, JUNK_MONEY, {}):
                resp = c.post(url, data=form)
                if resp.status_code >= 500:
                    failures.append(f"POST {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)
