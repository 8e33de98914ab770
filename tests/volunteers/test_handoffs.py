"""Hand-offs say who acts next (issue 15): a pending record names the organization that verifies it,
whose leader is notified once a day (not once per record); a reviewer is offered the next report."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blueprints.reports.models import Notification
from blueprints.volunteers import ledger
from blueprints.volunteers.models import ServiceRecord
from core.extensions import db
from tests import factories


def _notes(user):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_records_awaiting_verification_notify_the_leader_once_a_day(world):
    org = world["org_a"]
    v1, v2 = factories.volunteer(org, "李明"), factories.volunteer(org, "王芳")
    staff = world["district_staff"]
    ledger.create_record(staff, v1, org, date.today(), "2", "社区清洁")
    notes = _notes(world["org_leader"])
    assert len(notes) == 1 and "1 条服务记录待您审核" in notes[0].title and org.name in notes[0].title
    assert "status=pending" in notes[0].url and f"org={org.id}" in notes[0].url
    ledger.create_record(staff, v2, org, date.today(), "3", "敬老探访")
    notes = _notes(world["org_leader"])
    assert len(notes) == 1 and "2 条服务记录待您审核" in notes[0].title  # updated, not a second message
    assert _notes(world["org_leader_2"]) == []  # another organization's leader hears nothing


def test_a_batch_of_records_is_one_notification(world):
    org = world["org_a"]
    vols = [factories.volunteer(org, n) for n in ("甲一", "乙二", "丙三")]
    made, refused = ledger.create_records(world["district_staff"], org, date.today(),
                                          [(v, "2", "good") for v in vols], "海滩清洁")
    assert len(made) == 3 and not refused
    notes = _notes(world["org_leader"])
    assert len(notes) == 1 and "3 条" in notes[0].title


def test_pending_record_says_which_organization_verifies_it(as_role, world):
    org = world["org_a"]
    v = factories.volunteer(org, "李明")
    db.session.commit()
    c = as_role("district_staff")
    resp = c.post(f"/volunteers/{v.id}/records/new", data={
        "organization_id": str(org.id), "service_date": date.today().isoformat(), "hours": "2",
        "content": "社区环境清洁", "quality": "good"})
    assert resp.status_code == 303
    record = db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)).one()
    who = f"待{org.name}审核"
    assert who in c.get(f"/volunteers/{v.id}").get_data(as_text=True)          # the volunteer's page
    assert who in c.get("/volunteers/records/?status=pending").get_data(as_text=True)  # the ledger list
    detail = c.get(f"/volunteers/records/{record.id}").get_data(as_text=True)  # the record itself
    assert f"由 <strong>{org.name}</strong> 的负责人审核" in detail
    assert len(_notes(world["org_leader"])) == 1
    # once verified, nobody is waited for
    assert as_role("org_leader").post(f"/volunteers/records/{record.id}/verify").status_code in (302, 303)
    assert who not in c.get(f"/volunteers/{v.id}").get_data(as_text=True)


def _last_month():
    t = date.today()
    return (t.year, t.month - 1) if t.month > 1 else (t.year - 1, 12)


def test_after_a_review_the_next_pending_report_is_offered(as_role, world):
    y, m = _last_month()
    org2 = factories.org(world["community_a"], "赤坎区中华街道党员志愿服务队")
    leader2 = factories.user("org_leader", "org_leader_x", orgs=[org2])
    first = factories.monthly_report(world["org_leader"], world["org_a"], y, m, status="submitted")
    second = factories.monthly_report(leader2, org2, y, m, status="submitted")
    db.session.commit()
    c = as_role("district_staff")
    page = c.get(f"/reports/{first.id}").get_data(as_text=True)
    assert "下一份待审" not in page  # offered after deciding, not before
    resp = c.post(f"/reports/{first.id}/transition", data={"action": "accept", "comment": ""})
    assert resp.status_code == 303
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "下一份待审" in page and f'/reports/{second.id}"' in page
    c.post(f"/reports/{second.id}/transition", data={"action": "accept", "comment": ""})
    assert "下一份待审" not in c.get(f"/reports/{second.id}").get_data(as_text=True)  # none left
