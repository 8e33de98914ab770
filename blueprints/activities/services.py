"""Activities: the rules of holding one (who may organize, where, capacity), signing volunteers up,
and recording attendance — which writes the service records through the ledger's public functions
(blueprints/volunteers/ledger.py), so the ledger's rules (hours > 0, 24 h a day, dates) apply as is.

Services flush; the route commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.activities.eligibility import refusal
from blueprints.activities.models import HOLDS_PLACE, Activity, ActivityStatus, Category, Participant, SignupStatus
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.orgs.services import clean_org_query, org_name_ids
from blueprints.regions.models import Region
from blueprints.volunteers import ledger
from blueprints.volunteers.models import (Membership, Quality, RecordSource, RecordStatus, Volunteer,
                                          VolunteerStatus)
from core import cache, scope
from core.audit import record_change
from core.extensions import db
from core.timeutil import local_today, utcnow
from core.validators import BUSINESS_DATES, parse_date, parse_id

MAX_CAPACITY = 10000
SIGNUP_CANDIDATES = 20  # search results shown at once
SIGNUP_LIST_ALL = 300  # "all members" at once, for signing a whole team up


class ActivityError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- who may organize, and where -------------------------------------------------------------------

def organizer_orgs(user) -> list[Organization]:
    """Approved organizations in the user's scope: only they hold activities."""
    if not user.can_write:
        return []
    stmt = scope.scoped(select(Organization).where(Organization.status == OrgStatus.APPROVED),
                        Organization, user).order_by(Organization.name_pinyin)
    return list(db.session.scalars(stmt))


def can_organize(user) -> bool:
    """Whether the user has any organization that may hold activities (without loading them all)."""
    if not user.can_write:
        return False
    stmt = scope.scoped(select(Organization.id).where(Organization.status == OrgStatus.APPROVED),
                        Organization, user).limit(1)
    return db.session.scalar(stmt) is not None


def region_choices(user) -> list[Region]:
    """Regions an activity may be held in: those of the user's scope, in tree order."""
    stmt = scope.scoped(select(Region).where(Region.active.is_(True)), Region, user).order_by(Region.path)
    return list(db.session.scalars(stmt))


def filter_regions(user) -> list[tuple[int, str, str]]:
    """(id, name, level) of districts and towns for the list filter (communities would make it unreadable)."""
    stmt = scope.scoped(select(Region.id, Region.name, Region.level)
                        .where(Region.level.in_(["city", "district", "town"])), Region, user)
    return [(rid, name, str(level)) for rid, name, level in cache.local_rows(stmt.order_by(Region.path))]


def can_manage_org(user, org: Organization) -> bool:
    return bool(user.can_write) and scope.in_scope(user, org)


def can_manage(user, activity: Activity) -> bool:
    return bool(user.can_write) and scope.in_scope(user, activity)


# ---- create, edit, cancel --------------------------------------------------------------------------

@dataclass
class ActivityData:
    title: str
    organization_id: int | None
    held_on: date | None
    place: str
    category: Category | str
    region_id: int | None = None
    start_time: time | None = None
    end_time: time | None = None
    risky: bool = False
    description: str = ""
    capacity: int | None = None
    person_in_charge: str = ""
    station_id: int | None = None  # the station it takes place at (issue 18)
    project_id: int | None = None  # 项目库 (blueprints/projects)


