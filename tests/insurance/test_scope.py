"""Scope by URL: a 霞山区 user cannot open, download, renew or edit a 赤坎区 policy; a leader only reads."""
from __future__ import annotations

import pytest

from blueprints.insurance.models import InsurancePolicy
from core.extensions import db
from core.uploads import store_bytes
from tests import factories as f


@pytest.fixture
def chikan(world):
    v = f.activity_volunteer(world["org_a"], name="赤坎队员")
    stored = store_bytes(b"%PDF-1.4\n%%EOF\n", "pdf", "insurance", "保单.pdf")
    p = f.insurance_policy(world["org_a"], volunteers=[v], policy_no="CK-POLICY-1", scan=stored.name,
                           scan_name="保单.pdf")
    db.session.commit()
    return p


def _status(c, url, method="get", **kw):
    resp = getattr(c, method)(url, **kw)
    resp.close()
    return resp.status_code


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_reach_chikan_policy_by_url(as_role, world, chikan, role):
    c = as_role(role)
    pid = chikan.id
    for url in (f"/insurance/{pid}", f"/insurance/{pid}/scan", f"/insurance/{pid}/edit", f"/insurance/{pid}/renew",
                f"/insurance/{pid}/import", f"/insurance/coverage/orgs/{world['org_a'].id}"):
        assert _status(c, url) == 404, url
    for url in (f"/insurance/{pid}/edit", f"/insurance/{pid}/renew", f"/insurance/{pid}/delete",
                f"/insurance/{pid}/import/confirm"):
        assert _status(c, url, "post", data={"policy_no": "X"}) == 404, url
    assert "CK-POLICY-1" not in c.get("/insurance/").get_data(as_text=True)
    assert "CK-POLICY-1" not in c.get(f"/insurance/?org={world['org_a'].id}").get_data(as_text=True)
    assert db.session.get(InsurancePolicy, pid) is not None


def test_other_district_cannot_insure_chikan_org_through_the_form(as_role, world):
    c = as_role("district_staff_2")
    resp = c.post("/insurance/new", data={"organization": str(world["org_a"].id), "insurer": "中国人寿",
                                          "policy_no": "HACK", "product": "意外险", "mode": "headcount",
                                          "head_count": "5", "start_date": "2026-01-01", "end_date": "2026-12-31",
                                          "sum_insured": "1000", "premium": "10"})
    assert resp.status_code == 422
    assert db.session.query(InsurancePolicy).count() == 0
    picker = c.get(f"/insurance/picker?organization={world['org_a'].id}").get_data(as_text=True)
    assert "请先选择投保组织" in picker


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "district_leader"])
def test_own_scope_reads_policy_and_scan(as_role, chikan, role):
    c = as_role(role)
    assert _status(c, f"/insurance/{chikan.id}") == 200
    assert _status(c, f"/insurance/{chikan.id}/scan") == 200


@pytest.mark.parametrize("role", ["leader", "district_leader"])
def test_leader_is_read_only(as_role, chikan, role):
    c = as_role(role)
    assert _status(c, f"/insurance/{chikan.id}/edit") == 403
    assert _status(c, f"/insurance/{chikan.id}/renew") == 403
    assert _status(c, f"/insurance/{chikan.id}/delete", "post") == 403
    assert _status(c, "/insurance/new") == 403
    assert "续保" not in c.get(f"/insurance/{chikan.id}").get_data(as_text=True)


def test_reviewer_has_no_access(as_role, chikan):
    c = as_role("reviewer")
    assert _status(c, "/insurance/") == 403
    assert _status(c, f"/insurance/{chikan.id}") in (403, 404)


def test_settings_only_for_city_admin(as_role):
    assert _status(as_role("district_staff"), "/insurance/settings") == 403
    assert _status(as_role("city_admin"), "/insurance/settings") == 303  # to the one policy settings page
