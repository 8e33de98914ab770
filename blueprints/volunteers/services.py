"""Volunteers: registration (one person, one record city-wide), memberships, status, personal data,
the list with its filters, XLSX export and import."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.orgs.services import clean_org_query, org_name_ids
from blueprints.regions.models import Region, RegionLevel
from blueprints.volunteers import ledger
from blueprints.volunteers.models import (AVAILABILITY, SKILLS, DismissalAction, DismissalEvent, DismissalLevel,
                                          DismissReason, Membership, PoliticalStatus, ReportStatus, ServiceRecord,
                                          Volunteer, VolunteerSequence, VolunteerSkill, VolunteerStatus,
                                          VolunteerYearHours, identity_columns)
from core import cache, pii, scope
from core.audit import record_change
from core.extensions import db
from core.tabular import ImportRow
from core.timeutil import local_today, utcnow
from core.validators import ValidationError, mask_id_number, parse_id_number, validate_phone
from core.validators import parse_id, parse_int

ADULT_AGE = 18  # 001 附件4 第二条: 年满18周岁; younger only with a guardian's consent
MIN_AGE = 8  # below 8 a child has no capacity for civil acts at all (民法典 第二十条)


class VolunteerError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass
class VolunteerData:
    """What a registration or an edit carries (from the form or an import row)."""

    name: str
    phone: str
    political_status: PoliticalStatus = PoliticalStatus.MASSES
    public_servant: bool = False
    work_unit: str = ""
    skills: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    region_id: int | None = None
    registered_on: date | None = None
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_relation: str = ""
    guardian_consent: bool = False


@dataclass
class Registration:
    volunteer: Volunteer
    created: bool
    elsewhere: list[str]  # "赤坎区 · XX志愿服务队" where the person was already registered


# ---- organizations and regions a user works with ---------------------------------------------------

def registrable_orgs(user) -> list[Organization]:
    """Approved organizations in scope: only they register volunteers and hold activities."""
    if not user.can_write:
        return []
    stmt = scope.scoped(select(Organization).where(Organization.status == OrgStatus.APPROVED),
                        Organization, user).order_by(Organization.name_pinyin)
    return list(db.session.scalars(stmt))


def registrable_org(user, org_id) -> Organization | None:
    """One of registrable_orgs(user) by id (None if it is not one): without loading them all."""
    if not user.can_write or not isinstance(org_id, int):
        return None
    return db.session.scalar(scope.scoped(select(Organization).where(
        Organization.id == org_id, Organization.status == OrgStatus.APPROVED), Organization, user))


def registrable_org_rows(user) -> list:
    """(id, name) rows of registrable_orgs — for a select on a page that only offers them."""
    if not user.can_write:
        return []
    stmt = scope.scoped(select(Organization.id, Organization.name).where(Organization.status == OrgStatus.APPROVED),
                        Organization, user).order_by(Organization.name_pinyin)
    return list(db.session.execute(stmt))


def residence_regions(user) -> list[Region]:
    """Towns and communities a volunteer may live in, from the user's part of the tree."""
    stmt = scope.scoped(select(Region).where(Region.level.in_([RegionLevel.DISTRICT, RegionLevel.TOWN,
                                                               RegionLevel.COMMUNITY]), Region.active),
                        Region, user).order_by(Region.path)
    return list(db.session.scalars(stmt))


def filter_regions(user) -> list:
    """(id, name, level) of the districts and towns in the user's scope: the list's region filter."""
    stmt = scope.scoped(select(Region.id, Region.name, Region.level)
                        .where(Region.level.in_([RegionLevel.DISTRICT, RegionLevel.TOWN])),
                        Region, user).order_by(Region.path)
    return cache.local_rows(stmt)


# ---- identity -------------------------------------------------------------------------------------

def find_person(id_number: str) -> Volunteer | None:
    return db.session.scalar(select(Volunteer).where(Volunteer.id_hash == pii.lookup_hash(id_number)))


def where_registered(volunteer: Volunteer) -> list[str]:
    """Only what another office needs to know: district and organization names."""
    out = []
    for m in volunteer.memberships:
        district = m.organization.region.district if m.organization.region else None
        out.append(f"{district.name + ' · ' if district else ''}{m.organization.name}")
    return out


def _set_identity(v: Volunteer, number: str) -> None:
    info = parse_id_number(number, local_today())
    for key, value in identity_columns(info.number).items():
        setattr(v, key, value)


def _number_prefix(region: Region | None) -> str:
    r = region
    while r is not None:
        if r.code and len(r.code) == 6 and r.level != RegionLevel.CITY:
            return r.code
        r = r.parent
    r = region
    while r is not None:
        if r.code and len(r.code) == 6:
            return r.code
        r = r.parent
    return "000000"