def _check(user, data: ActivityData, activity: Activity | None = None) -> tuple[Organization, int | None]:
    title = (data.title or "").strip()
    if not title:
        raise ActivityError("请填写活动名称", "title")
    if len(title) > 128:
        raise ActivityError("活动名称最多 128 个字", "title")
    orgs = {o.id: o for o in organizer_orgs(user)}
    org = orgs.get(data.organization_id or 0)
    if org is None:
        raise ActivityError("请选择您所管理的、已登记的组织", "organization_id")
    if activity is not None and activity.organization_id != org.id and activity.participants:
        raise ActivityError("已有志愿者报名，不能更换组织单位（报名者须是组织单位的成员）", "organization_id")
    if data.held_on is None:
        raise ActivityError("请选择活动日期", "held_on")
    today = local_today()
    if data.held_on.year < 2000 or data.held_on > date(today.year + 2, 12, 31):
        raise ActivityError("活动日期不在可接受的范围内", "held_on")
    if data.start_time and data.end_time and data.end_time <= data.start_time:
        raise ActivityError("结束时间应晚于开始时间", "end_time")
    if data.end_time and not data.start_time:
        raise ActivityError("请先填写开始时间", "start_time")
    if not (data.place or "").strip():
        raise ActivityError("请填写活动地点", "place")
    try:
        Category(data.category)
    except ValueError:
        raise ActivityError("请选择活动类别", "category") from None
    region_id = data.region_id or org.region_id
    allowed = db.session.scalar(select(Region.id).where(Region.id == region_id, scope.scope_filter(Region, user)))
    if allowed is None and region_id != org.region_id:
        raise ActivityError("所选区域不在您的管辖范围内", "region_id")
    if data.capacity is not None:
        if not 1 <= data.capacity <= MAX_CAPACITY:
            raise ActivityError(f"招募人数应在 1 到 {MAX_CAPACITY} 之间；不限人数请留空", "capacity")
        if activity is not None and data.capacity < activity.participant_count:
            raise ActivityError(f"已有 {activity.participant_count} 人报名，招募人数不能少于已报名人数", "capacity")
    if (data.station_id and not (activity is not None and data.station_id == activity.station_id)
            and data.station_id not in {s.id for s in station_choices([org])}):
        raise ActivityError("所选站点须为组织单位所在区域内运行中的志愿服务站", "station_id")
    if data.project_id and (activity is None or data.project_id != activity.project_id):
        from blueprints.projects.services import project_refusal  # projects build on activities

        refusal = project_refusal(user, data.project_id, org.id)
        if refusal:
            raise ActivityError(refusal, "project_id")
    return org, region_id


def station_choices(orgs: list[Organization]) -> list:
    """Stations the activities of these organizations may take place at: running ones in an
    organization's region (a city-level organization: the whole city) or managed by it. One query."""
    from blueprints.stations.models import Station

    if not orgs:
        return []
    paths = sorted({p for (p,) in db.session.execute(
        select(Region.path).where(Region.id.in_({o.region_id for o in orgs if o.region_id})))})
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]  # no nested subtrees
    in_regions = select(Region.id).where(or_(*[Region.path.startswith(p) for p in tops])) if tops else None
    where = Station.organization_id.in_([o.id for o in orgs])
    if in_regions is not None:
        where = or_(where, Station.region_id.in_(in_regions))
    stmt = select(Station).where(Station.active.is_(True), where).order_by(Station.district_id, Station.name)
    return list(db.session.scalars(stmt.limit(2000)))


def _apply(activity: Activity, data: ActivityData, org: Organization, region_id: int | None) -> None:
    activity.title = data.title.strip()
    activity.organization_id = org.id
    activity.organization = org
    activity.region_id = region_id
    activity.held_on = data.held_on
    activity.start_time, activity.end_time = data.start_time, data.end_time
    activity.place = data.place.strip()
    activity.category = Category(data.category)
    activity.risky = bool(data.risky)
    activity.description = (data.description or "").strip()
    activity.capacity = data.capacity
    activity.person_in_charge = (data.person_in_charge or "").strip()
    activity.station_id = data.station_id or None
    activity.project_id = data.project_id or None


def create_activity(user, data: ActivityData) -> Activity:
    org, region_id = _check(user, data)
    activity = Activity(created_by_id=user.id, status=ActivityStatus.OPEN, participant_count=0)
    _apply(activity, data, org, region_id)
    db.session.add(activity)
    db.session.flush()
    return activity


