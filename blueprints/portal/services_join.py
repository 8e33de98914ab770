"""Volunteers come in (issue 17): self-registration waiting for the organization's approval
(001: 由社区审核后予以登记在册), one-time activation codes for people already in the registry, and the
volunteer's account that either creates. The registry's own rules (ID number, age and guardian,
one person one record, the volunteer number) are those of blueprints/volunteers/services.py."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.accounts.models import Role, User, VolunteerAccount
from blueprints.accounts.services import username_taken
from blueprints.orgs import services as org_services
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.portal.models import ActivationCode, JoinApplication, JoinStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import AVAILABILITY, SKILLS, Membership, Volunteer, VolunteerStatus, identity_columns
from core import pii, scope
from core.audit import record_change, record_event
from core.extensions import db
from core.timeutil import local_today, utcnow
from core.validators import ValidationError, parse_id_number

# The public forms are throttled per address like the organizations' application (one table, one rule).
org_services.THROTTLES.setdefault("join", ("PORTAL_JOIN_MAX_PER_HOUR", 10, timedelta(hours=1), "join "))
org_services.THROTTLES.setdefault("activate", ("PORTAL_ACTIVATE_MAX_PER_HOUR", 20, timedelta(hours=1), "act "))
org_services.THROTTLES.setdefault("join_status", ("PORTAL_STATUS_MAX_PER_HOUR", 30, timedelta(hours=1), "jst "))
throttle_exceeded = org_services.throttle_exceeded

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
CODE_LENGTH = 8
CODE_DAYS = 30


class JoinError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass
class JoinData:
    name: str
    id_number: str
    phone: str
    organization_id: int
    password: str
    region_id: int | None = None
    skills: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_relation: str = ""
    guardian_consent: bool = False

    def volunteer_data(self) -> vs.VolunteerData:
        return vs.VolunteerData(name=self.name, phone=self.phone, skills=list(self.skills),
                                availability=list(self.availability), region_id=self.region_id,
                                guardian_name=self.guardian_name, guardian_phone=self.guardian_phone,
                                guardian_relation=self.guardian_relation, guardian_consent=self.guardian_consent)


# ---- what the public form offers ---------------------------------------------------------------------

def joinable_orgs(user=None) -> list[Organization]:
    """Approved organizations (and stations' teams) anyone may ask to join; with `user`, those in their
    scope (one query: a test per organization was 4,000 queries at 10×)."""
    stmt = select(Organization).where(Organization.status == OrgStatus.APPROVED)
    if user is not None:
        stmt = scope.scoped(stmt, Organization, user)
    return list(db.session.scalars(stmt.order_by(Organization.name_pinyin)))


def org_choices() -> list[tuple[int, str]]:
    """(id, label) of the joinable organizations; one that runs a 志愿服务站 names it, so a resident who
    knows the station in their community finds the team that staffs it."""
    from blueprints.stations.models import Station

    stations: dict[int, list[str]] = {}
    for org_id, name in db.session.execute(select(Station.organization_id, Station.name)
                                           .where(Station.organization_id.is_not(None), Station.active.is_(True))
                                           .order_by(Station.name)):
        stations.setdefault(org_id, []).append(name)
    return [(o.id, f"{o.name}（{'、'.join(stations[o.id][:2])}）" if o.id in stations else o.name)
            for o in joinable_orgs()]


def residence_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).where(
        Region.level.in_([RegionLevel.DISTRICT, RegionLevel.TOWN, RegionLevel.COMMUNITY]), Region.active)
        .order_by(Region.path)))


# ---- accounts --------------------------------------------------------------------------------------

def has_account(volunteer_id: int) -> bool:
    return db.session.scalar(select(func.count()).select_from(VolunteerAccount)
                             .where(VolunteerAccount.volunteer_id == volunteer_id)) > 0


def _username_for(v: Volunteer) -> str:
    """A volunteer's account is named by their volunteer number (they log in with it or their phone)."""
    return v.number if not username_taken(v.number) else f"v{v.number}"


def create_account(v: Volunteer, password_hash: str) -> User:
    if has_account(v.id):
        raise JoinError("该志愿者已开通账户，请直接登录", "id_number")
    user = User(username=_username_for(v), display_name=v.name, role=Role.VOLUNTEER, must_change_password=False)
    user.password_hash = password_hash
    user.volunteer_link = VolunteerAccount(volunteer_id=v.id)
    db.session.add(user)
    db.session.flush()
    return user


# ---- self-registration -------------------------------------------------------------------------------

def submit(data: JoinData) -> JoinApplication:
    """A resident's application. The registry's rules apply as at staff registration; someone already
    in the registry is matched (the application names them) and will get a membership, not a second record."""
    org = db.session.get(Organization, data.organization_id or 0)
    if org is None or org.status != OrgStatus.APPROVED:
        raise JoinError("请选择要加入的组织", "organization_id")
    try:
        info = parse_id_number(data.id_number, local_today())
    except ValidationError as e:
        raise JoinError(e.message, "id_number") from None
    try:
        vs.check_person(data.volunteer_data(), info.birth_date)
    except vs.VolunteerError as e:
        raise JoinError(e.message, e.field) from None
    existing = vs.find_person(info.number)
    if existing is not None:
        if existing.status == VolunteerStatus.DISMISSED:
            raise JoinError("您的志愿者登记已被劝退，不能在线申请；如有异议请联系原登记组织", "id_number")
        if vs.dismissed_by(existing, org.id) is not None:  # 本站劝退 (001 附件4 第五条): not taken in again online
            raise JoinError("您已被该组织劝退，不能再次申请加入；如有异议请联系该组织", "organization_id")
        if has_account(existing.id):
            raise JoinError("您已开通志愿者账户，请直接登录后在“我的”中查看", "id_number")
        if any(m.organization_id == org.id for m in existing.memberships):
            raise JoinError("您已是该组织的志愿者，请向组织索取激活码开通账户", "organization_id")
    ident = identity_columns(info.number)
    pending = db.session.scalar(select(JoinApplication.id).where(
        JoinApplication.id_hash == ident["id_hash"], JoinApplication.organization_id == org.id,
        JoinApplication.status == JoinStatus.PENDING))
    if pending:
        raise JoinError("您已向该组织提交过申请，正在审核中", "organization_id")
    application = JoinApplication(
        organization_id=org.id, name=data.name.strip(), id_number_enc=ident["id_number_enc"], id_hash=ident["id_hash"],
        id_masked=ident["id_masked"], phone=data.phone, region_id=data.region_id or None,
        skills="、".join(s for s in SKILLS if s in data.skills),
        availability="、".join(a for a in AVAILABILITY if a in data.availability),
        guardian_name=data.guardian_name.strip(), guardian_phone=data.guardian_phone.strip(),
        guardian_relation=data.guardian_relation.strip(), guardian_consent=bool(data.guardian_consent),
        password_hash=generate_password_hash(data.password),
        volunteer_id=existing.id if existing is not None else None, status=JoinStatus.PENDING)
    db.session.add(application)
    db.session.flush()
    return application


def find_applications(id_number: str, password: str) -> list[JoinApplication]:
    """The applicant follows their applications with their ID number and the password they chose."""
    try:
        number = parse_id_number(id_number, local_today()).number
    except ValidationError:
        return []
    rows = list(db.session.scalars(select(JoinApplication).where(JoinApplication.id_hash == pii.lookup_hash(number))
                                   .order_by(JoinApplication.created_at.desc(), JoinApplication.id.desc())))
    return [a for a in rows if check_password_hash(a.password_hash, password)]


def applications(user, status: str = "pending"):
    stmt = select(JoinApplication).order_by(JoinApplication.created_at.desc(), JoinApplication.id.desc())
    if status in [s.value for s in JoinStatus]:
        stmt = stmt.where(JoinApplication.status == status)
    return scope.scoped(stmt, JoinApplication, user)


def may_decide(user) -> bool:
    return user.role in (Role.ORG_LEADER, Role.DISTRICT_STAFF, Role.CITY_ADMIN) and bool(user.can_write)


def _claim(application: JoinApplication, status: JoinStatus) -> None:
    """Take the application out of the queue, once: two leaders deciding at the same moment cannot both
    act (the UPDATE only matches while it is pending, whatever this session last read)."""
    taken = db.session.execute(
        update(JoinApplication).where(JoinApplication.id == application.id, JoinApplication.status == JoinStatus.PENDING)
        .values(status=status).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise JoinError("该申请已处理")
    application.status = status  # the ORM's change, for the operation log


def approve(user, application: JoinApplication) -> Volunteer:
    """审核后登记在册: the person is registered (a new volunteer number) or, already in the registry,
    joins the organization; the account opens with the password chosen at registration."""
    _claim(application, JoinStatus.APPROVED)
    org = application.organization
    existing = db.session.get(Volunteer, application.volunteer_id) if application.volunteer_id else None
    if existing is None or not any(m.organization_id == org.id for m in existing.memberships):
        data = vs.VolunteerData(
            name=application.name, phone=application.phone, skills=application.skill_list,
            availability=application.availability_list, region_id=application.region_id,
            guardian_name=application.guardian_name, guardian_phone=application.guardian_phone,
            guardian_relation=application.guardian_relation, guardian_consent=application.guardian_consent)
        try:
            reg = vs.register(user, org, pii.decrypt(application.id_number_enc), data)
        except vs.VolunteerError as e:
            raise JoinError(e.message) from None
        volunteer = reg.volunteer
    else:
        volunteer = existing
    application.volunteer_id = volunteer.id
    if not has_account(volunteer.id):
        create_account(volunteer, application.password_hash)
    application.decided_at, application.decided_by_id = utcnow(), user.id
    db.session.flush()
    return volunteer


def refuse(user, application: JoinApplication, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise JoinError("请填写不通过的原因（将告知申请人）", "reason")
    _claim(application, JoinStatus.REFUSED)
    application.refuse_reason = reason[:500]
    application.decided_at, application.decided_by_id = utcnow(), user.id
    db.session.flush()


# ---- activation codes ------------------------------------------------------------------------------

def code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"]
    return hmac.new(key.encode() if isinstance(key, str) else key, normalize_code(code).encode(),
                    hashlib.sha256).hexdigest()


def normalize_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:32]


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def members_without_account(user, org: Organization) -> list[Volunteer]:
    taken = select(VolunteerAccount.volunteer_id)
    return list(db.session.scalars(scope.scoped(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.organization_id == org.id, Volunteer.status == VolunteerStatus.ACTIVE,
               Membership.dismissed_on.is_(None), Volunteer.id.not_in(taken)).order_by(Volunteer.name_pinyin, Volunteer.id), Volunteer, user)))


@dataclass
class IssuedCode:
    volunteer: Volunteer
    code: str
    expires_at: object

    @property
    def display(self) -> str:
        return format_code(self.code)


def issue_codes(user, org: Organization, volunteer_ids: list[int], days: int = CODE_DAYS) -> list[IssuedCode]:
    """One fresh code per chosen member (the member's earlier unused codes stop working). The code
    itself is returned once, for the printed sheet; only its hash is kept."""
    allowed = {v.id: v for v in members_without_account(user, org)}
    chosen = [allowed[i] for i in volunteer_ids if i in allowed]
    if not chosen:
        raise JoinError("请选择尚未开通账户的成员", "volunteer_ids")
    now = utcnow()
    expires = now + timedelta(days=days)
    db.session.execute(update(ActivationCode).where(
        ActivationCode.volunteer_id.in_([v.id for v in chosen]), ActivationCode.used_at.is_(None),
        ActivationCode.expires_at > now).values(expires_at=now))
    out = []
    for v in chosen:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        db.session.add(ActivationCode(code_hash=code_hash(code), volunteer_id=v.id, organization_id=org.id,
                                      created_by_id=user.id, expires_at=expires))
        out.append(IssuedCode(v, code, expires))
    db.session.flush()
    record_event("create", "organization", org.id, org.name, f"生成 {len(out)} 个志愿者账户激活码", user=user,
                 region_id=org.region_id)
    return out


CODE_REFUSED = "激活码或身份证号不正确"
CODE_SPENT = "该激活码已使用，请直接登录；如非本人操作请联系所在组织"
CODE_EXPIRED = "该激活码已过期，请向所在组织索取新的激活码"


def _id_matches(v: Volunteer, text: str) -> bool:
    text = (text or "").strip().upper()
    if len(text) == 4:
        return hmac.compare_digest(pii.last4_key(text, v.birth_year), v.id_last4_hash or "")
    try:
        number = parse_id_number(text, local_today()).number
    except ValidationError:
        return False
    return hmac.compare_digest(pii.lookup_hash(number), v.id_hash)


def activate(code: str, id_text: str, password: str) -> User:
    """Spend a code: the person proves it is theirs with their ID number (or its last 4) and chooses a
    password. A code works once: the UPDATE that spends it only succeeds while it is unused."""
    row = db.session.scalar(select(ActivationCode).where(ActivationCode.code_hash == code_hash(code)))
    if row is None:
        raise JoinError(CODE_REFUSED, "code")
    v = db.session.get(Volunteer, row.volunteer_id)
    if (v.status == VolunteerStatus.DISMISSED or vs.dismissed_by(v, row.organization_id) is not None
            or not _id_matches(v, id_text)):
        raise JoinError(CODE_REFUSED, "code")
    if row.used_at is not None:
        raise JoinError(CODE_SPENT, "code")
    now = utcnow()
    if row.expires_at <= now:
        raise JoinError(CODE_EXPIRED, "code")
    spent = db.session.execute(update(ActivationCode).where(ActivationCode.id == row.id, ActivationCode.used_at.is_(None))
                               .values(used_at=now)).rowcount
    if spent != 1:
        raise JoinError(CODE_SPENT, "code")
    user = create_account(v, generate_password_hash(password))
    record_change("update", v, "志愿者使用激活码开通账户")
    return user


# ---- the district office's figures ------------------------------------------------------------------

@dataclass
class JoinFigures:
    self_registered: int  # people whose account came from their own application
    pending: int
    activated: int  # accounts opened with an activation code


def figures(user) -> JoinFigures:
    approved = db.session.scalar(scope.scoped(select(func.count(func.distinct(JoinApplication.volunteer_id)))
                                              .where(JoinApplication.status == JoinStatus.APPROVED),
                                              JoinApplication, user)) or 0
    pending = db.session.scalar(scope.scoped(select(func.count(JoinApplication.id))
                                             .where(JoinApplication.status == JoinStatus.PENDING),
                                             JoinApplication, user)) or 0
    activated = db.session.scalar(scope.scoped(select(func.count(ActivationCode.id))
                                               .where(ActivationCode.used_at.is_not(None)),
                                               ActivationCode, user)) or 0
    return JoinFigures(approved, pending, activated)