def next_number(org: Organization) -> str:
    """志愿者编号: the district's administrative code and a six-digit sequence (4408020000123)."""
    prefix = _number_prefix(org.region)
    seq = db.session.get(VolunteerSequence, prefix, with_for_update=True)
    if seq is None:
        highest = db.session.scalar(select(func.max(Volunteer.number)).where(Volunteer.number.startswith(prefix)))
        last = int(highest[len(prefix):]) if highest and highest[len(prefix):].isdigit() else 0
        seq = VolunteerSequence(prefix=prefix, last=last)
        db.session.add(seq)
    seq.last += 1
    return f"{prefix}{seq.last:06d}"


# ---- the rules of registration ---------------------------------------------------------------------

def check_person(data: VolunteerData, birth: date) -> None:
    registered_on = data.registered_on or local_today()
    if registered_on > local_today():
        raise VolunteerError("注册日期不能晚于今天", "registered_on")
    if registered_on < birth:
        raise VolunteerError("注册日期不能早于出生日期", "registered_on")
    age = registered_on.year - birth.year - int((registered_on.month, registered_on.day) < (birth.month, birth.day))
    if age < MIN_AGE:
        raise VolunteerError("未满八周岁的儿童不能注册为志愿者", "id_number")
    if age < ADULT_AGE:
        # 001 附件4 第二条: 未满十八周岁的，经其监护人同意或者由其监护人陪同.
        if not data.guardian_name.strip():
            raise VolunteerError("未满 18 周岁须填写监护人姓名", "guardian_name")
        if not data.guardian_phone.strip():
            raise VolunteerError("未满 18 周岁须填写监护人联系电话", "guardian_phone")
        if not data.guardian_consent:
            raise VolunteerError("未满 18 周岁须有监护人同意", "guardian_consent")
    unknown = [s for s in data.skills if s not in SKILLS]
    if unknown:
        raise VolunteerError("未知的服务技能：" + "、".join(unknown), "skills")
    unknown = [s for s in data.availability if s not in AVAILABILITY]
    if unknown:
        raise VolunteerError("未知的服务时间：" + "、".join(unknown), "availability")


def _apply_data(v: Volunteer, data: VolunteerData) -> None:
    v.name = data.name.strip()
    v.phone = data.phone
    v.phone_last4 = "".join(ch for ch in data.phone if ch.isdigit())[-4:]
    v.political_status = PoliticalStatus(data.political_status)
    v.public_servant = bool(data.public_servant)
    v.work_unit = " ".join((data.work_unit or "").split())[:128]
    v.availability = "、".join(a for a in AVAILABILITY if a in data.availability)
    v.region_id = data.region_id or v.region_id
    v.guardian_name = data.guardian_name.strip()
    v.guardian_phone = data.guardian_phone.strip()
    v.guardian_relation = data.guardian_relation.strip()
    v.guardian_consent = bool(data.guardian_consent)
    wanted = [s for s in SKILLS if s in data.skills]
    current = {row.skill: row for row in v.skill_rows}
    for skill, row in current.items():
        if skill not in wanted:
            v.skill_rows.remove(row)
    for skill in wanted:
        if skill not in current:
            v.skill_rows.append(VolunteerSkill(skill=skill))


def register(user, org: Organization, id_number: str, data: VolunteerData) -> Registration:
    """Register a person in an organization. Someone already on record city-wide is not created
    twice: they get a membership here, and the caller learns where they were registered before."""
    if org.status != OrgStatus.APPROVED:
        raise VolunteerError("只有已登记（审核通过）的组织才能注册志愿者", "organization_id")
    try:
        info = parse_id_number(id_number, local_today())
    except ValidationError as e:
        raise VolunteerError(e.message, "id_number") from None
    existing = find_person(info.number)
    if existing is not None:
        mine = next((m for m in existing.memberships if m.organization_id == org.id), None)
        if mine is not None and not mine.is_active:
            raise VolunteerError(f"该志愿者已于 {mine.dismissed_on.isoformat()} 被本组织劝退（编号 {existing.number}）；"
                                 "如需恢复，请在其档案的“所在组织”中操作", "id_number")
        if mine is not None:
            raise VolunteerError(f"该志愿者已是本组织成员（编号 {existing.number}）", "id_number")
        if existing.status == VolunteerStatus.DISMISSED:
            raise VolunteerError("该志愿者已被劝退，不能加入新的组织；如有异议请联系原登记组织：" +
                                 "；".join(where_registered(existing)), "id_number")
        elsewhere = where_registered(existing)
        add_membership(user, existing, org)
        return Registration(existing, False, elsewhere)
    check_person(data, info.birth_date)
    v = Volunteer(number=next_number(org), registered_on=data.registered_on or local_today(),
                  created_by_id=user.id, region_id=data.region_id or org.region_id, primary_org_id=org.id,
                  status=VolunteerStatus.ACTIVE)
    _set_identity(v, info.number)
    _apply_data(v, data)
    v.memberships.append(Membership(organization=org, is_primary=True, joined_on=v.registered_on))
    db.session.add(v)
    db.session.flush()
    return Registration(v, True, [])