def update_activity(user, activity: Activity, data: ActivityData) -> None:
    if activity.status != ActivityStatus.OPEN:
        raise ActivityError("已取消的活动不能修改，请先恢复", "title")
    org, region_id = _check(user, data, activity)
    if data.held_on != activity.held_on and _records_of(activity):
        raise ActivityError("已记录考勤的活动不能更改日期（服务记录按活动日期记账）", "held_on")
    from blueprints.activities import recruitment

    before = recruitment.snapshot(activity)
    _apply(activity, data, org, region_id)
    db.session.flush()
    recruitment.notify_changed(activity, before)  # issue 17: those signed up hear of a new date, time or place


def _records_of(activity: Activity) -> list[Participant]:
    return [p for p in activity.participants if p.record_id is not None]


def transition(user, activity: Activity, action: str, reason: str = "") -> None:
    """The activity's small state machine: open → cancelled (with a reason) → open again."""
    if action == "cancel":
        if activity.status != ActivityStatus.OPEN:
            raise ActivityError("该活动已取消", "reason")
        reason = (reason or "").strip()
        if not reason:
            raise ActivityError("请填写取消原因", "reason")
        if len(reason) > 200:
            raise ActivityError("取消原因最多 200 个字", "reason")
        if _records_of(activity):
            raise ActivityError("已记录考勤的活动不能取消；请先清除考勤（已审核的记录须在台账中作废）", "reason")
        activity.status, activity.cancel_reason, activity.cancelled_at = ActivityStatus.CANCELLED, reason, utcnow()
        db.session.flush()
        record_change("cancel", activity, f"取消原因：{reason}", user=user)
        from blueprints.activities import recruitment

        recruitment.notify_cancelled(activity)
    elif action == "reopen":
        if activity.status != ActivityStatus.CANCELLED:
            raise ActivityError("该活动未取消", "reason")
        activity.status, activity.cancel_reason, activity.cancelled_at = ActivityStatus.OPEN, "", None
        db.session.flush()
        record_change("restore", activity, "恢复活动", user=user)
    else:
        raise ActivityError("不支持的操作", "reason")


# ---- the list --------------------------------------------------------------------------------------

