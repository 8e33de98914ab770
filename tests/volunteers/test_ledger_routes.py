"""HTTP tests of the ledger: entry, batch verification (HTMX), correction trace, requests, panels,
roles and scope by URL."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.volunteers.models import (CorrectionRequest, RecordStatus, RequestStatus, ServiceRecord,
                                          TrainingRecord, Volunteer)
from core.extensions import db
from core.timeutil import local_today
from tests import factories

YESTERDAY = local_today() - timedelta(days=1)


@pytest.fixture
def w(world):
    world["v"] = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    world["v_b"] = factories.activity_volunteer(world["org_b"], name="王强", registered_on=date(2020, 1, 1))
    db.session.commit()
    return world


def _form(w, **kw):
    data = {"organization_id": w["org_a"].id, "service_date": YESTERDAY.isoformat(), "hours": "2.5",
            "content": "社区长者探访", "quality": "good"}
    data.update(kw)
    return data


def _records(v) -> list[ServiceRecord]:
    return list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)
                                   .order_by(ServiceRecord.id)))


def test_org_leader_records_hours_and_the_volunteer_page_shows_them_pending(w, as_role):
    c = as_role("org_leader")
    assert c.get(f"/volunteers/{w['v'].id}/records/new").status_code == 200
    resp = c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w))
    assert resp.status_code == 303
    [r] = _records(w["v"])
    assert r.status == RecordStatus.PENDING and str(r.hours) == "2.5" and r.recorded_by_id == w["org_leader"].id
    page = c.get(f"/volunteers/{w['v'].id}").get_data(as_text=True)
    assert "服务记录" in page and "社区长者探访" in page and "待审核" in page
    assert "培训记录" in page and "获奖情况" in page and "志愿服务记录证明" in page


def test_bad_entry_is_reshown_with_the_message_and_nothing_saved(w, as_role):
    c = as_role("org_leader")
    factories.service_record(w["v"], w["org_a"], YESTERDAY, "20", by=w["org_leader"])
    db.session.commit()
    resp = c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w, hours="5", content="第二次服务"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "24 小时" in body and "第二次服务" in body
    future = (local_today() + timedelta(days=2)).isoformat()
    resp = c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w, service_date=future))
    assert resp.status_code == 422 and "晚于今天" in resp.get_data(as_text=True)
    resp = c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w, service_date="2019-05-01"))
    assert resp.status_code == 422 and "注册日期" in resp.get_data(as_text=True)
    resp = c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w, hours="0"))
    assert resp.status_code == 422 and "大于 0" in resp.get_data(as_text=True)
    assert len(_records(w["v"])) == 1


def test_batch_verification_with_htmx_refreshes_the_rows(w, as_role):
    recs = [factories.service_record(w["v"], w["org_a"], YESTERDAY - timedelta(days=i), "2", verified=False,
                                     by=w["org_leader"]) for i in range(3)]
    db.session.commit()
    c = as_role("org_leader")
    page = c.get("/volunteers/records/?status=pending").get_data(as_text=True)
    assert "审核通过所选记录" in page and page.count('name="ids"') == 3
    resp = c.post("/volunteers/records/verify", data={"ids": [recs[0].id, recs[1].id], "f_status": "pending"},
                  headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已审核通过 2 条记录" in body and "<html" not in body
    assert body.count('name="ids"') == 1  # the refreshed pending queue
    statuses = [r.status for r in _records(w["v"])]
    assert statuses.count(RecordStatus.VERIFIED) == 2
    assert db.session.get(Volunteer, w["v"].id).total_hours == 4
    # without HTMX: redirect back to the list with its filters
    resp = c.post("/volunteers/records/verify", data={"ids": [recs[2].id], "f_status": "pending"})
    assert resp.status_code == 303 and "status=pending" in resp.headers["Location"]


def test_only_the_org_leader_verifies(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", verified=False, by=w["org_leader"])
    db.session.commit()
    for role in ("district_staff", "city_admin", "leader"):
        c = as_role(role)
        assert c.post("/volunteers/records/verify", data={"ids": [r.id]}).status_code == 403
        assert c.post(f"/volunteers/records/{r.id}/verify").status_code == 403
    assert db.session.get(ServiceRecord, r.id).status == RecordStatus.PENDING
    c = as_role("org_leader")
    assert c.post(f"/volunteers/records/{r.id}/verify").status_code == 303
    assert db.session.get(ServiceRecord, r.id).status == RecordStatus.VERIFIED


def test_other_org_leader_cannot_verify_by_posting_ids(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", verified=False, by=w["org_leader"])
    db.session.commit()
    resp = as_role("org_leader_2").post("/volunteers/records/verify", data={"ids": [r.id]})
    assert resp.status_code == 303
    assert db.session.get(ServiceRecord, r.id).status == RecordStatus.PENDING


@pytest.mark.parametrize("role", ["org_leader_2", "district_staff_2"])
def test_records_of_another_org_or_district_are_404_by_url(w, as_role, role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", verified=False, by=w["org_leader"])
    q = CorrectionRequest(volunteer_id=w["v"].id, organization_id=w["org_a"].id, received_on=YESTERDAY,
                          content="x", logged_by_id=w["org_leader"].id)
    db.session.add(q)
    db.session.commit()
    c = as_role(role)
    for url in (f"/volunteers/records/{r.id}", f"/volunteers/records/{r.id}/edit",
                f"/volunteers/records/{r.id}/correct", f"/volunteers/{w['v'].id}/records/new",
                f"/volunteers/{w['v'].id}/requests/new"):
        assert c.get(url).status_code == 404, url
    for url in (f"/volunteers/records/{r.id}/delete", f"/volunteers/records/{r.id}/edit"):
        assert c.post(url, data=_form(w)).status_code == 404, url
    assert c.get(f"/volunteers/records/requests/{q.id}/answer").status_code in (403, 404)
    listing = c.get("/volunteers/records/").get_data(as_text=True)
    assert "李娜" not in listing
    assert db.session.get(ServiceRecord, r.id) is not None


def test_leader_reads_the_ledger_but_does_not_write(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", by=w["org_leader"])
    db.session.commit()
    c = as_role("leader")
    assert c.get("/volunteers/records/").status_code == 200
    assert c.get(f"/volunteers/records/{r.id}").status_code == 200
    assert c.get(f"/volunteers/{w['v'].id}/records/new").status_code == 403
    assert c.post(f"/volunteers/{w['v'].id}/records/new", data=_form(w)).status_code == 403
    assert as_role("reviewer").get("/volunteers/records/").status_code == 403


def test_pending_record_is_edited_and_deleted_by_its_org(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", verified=False, by=w["org_leader"])
    db.session.commit()
    c = as_role("org_leader")
    assert c.get(f"/volunteers/records/{r.id}/edit").status_code == 200
    resp = c.post(f"/volunteers/records/{r.id}/edit", data=_form(w, hours="3"))
    assert resp.status_code == 303 and str(db.session.get(ServiceRecord, r.id).hours) == "3.0"
    rid = r.id
    assert c.post(f"/volunteers/records/{rid}/delete").status_code == 303
    assert db.session.scalar(select(ServiceRecord.id).where(ServiceRecord.id == rid)) is None


def test_correction_keeps_a_visible_trace(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "4", by=w["org_leader"])
    db.session.commit()
    c = as_role("org_leader")
    resp = c.post(f"/volunteers/records/{r.id}/edit", data=_form(w, hours="1"))
    assert resp.status_code == 303 and db.session.get(ServiceRecord, r.id).hours == 4  # verified: no direct edit
    data = {"service_date": YESTERDAY.isoformat(), "hours": "3", "content": r.content, "quality": "good",
            "reason": "", "request_id": "0"}
    resp = c.post(f"/volunteers/records/{r.id}/correct", data=data)
    assert resp.status_code == 422 and "更正原因" in resp.get_data(as_text=True)
    data["reason"] = "签到表核对后少 1 小时"
    assert c.post(f"/volunteers/records/{r.id}/correct", data=data).status_code == 303
    page = c.get(f"/volunteers/records/{r.id}").get_data(as_text=True)
    assert "签到表核对后少 1 小时" in page and "4.0 小时" in page and "3.0 小时" in page and "已更正" in page
    assert db.session.get(Volunteer, w["v"].id).total_hours == 3
    assert as_role("district_staff").get(f"/volunteers/records/{r.id}/correct").status_code == 403


def test_correction_request_logged_and_answered(w, as_role):
    r = factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", by=w["org_leader"])
    db.session.commit()
    staff = as_role("district_staff")
    resp = staff.post(f"/volunteers/{w['v'].id}/requests/new", data={
        "organization_id": w["org_a"].id, "record_id": r.id, "received_on": YESTERDAY.isoformat(),
        "channel": "电话", "content": "实际服务 3 小时"})
    assert resp.status_code == 303
    q = db.session.scalar(select(CorrectionRequest))
    assert q.status == RequestStatus.OPEN
    assert staff.get(f"/volunteers/records/requests/{q.id}/answer").status_code == 403
    leader = as_role("org_leader")
    assert "实际服务 3 小时" in leader.get("/volunteers/records/requests/").get_data(as_text=True)
    resp = leader.post(f"/volunteers/records/requests/{q.id}/answer", data={"decision": "accepted", "answer": ""})
    assert resp.status_code == 422
    resp = leader.post(f"/volunteers/records/requests/{q.id}/answer",
                       data={"decision": "accepted", "answer": "经核实同意更正"})
    assert resp.status_code == 303 and f"/volunteers/records/{r.id}/correct" in resp.headers["Location"]
    assert db.session.get(CorrectionRequest, q.id).status == RequestStatus.ACCEPTED
    assert "经核实同意更正" in leader.get(f"/volunteers/{w['v'].id}").get_data(as_text=True)


def test_training_and_award_forms(w, as_role):
    c = as_role("org_leader")
    resp = c.post(f"/volunteers/{w['v'].id}/trainings/new", data={
        "name": "应急救护培训", "content": "心肺复苏", "hours": "abc", "host_unit": "湛江市红十字会",
        "held_on": YESTERDAY.isoformat()})
    assert resp.status_code == 422 and "应急救护培训" in resp.get_data(as_text=True)
    resp = c.post(f"/volunteers/{w['v'].id}/trainings/new", data={
        "name": "应急救护培训", "content": "心肺复苏", "hours": "6", "host_unit": "湛江市红十字会",
        "held_on": YESTERDAY.isoformat()})
    assert resp.status_code == 303
    resp = c.post(f"/volunteers/{w['v'].id}/awards/new", data={
        "name": "优秀志愿者", "awarded_on": YESTERDAY.isoformat(), "granting_unit": "赤坎区文明办"})
    assert resp.status_code == 303
    page = c.get(f"/volunteers/{w['v'].id}").get_data(as_text=True)
    assert "应急救护培训" in page and "优秀志愿者" in page
    assert db.session.get(Volunteer, w["v"].id).total_hours == 0
    t = db.session.scalar(select(TrainingRecord))
    assert as_role("org_leader_2").post(f"/volunteers/trainings/{t.id}/delete").status_code == 404
    # a person serving in two organizations: the other organization sees the training but cannot remove it
    from blueprints.volunteers.models import Membership
    db.session.add(Membership(volunteer_id=w["v"].id, organization_id=w["org_b"].id, joined_on=date(2021, 1, 1)))
    db.session.commit()
    c2 = as_role("org_leader_2")
    assert "应急救护培训" in c2.get(f"/volunteers/{w['v'].id}").get_data(as_text=True)
    assert c2.post(f"/volunteers/trainings/{t.id}/delete").status_code == 404
    assert c.post(f"/volunteers/trainings/{t.id}/delete").status_code == 303
    assert db.session.scalar(select(TrainingRecord)) is None


def test_ledger_filters(w, as_role):
    factories.service_record(w["v"], w["org_a"], YESTERDAY, "2", content="探访独居老人", by=w["org_leader"])
    factories.service_record(w["v"], w["org_a"], YESTERDAY - timedelta(days=40), "3", content="海滩清洁",
                             verified=False, by=w["org_leader"])
    db.session.commit()
    c = as_role("district_staff")
    body = c.htmx_get("/volunteers/records/?status=pending").get_data(as_text=True)
    assert "海滩清洁" in body and "探访独居老人" not in body and "<html" not in body
    body = c.get("/volunteers/records/?late=1").get_data(as_text=True)
    assert "海滩清洁" in body and "补录" in body and "探访独居老人" not in body
    body = c.get(f"/volunteers/records/?q=李娜&from={YESTERDAY.isoformat()}").get_data(as_text=True)
    assert "探访独居老人" in body and "海滩清洁" not in body
    assert c.get("/volunteers/records/?from=junk&status=x&org=abc&page=-1").status_code == 200