def update(user, v: Volunteer, data: VolunteerData, new_id_number: str | None = None) -> None:
    birth = v.birth_date
    if new_id_number:
        try:
            info = parse_id_number(new_id_number, local_today())
        except ValidationError as e:
            raise VolunteerError(e.message, "id_number") from None
        other = find_person(info.number)
        if other is not None and other.id != v.id:
            raise VolunteerError("该身份证号已登记为另一名志愿者（编号 " + other.number + "）", "id_number")
        birth = info.birth_date
    data.registered_on = data.registered_on or v.registered_on
    check_person(data, birth)
    first_record = db.session.scalar(select(func.min(ServiceRecord.service_date))
                                     .where(ServiceRecord.volunteer_id == v.id))
    if first_record and data.registered_on > first_record:
        raise VolunteerError(f"注册日期不能晚于最早的服务记录日期（{first_record.isoformat()}）", "registered_on")
    if new_id_number:
        _set_identity(v, new_id_number)
        record_change("update", v, "更正身份证号（记录中仅保留脱敏号码）")
    v.registered_on = data.registered_on
    _apply_data(v, data)
    db.session.flush()


# ---- 劝退 (001 附件4 第五条 "本站可以对其劝退，行为加重者，报上级志愿服务组织备案") -------------------
#
# A station's (an organization's) 劝退 ends the membership in that organization; a serious case is
# reported upward and waits in the district office's queue, which may decide a city-wide 劝退 (the
# person's standing: Volunteer.status) or file it. Every 劝退 and 恢复 is a DismissalEvent that stays.

OFFICE_ROLES = ("city_admin", "district_staff")


def _check_dismissal(reason, on: date, since: date, since_label: str) -> DismissReason:
    try:
        reason = DismissReason(reason)
    except ValueError:
        raise VolunteerError("请选择劝退原因", "reason") from None
    if on is None:
        raise VolunteerError("请选择劝退日期", "dismissed_on")
    if on > local_today():
        raise VolunteerError("劝退日期不能晚于今天", "dismissed_on")
    if on < since:
        raise VolunteerError(f"劝退日期不能早于{since_label}（{since.isoformat()}）", "dismissed_on")
    return reason


def _event(user, v: Volunteer, level: DismissalLevel, action: DismissalAction, on: date, note: str, *,
           org_id: int | None = None, reason: DismissReason | None = None,
           report: ReportStatus | None = None) -> DismissalEvent:
    e = DismissalEvent(volunteer_id=v.id, organization_id=org_id, level=level, action=action, reason=reason,
                       effective_on=on, note=(note or "").strip()[:500], report_status=report,
                       by_id=getattr(user, "id", None), by_name=getattr(user, "display_name", "") or getattr(user, "username", ""),
                       at=utcnow())
    db.session.add(e)
    return e


def is_office(user) -> bool:
    return getattr(user, "role", None) in OFFICE_ROLES


def dismiss_membership(user, m: Membership, reason: DismissReason | str, on: date, note: str = "",
                       report: bool = False) -> DismissalEvent:
    """本站劝退: the organization ends this membership (one of the four grounds, a date); with `report`
    the case goes to the district office's queue (报上级志愿服务组织备案)."""
    if not m.is_active:
        raise VolunteerError("该志愿者已被本组织劝退", "reason")
    reason = _check_dismissal(reason, on, m.joined_on, "加入本组织的日期")
    if report and not (note or "").strip():
        raise VolunteerError("报上级备案须写明情况说明", "note")
    m.dismissed_on = on
    v = m.volunteer
    if m.is_primary:  # the registering organization moves to one the person still serves in
        other = next((o for o in v.memberships if o.id != m.id and o.is_active), None)
        if other is not None:
            set_primary(user, v, other)
    e = _event(user, v, DismissalLevel.ORGANIZATION, DismissalAction.DISMISS, on, note, org_id=m.organization_id,
               reason=reason, report=ReportStatus.PENDING if report else None)
    db.session.flush()
    record_change("dismiss", m, f"本组织劝退，原因：{reason.label}" + ("；已报上级备案" if report else ""), user=user)
    return e


def reinstate_membership(user, m: Membership, note: str) -> DismissalEvent:
    """The organization takes the person back; the 劝退 stays in the history."""
    if m.is_active:
        raise VolunteerError("该志愿者未被本组织劝退", "note")
    if not (note or "").strip():
        raise VolunteerError("请填写恢复原因", "note")
    if m.volunteer.status == VolunteerStatus.DISMISSED:
        raise VolunteerError("该志愿者已被全市劝退，须先由区县文明办恢复在册", "note")
    m.dismissed_on = None
    e = _event(user, m.volunteer, DismissalLevel.ORGANIZATION, DismissalAction.RESTORE, local_today(), note,
               org_id=m.organization_id)
    db.session.flush()
    record_change("restore", m, "本组织恢复：" + note.strip()[:200], user=user)
    return e