@dataclass
class ListFilters:
    q: str = ""
    org: int | None = None
    orgq: str = ""  # part of an organization's name (when there are too many for a select)
    region: int | None = None
    category: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "ListFilters":
        def as_int(name):
            return parse_id(args.get(name))

        def as_date(name, label):
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            d = parse_date(raw)
            if d is None:
                lo, hi = BUSINESS_DATES.bounds()
                f.errors.append(f"{label}应为 {lo:%Y-%m-%d} 至 {hi:%Y-%m-%d} 之间的日期（YYYY-MM-DD），已忽略")
            return d

        f = cls()
        f.q = (args.get("q") or "").strip().replace("\x00", "")[:50]
        f.org, f.region = as_int("org"), as_int("region")
        f.orgq = clean_org_query(args)
        category = args.get("category", "")
        f.category = category if category in {c.value for c in Category} else ""
        status = args.get("status", "")
        f.status = status if status in {s.value for s in ActivityStatus} else ""
        f.date_from, f.date_to = as_date("from", "开始日期"), as_date("to", "结束日期")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors.append("开始日期晚于结束日期，已互换")
            f.date_from, f.date_to = f.date_to, f.date_from
        return f

    def args(self) -> dict:
        out = {"q": self.q, "org": self.org or "", "orgq": self.orgq, "region": self.region or "",
               "category": self.category,
               "status": self.status, "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v != ""}


def list_query(user, f: ListFilters):
    stmt = scope.scoped(select(Activity), Activity, user)
    if f.q:
        stmt = stmt.where(or_(Activity.title.contains(f.q, autoescape=True),
                              Activity.place.contains(f.q, autoescape=True)))
    if f.org:
        stmt = stmt.where(Activity.organization_id == f.org)
    if f.orgq:
        stmt = stmt.where(Activity.organization_id.in_(org_name_ids(f.orgq)))
    if f.region:
        stmt = stmt.where(Activity.region_id.in_(scope.region_subtree_ids(f.region)))
    if f.category:
        stmt = stmt.where(Activity.category == f.category)
    if f.status:
        stmt = stmt.where(Activity.status == f.status)
    if f.date_from:
        stmt = stmt.where(Activity.held_on >= f.date_from)
    if f.date_to:
        stmt = stmt.where(Activity.held_on <= f.date_to)
    return stmt.options(selectinload(Activity.organization), selectinload(Activity.region)).order_by(
        Activity.held_on.desc(), Activity.id.desc())


# ---- sign-up -------------------------------------------------------------------------------------

def _require_open(activity: Activity, field_name: str = "volunteer_id") -> None:
    if activity.status != ActivityStatus.OPEN:
        raise ActivityError("活动已取消，不能报名或记录考勤", field_name)


def seats_left(activity: Activity) -> int | None:
    if activity.capacity is None:
        return None
    return max(0, activity.capacity - activity.participant_count)


def is_last4(q: str) -> bool:
    return len(q) == 4 and all(ch.isdigit() or ch in "xX" for ch in q)


def candidates(activity: Activity, q: str, limit: int = SIGNUP_CANDIDATES) -> tuple[list[Volunteer], str]:
    """Active members of the organizing organization not yet signed up, by name or the last four
    characters of the ID number (a full number is never a search key). Returns (volunteers, hint)."""
    q = (q or "").strip().replace(" ", "").replace("\x00", "")[:20]
    stmt = (select(Volunteer)
            .join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == activity.organization_id,
                   Volunteer.status == VolunteerStatus.ACTIVE, Membership.dismissed_on.is_(None),
                   Volunteer.id.not_in(select(Participant.volunteer_id)
                                       .where(Participant.activity_id == activity.id,
                                              Participant.signup_status.in_(HOLDS_PLACE)))))
    hint = ""
    if q:
        if is_last4(q):
            stmt = stmt.where(Volunteer.last4_matches(q))
        elif q.isdigit() or (len(q) > 4 and all(ch.isdigit() or ch in "xX" for ch in q)):
            return [], "按证件号查找时，请只输入后 4 位。"
        else:
            stmt = stmt.where(Volunteer.name.contains(q, autoescape=True))
    stmt = stmt.order_by(Volunteer.name_pinyin, Volunteer.id).limit(limit)
    return list(db.session.scalars(stmt)), hint


def sign_up(user, activity: Activity, volunteer_ids: list[int]) -> list[Participant]:
    """Sign up one or more members of the organizing organization; all or nothing."""
    _require_open(activity)
    ids = list(dict.fromkeys(i for i in volunteer_ids if i))
    if not ids:
        raise ActivityError("请选择要报名的志愿者", "volunteer_id")
    members = {v.id: v for v in db.session.scalars(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Volunteer.id.in_(ids), Membership.organization_id == activity.organization_id))}
    missing = [i for i in ids if i not in members]
    if missing:
        raise ActivityError("只能为组织单位的成员报名", "volunteer_id")
    # 劝退 (001 第五条) and minors (001 附件4 第二条): the one check every path runs (eligibility.py).
    refused = [f"{members[i].name}：{r}" for i in ids if (r := refusal(members[i], activity))]
    if refused:
        raise ActivityError("；".join(refused[:5]) + (" 等" if len(refused) > 5 else ""), "volunteer_id")
    rows = {p.volunteer_id: p for p in db.session.scalars(select(Participant).where(
        Participant.activity_id == activity.id, Participant.volunteer_id.in_(ids)))}
    already = {vid for vid, p in rows.items() if p.holds_place}
    if already:
        names = "、".join(members[i].name for i in ids if i in already)
        raise ActivityError(f"{names} 已报名", "volunteer_id")
    # Count from the table, not the cached column: two organizers may sign up at the same time.
    count = places_taken(activity)
    if activity.capacity is not None and count + len(ids) > activity.capacity:
        left = max(0, activity.capacity - count)
        raise ActivityError(f"报名人数已满（招募 {activity.capacity} 人，还可报名 {left} 人）", "volunteer_id")
    added = []
    for i in ids:  # one who cancelled or was declined on the platform is signed up again in their row
        p = rows.get(i) or Participant(activity=activity, volunteer=members[i])
        p.signup_status, p.signed_up_at = SignupStatus.ACCEPTED, utcnow()
        added.append(p)
    db.session.add_all(added)
    activity.participant_count = count + len(ids)
    db.session.flush()
    names = "、".join(f"{p.volunteer.name}（{p.volunteer.number}）" for p in added)
    record_change("enroll", activity, f"报名 {len(added)} 人：{names}"[:500], user=user)
    return added


