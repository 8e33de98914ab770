"""我的 (issue 17; PIPL Art. 44–46, 2020 《办法》 §13): what a volunteer may do with their own record —
read it, ask for a correction, update their contact details, download a copy, see who viewed their
full ID number, ask for a certificate. Everything is read through the scope gate with the volunteer's
account; the rules are the registry's (blueprints/volunteers)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from blueprints.accounts.models import ROLE_LABELS, User
from blueprints.insurance.services import policies_covering
from blueprints.portal.models import CertificateRequest, CertRequestStatus
from blueprints.volunteers import ledger
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import (AwardReceived, Certificate, CorrectionRequest, Membership, ServiceRecord,
                                          TrainingRecord, Volunteer)
from core import scope
from core.audit import AuditEntry
from core.extensions import db
from core.pagination import paginate
from core.timeutil import local_today, utcnow

WEB_CHANNEL = "网上"  # how a request filed here reaches the organization (CorrectionRequest.channel)


def records_page(user, v: Volunteer, page: str | None):
    return paginate(scope.scoped(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)
                                 .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc()),
                                 ServiceRecord, user), page)


def own_record_or_404(user, record_id: int) -> ServiceRecord:
    return scope.get_scoped_or_404(ServiceRecord, record_id, user)


def trainings(user, v: Volunteer) -> list[TrainingRecord]:
    return list(db.session.scalars(scope.scoped(select(TrainingRecord).where(TrainingRecord.volunteer_id == v.id)
                                                .order_by(TrainingRecord.held_on.desc()), TrainingRecord, user)))


def awards(user, v: Volunteer) -> list[AwardReceived]:
    return list(db.session.scalars(scope.scoped(select(AwardReceived).where(AwardReceived.volunteer_id == v.id)
                                                .order_by(AwardReceived.awarded_on.desc()), AwardReceived, user)))


def certificates(user, v: Volunteer) -> list[Certificate]:
    return list(db.session.scalars(scope.scoped(select(Certificate).where(Certificate.volunteer_id == v.id)
                                                .order_by(Certificate.issued_on.desc(), Certificate.id.desc()),
                                                Certificate, user)))


def insurance_today(v: Volunteer):
    return policies_covering(v.id, local_today())


# ---- corrections (§13) -----------------------------------------------------------------------------

def file_correction(user, v: Volunteer, record: ServiceRecord, content: str) -> CorrectionRequest:
    """The volunteer's own request on one of their records, answered by the record's organization in
    its existing queue (blueprints/volunteers ledger.answer_request)."""
    try:
        return ledger.log_request(user, v, record.organization, content, local_today(), WEB_CHANNEL, record=record)
    except ledger.LedgerError as e:
        raise vs.VolunteerError(e.message, "content") from None


def correction_requests(user, v: Volunteer) -> list[CorrectionRequest]:
    return list(db.session.scalars(scope.scoped(select(CorrectionRequest).where(CorrectionRequest.volunteer_id == v.id)
                                                .order_by(CorrectionRequest.logged_at.desc()), CorrectionRequest, user)))


# ---- own contact details --------------------------------------------------------------------------

def update_contact(user, v: Volunteer, phone: str, skills: list[str], availability: list[str]) -> None:
    """Phone, skills and availability; the rest of the record stays as the organization keeps it."""
    data = vs.VolunteerData(
        name=v.name, phone=phone, political_status=v.political_status, public_servant=v.public_servant,
        skills=list(skills), availability=list(availability), region_id=v.region_id, registered_on=v.registered_on,
        guardian_name=v.guardian_name, guardian_phone=v.guardian_phone, guardian_relation=v.guardian_relation,
        guardian_consent=v.guardian_consent)
    vs.update(user, v, data)


# ---- who viewed the full ID number -----------------------------------------------------------------

@dataclass
class Reveal:
    at: datetime
    who: str
    role: str
    what: str


def reveals(v: Volunteer, limit: int = 100) -> list[Reveal]:
    rows = db.session.execute(
        select(AuditEntry.at, AuditEntry.summary, User.display_name, User.role)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.entity == Volunteer.__tablename__, AuditEntry.entity_id == v.id,
               AuditEntry.action == "reveal")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).all()
    return [Reveal(at, name or "（已删除的账户）", ROLE_LABELS.get(role, "") if role else "", summary)
            for at, summary, name, role in rows]


# ---- certificate requests ------------------------------------------------------------------------

def membership_orgs(user, v: Volunteer):
    return [m.organization for m in db.session.scalars(scope.scoped(
        select(Membership).where(Membership.volunteer_id == v.id), Membership, user))]


def request_certificate(user, v: Volunteer, org_id: int, note: str) -> CertificateRequest:
    if org_id not in {o.id for o in membership_orgs(user, v)}:
        raise vs.VolunteerError("请选择您所在的组织", "organization_id")
    open_one = db.session.scalar(select(CertificateRequest.id).where(
        CertificateRequest.volunteer_id == v.id, CertificateRequest.organization_id == org_id,
        CertificateRequest.status == CertRequestStatus.OPEN))
    if open_one:
        raise vs.VolunteerError("您已向该组织申请过，正在办理中", "organization_id")
    req = CertificateRequest(volunteer_id=v.id, organization_id=org_id, note=(note or "").strip()[:500])
    db.session.add(req)
    db.session.flush()
    return req


def cert_requests(user, v: Volunteer) -> list[CertificateRequest]:
    return list(db.session.scalars(scope.scoped(select(CertificateRequest).where(CertificateRequest.volunteer_id == v.id)
                                                .order_by(CertificateRequest.created_at.desc()),
                                                CertificateRequest, user)))


def open_cert_requests(user) -> list[tuple[CertificateRequest, Volunteer]]:
    return list(db.session.execute(scope.scoped(
        select(CertificateRequest, Volunteer).join(Volunteer, Volunteer.id == CertificateRequest.volunteer_id)
        .where(CertificateRequest.status == CertRequestStatus.OPEN).order_by(CertificateRequest.created_at),
        CertificateRequest, user)).all())


def close_cert_request(user, req: CertificateRequest) -> None:
    if req.status == CertRequestStatus.OPEN:
        req.status, req.done_at, req.done_by_id = CertRequestStatus.DONE, utcnow(), user.id
        db.session.flush()