def dismiss(user, v: Volunteer, reason: DismissReason | str, on: date, note: str = "",
            report: DismissalEvent | None = None) -> DismissalEvent:
    """全市劝退, decided by the district office (or the city) — on a station's report or on its own;
    the record and its hours stay."""
    if v.status == VolunteerStatus.DISMISSED:
        raise VolunteerError("该志愿者已是劝退状态", "reason")
    reason = _check_dismissal(reason, on, v.registered_on, "注册日期")
    v.status, v.dismiss_reason, v.dismissed_on, v.dismiss_note = VolunteerStatus.DISMISSED, reason, on, note.strip()[:500]
    e = _event(user, v, DismissalLevel.CITY, DismissalAction.DISMISS, on, note, reason=reason)
    if report is not None:
        _decide(user, report, ReportStatus.ESCALATED, note)
    db.session.flush()
    record_change("dismiss", v, f"全市劝退，原因：{reason.label}", user=user)
    return e


def reinstate(user, v: Volunteer, note: str) -> DismissalEvent:
    """Lift a city-wide 劝退; the history keeps who dismissed, when and why, and who reinstated."""
    if v.status != VolunteerStatus.DISMISSED:
        raise VolunteerError("该志愿者不是劝退状态")
    if not (note or "").strip():
        raise VolunteerError("请填写恢复原因", "note")
    v.status, v.dismiss_reason, v.dismissed_on = VolunteerStatus.ACTIVE, None, None
    v.dismiss_note = ""
    e = _event(user, v, DismissalLevel.CITY, DismissalAction.RESTORE, local_today(), note)
    db.session.flush()
    record_change("restore", v, "恢复在册" + (f"：{note.strip()[:200]}" if note and note.strip() else ""), user=user)
    return e


def _decide(user, report: DismissalEvent, status: ReportStatus, note: str) -> None:
    if report.report_status != ReportStatus.PENDING:
        raise VolunteerError("该报备已处理", "decision")
    report.report_status, report.decided_by_id, report.decided_at = status, user.id, utcnow()
    report.decision_note = (note or "").strip()[:500]


def decide_report(user, report: DismissalEvent, decision: str, note: str) -> None:
    """The district office's answer to a station's report: a city-wide 劝退 ("city", with the station's
    reason, from today) or 备案 only ("file")."""
    if not is_office(user):
        raise VolunteerError("只有区县文明办或市文明办可以处理报备", "decision")
    if report.report_status != ReportStatus.PENDING:
        raise VolunteerError("该报备已处理", "decision")
    if not (note or "").strip():
        raise VolunteerError("请填写处理意见", "note")
    if decision == "city":
        v = report.volunteer
        if v.status == VolunteerStatus.DISMISSED:
            raise VolunteerError("该志愿者已被全市劝退，可选择“备案”", "decision")
        dismiss(user, v, report.reason, max(local_today(), v.registered_on), note, report=report)
    elif decision == "file":
        _decide(user, report, ReportStatus.FILED, note)
        db.session.flush()
    else:
        raise VolunteerError("请选择处理结果", "decision")


def report_queue(user, pending: bool = True, limit: int | None = None) -> list[DismissalEvent]:
    """Stations' reports (报上级备案) of organizations in the user's scope: the pending ones oldest first,
    or the decided ones newest first."""
    stmt = scope.scoped(select(DismissalEvent), DismissalEvent, user).where(
        DismissalEvent.organization_id.in_(scope.org_ids_in_scope(user)))
    if pending:
        stmt = stmt.where(DismissalEvent.report_status == ReportStatus.PENDING).order_by(DismissalEvent.at, DismissalEvent.id)
    else:
        stmt = stmt.where(DismissalEvent.report_status.in_([ReportStatus.ESCALATED, ReportStatus.FILED])).order_by(
            DismissalEvent.decided_at.desc(), DismissalEvent.id.desc())
    stmt = stmt.options(selectinload(DismissalEvent.volunteer), selectinload(DismissalEvent.organization))
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


def dismissal_history(v: Volunteer) -> list[DismissalEvent]:
    return list(db.session.scalars(select(DismissalEvent).where(DismissalEvent.volunteer_id == v.id)
                                   .options(selectinload(DismissalEvent.organization))
                                   .order_by(DismissalEvent.effective_on, DismissalEvent.id)))


def dismissal_records(volunteer_id: int) -> list[DismissalEvent]:
    """Every 劝退 the person received, at any level, reinstated or not (awards: "无劝退记录")."""
    return list(db.session.scalars(select(DismissalEvent).where(
        DismissalEvent.volunteer_id == volunteer_id, DismissalEvent.action == DismissalAction.DISMISS)
        .order_by(DismissalEvent.effective_on, DismissalEvent.id)))