def places_taken(activity: Activity) -> int:
    """Sign-ups holding a place (pending or accepted; issue 17 adds declined and cancelled ones)."""
    return db.session.scalar(select(func.count()).where(
        Participant.activity_id == activity.id, Participant.signup_status.in_(HOLDS_PLACE))) or 0


def remove_participant(user, participant: Participant) -> None:
    activity = participant.activity
    if participant.record_id is not None:
        raise ActivityError("该志愿者已记录考勤，请先清除考勤再移除", "volunteer_id")
    name = f"{participant.volunteer.name}（{participant.volunteer.number}）"
    db.session.delete(participant)
    db.session.flush()
    activity.participant_count = places_taken(activity)
    db.session.flush()
    record_change("unenroll", activity, f"取消报名：{name}", user=user)


# ---- attendance ----------------------------------------------------------------------------------

def record_content(activity: Activity) -> str:
    return f"参加志愿服务活动“{activity.title}”（{activity.place}）"[:500]


def can_record_attendance(activity: Activity) -> bool:
    return activity.status == ActivityStatus.OPEN and activity.held_on <= local_today()


def record_attendance(user, participant: Participant, hours, quality: Quality | str = Quality.GOOD,
                      flush: bool = True) -> None:
    """Record one participant's hours: creates their pending service record or updates it.

    Blank or "0" hours mark the participant absent and remove a pending record. The ledger checks
    (hours > 0, ≤ 24 h a day for the person, date not in the future nor before registration) run
    before anything changes, so a refused row leaves nothing half-saved.
    """
    activity = participant.activity
    _require_open(activity, "hours")
    try:
        quality = Quality(quality)
    except ValueError:
        raise ActivityError("请选择服务质量", "quality") from None
    if participant.signup_status != SignupStatus.ACCEPTED:
        raise ActivityError("该报名未录用，不能记录考勤", "hours")
    raw_hours = "" if hours is None else str(hours).strip()
    if raw_hours not in ("", "0", "0.0") and participant.record is None:
        if found := refusal(participant.volunteer, activity, participant.guardian_present):
            raise ActivityError(found, "hours")
    record = participant.record
    if record is not None and record.status != RecordStatus.PENDING:
        raise ActivityError("该记录已审核，不能在考勤表中修改；如有错误请在服务台账中更正", "hours")
    raw = "" if hours is None else str(hours).strip()
    if raw in ("", "0", "0.0"):
        if record is not None:
            ledger.delete_record(user, record)  # also unlinks the participant
        participant.record_id, participant.record = None, None
        participant.attended, participant.hours = False, None
        db.session.flush()
        return
    try:
        if record is None:
            org = activity.organization
            record = ledger.create_record(user, participant.volunteer, org, activity.held_on, raw,
                                          record_content(activity), quality, activity=activity,
                                          source=RecordSource.ATTENDANCE)
        else:
            ledger.update_record(user, record, activity.held_on, raw, record.content, quality)
    except ledger.LedgerError as e:
        raise ActivityError(e.message, "hours" if e.field in (None, "hours", "service_date") else e.field) from None
    participant.record = record
    participant.attended, participant.hours, participant.quality = True, record.hours, quality
    if flush:
        db.session.flush()


