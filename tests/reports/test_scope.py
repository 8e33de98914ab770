"""Scope by URL: a 霞山区 user can neither read nor change a 赤坎区 report; an org leader only sees
their own organization's reports."""
from __future__ import annotations

from core.extensions import db
from tests import factories

from .test_routes import _report


def test_xiashan_staff_cannot_open_or_review_a_chikan_report(world, as_role):
    r = _report(world, "submitted")
    db.session.commit()
    c = as_role("district_staff_2")
    assert c.get(f"/reports/{r.id}").status_code == 404
    assert c.post(f"/reports/{r.id}/transition", data={"action": "accept"}).status_code == 404
    assert c.post(f"/reports/{r.id}/transition", data={"action": "return", "comment": "x"}).status_code == 404
    assert r.id not in [x for x in c.get("/reports/").text.split() if x.isdigit()]
    assert world["org_a"].name not in c.get("/reports/").text


def test_other_org_leader_cannot_read_or_edit(world, as_role):
    r = _report(world)
    db.session.commit()
    c = as_role("org_leader_2")
    assert c.get(f"/reports/{r.id}").status_code == 404
    assert c.get(f"/reports/{r.id}/edit").status_code == 404
    assert c.post(f"/reports/{r.id}/edit", data={"version": r.version, "summary": "篡改"}).status_code == 404
    assert c.post(f"/reports/{r.id}/autosave", data={"version": r.version, "summary": "篡改"}).status_code == 404
    assert c.post(f"/reports/{r.id}/attachments", data={"kind": "plan"}).status_code == 404
    db.session.expire_all()
    assert r.summary != "篡改"


def test_org_leader_cannot_open_a_report_for_another_org(world, as_role):
    resp = as_role("org_leader_2").post("/reports/open", data={"unit": f"org-{world['org_a'].id}", "period": "2026-05"})
    assert resp.status_code == 403


def test_staff_of_the_district_reads_but_cannot_edit_an_org_report(world, as_role):
    r = _report(world)
    db.session.commit()
    c = as_role("district_staff")
    assert c.get(f"/reports/{r.id}").status_code == 200
    assert c.get(f"/reports/{r.id}/edit").status_code == 403
    assert c.post(f"/reports/{r.id}/autosave", data={"version": r.version, "summary": "x"}).status_code == 403


def test_org_leader_cannot_see_district_reports(world, as_role):
    d = _report(world, unit="district_a", by="district_staff")
    db.session.commit()
    assert as_role("org_leader").get(f"/reports/{d.id}").status_code == 404
    assert as_role("district_staff_2").get(f"/reports/{d.id}").status_code == 404
    assert as_role("district_leader").get(f"/reports/{d.id}").status_code == 200
    assert as_role("leader").get(f"/reports/{d.id}").status_code == 200


def test_leader_reads_but_cannot_review(world, as_role):
    r = _report(world, "submitted")
    db.session.commit()
    c = as_role("leader")
    assert c.get(f"/reports/{r.id}").status_code == 200
    assert c.post(f"/reports/{r.id}/transition", data={"action": "accept"}).status_code == 403


def test_matrix_and_list_are_scoped(world, as_role):
    factories.org(world["community_b2"], "霞山区和平社区志愿服务队")
    db.session.commit()
    text = as_role("district_staff").get("/reports/matrix").text
    assert world["org_a"].name in text and "霞山区和平社区志愿服务队" not in text
    text = as_role("district_staff_2").get("/reports/matrix").text
    assert world["org_a"].name not in text and "霞山区和平社区志愿服务队" in text