def dismissed_by(v: Volunteer, organization_id: int | None) -> Membership | None:
    """The volunteer's membership of this organization if that organization dismissed them (本站劝退, 001 附件4
    第五条) and has not reinstated them; None otherwise. Every path that lets a person act towards an
    organization (join it, its activities, its check-in, its 回馈) asks this."""
    if organization_id is None:
        return None
    return next((m for m in v.memberships if m.organization_id == organization_id and m.dismissed_on is not None),
                None)


def add_membership(user, v: Volunteer, org: Organization) -> Membership:
    if org.status != OrgStatus.APPROVED:
        raise VolunteerError("只有已登记（审核通过）的组织才能接收志愿者", "organization_id")
    mine = next((m for m in v.memberships if m.organization_id == org.id), None)
    if mine is not None:
        raise VolunteerError("该志愿者已被该组织劝退；如需恢复，请在“所在组织”中操作" if not mine.is_active
                             else "该志愿者已是该组织成员", "organization_id")
    if v.status == VolunteerStatus.DISMISSED:
        raise VolunteerError("该志愿者已被全市劝退，不能加入组织", "organization_id")
    m = Membership(volunteer=v, organization=org, is_primary=not v.memberships, joined_on=local_today())
    db.session.add(m)
    if m.is_primary:
        v.primary_org_id = org.id
    db.session.flush()
    return m


def set_primary(user, v: Volunteer, membership: Membership) -> None:
    for m in v.memberships:
        m.is_primary = m.id == membership.id
    v.primary_org_id = membership.organization_id
    db.session.flush()


# ---- personal data ----------------------------------------------------------------------------------

REVEALABLE = {"id_number": "身份证号", "phone": "手机号", "guardian_phone": "监护人电话"}


def _in_scope(user, v: Volunteer) -> bool:
    """scope.in_scope, asked once per request and volunteer (the page and its panels ask often)."""
    from flask import g, has_request_context

    if not has_request_context():
        return scope.in_scope(user, v)
    cache = g.setdefault("_volunteer_in_scope", {})
    key = (user.id, v.id)
    if key not in cache:
        cache[key] = scope.in_scope(user, v)
    return cache[key]


def can_reveal(user, v: Volunteer) -> bool:
    """Issue 5: the full number only to the volunteer's org leaders and district staff (in scope)."""
    from blueprints.accounts.models import Role

    return user.role in (Role.ORG_LEADER, Role.DISTRICT_STAFF) and _in_scope(user, v)


def can_write(user, v: Volunteer) -> bool:
    return bool(user.can_write) and _in_scope(user, v)


def reveal(user, v: Volunteer, what: str) -> str:
    """The full value, once, with an audit entry naming who looked (the value is never logged)."""
    if what not in REVEALABLE:
        raise VolunteerError("无法显示该信息")
    value = pii.decrypt(v.id_number_enc) if what == "id_number" else getattr(v, what)
    record_change("reveal", v, f"查看完整{REVEALABLE[what]}")
    return value


# ---- the list -------------------------------------------------------------------------------------

@dataclass
class ListFilters:
    q: str = ""
    org: int | None = None
    orgq: str = ""  # part of an organization's name (when there are too many for a select)
    region: int | None = None
    status: str = ""
    star: int | None = None
    kind: str = ""  # core | casual | official_below
    political: str = ""
    skill: str = ""
    unit: str = ""  # part of the 工作单位
    year: int = 0
    hint: str = ""
    training: str = ""  # 岗前培训: done | missing (blueprints/training)

    @classmethod
    def from_args(cls, args) -> "ListFilters":
        def as_int(name):
            return parse_int(args.get(name))

        f = cls()
        q = (args.get("q") or "").strip()[:20]
        compact = q.replace(" ", "")
        if compact and all(ch.isdigit() or ch in "xX" for ch in compact) and len(compact) != 4:
            # Only the last four characters of an ID or phone are a search key (never a full number).
            f.hint = "按证件号或手机号查找时，请只输入后 4 位。"
            q = ""
        f.q = q
        f.org, f.region = parse_id(args.get("org")), parse_id(args.get("region"))
        f.orgq = clean_org_query(args)
        f.status = args.get("status", "") if args.get("status", "") in {s.value for s in VolunteerStatus} else ""
        star = as_int("star")
        f.star = star if star is not None and 0 <= star <= 5 else None
        f.kind = args.get("kind", "") if args.get("kind", "") in ("core", "casual", "official_below") else ""
        f.political = args.get("political", "") if args.get("political", "") in {p.value for p in PoliticalStatus} else ""
        f.skill = args.get("skill", "") if args.get("skill", "") in SKILLS else ""
        f.unit = " ".join((args.get("unit") or "").split())[:64]
        year = as_int("year")
        this_year = local_today().year
        f.year = year if year and this_year - 10 <= year <= this_year else this_year
        f.training = args.get("training", "") if args.get("training", "") in ("done", "missing") else ""
        return f

    def args(self) -> dict:
        out = {"q": self.q, "org": self.org or "", "orgq": self.orgq, "region": self.region or "",
               "status": self.status, "star": "" if self.star is None else self.star, "kind": self.kind, "political": self.political,
               "skill": self.skill, "unit": self.unit, "training": self.training}
        if self.year != local_today().year:
            out["year"] = self.year
        return {k: v for k, v in out.items() if v != ""}