def record_all(user, activity: Activity, hours) -> tuple[int, dict[int, str]]:
    """"全部出勤 N 小时": every participant whose attendance is not recorded yet gets N hours (rows
    already recorded or marked absent keep what was set; change those in their row). Each row stands
    alone: a refused row stays unrecorded with its message; the others are saved."""
    _require_open(activity, "hours")
    if activity.held_on > local_today():
        raise ActivityError("活动尚未举行，不能记录考勤", "hours")
    try:
        ledger.parse_hours(hours)
    except ledger.LedgerError as e:
        raise ActivityError(e.message, "hours") from None
    participants = db.session.scalars(
        select(Participant).where(Participant.activity_id == activity.id)
        .options(selectinload(Participant.record),
                 selectinload(Participant.volunteer).selectinload(Volunteer.memberships))
        .order_by(Participant.id)).all()
    todo = [p for p in participants if p.record is None and p.attended is not False
            and p.signup_status == SignupStatus.ACCEPTED]
    errors = {p.id: r for p in todo if (r := refusal(p.volunteer, activity, p.guardian_present))}
    todo = [p for p in todo if p.id not in errors]
    # rows already recorded (or marked absent) keep what the organizer set. The ledger checks the
    # whole sheet with one 24-hour query and one flush (100 rows in one request).
    made, refused = ledger.create_records(
        user, activity.organization, activity.held_on,
        [(p.volunteer, hours, p.quality or Quality.GOOD) for p in todo], record_content(activity),
        activity=activity, source=RecordSource.ATTENDANCE)
    errors.update({todo[i].id: err.message for i, err in refused.items()})
    for i, record in made.items():
        p = todo[i]
        p.record = record
        p.attended, p.hours, p.quality = True, record.hours, record.quality
    db.session.flush()
    return len(made), errors


@dataclass
class AttendanceSummary:
    signed_up: int
    recorded: int
    absent: int
    pending: int
    verified: int
    hours: Decimal


def attendance_summary(activity: Activity) -> AttendanceSummary:
    ps = activity.participants
    records = [p.record for p in ps if p.record is not None]
    return AttendanceSummary(
        signed_up=sum(1 for p in ps if p.holds_place), recorded=len(records), absent=sum(1 for p in ps if p.attended is False),
        pending=sum(1 for r in records if r.status == RecordStatus.PENDING),
        verified=sum(1 for r in records if r.status == RecordStatus.VERIFIED),
        hours=sum((r.hours for r in records if r.status != RecordStatus.VOID), Decimal(0)),
    )


def participants_of(activity: Activity) -> list[Participant]:
    """The attendance grid: accepted and pending sign-ups (declined and cancelled ones show in the
    recruitment roster only)."""
    return list(db.session.scalars(
        select(Participant).where(Participant.activity_id == activity.id, Participant.signup_status.in_(HOLDS_PLACE))
        .options(selectinload(Participant.volunteer), selectinload(Participant.record))
        .order_by(Participant.id)))


def recent_of_org(user, org: Organization, limit: int = 8) -> tuple[list[Activity], int]:
    """An organization's latest activities in the user's scope, and how many it has held."""
    stmt = scope.scoped(select(Activity).where(Activity.organization_id == org.id), Activity, user)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(db.session.scalars(stmt.order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit)))
    return items, total


# ---- export of the list (issue 15: what the current filters show) ------------------------------------

EXPORT_HEADERS = ["日期", "开始", "结束", "活动名称", "组织单位", "区域", "地点", "类别", "有风险", "报名人数", "名额", "状态"]
EXPORT_WIDTHS = [12, 7, 7, 32, 30, 14, 28, 10, 7, 9, 7, 8]


def export_rows(user, f: ListFilters) -> list[list]:
    from core.exports import EXPORT_ROW_LIMIT, capped_rows

    hhmm = lambda t: t.strftime("%H:%M") if t else ""  # noqa: E731
    return capped_rows(
        [a.held_on, hhmm(a.start_time), hhmm(a.end_time), a.title, a.organization.name,
         a.region.name if a.region else "", a.place, a.category.label, "是" if a.risky else "",
         a.participant_count, a.capacity, a.status.label]
        for a in db.session.scalars(list_query(user, f).limit(EXPORT_ROW_LIMIT + 1)))
