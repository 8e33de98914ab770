"""Junk input on existing commendation rows never produces a 500, for any role."""
from __future__ import annotations

import pytest

from core.extensions import db
from tests import factories as f

JUNK = {"action": "<script>", "comment": "x" * 5000, "p0": "1e309", "p1": "NaN", "p2": "-0", "p3": "",
        "kind_id": "abc", "organization_id": "-1", "volunteer_id": "9" * 30, "summary": "\x00", "deeds": "y" * 20000,
        "year": "二〇二六", "criteria": "：：：", "reviewers": ["x", "99999999999"], "upheld": "2", "outcome": "",
        "nomination_id": "../../", "name": "", "contact": "", "content": "", "direction": "sideways",
        "nominee_type": "alien", "quota": "1e9", "nomination_start": "2026-02-30"}


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "reviewer", "leader", None])
def test_junk_on_real_rows(world, as_role, client, role):
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"]])
    n = f.award_nomination(camp, world["org_a"], status="recommended")
    kind = camp.kinds[0]
    notice = f.award_campaign(stage="notice", title="公示中的评选")
    db.session.commit()
    c = as_role(role) if role else client
    urls = [f"/awards/{camp.id}/edit", f"/awards/{camp.id}/advance", f"/awards/{camp.id}/kinds/new",
            f"/awards/{camp.id}/kinds/{kind.id}", f"/awards/{camp.id}/panel", f"/awards/{camp.id}/nominate",
            f"/awards/nominations/{n.id}/edit", f"/awards/nominations/{n.id}/transition",
            f"/awards/nominations/{n.id}/move", f"/awards/nominations/{n.id}/score",
            f"/awards/nominations/{n.id}/files", f"/awards/public/{notice.id}"]
    for url in urls:
        resp = c.post(url, data=JUNK)
        assert resp.status_code < 500, (url, resp.status_code)
        resp = c.post(url, data=JUNK, headers={"HX-Request": "true"})
        assert resp.status_code < 500, (url, resp.status_code)
    for url in (f"/awards/{camp.id}/results.xlsx?x=1", f"/awards/{camp.id}/nominations?status=zz&kind=99999999999&page=-1",
                f"/awards/nominations/{n.id}/form.pdf"):
        assert c.get(url).status_code < 500, url