OFFICIALS = or_(Volunteer.political_status.in_([PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY]),
                Volunteer.public_servant.is_(True))


def _year_at_least(year: int, hours: int):
    return select(VolunteerYearHours.volunteer_id).where(VolunteerYearHours.year == year,
                                                         VolunteerYearHours.hours >= hours)


def list_query(user, f: ListFilters):
    stmt = scope.scoped(select(Volunteer), Volunteer, user)
    if f.q:
        q = f.q.replace(" ", "")
        if len(q) == 4 and all(ch.isdigit() or ch in "xX" for ch in q):
            stmt = stmt.where(or_(Volunteer.last4_matches(q), Volunteer.phone_last4 == q))
        else:
            stmt = stmt.where(Volunteer.name.contains(f.q, autoescape=True))
    if f.org:
        stmt = stmt.where(Volunteer.id.in_(select(Membership.volunteer_id).where(Membership.organization_id == f.org)))
    if f.orgq:
        stmt = stmt.where(Volunteer.id.in_(select(Membership.volunteer_id).where(
            Membership.organization_id.in_(org_name_ids(f.orgq)))))
    if f.region:
        stmt = stmt.where(Volunteer.region_id.in_(scope.region_subtree_ids(f.region)))
    if f.status:
        stmt = stmt.where(Volunteer.status == f.status)
    if f.star is not None:
        low, high = ledger.star_bounds(f.star)
        stmt = stmt.where(Volunteer.total_hours >= low)
        if high is not None:
            stmt = stmt.where(Volunteer.total_hours < high)
    if f.kind == "core":  # 骨干 of at least one community (001 附件4 第四条)
        stmt = stmt.where(Volunteer.id.in_(ledger.core_volunteer_ids(f.year)))
    elif f.kind == "casual":
        stmt = stmt.where(Volunteer.id.not_in(ledger.core_volunteer_ids(f.year)))
    elif f.kind == "official_below":  # 004 第15条: 40 h on 7 days or more
        stmt = stmt.where(OFFICIALS, Volunteer.id.not_in(ledger.official_met_ids(f.year)))
    if f.unit:
        stmt = stmt.where(Volunteer.work_unit.contains(f.unit, autoescape=True))
    if f.political:
        stmt = stmt.where(Volunteer.political_status == f.political)
    if f.skill:
        stmt = stmt.where(Volunteer.id.in_(select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill == f.skill)))
    if f.training:
        from blueprints.training.services import pre_service_done_clause  # training builds on volunteers

        done = pre_service_done_clause()
        stmt = stmt.where(done if f.training == "done" else ~done)
    return stmt.order_by(Volunteer.id.desc())


@dataclass
class Row:
    v: Volunteer
    year_hours: Decimal
    star: int
    is_core: bool

    @property
    def star_label(self) -> str:
        return ledger.STAR_LABELS[self.star]

    @property
    def total(self) -> Decimal:
        return ledger.quantize(self.v.total_hours)


def decorate(volunteers: list[Volunteer], year: int) -> list[Row]:
    ids = [v.id for v in volunteers]
    hours = ledger.year_hours_map(ids, year)
    core = ledger.core_id_set(ids, year)
    return [Row(v, hours.get(v.id, Decimal(0)), ledger.star_level(v.total_hours), v.id in core) for v in volunteers]


# ---- export (masked) --------------------------------------------------------------------------------

EXPORT_HEADERS = ["志愿者编号", "姓名", "性别", "出生年份", "身份证号（脱敏）", "手机号（脱敏）", "政治面貌", "公职人员",
                  "服务技能", "服务时间", "主要组织", "居住区域", "注册日期", "状态", "累计时长（小时）", "星级",
                  "年度时长（小时）", "类型", "工作单位"]


