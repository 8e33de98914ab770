"""志愿服务记录证明: issue rules, the PDF (its facts, never a full ID number), the public check."""
from __future__ import annotations

import subprocess
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from blueprints.volunteers import certificates, ledger
from blueprints.volunteers.models import Certificate
from core import pii
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import local_today
from tests import factories

TODAY = local_today()


@pytest.fixture
def w(world):
    v = factories.activity_volunteer(world["org_a"], name="欧阳娜娜", registered_on=date(2022, 3, 1))
    world["v"] = v
    world["id_number"] = pii.decrypt(v.id_number_enc)
    for i, (hours, content) in enumerate([("3", "社区长者探访"), ("2.5", "海滨公园清洁"), ("4", "社区长者探访")]):
        factories.service_record(v, world["org_a"], TODAY - timedelta(days=10 + i * 30), hours, content=content,
                                 by=world["org_leader"])
    factories.service_record(v, world["org_a"], TODAY - timedelta(days=2), "8", content="待审核的服务",
                             verified=False, by=world["org_leader"])
    ledger.add_training(world["org_leader"], v, world["org_a"], "应急救护培训", "心肺复苏", "6", "湛江市红十字会",
                        TODAY - timedelta(days=50))
    ledger.add_award(v, "优秀志愿者", TODAY - timedelta(days=5), "赤坎区文明办")
    db.session.commit()
    return world


def _pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                              text=True).stdout


def test_issue_counts_verified_records_only_and_freezes_the_facts(w):
    cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
    assert cert.total_hours == Decimal("9.5") and cert.record_count == 3
    assert len(certificates.normalize_code(cert.code)) == 12 and cert.serial.startswith(f"{TODAY.year}-")
    f = cert.facts
    assert f["id_masked"] == w["v"].id_masked and w["id_number"] not in str(f)
    assert f["summary"] and {s["unit"] for s in f["summary"]} == {w["org_a"].name}
    assert f["trainings"][0]["name"] == "应急救护培训" and f["awards"][0]["name"] == "优秀志愿者"
    assert f["name_masked"] == "欧***"


@pytest.mark.parametrize("start, end, person, field", [
    (date(2022, 3, 1), TODAY + timedelta(days=1), "王芳", "period_end"),
    (TODAY, TODAY - timedelta(days=1), "王芳", "period_start"),
    (date(2022, 3, 1), TODAY, "  ", "person_in_charge"),
    (TODAY - timedelta(days=3), TODAY, "王芳", "period_start"),  # only a pending record in the period
])
def test_issue_refusals(w, start, end, person, field):
    with pytest.raises(certificates.CertificateError) as e:
        certificates.issue(w["org_leader"], w["v"], w["org_a"], person, start, end)
    assert e.value.field == field


def test_the_pdf_states_time_content_unit_and_never_the_full_id(w, as_role):
    c = as_role("org_leader")
    resp = c.post(f"/volunteers/{w['v'].id}/certificates/new", data={
        "organization_id": w["org_a"].id, "person_in_charge": "王芳", "period_start": "2022-03-01",
        "period_end": TODAY.isoformat()})
    assert resp.status_code == 303
    cert = db.session.scalar(select(Certificate))
    pdf = c.get(f"/volunteers/certificates/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for fact in ("志愿服务记录证明", "服务时间", "服务内容", "记录单位", "欧阳娜娜", w["v"].id_masked, w["v"].number,
                 "9.5", w["org_a"].name, "王芳", cert.serial, certificates.format_code(cert.code), "应急救护培训",
                 "优秀志愿者", "社区长者探访"):
        assert fact in text, fact
    assert w["id_number"] not in text and w["id_number"] not in pdf.data.decode("latin-1")
    # nor in the audit log
    for entry in db.session.scalars(select(AuditEntry)):
        assert w["id_number"] not in f"{entry.summary} {entry.changes} {entry.entity_label}"


