"""Training rules (培训制度; seeds 000, 001, 004 §4). Services flush; the route commits once.

- The course catalogue is kept by the city and district offices: a city admin edits every course, district
  staff those of their district; every staff account reads it.
- A session is held by an approved organization: its org leaders manage it, district staff those of their
  district, the city admin all (core/scope.py, TrainingSession rule).
- Attendance is taken from the organizing organization's roster (its active members), in one batch, and
  writes one training record per person through the ledger's add_training (《办法》§8): training hours are
  kept there, never in the service ledger (001, 004: service hours are what the ledger verifies).
- 骨干培训 is the 志愿者骨干's privilege (001 第四条 "每年在本社区服务时长达48小时"): only a 骨干 of the
  session's community (ledger.privilege_communities of the organizing organization), of the session's year or
  the year before, may attend (ledger.core_ids_for: verified hours per community).
- "岗前培训 done": the person attended a 岗前 session (derived, never stored).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.activities.services import organizer_orgs
from blueprints.regions.models import Region, RegionLevel
from blueprints.training.models import CourseKind, TrainingAttendee, TrainingCourse, TrainingSession
from blueprints.volunteers import ledger
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core import scope
from core.extensions import db
from core.roles import Role
from core.timeutil import local_today

ROSTER_LIMIT = 300  # members shown at once on the attendance sheet (a name filter narrows it)


class TrainingError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- the catalogue ----------------------------------------------------------------------------------

def can_keep_catalogue(user) -> bool:
    return user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF) and user.region_id is not None


def can_edit_course(user, course: TrainingCourse) -> bool:
    if user.role == Role.CITY_ADMIN:
        return True
    if user.role != Role.DISTRICT_STAFF or user.region is None:
        return False
    return course.region.path.startswith(user.region.path)


def courses(user, active_only: bool = False) -> list[TrainingCourse]:
    stmt = scope.scoped(select(TrainingCourse), TrainingCourse, user)
    if active_only:
        stmt = stmt.where(TrainingCourse.active.is_(True))
    return list(db.session.scalars(stmt.order_by(TrainingCourse.kind, TrainingCourse.name)))


def _parse_hours(raw, field: str = "hours") -> Decimal:
    try:
        return ledger.parse_hours(raw)
    except ledger.LedgerError as e:
        raise TrainingError(e.message.replace("时长", "学时"), field) from None


def save_course(user, course: TrainingCourse | None, name: str, kind: str, content: str, hours,
                active: bool = True) -> TrainingCourse:
    if course is None and not can_keep_catalogue(user):
        raise TrainingError("只有市、县区文明办可以维护培训课程", "name")
    if course is not None and not can_edit_course(user, course):
        raise TrainingError("该课程由其他单位维护，您不能修改", "name")
    name = (name or "").strip()
    if not name:
        raise TrainingError("请填写课程名称", "name")
    if kind not in {k.value for k in CourseKind}:
        raise TrainingError("请选择课程类别", "kind")
    hours = _parse_hours(hours, "default_hours")  # every check before the row is touched: nothing half-saved
    if course is None:
        course = TrainingCourse(region_id=user.region_id, created_by_id=user.id)
        db.session.add(course)
    course.name, course.kind, course.content = name[:128], CourseKind(kind), (content or "").strip()
    course.default_hours, course.active = hours, bool(active)
    db.session.flush()
    return course


# ---- sessions ---------------------------------------------------------------------------------------

@dataclass
class SessionData:
    course_id: int | None
    organization_id: int | None
    held_on: date | None
    place: str
    hours: object
    trainer: str = ""
    capacity: int | None = None
    note: str = ""


def save_session(user, session: TrainingSession | None, d: SessionData) -> TrainingSession:
    course = db.session.get(TrainingCourse, d.course_id or 0)
    if course is None or (not course.active and (session is None or session.course_id != course.id)):
        raise TrainingError("请选择培训课程", "course_id")
    orgs = {o.id: o for o in organizer_orgs(user)}
    if (d.organization_id or 0) not in orgs:
        raise TrainingError("请选择您所管理的、已登记的组织", "organization_id")
    if session is not None and session.attendees and session.organization_id != d.organization_id:
        raise TrainingError("已记录参训人员，不能更换举办组织", "organization_id")
    if d.held_on is None:
        raise TrainingError("请选择培训日期", "held_on")
    today = local_today()
    if d.held_on.year < 2000 or d.held_on > date(today.year + 2, 12, 31):
        raise TrainingError("培训日期不在可接受的范围内", "held_on")
    if session is not None and session.attendees and d.held_on > today:
        raise TrainingError("已记录参训人员，培训日期不能晚于今天", "held_on")
    place = (d.place or "").strip()
    if not place:
        raise TrainingError("请填写培训地点", "place")
    hours = _parse_hours(d.hours)
    if d.capacity is not None and not 1 <= d.capacity <= 10000:
        raise TrainingError("人数上限应在 1 到 10000 之间", "capacity")
    if session is not None and d.capacity is not None and d.capacity < len(session.attendees):
        raise TrainingError(f"已有 {len(session.attendees)} 人参训，人数上限不能更少", "capacity")
    if session is None:
        session = TrainingSession(created_by_id=user.id)
        db.session.add(session)
    session.course_id, session.organization_id, session.held_on = course.id, d.organization_id, d.held_on
    session.place, session.hours, session.trainer = place[:200], hours, (d.trainer or "").strip()[:64]
    session.capacity, session.note = d.capacity, (d.note or "").strip()
    db.session.flush()
    for a in session.attendees:  # the records follow the session's facts
        if a.record is not None:
            a.record.hours, a.record.held_on, a.record.name = hours, d.held_on, course.name[:128]
    db.session.flush()
    return session


def delete_session(user, session: TrainingSession) -> None:
    if session.attendees:
        raise TrainingError("已记录参训人员的培训不能删除，请先移除参训人员")
    db.session.delete(session)
    db.session.flush()


def list_sessions(user, kind: str = "", year: int | None = None, org: int | None = None):
    stmt = scope.scoped(select(TrainingSession), TrainingSession, user).options(
        selectinload(TrainingSession.course), selectinload(TrainingSession.organization))
    if kind in {k.value for k in CourseKind}:
        stmt = stmt.where(TrainingSession.course_id.in_(select(TrainingCourse.id).where(TrainingCourse.kind == kind)))
    if year:
        stmt = stmt.where(TrainingSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    if org:
        stmt = stmt.where(TrainingSession.organization_id == org)
    return stmt.order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())


# ---- attendance -------------------------------------------------------------------------------------

def core_ids(volunteer_ids: list[int], session: TrainingSession) -> set[int]:
    """Who is a 志愿者骨干 (001 附件4 第四条 "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册，享有参加
    社区组织的各类志愿者培训活动资格") of the session's community (the organizing organization's, or any within its
    region: ledger.privilege_communities) in the year of the session or the year before."""
    on = session.held_on
    return ledger.core_ids_for(volunteer_ids, (on.year, on.year - 1),
                               ledger.privilege_communities(org=session.organization))


def may_attend(session: TrainingSession, volunteer_ids: list[int]) -> set[int]:
    """Those of `volunteer_ids` the course admits: everyone, or only 骨干 for 骨干培训."""
    if session.course.kind != CourseKind.CORE:
        return set(volunteer_ids)
    return core_ids(volunteer_ids, session)


def roster(session: TrainingSession, q: str = "") -> list[Volunteer]:
    """Active members of the organizing organization who have not been marked yet."""
    stmt = (select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == session.organization_id, Volunteer.status == VolunteerStatus.ACTIVE,
                   Volunteer.id.not_in(select(TrainingAttendee.volunteer_id)
                                       .where(TrainingAttendee.session_id == session.id))))
    q = (q or "").strip()[:20]
    if q:
        stmt = stmt.where(Volunteer.name.contains(q, autoescape=True))
    return list(db.session.scalars(stmt.order_by(Volunteer.name_pinyin, Volunteer.id).limit(ROSTER_LIMIT)))


def mark_attended(user, session: TrainingSession, volunteer_ids: list[int]) -> list[TrainingAttendee]:
    """Mark the picked members as attended: one attendee row and one training record each, all or none."""
    ids = list(dict.fromkeys(i for i in volunteer_ids if isinstance(i, int) and 0 < i < 2**31))
    if not ids:
        raise TrainingError("请勾选参加培训的志愿者", "volunteer_id")
    if session.held_on > local_today():
        raise TrainingError("培训尚未举行，举行后再记录参训人员", "volunteer_id")
    members = {v.id: v for v in db.session.scalars(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.organization_id == session.organization_id, Volunteer.id.in_(ids),
               Volunteer.status == VolunteerStatus.ACTIVE))}
    if len(members) != len(ids):
        raise TrainingError("只能记录举办组织在册成员的参训情况", "volunteer_id")
    already = set(db.session.scalars(select(TrainingAttendee.volunteer_id).where(
        TrainingAttendee.session_id == session.id, TrainingAttendee.volunteer_id.in_(ids))))
    ids = [i for i in ids if i not in already]
    if not ids:
        raise TrainingError("所选志愿者均已记录参训", "volunteer_id")
    refused = [members[i].name for i in ids if i not in may_attend(session, ids)]
    if refused:
        raise TrainingError(f"骨干培训只限志愿者骨干参加（在举办组织所在社区年度服务满 {ledger.core_hours()} 小时）："
                            + "、".join(refused[:5]) + (" 等" if len(refused) > 5 else ""), "volunteer_id")
    if session.capacity is not None and len(session.attendees) + len(ids) > session.capacity:
        raise TrainingError(f"超过人数上限（{session.capacity} 人），还可记录 "
                            f"{max(0, session.capacity - len(session.attendees))} 人", "volunteer_id")
    out = []
    for vid in ids:
        try:
            record = ledger.add_training(user, members[vid], session.organization, session.course.name,
                                         session.course.content[:500], session.hours, session.organization.name,
                                         session.held_on)
        except ledger.LedgerError as e:
            raise TrainingError(f"{members[vid].name}：{e.message}", "volunteer_id") from None
        a = TrainingAttendee(session_id=session.id, volunteer_id=vid, record_id=record.id)
        session.attendees.append(a)
        out.append(a)
    db.session.flush()
    return out


def remove_attendee(user, attendee: TrainingAttendee) -> None:
    """Undo a mark: the attendee row and the training record it wrote."""
    if attendee.record is not None:
        db.session.delete(attendee.record)
    db.session.delete(attendee)
    db.session.flush()


# ---- 岗前培训 done, and the share of new volunteers trained ----------------------------------------

def pre_service_done_clause(column=Volunteer.id):
    """SQL: the volunteer attended a 岗前 session (the list filter and the figures use this one clause)."""
    return column.in_(select(TrainingAttendee.volunteer_id)
                      .join(TrainingSession, TrainingSession.id == TrainingAttendee.session_id)
                      .join(TrainingCourse, TrainingCourse.id == TrainingSession.course_id)
                      .where(TrainingCourse.kind == CourseKind.PRE_SERVICE))


def pre_service_date(volunteer: Volunteer) -> date | None:
    """The first 岗前 session the person attended (None: 岗前培训 not done)."""
    return db.session.scalar(
        select(func.min(TrainingSession.held_on))
        .join(TrainingAttendee, TrainingAttendee.session_id == TrainingSession.id)
        .join(TrainingCourse, TrainingCourse.id == TrainingSession.course_id)
        .where(TrainingAttendee.volunteer_id == volunteer.id, TrainingCourse.kind == CourseKind.PRE_SERVICE))


def attended_sessions(volunteer: Volunteer) -> list[TrainingSession]:
    return list(db.session.scalars(
        select(TrainingSession).join(TrainingAttendee, TrainingAttendee.session_id == TrainingSession.id)
        .where(TrainingAttendee.volunteer_id == volunteer.id).order_by(TrainingSession.held_on.desc())))


@dataclass
class CoverageRow:
    district_id: int | None
    name: str
    new: int
    trained: int

    @property
    def share(self) -> Decimal | None:
        """Per cent, to one decimal; None when nobody registered."""
        if not self.new:
            return None
        return (Decimal(self.trained) * 100 / Decimal(self.new)).quantize(Decimal("0.1"))


def new_volunteers(user, year: int):
    """New volunteers of the year in the user's scope (registered_on in the year), as a select of ids."""
    return scope.scoped(select(Volunteer.id), Volunteer, user).where(
        Volunteer.registered_on.between(date(year, 1, 1), date(year, 12, 31)))