def export_rows(user, f: ListFilters):
    """The list's volunteers, masked, in the list's order: a generator reading EXPORT_BATCH people at a
    time (with their skills, year hours and 骨干 per batch), so a city's 200,000 stay flat in memory."""
    from core.exports import EXPORT_BATCH, EXPORT_ROW_LIMIT, capped_rows
    from core.validators import mask_phone

    stmt = list_query(user, f).limit(EXPORT_ROW_LIMIT + 1).execution_options(yield_per=EXPORT_BATCH)
    orgs = {o.id: o.name for o in db.session.scalars(select(Organization))}
    regions = {r.id: r.name for r in db.session.scalars(select(Region))}

    def rows():
        for volunteers in db.session.scalars(stmt).partitions():
            ids = [v.id for v in volunteers]
            skills: dict[int, list[str]] = {}
            hours: dict[int, Decimal] = {}
            core: set[int] = set()
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                for vid, skill in db.session.execute(select(VolunteerSkill.volunteer_id, VolunteerSkill.skill)
                                                     .where(VolunteerSkill.volunteer_id.in_(chunk))):
                    skills.setdefault(vid, []).append(skill)
                hours.update(ledger.year_hours_map(chunk, f.year))
                core |= ledger.core_id_set(chunk, f.year)
            for v in volunteers:
                yh = hours.get(v.id, Decimal(0))
                yield [
                    v.number, v.name, v.sex, v.birth_year, v.id_masked, mask_phone(v.phone), v.political_status.label,
                    "是" if v.public_servant else "否", "、".join(skills.get(v.id, [])), v.availability,
                    orgs.get(v.primary_org_id, ""), regions.get(v.region_id, ""), v.registered_on.isoformat(),
                    v.status.label + (f"（{v.dismiss_reason.label}）" if v.dismiss_reason else ""),
                    float(ledger.quantize(v.total_hours)), ledger.STAR_LABELS[ledger.star_level(v.total_hours)],
                    float(yh), "志愿者骨干" if v.id in core else "流动志愿者", v.work_unit,
                ]

    return capped_rows(rows())


# ---- import (template, preview with row errors, confirm) -------------------------------------------

IMPORT_COLUMNS = ["姓名", "身份证号", "手机号", "政治面貌", "公职人员", "服务技能", "服务时间", "注册日期",
                  "居住地区划代码", "监护人姓名", "监护人电话", "监护人已同意"]
POLITICAL_BY_LABEL = {p.label: p for p in PoliticalStatus} | {"党员": PoliticalStatus.PARTY_MEMBER,
                                                             "预备党员": PoliticalStatus.PROBATIONARY,
                                                             "团员": PoliticalStatus.LEAGUE_MEMBER, "": PoliticalStatus.MASSES}
YES = {"是", "有", "y", "yes", "1", "true", "√"}
NO = {"否", "无", "n", "no", "0", "false", ""}


def _split(value: str) -> list[str]:
    for sep in ("，", ",", "；", ";", "/", " "):
        value = value.replace(sep, "、")
    return [s for s in (p.strip() for p in value.split("、")) if s]


def _parse_date(value: str) -> date | None:
    value = value.strip().replace("/", "-").replace(".", "-")
    if not value:
        return None
    value = value.split(" ")[0]
    return date.fromisoformat("-".join(p.zfill(2) for p in value.split("-")))


def _row_data(row: ImportRow, regions_by_code: dict[str, int]) -> tuple[str, VolunteerData]:
    v = row.values
    errors = row.errors
    name = v["姓名"].strip()
    if not name:
        errors.append("姓名不能为空")
    elif len(name) > 64:
        errors.append("姓名最多 64 个字")
    try:
        number = parse_id_number(v["身份证号"], local_today()).number
    except ValidationError as e:
        errors.append(e.message)
        number = ""
    try:
        phone = validate_phone(v["手机号"])
    except ValidationError as e:
        errors.append(e.message)
        phone = ""
    political = POLITICAL_BY_LABEL.get(v["政治面貌"].strip())
    if political is None:
        errors.append("政治面貌应为：" + "、".join(p.label for p in PoliticalStatus))
        political = PoliticalStatus.MASSES
    flag = v["公职人员"].strip().lower()
    if flag not in YES | NO:
        errors.append("公职人员应填“是”或“否”")
    consent = v["监护人已同意"].strip().lower()
    if consent not in YES | NO:
        errors.append("监护人已同意应填“是”或“否”")
    try:
        registered_on = _parse_date(v["注册日期"])
    except ValueError:
        errors.append("注册日期格式应为 2026-01-31")
        registered_on = None
    region_id = None
    code = v["居住地区划代码"].strip()
    if code:
        region_id = regions_by_code.get(code)
        if region_id is None:
            errors.append(f"找不到行政区划代码 {code}（或不在您的管辖范围内）")
    guardian_phone = v["监护人电话"].strip()
    if guardian_phone:
        try:
            guardian_phone = validate_phone(guardian_phone)
        except ValidationError as e:
            errors.append("监护人电话：" + e.message)
    data = VolunteerData(
        name=name, phone=phone, political_status=political, public_servant=flag in YES,
        skills=_split(v["服务技能"]), availability=_split(v["服务时间"]), region_id=region_id,
        registered_on=registered_on, guardian_name=v["监护人姓名"].strip(), guardian_phone=guardian_phone,
        guardian_consent=consent in YES,
    )
    return number, data


def validate_import(user, org: Organization, rows: list[ImportRow]) -> list[ImportRow]:
    """Check every row; rows of people already on record are not errors: they join the organization."""
    return list(check_import_rows(user, org, rows))


def check_import_rows(user, org: Organization, rows):
    """validate_import() one row at a time (a generator over any iterable of rows): a preview job reads,
    checks and writes the rows away one by one (issue 16: its memory stays flat)."""
    regions_by_code = {r.code: r.id for r in residence_regions(user) if r.code}
    seen: dict[str, int] = {}
    for row in rows:
        _check_import_row(org, row, regions_by_code, seen)
        yield row