def test_the_public_check_needs_no_login_and_shows_masked_facts(w, client):
    cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
    db.session.commit()
    resp = client.get(f"/verify/{certificates.format_code(cert.code)}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "真实有效" in body and "9.5 小时" in body and cert.serial in body
    assert "欧***" in body and w["v"].id_masked in body
    assert "欧阳娜娜" not in body and w["id_number"] not in body
    assert resp.headers["Cache-Control"] == "no-store"
    # lower case and without dashes works too; the form redirects to the canonical URL
    assert client.get(f"/verify/{cert.code.lower()}").status_code == 200
    resp = client.get(f"/verify/?code={cert.code.lower()}")
    assert resp.status_code == 303 and certificates.format_code(cert.code) in resp.headers["Location"]
    assert client.get("/verify/").status_code == 200
    resp = client.get("/verify/AAAA-BBBB-CCCC")
    assert resp.status_code == 404 and "未找到" in resp.get_data(as_text=True)


def test_a_revoked_certificate_says_so(w, as_role, client):
    cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
    db.session.commit()
    c = as_role("org_leader")
    assert c.post(f"/volunteers/certificates/{cert.id}/revoke", data={"reason": ""}).status_code == 422
    assert c.post(f"/volunteers/certificates/{cert.id}/revoke", data={"reason": "时长有误，重新出具"}).status_code == 303
    body = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "已被出具单位作废" in body and "真实有效" not in body


def test_certificates_are_scoped_by_url(w, as_role):
    cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
    db.session.commit()
    for role in ("org_leader_2", "district_staff_2"):
        c = as_role(role)
        assert c.get(f"/volunteers/certificates/{cert.id}.pdf").status_code == 404
        assert c.post(f"/volunteers/certificates/{cert.id}/revoke", data={"reason": "x"}).status_code == 404
        assert c.get(f"/volunteers/{w['v'].id}/certificates/new").status_code == 404
    assert as_role("leader").get(f"/volunteers/certificates/{cert.id}.pdf").status_code == 200
    assert as_role("leader").get(f"/volunteers/{w['v'].id}/certificates/new").status_code == 403


def test_certificate_form_errors_are_shown(w, as_role):
    c = as_role("org_leader")
    resp = c.post(f"/volunteers/{w['v'].id}/certificates/new", data={
        "organization_id": w["org_a"].id, "person_in_charge": "王芳", "period_start": TODAY.isoformat(),
        "period_end": (TODAY - timedelta(days=5)).isoformat()})
    assert resp.status_code == 422 and "起始日期不能晚于截止日期" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Certificate)) is None


@pytest.mark.parametrize("junk", ["!!!", "%00", "0O1I", "x" * 300, "ABCD-EFGH-JKLM-NPQR-STUV"])
def test_the_public_check_survives_junk(client, junk):
    resp = client.get("/verify/", query_string={"code": junk})
    assert resp.status_code in (200, 303, 404)
    assert client.get(f"/verify/{junk.replace('%', '')}").status_code in (200, 404)


def test_the_verification_code_never_ends_up_alone_on_a_page(w, as_role):
    """However long the certificate, the issuer block and the verification code stay on one page
    (a page break between them left the code alone on the last page), and '（盖章）' is not split."""
    c = as_role("org_leader")
    for n in range(9):
        if n:
            ledger.add_training(w["org_leader"], w["v"], w["org_a"], f"培训{n}", "内容", "2", "湛江市红十字会",
                                TODAY - timedelta(days=40 + n))
            db.session.commit()
        cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
        db.session.commit()
        pages = _pdf_text(c.get(f"/volunteers/certificates/{cert.id}.pdf").data).split("\f")
        on = [i for i, p in enumerate(pages) if certificates.format_code(cert.code) in p]
        assert on and "出具单位" in pages[on[0]] and "负责人" in pages[on[0]], (n, pages)
        assert "（盖章）" in pages[on[0]], n
