"""HTTP: 劝退 on a membership, the district's queue of reports, city-wide decisions, the 工作单位 report
and the volunteer page's 骨干 and history (issue 18), for each role and across districts."""
from __future__ import annotations

from datetime import date

from blueprints.volunteers.models import DismissalEvent, ReportStatus, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today
from tests import factories

TODAY = local_today()


def _volunteer(world, **kw):
    v = factories.volunteer(world["org_a"], name="劝退对象", registered_on=date(TODAY.year - 1, 1, 1), **kw)
    db.session.commit()
    return v, v.memberships[0]


def test_org_leader_dismisses_a_member_and_reports_it_upward(world, as_role):
    v, m = _volunteer(world)
    c = as_role("org_leader")
    url = f"/volunteers/{v.id}/memberships/{m.id}/dismiss"
    assert c.get(url).status_code == 200
    bad = c.post(url, data={"reason": "nonsense", "dismissed_on": "2026-02-30", "note": "说明", "report": "y"})
    assert bad.status_code == 422 and "以志愿者名义" not in bad.get_data(as_text=True)
    assert "说明</textarea>" in bad.get_data(as_text=True)  # the form keeps what was typed
    no_note = c.post(url, data={"reason": "profit", "dismissed_on": TODAY.isoformat(), "report": "y"})
    assert no_note.status_code == 422 and "报上级备案须写明情况说明" in no_note.get_data(as_text=True)
    assert db.session.query(DismissalEvent).count() == 0  # nothing half-saved
    resp = c.post(url, data={"reason": "profit", "dismissed_on": TODAY.isoformat(), "note": "以志愿者名义推销", "report": "y"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert m.dismissed_on == TODAY and v.status == VolunteerStatus.ACTIVE
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "劝退与恢复记录" in page and "待区县处理" in page and "以志愿者名义推销" in page
    # An org leader neither decides nor uses the city-wide 劝退.
    assert c.get("/volunteers/dismissals").status_code == 403
    assert c.post(f"/volunteers/{v.id}/dismiss", data={"reason": "harm", "dismissed_on": TODAY.isoformat()}).status_code == 403


def test_district_office_decides_a_report_city_wide(world, as_role):
    v, m = _volunteer(world)
    from blueprints.volunteers import services

    report = services.dismiss_membership(world["org_leader"], m, "harm", TODAY, "造成服务对象财物损失", report=True)
    db.session.commit()
    other = as_role("district_staff_2")
    assert "劝退对象" not in other.get("/volunteers/dismissals").get_data(as_text=True)
    assert other.post(f"/volunteers/dismissals/{report.id}/decide", data={"decision": "city", "note": "x"}).status_code == 404
    leader = as_role("district_leader")
    assert "劝退对象" in leader.get("/volunteers/dismissals").get_data(as_text=True)  # reads, cannot decide
    assert leader.post(f"/volunteers/dismissals/{report.id}/decide", data={"decision": "city", "note": "x"}).status_code == 403
    c = as_role("district_staff")
    queue = c.get("/volunteers/dismissals").get_data(as_text=True)
    assert "劝退对象" in queue and "造成服务对象财物损失" in queue
    assert c.post(f"/volunteers/dismissals/{report.id}/decide", data={"decision": "maybe", "note": ""}).status_code == 422
    resp = c.post(f"/volunteers/dismissals/{report.id}/decide", data={"decision": "city", "note": "情节严重，全市劝退"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert report.report_status == ReportStatus.ESCALATED and v.status == VolunteerStatus.DISMISSED
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "全市劝退" in page and "已决定全市劝退" in page
    assert c.post(f"/volunteers/{v.id}/reinstate", data={"note": "复核后恢复"}).status_code == 303
    db.session.expire_all()
    assert v.status == VolunteerStatus.ACTIVE
    assert "恢复在册" in c.get(f"/volunteers/{v.id}").get_data(as_text=True)


def test_membership_reinstate_keeps_the_record(world, as_role):
    v, m = _volunteer(world)
    c = as_role("org_leader")
    c.post(f"/volunteers/{v.id}/memberships/{m.id}/dismiss", data={"reason": "disobedience",
                                                                  "dismissed_on": TODAY.isoformat(), "note": "缺席"})
    url = f"/volunteers/{v.id}/memberships/{m.id}/reinstate"
    assert c.post(url, data={"note": ""}).status_code == 422
    assert c.post(url, data={"note": "已改正"}).status_code == 303
    db.session.expire_all()
    assert m.dismissed_on is None
    page = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "恢复成员" in page and "已改正" in page and "缺席" in page
    # Another organization's leader finds neither the membership nor the person.
    other = as_role("org_leader_2")
    assert other.post(url, data={"note": "x"}).status_code == 404
    assert other.get(f"/volunteers/{v.id}/memberships/{m.id}/dismiss").status_code == 404


def test_membership_of_another_volunteer_is_not_found_by_url(world, as_role):
    v, m = _volunteer(world)
    w2 = factories.volunteer(world["org_a"], name="另一人")
    db.session.commit()
    c = as_role("org_leader")
    assert c.get(f"/volunteers/{w2.id}/memberships/{m.id}/dismiss").status_code == 404


def test_work_unit_page_lists_a_units_members_in_scope(world, as_role):
    a = factories.volunteer(world["org_a"], name="财政甲", political_status="party_member", work_unit="湛江市财政局")
    factories.volunteer(world["org_b"], name="财政丙", work_unit="湛江市财政局")
    db.session.commit()
    c = as_role("district_staff")
    body = c.get("/volunteers/work-units?unit=财政局").get_data(as_text=True)
    assert "财政甲" in body and "财政丙" not in body and "未达到" in body
    assert "财政丙" in as_role("city_admin").get("/volunteers/work-units?unit=财政局").get_data(as_text=True)
    assert as_role("org_leader").get("/volunteers/work-units?unit=财政").status_code == 200
    assert as_role("reviewer").get("/volunteers/work-units").status_code == 403
    assert "湛江市财政局" in c.get(f"/volunteers/{a.id}").get_data(as_text=True)
    factories.volunteer(world["org_a"], name="教育乙", work_unit="赤坎区教育局")
    db.session.commit()
    listing = c.get("/volunteers/?unit=财政局").get_data(as_text=True)
    assert "财政甲" in listing and "教育乙" not in listing


def test_work_unit_is_saved_from_the_form(world, as_role):
    v, _ = _volunteer(world)
    c = as_role("org_leader")
    form = {"name": v.name, "political_status": "party_member", "work_unit": "  赤坎区  人民法院 ", "region_id": "0",
            "registered_on": v.registered_on.isoformat()}
    resp = c.post(f"/volunteers/{v.id}/edit", data=form)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert v.work_unit == "赤坎区 人民法院"


def test_volunteer_page_shows_core_per_community(world, as_role):
    v, _ = _volunteer(world)
    for d in range(1, 7):
        factories.service_record(v, world["org_a"], day=date(TODAY.year, 1, d), hours="8")
    db.session.commit()
    body = as_role("district_staff").get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "在各社区的服务" in body and "幸福社区" in body and "志愿者骨干" in body