def _check_import_row(org: Organization, row: ImportRow, regions_by_code: dict, seen: dict) -> None:
    number, data = _row_data(row, regions_by_code)
    row.values["_masked"] = mask_id_number(number) if number else mask_id_number(row.values["身份证号"])
    row.values["身份证号"] = ""  # the preview and the pending file never hold the full number
    if not number:
        return
    if number in seen:
        row.errors.append(f"与第 {seen[number]} 行的身份证号重复")
        return
    seen[number] = row.line
    existing = find_person(number)
    if existing is not None:
        mine = next((m for m in existing.memberships if m.organization_id == org.id), None)
        if mine is not None and not mine.is_active:
            row.errors.append(f"已被本组织劝退（编号 {existing.number}）")
        elif mine is not None:
            row.errors.append(f"已是本组织成员（编号 {existing.number}）")
        elif existing.status == VolunteerStatus.DISMISSED:
            row.errors.append("该志愿者已被劝退，不能加入新的组织")
        else:
            row.values["_note"] = "已在 " + "；".join(where_registered(existing)) + " 注册，将加入本组织"
    elif not row.errors:
        try:
            check_person(data, parse_id_number(number, local_today()).birth_date)
        except VolunteerError as e:
            row.errors.append(e.message)
    row.values["_id_enc"] = pii.encrypt(number)


def apply_import(user, org: Organization, stashed: list[dict]) -> tuple[int, int]:
    """Save every row in one transaction; returns (new volunteers, memberships added)."""
    regions_by_code = {r.code: r.id for r in residence_regions(user) if r.code}
    created = joined = 0
    for item in stashed:
        row = ImportRow(line=item["line"], values=dict(item["values"]))
        number = pii.decrypt(row.values.pop("_id_enc"))
        row.values["身份证号"] = number
        _, data = _row_data(row, regions_by_code)
        if row.errors:
            raise VolunteerError(f"第 {row.line} 行：{'；'.join(row.errors)}")
        try:
            result = register(user, org, number, data)
        except VolunteerError as e:
            raise VolunteerError(f"第 {row.line} 行：{e.message}") from None
        created += int(result.created)
        joined += int(not result.created)
    return created, joined


# ---- 工作单位 (004 §12: 党组织把共产党员志愿服务情况作为党的建设的重要内容) ----------------------

UNIT_REPORT_LIMIT = 2000


@dataclass
class UnitRow:
    v: Volunteer
    hours: Decimal
    days: int
    official: bool
    met: bool  # 40 h on 7 days or more (004 第15条)


@dataclass
class UnitReport:
    unit: str
    year: int
    rows: list[UnitRow]
    truncated: bool

    @property
    def total_hours(self) -> Decimal:
        return ledger.quantize(sum((r.hours for r in self.rows), Decimal(0)))

    @property
    def officials(self) -> int:
        return sum(1 for r in self.rows if r.official)

    @property
    def met(self) -> int:
        return sum(1 for r in self.rows if r.official and r.met)


def work_units(user, limit: int = 500) -> list[str]:
    """The 工作单位 entered for volunteers in the user's scope (the picker's suggestions)."""
    stmt = scope.scoped(select(Volunteer.work_unit).distinct(), Volunteer, user).where(Volunteer.work_unit != "")
    return cache.choices(stmt.order_by(Volunteer.work_unit).limit(limit))


def work_unit_report(user, unit: str, year: int) -> UnitReport:
    """The volunteers of one 工作单位 (name contains `unit`) in the user's scope, with their verified hours
    and days of the year and whether party members / officials reached 40 h on 7 days."""
    stmt = (scope.scoped(select(Volunteer), Volunteer, user)
            .where(Volunteer.work_unit.contains(unit, autoescape=True))
            .order_by(Volunteer.work_unit, Volunteer.name_pinyin, Volunteer.id).limit(UNIT_REPORT_LIMIT + 1))
    volunteers = list(db.session.scalars(stmt))
    truncated = len(volunteers) > UNIT_REPORT_LIMIT
    volunteers = volunteers[:UNIT_REPORT_LIMIT]
    ids = [v.id for v in volunteers]
    hours, days = {}, {}
    for start in range(0, len(ids), 900):
        hours.update(ledger.year_hours_map(ids[start:start + 900], year))
        days.update(ledger.year_days_map(ids[start:start + 900], year))
    rows = [UnitRow(v, hours.get(v.id, Decimal(0)), days.get(v.id, 0),
                    v.political_status.is_party or v.public_servant,
                    ledger.official_met(hours.get(v.id, 0), days.get(v.id, 0))) for v in volunteers]
    return UnitReport(unit, year, rows, truncated)


def with_details(stmt):
    return stmt.options(selectinload(Volunteer.primary_org))