def coverage(user, year: int) -> tuple[list[CoverageRow], CoverageRow]:
    """Per district (of residence): new volunteers of the year and those among them with 岗前培训 done.
    Counts every new volunteer of the scope (50–110 ms for a district at 10×): kept per data version, day
    and scope in the shared cache (core/cache.py)."""
    from core.figures import shared_for_scope

    return shared_for_scope(user, "training", "coverage", str(year), lambda: _coverage(user, year))


def _coverage(user, year: int) -> tuple[list[CoverageRow], CoverageRow]:
    trained = pre_service_done_clause()
    ids = new_volunteers(user, year).subquery()
    district = Region.district_id
    rows = db.session.execute(
        select(district, func.count(Volunteer.id), func.count(Volunteer.id).filter(trained))
        .select_from(Volunteer).join(ids, ids.c.id == Volunteer.id)
        .outerjoin(Region, Region.id == Volunteer.region_id)
        .group_by(district)).all()
    names = dict(db.session.execute(select(Region.id, Region.name).where(Region.level == RegionLevel.DISTRICT)).all())
    out = [CoverageRow(did, names.get(did, "（未填居住区域）"), n, t) for did, n, t in rows]
    out.sort(key=lambda r: (r.district_id is None, r.name))
    total = CoverageRow(None, "合计", sum(r.new for r in out), sum(r.trained for r in out))
    return out, total


def trained_new_count(user, year: int) -> int:
    return db.session.scalar(select(func.count()).select_from(
        new_volunteers(user, year).where(pre_service_done_clause()).subquery())) or 0
