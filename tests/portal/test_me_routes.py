"""我的 (issue 17): a volunteer's own records, corrections, certificates, contact details, data copy and
the reveal log — only their own, whatever id is typed into the URL."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.portal.models import CertificateRequest
from blueprints.volunteers import certificates, ledger
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import CorrectionRequest, RequestStatus
from core.extensions import db
from tests import factories


@pytest.fixture
def own(me):
    """The volunteer's record, one of theirs and one of another person's."""
    w = me
    w["leader_v"] = factories.user("org_leader", "leader_v", orgs=[w["org_v"]])
    w["mine"] = ledger.create_record(w["city_admin"], w["person"], w["org_v"], date.today(),
                                     Decimal("4.5"), "社区清洁")
    w["other"] = factories.volunteer(w["org_v"], "李四")
    w["theirs"] = ledger.create_record(w["city_admin"], w["other"], w["org_v"], date.today(),
                                       Decimal("2.0"), "别人的服务")
    db.session.commit()
    return w


def test_records_are_paged_and_only_own(own, as_role):
    c = as_role("volunteer")
    body = c.get("/my/records").get_data(as_text=True)
    assert "社区清洁" in body and "别人的服务" not in body and "待审核" in body


def test_a_correction_request_reaches_the_organization_and_its_answer_comes_back(own, as_role):
    """办法 第十三条: the volunteer may ask for a correction of their record and the organization answers."""
    c = as_role("volunteer")
    assert c.get(f"/my/records/{own['mine'].id}/correct").status_code == 200
    resp = c.post(f"/my/records/{own['mine'].id}/correct", data={"content": ""})
    assert resp.status_code == 422
    resp = c.post(f"/my/records/{own['mine'].id}/correct", data={"content": "时长应为 5 小时"})
    assert resp.status_code == 303
    req = db.session.scalar(select(CorrectionRequest))
    assert (req.volunteer_id, req.organization_id, req.record_id, req.channel) == \
        (own["person"].id, own["org_v"].id, own["mine"].id, "网上")
    ledger.answer_request(own["leader_v"], req, True, "已更正为 5 小时")
    db.session.commit()
    body = c.get("/my/requests").get_data(as_text=True)
    assert "已更正为 5 小时" in body and RequestStatus.ACCEPTED.label in body


def test_another_persons_record_is_404(own, as_role):
    c = as_role("volunteer")
    assert c.get(f"/my/records/{own['theirs'].id}/correct").status_code == 404
    assert c.post(f"/my/records/{own['theirs'].id}/correct", data={"content": "x"}).status_code == 404
    assert db.session.scalar(select(db.func.count(CorrectionRequest.id))) == 0


def test_certificates_download_only_own_and_a_new_one_is_requested(own, as_role):
    ledger.verify_records(own["leader_v"], [own["mine"], own["theirs"]])
    mine = certificates.issue(own["leader_v"], own["person"], own["org_v"], "王队长", date.today() - timedelta(days=30),
                              date.today())
    theirs = certificates.issue(own["leader_v"], own["other"], own["org_v"], "王队长",
                                date.today() - timedelta(days=30), date.today())
    db.session.commit()
    c = as_role("volunteer")
    assert mine.serial in c.get("/my/certificates").get_data(as_text=True)
    resp = c.get(f"/my/certificates/{mine.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert c.get(f"/my/certificates/{theirs.id}.pdf").status_code == 404
    resp = c.post("/my/certificates/request", data={"organization_id": own["org_a"].id, "note": "x"})
    assert resp.status_code == 422  # not their organization
    resp = c.post("/my/certificates/request", data={"organization_id": own["org_v"].id, "note": "求职用"})
    assert resp.status_code == 303
    req = db.session.scalar(select(CertificateRequest))
    assert req.volunteer_id == own["person"].id
    queue = as_role("org_leader").application.test_client()
    queue.login("leader_v")
    assert "求职用" in queue.get("/join/applications").get_data(as_text=True)
    other_leader = as_role("org_leader")  # leads org_a only
    assert "求职用" not in other_leader.get("/join/applications").get_data(as_text=True)
    assert other_leader.post(f"/join/cert-requests/{req.id}/done").status_code == 404
    assert queue.post(f"/join/cert-requests/{req.id}/done").status_code == 303


def test_profile_updates_phone_skills_and_availability(own, as_role):
    c = as_role("volunteer")
    page = c.get("/my/profile").get_data(as_text=True)
    assert own["person"].phone not in page and "138****8000" in page  # the own phone only masked
    resp = c.post("/my/profile", data={"phone": "12", "skills": ["助学"]})
    assert resp.status_code == 422 and "field-error" in resp.get_data(as_text=True)
    resp = c.post("/my/profile", data={"phone": "13711112222", "skills": ["助学", "科普"], "availability": ["周末"]})
    assert resp.status_code == 303
    p = own["person"]
    db.session.refresh(p)
    assert p.phone == "13711112222" and p.skills == ["助学", "科普"] and p.availability == "周末"
    assert c.post("/my/profile", data={"phone": "", "skills": ["助学"]}).status_code == 303  # empty: kept
    db.session.refresh(p)
    assert p.phone == "13711112222" and p.skills == ["助学"] and p.availability == ""


def test_the_data_copy_is_a_post_of_own_data(own, as_role):
    c = as_role("volunteer")
    assert c.get("/my/data.json").status_code == 405
    resp = c.post("/my/data.json")
    doc = json.loads(resp.get_data())
    assert resp.status_code == 200 and doc["volunteer"]["volunteer_number"] == own["person"].number
    assert doc["volunteer"]["id_number_masked"] == own["person"].id_masked


def test_the_volunteer_sees_who_viewed_their_full_id_number(own, as_role):
    staff = own["leader_v"]
    db.session.info["actor"] = (staff.id, staff.username)
    vs.reveal(staff, own["person"], "id_number")
    vs.reveal(staff, own["other"], "id_number")
    db.session.commit()
    db.session.info.pop("actor", None)
    body = as_role("volunteer").get("/my/profile").get_data(as_text=True)
    assert 'id="my-reveals"' in body and "测试用户" in body and "组织负责人" in body and "没有人查看过" not in body


def test_home_shows_todays_insurance(own, as_role):
    from blueprints.insurance.models import CoverageMode, InsurancePolicy, InsuredPerson

    p = InsurancePolicy(organization_id=own["org_v"].id, insurer="人保财险", policy_no="P-1", product="志愿者意外险",
                        mode=CoverageMode.NAMED, start_date=date.today() - timedelta(days=10),
                        end_date=date.today() + timedelta(days=100), sum_insured=Decimal("100000"),
                        premium=Decimal("20"))
    db.session.add(p)
    db.session.flush()
    db.session.add(InsuredPerson(policy_id=p.id, volunteer_id=own["person"].id))
    db.session.commit()
    body = as_role("volunteer").get("/my/").get_data(as_text=True)
    assert "志愿者意外险" in body


@pytest.mark.parametrize("url", ["/my/records", "/my/requests", "/my/certificates", "/my/profile"])
def test_staff_cannot_open_the_volunteers_pages(world, as_role, url):
    for role in ("city_admin", "district_staff", "org_leader"):
        assert as_role(role).get(url).status_code == 403
