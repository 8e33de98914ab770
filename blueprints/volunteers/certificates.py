"""志愿服务记录证明 (《志愿服务记录与证明出具办法（试行）》§15): issued by an organization the volunteer
serves in, from verified records only; states 服务时间, 服务内容 and 记录单位, carries a serial number and
a verification code checked at the public page /verify/<code>. The facts are frozen at issue time
(`Certificate.facts`), so the PDF and the check always show what was certified; only the masked ID
number is ever part of them.
"""
from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.volunteers import ledger
from blueprints.volunteers.models import (AwardReceived, Certificate, RecordStatus, ServiceRecord, TrainingRecord,
                                          Volunteer)
from core.audit import record_change
from core.extensions import db
from core.pdf import cached_pdf
from core.qr import qr_svg_data_uri
from core.timeutil import local_today
from core.urls import public_url

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
CODE_LENGTH = 12


class CertificateError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: enough to match a paper certificate, not to identify."""
    name = name or ""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch in CODE_ALPHABET)[:CODE_LENGTH]


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def _contents(texts: dict[str, Decimal], limit: int = 3) -> str:
    top = sorted(texts.items(), key=lambda kv: (-kv[1], kv[0]))
    names = [t for t, _ in top[:limit]]
    return "、".join(names) + ("等" if len(top) > limit else "")


def summarize(volunteer: Volunteer, start: date, end: date) -> dict:
    """Verified service in a period grouped by recording unit and year, plus training and awards."""
    rows = db.session.execute(
        select(ServiceRecord.service_date, ServiceRecord.hours, ServiceRecord.content, ServiceRecord.origin_unit,
               Organization.name)
        .join(Organization, Organization.id == ServiceRecord.organization_id)
        .where(ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.status == RecordStatus.VERIFIED,
               ServiceRecord.service_date >= start, ServiceRecord.service_date <= end)
        .order_by(ServiceRecord.service_date)
    ).all()
    groups: dict[tuple[str, int], dict] = {}
    for day, hours, content, origin, org_name in rows:
        unit = origin or org_name
        g = groups.setdefault((unit, day.year), {"unit": unit, "year": day.year, "start": day, "end": day,
                                                 "count": 0, "hours": Decimal(0), "texts": defaultdict(Decimal)})
        g["end"] = day
        g["count"] += 1
        g["hours"] += ledger.quantize(hours)
        g["texts"][content[:40]] += ledger.quantize(hours)
    summary = [{"unit": g["unit"], "year": g["year"], "start": g["start"].isoformat(), "end": g["end"].isoformat(),
                "content": _contents(g["texts"]), "count": g["count"], "hours": str(ledger.quantize(g["hours"]))}
               for g in sorted(groups.values(), key=lambda g: (g["year"], g["start"], g["unit"]))]
    trainings = [{"name": t.name, "content": t.content, "hours": str(t.hours), "host_unit": t.host_unit,
                  "date": t.held_on.isoformat()}
                 for t in db.session.scalars(select(TrainingRecord).where(
                     TrainingRecord.volunteer_id == volunteer.id, TrainingRecord.held_on >= start,
                     TrainingRecord.held_on <= end).order_by(TrainingRecord.held_on))]
    awards = [{"name": a.name, "date": a.awarded_on.isoformat(), "granting_unit": a.granting_unit}
              for a in db.session.scalars(select(AwardReceived).where(
                  AwardReceived.volunteer_id == volunteer.id, AwardReceived.awarded_on >= start,
                  AwardReceived.awarded_on <= end).order_by(AwardReceived.awarded_on))]
    total = sum((ledger.quantize(h) for _, h, *_ in rows), Decimal(0))
    return {"summary": summary, "trainings": trainings, "awards": awards, "total": ledger.quantize(total),
            "count": len(rows), "first": rows[0][0] if rows else None, "last": rows[-1][0] if rows else None}


def issue(user, volunteer: Volunteer, org: Organization, person_in_charge: str, start: date, end: date) -> Certificate:
    if org.status != OrgStatus.APPROVED:
        raise CertificateError("只有已登记（审核通过）的组织才能出具记录证明", "organization_id")
    if org.id not in {m.organization_id for m in volunteer.memberships}:
        raise CertificateError("出具单位须是该志愿者所在的组织", "organization_id")
    person_in_charge = (person_in_charge or "").strip()
    if not person_in_charge:
        raise CertificateError("请填写出具单位负责人", "person_in_charge")
    if end > local_today():
        raise CertificateError("截止日期不能晚于今天", "period_end")
    if start > end:
        raise CertificateError("起始日期不能晚于截止日期", "period_start")
    facts = summarize(volunteer, start, end)
    if not facts["count"]:
        raise CertificateError("所选期间没有已审核的服务记录，不能出具证明", "period_start")
    today = local_today()
    cert = Certificate(
        serial="pending", code=_new_code(), volunteer_id=volunteer.id, organization_id=org.id,
        person_in_charge=person_in_charge[:64], period_start=start, period_end=end, total_hours=facts["total"],
        record_count=facts["count"], issued_on=today, issued_by_id=user.id,
        facts={
            "name": volunteer.name, "name_masked": mask_name(volunteer.name), "sex": volunteer.sex,
            "id_masked": volunteer.id_masked, "number": volunteer.number,
            "registered_on": volunteer.registered_on.isoformat(),
            "organizations": [m.organization.name for m in volunteer.memberships],
            "issuer": org.name, "person_in_charge": person_in_charge[:64],
            "total_hours": str(facts["total"]), "record_count": facts["count"],
            "first_service": facts["first"].isoformat(), "last_service": facts["last"].isoformat(),
            "summary": facts["summary"], "trainings": facts["trainings"], "awards": facts["awards"],
        },
    )
    db.session.add(cert)
    db.session.flush()
    cert.serial = f"{today.year}-{org.id:04d}-{cert.id:06d}"
    db.session.flush()
    record_change("issue", cert, f"志愿服务记录证明 {cert.serial}", user=user)
    return cert


def revoke(user, cert: Certificate, reason: str) -> None:
    reason = (reason or "").strip()
    if cert.revoked:
        raise CertificateError("该证明已作废")
    if not reason:
        raise CertificateError("请填写作废原因", "reason")
    cert.revoked = True
    db.session.flush()
    record_change("void", cert, f"作废原因：{reason[:200]}", user=user)


def by_code(text: str) -> Certificate | None:
    code = normalize_code(text)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def verify_url(cert: Certificate) -> str:
    """The public check of this certificate, from PUBLIC_BASE_URL (never the request's Host)."""
    return public_url("verify.verify", code=format_code(cert.code))


def pdf_bytes(cert: Certificate) -> bytes:
    url = verify_url(cert)
    # The URL is part of the key: a changed PUBLIC_BASE_URL must not serve PDFs with the old one.
    return cached_pdf(f"certificate:{cert.serial}:{cert.code}:{int(cert.revoked)}:{url}",
                      "volunteers/pdf/certificate.html", cert=cert, f=cert.facts,
                      code=format_code(cert.code), verify_url=url, qr=qr_svg_data_uri(url),
                      title="志愿服务记录证明", office_name=cert.facts["issuer"])
