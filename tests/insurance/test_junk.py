"""No junk input makes an insurance route answer 500, for any role (a narrower, faster copy of
tests/test_robustness.py with the policy form's own fields)."""
from __future__ import annotations

import pytest

from core.extensions import db
from tests import factories as f

JUNK_FORM = {
    "organization": "abc", "insurer": "x" * 5000, "policy_no": "'; DROP TABLE user; --", "product": "\x00",
    "mode": "zzz", "head_count": "99999999999999999999", "start_date": "2026-02-30", "end_date": "二〇二六",
    "sum_insured": "1e309", "premium": "NaN", "payer_source": "<script>", "volunteer_ids": ["x", "99999999999", "-1"],
    "token": "../../x", "warn_days": "1e9", "file": "not a file", "scan": "x",
}
JUNK_QUERY = ("?page=abc&org=99999999999&status=zzz&insurer=%00&q=%25%27&organization=-1&vq=%25&all=1"
              "&volunteer_ids=abc&volunteer_ids=99999999999&district=x&period=zzz")
GOOD_FORM = {"organization": "1", "insurer": "中国人寿", "policy_no": "J-1", "product": "意外险", "mode": "named",
             "head_count": "", "start_date": "2026-01-01", "end_date": "2026-12-31", "sum_insured": "1e309",
             "premium": "99999999999999999999.999", "volunteer_ids": ["99999999999", "abc"]}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "reviewer", None])
def test_insurance_routes_never_answer_500(app, world, as_role, client, role):
    v = f.activity_volunteer(world["org_a"])
    p = f.insurance_policy(world["org_a"], volunteers=[v])
    db.session.commit()
    pid, oid = p.id, world["org_a"].id
    c = as_role(role) if role else client
    failures = []
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("insurance.")),
                   key=lambda r: r.endpoint == "insurance.delete")  # delete last
    for rule in rules:
        values = {a: (pid if a == "policy_id" else oid) for a in rule.arguments}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        if "GET" in rule.methods:
            for u in (url, url + JUNK_QUERY):
                resp = c.get(u)
                resp.close()
                if resp.status_code >= 500:
                    failures.append(f"GET {u} → {resp.status_code}")
        if "POST" in rule.methods:
            for data in (JUNK_FORM, GOOD_FORM):
                resp = c.post(url, data=data)
                if resp.status_code >= 500:
                    failures.append(f"POST {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_insurance_pages_have_no_inline_script(world, as_role):
    p = f.insurance_policy(world["org_a"])
    db.session.commit()
    c = as_role("city_admin")
    for url in ("/insurance/", f"/insurance/{p.id}", "/insurance/new", f"/insurance/{p.id}/edit",
                f"/insurance/{p.id}/renew", f"/insurance/{p.id}/import", "/insurance/coverage", "/insurance/risky",
                f"/insurance/coverage/orgs/{world['org_a'].id}", "/insurance/settings"):
        html = c.get(url).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and "<style" not in html, url
