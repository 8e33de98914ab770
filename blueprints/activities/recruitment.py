"""Recruitment on the platform (issue 17): an activity published with its conditions, volunteers who
sign themselves up and cancel, the organization's acceptance, in-app notifications (accepted, declined,
changed, cancelled, the day-before reminder) and the volunteers' ratings.

Places are claimed with one conditional UPDATE (`participant_count < capacity`), so two concurrent
sign-ups can never both take the last place (SQLite serializes writers; PostgreSQL locks the row for
the UPDATE and re-checks the condition). Services flush; the route commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from blueprints.activities.models import (HOLDS_PLACE, Activity, ActivityStatus, Category, MakeupStatus, Participant,
                                          RecruitScope, SignupStatus)
from blueprints.activities.eligibility import ADULT_AGE, age_at, dismissal_refusal, minor_refusal, refusal
from blueprints.activities.services import ActivityError, can_manage
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region, RegionLevel
from blueprints.volunteers.models import SKILLS, Volunteer, VolunteerStatus
from core import scope
from core.audit import record_change
from core.cache import refresher as cache_refresher
from core.extensions import db
from core.timeutil import LOCAL_TZ, local_today, to_local, utcnow

MAX_AGE = 100


def local_to_utc(day: date, t: time) -> datetime:
    """A local (Asia/Shanghai) wall-clock time as the naive UTC the database stores."""
    return datetime.combine(day, t, LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def starts_at(activity: Activity) -> datetime:
    """When the activity starts (UTC): its start time, or the start of its day."""
    return local_to_utc(activity.held_on, activity.start_time or time.min)


def ends_at(activity: Activity) -> datetime:
    return local_to_utc(activity.held_on, activity.end_time or time(23, 59))


def deadline_of(activity: Activity) -> datetime:
    """Sign-up closes at the deadline set, or when the activity ends (a volunteer may still join one
    that is under way, and check in on the spot)."""
    return activity.signup_deadline or ends_at(activity)


def signup_open(activity: Activity, now: datetime | None = None) -> bool:
    return (activity.recruiting and activity.status == ActivityStatus.OPEN
            and (now or utcnow()) < deadline_of(activity))


# ---- publishing ---------------------------------------------------------------------------------

@dataclass
class RecruitData:
    open_to: RecruitScope | str = RecruitScope.MEMBERS
    min_age: int | None = None
    max_age: int | None = None
    skills: list[str] | None = None
    minors: bool = False
    deadline_day: date | None = None
    deadline_time: time | None = None
    auto_accept: bool = False


def publish(user, activity: Activity, data: RecruitData) -> None:
    """Publish (or change) the activity's recruitment. Minors are never recruited for risky service
    (001 附件4), and an age range below 18 needs minors allowed."""
    if not can_manage(user, activity):
        raise ActivityError("您不能管理该活动的招募", "open_to")
    if activity.status != ActivityStatus.OPEN:
        raise ActivityError("已取消的活动不能发布招募", "open_to")
    if activity.held_on < local_today():
        raise ActivityError("活动已经举行，不能再发布招募", "open_to")
    try:
        open_to = RecruitScope(data.open_to)
    except ValueError:
        raise ActivityError("请选择招募范围", "open_to") from None
    for value, name in ((data.min_age, "min_age"), (data.max_age, "max_age")):
        if value is not None and not 1 <= value <= MAX_AGE:
            raise ActivityError(f"年龄应在 1 到 {MAX_AGE} 岁之间；不限请留空", name)
    if data.min_age is not None and data.max_age is not None and data.min_age > data.max_age:
        raise ActivityError("最低年龄不能高于最高年龄", "max_age")
    skills = list(dict.fromkeys(s for s in (data.skills or []) if s))
    unknown = [s for s in skills if s not in SKILLS]
    if unknown:
        raise ActivityError("请从列表中选择技能", "skills")
    if data.minors and activity.risky:
        raise ActivityError("有风险的志愿服务不得招募未成年人（需为参与者购买人身保险）", "minors")
    if data.min_age is not None and data.min_age < ADULT_AGE:
        if activity.risky:
            raise ActivityError("有风险的志愿服务不得招募未成年人，最低年龄应不低于 18 岁", "min_age")
        if not data.minors:
            raise ActivityError("最低年龄低于 18 岁时，请勾选“允许未成年人参加”", "minors")
    if data.max_age is not None and data.max_age < ADULT_AGE and not data.minors:
        raise ActivityError("最高年龄低于 18 岁时，请勾选“允许未成年人参加”", "minors")
    deadline = None
    if data.deadline_day is not None:
        deadline = local_to_utc(data.deadline_day, data.deadline_time or time(23, 59))
        if deadline > ends_at(activity):
            raise ActivityError("报名截止时间不能晚于活动结束时间", "deadline_day")
    elif data.deadline_time is not None:
        raise ActivityError("请同时选择报名截止日期", "deadline_day")
    was = activity.recruiting
    activity.recruiting, activity.recruit_open_to = True, open_to
    activity.recruit_min_age, activity.recruit_max_age = data.min_age, data.max_age
    activity.recruit_skills = ",".join(skills)
    activity.recruit_minors, activity.auto_accept = bool(data.minors), bool(data.auto_accept)
    activity.signup_deadline = deadline
    if not was:
        activity.published_at = utcnow()
    db.session.flush()
    record_change("publish", activity, "发布招募" if not was else "修改招募条件", user=user)


def unpublish(user, activity: Activity) -> None:
    if not can_manage(user, activity):
        raise ActivityError("您不能管理该活动的招募")
    if not activity.recruiting:
        raise ActivityError("该活动未在招募")
    activity.recruiting = False
    db.session.flush()
    record_change("withdraw", activity, "停止招募", user=user)


# ---- conditions -----------------------------------------------------------------------------------

def _district_of(region_id: int | None) -> int | None:
    if region_id is None:
        return None
    return db.session.scalar(select(Region.district_id).where(Region.id == region_id))


def is_member(volunteer: Volunteer, activity: Activity) -> bool:
    return activity.organization_id in {m.organization_id for m in volunteer.memberships}


def problems(volunteer: Volunteer, activity: Activity, guardian_present: bool = False,
             now: datetime | None = None) -> list[str]:
    """Why this volunteer cannot sign up (empty: they can). Checked on the server at sign-up."""
    out = []
    if not activity.recruiting or activity.status != ActivityStatus.OPEN:
        return ["该活动未在招募"]
    if not signup_open(activity, now):
        out.append("报名已截止")
    dismissed = dismissal_refusal(volunteer, activity.organization_id)  # 劝退 (001 附件4 第五条): eligibility.py
    if dismissed:
        out.append(f"您{dismissed}")
    elif volunteer.status != VolunteerStatus.ACTIVE:
        out.append("您的志愿者身份已停止，不能报名")
    if activity.recruit_open_to == RecruitScope.MEMBERS and not is_member(volunteer, activity):
        out.append("该活动仅限本组织成员报名")
    elif activity.recruit_open_to == RecruitScope.DISTRICT and not is_member(volunteer, activity):
        home = _district_of(volunteer.region_id)
        if home is None or home != _district_of(activity.region_id or activity.organization.region_id):
            out.append("该活动面向活动所在区的志愿者，您的居住区域不在该区")
    age = age_at(volunteer, activity)
    if activity.recruit_min_age is not None and age < activity.recruit_min_age:
        out.append(f"该活动要求年满 {activity.recruit_min_age} 岁")
    if activity.recruit_max_age is not None and age > activity.recruit_max_age:
        out.append(f"该活动要求年龄不超过 {activity.recruit_max_age} 岁")
    if age < ADULT_AGE:  # the seed's rule in eligibility.minor_refusal; recruiting minors at all is the organizer's choice
        minor = minor_refusal(volunteer, activity, guardian_present)
        if minor:
            out.append(minor)
        elif not activity.recruit_minors:
            out.append("该活动不招募未成年人")
    missing = [s for s in activity.skill_list if s not in set(volunteer.skills)]
    if missing:
        out.append(f"该活动需要技能：{'、'.join(missing)}")
    return out


# ---- sign-up -------------------------------------------------------------------------------------

def own_participant(user, activity: Activity) -> Participant | None:
    return db.session.scalar(scope.scoped(select(Participant).where(Participant.activity_id == activity.id),
                                          Participant, user))


def _claim_place(activity: Activity) -> bool:
    """Take one place if one is left: one conditional UPDATE, atomic under concurrent sign-ups."""
    result = db.session.execute(
        update(Activity).where(Activity.id == activity.id,
                               or_(Activity.capacity.is_(None), Activity.participant_count < Activity.capacity))
        .values(participant_count=Activity.participant_count + 1).execution_options(synchronize_session=False))
    db.session.expire(activity, ["participant_count"])
    return result.rowcount == 1


def _release_place(activity: Activity) -> None:
    db.session.execute(update(Activity).where(Activity.id == activity.id, Activity.participant_count > 0)
                       .values(participant_count=Activity.participant_count - 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(activity, ["participant_count"])


def sign_up_self(user, activity: Activity, guardian_present: bool = False) -> Participant:
    """The volunteer signs up: conditions, then a place; accepted at once when the activity accepts
    automatically, otherwise waiting for the organization."""
    volunteer = db.session.get(Volunteer, user.volunteer_id or 0)
    if volunteer is None:
        raise ActivityError("您的账号未关联志愿者档案")
    p = own_participant(user, activity)
    if p is not None and p.holds_place:
        raise ActivityError("您已报名该活动")
    if p is not None and p.signup_status == SignupStatus.DECLINED:
        raise ActivityError("组织未录用您的报名，不能再次报名")
    found = problems(volunteer, activity, guardian_present)
    if found:
        raise ActivityError("；".join(found))
    if not _claim_place(activity):
        raise ActivityError("名额已满")
    status = SignupStatus.ACCEPTED if activity.auto_accept else SignupStatus.PENDING
    if p is None:
        p = Participant(activity_id=activity.id, volunteer_id=volunteer.id)
        db.session.add(p)
    p.signup_status, p.via_portal, p.guardian_present = status, True, bool(guardian_present)
    p.signed_up_at, p.decided_at = utcnow(), (utcnow() if status == SignupStatus.ACCEPTED else None)
    db.session.flush()
    record_change("enroll", activity, f"{volunteer.name}（{volunteer.number}）在平台报名", user=user)
    if status == SignupStatus.ACCEPTED:
        notify_volunteers([p], f"报名成功：{activity.title}", _when(activity), activity)
    else:
        notify_organizers(activity.organization_id)
    return p


def cancel_self(user, p: Participant) -> None:
    """The volunteer cancels their sign-up before the deadline (and before checking in)."""
    activity = p.activity
    if not p.holds_place:
        raise ActivityError("该报名已取消或未被录用")
    if p.checkin_at is not None or p.record_id is not None:
        raise ActivityError("您已签到，不能取消报名")
    if utcnow() >= deadline_of(activity):
        raise ActivityError("报名已截止，不能在平台上取消；如不能参加请联系组织")
    p.signup_status, p.decided_at = SignupStatus.CANCELLED, utcnow()
    _release_place(activity)
    db.session.flush()
    record_change("unenroll", activity, f"{p.volunteer.name}（{p.volunteer.number}）取消报名", user=user)


def decide(user, p: Participant, accept: bool) -> None:
    """The organization accepts or declines a pending sign-up; declining frees the place."""
    activity = p.activity
    if not can_manage(user, activity):
        raise ActivityError("您不能审核该活动的报名")
    if p.signup_status != SignupStatus.PENDING:
        raise ActivityError("该报名已处理")
    if accept and (found := refusal(p.volunteer, activity, p.guardian_present)):  # e.g. 劝退 since the sign-up
        raise ActivityError(f"不能录用：{found}")
    p.signup_status = SignupStatus.ACCEPTED if accept else SignupStatus.DECLINED
    p.decided_at = utcnow()
    if not accept:
        _release_place(activity)
    db.session.flush()
    record_change("accept" if accept else "reject", activity,
                  f"{'录用' if accept else '未录用'}：{p.volunteer.name}（{p.volunteer.number}）", user=user)
    if accept:
        notify_volunteers([p], f"报名已录用：{activity.title}", _when(activity), activity)
    else:
        notify_volunteers([p], f"报名未录用：{activity.title}", "感谢您的报名，欢迎关注其他招募活动。", activity)


def pending_query(user):
    """Sign-ups and 补签 requests waiting for the organization, in the user's scope (the queue)."""
    return (scope.scoped(select(Participant), Participant, user)
            .join(Activity, Activity.id == Participant.activity_id)
            .where(Activity.status == ActivityStatus.OPEN,
                   or_(Participant.signup_status == SignupStatus.PENDING,
                       Participant.makeup_status == MakeupStatus.REQUESTED))
            .options(selectinload(Participant.volunteer), selectinload(Participant.activity)
                     .selectinload(Activity.organization))
            .order_by(Activity.held_on, Participant.id))


def my_signups(user) -> list[Participant]:
    return list(db.session.scalars(
        scope.scoped(select(Participant), Participant, user).join(Activity, Activity.id == Participant.activity_id)
        .options(selectinload(Participant.activity).selectinload(Activity.organization),
                 selectinload(Participant.record))
        .order_by(Activity.held_on.desc(), Participant.id.desc()).limit(100)))


# ---- notifications --------------------------------------------------------------------------------

def _when(activity: Activity) -> str:
    return f"{activity.held_on:%Y-%m-%d} {activity.time_label} · {activity.place}".strip()


def volunteer_users(volunteer_ids) -> list:
    from blueprints.accounts.models import User, UserStatus, VolunteerAccount

    ids = list(set(volunteer_ids))
    if not ids:
        return []
    return list(db.session.scalars(select(User).join(VolunteerAccount, VolunteerAccount.user_id == User.id)
                                   .where(VolunteerAccount.volunteer_id.in_(ids), User.status == UserStatus.ACTIVE)))


def notify_volunteers(participants: list[Participant], title: str, body: str, activity: Activity) -> int:
    """In-app notifications (the platform's one Notification table) to the participants' accounts."""
    from blueprints.reports.services import _path, notify

    users = volunteer_users(p.volunteer_id for p in participants)
    if users:
        notify(users, title, body, _path("portal.activity", activity_id=activity.id))
    return len(users)


def notify_organizers(org_id: int) -> None:
    """Sign-ups wait in 报名审核: the organization's leaders get one message a day, kept up to date with
    the count (as the ledger tells them of records to verify)."""
    from blueprints.reports.models import Notification
    from blueprints.reports.services import _path, notify, org_leaders

    count = db.session.scalar(select(func.count(Participant.id)).join(Activity, Activity.id == Participant.activity_id)
                              .where(Activity.organization_id == org_id,
                                     Participant.signup_status == SignupStatus.PENDING)) or 0
    if not count:
        return
    url, title = _path("activities.signups"), f"有 {count} 条志愿者报名待您审核"
    day_start = local_to_utc(local_today(), time.min)
    for u in org_leaders([org_id]).get(org_id, []):
        note = db.session.scalar(select(Notification).where(
            Notification.user_id == u.id, Notification.url == url, Notification.created_at >= day_start)
            .order_by(Notification.id.desc()).limit(1))
        if note is not None:
            note.title = title
        else:
            notify([u], title, "在“报名审核”中录用或不录用。", url)
    db.session.flush()


def holders(activity: Activity) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(
        Participant.activity_id == activity.id, Participant.signup_status.in_(HOLDS_PLACE))))


CHANGE_FIELDS = ("held_on", "start_time", "end_time", "place")


def snapshot(activity: Activity) -> tuple:
    return tuple(getattr(activity, f) for f in CHANGE_FIELDS)


def notify_changed(activity: Activity, before: tuple) -> int:
    """Date, time or place changed: everyone holding a place hears it."""
    if before == snapshot(activity):
        return 0
    return notify_volunteers(holders(activity), f"活动有变更：{activity.title}", f"现为 {_when(activity)}", activity)


def notify_cancelled(activity: Activity) -> int:
    return notify_volunteers(holders(activity), f"活动已取消：{activity.title}",
                             f"取消原因：{activity.cancel_reason}", activity)


def send_reminders(today: date | None = None) -> int:
    """The day-before reminder: each accepted participant of tomorrow's open activities, once."""
    today = today or local_today()
    rows = list(db.session.scalars(
        select(Participant).join(Activity, Activity.id == Participant.activity_id)
        .where(Activity.held_on == today + timedelta(days=1), Activity.status == ActivityStatus.OPEN,
               Participant.signup_status == SignupStatus.ACCEPTED, Participant.reminded_on.is_(None))
        .options(selectinload(Participant.activity))))
    sent = 0
    for p in rows:
        sent += notify_volunteers([p], f"明天参加活动：{p.activity.title}",
                                  f"{_when(p.activity)}。到场后请扫描现场二维码签到。", p.activity)
        p.reminded_on = today
    db.session.flush()
    return sent


# ---- rating ---------------------------------------------------------------------------------------

def can_rate(p: Participant) -> bool:
    attended = p.checkout_at is not None or p.attended is True
    return attended and p.activity.held_on <= local_today()


def rate(user, p: Participant, score, comment: str = "") -> None:
    """A volunteer rates an activity they attended (1–5 and a comment); a new rating replaces theirs."""
    if not can_rate(p):
        raise ActivityError("参加活动（签退或记录考勤）后才能评价", "rating")
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ActivityError("请选择 1 到 5 分", "rating") from None
    if not 1 <= score <= 5:
        raise ActivityError("请选择 1 到 5 分", "rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ActivityError("评价最多 500 个字", "comment")
    p.rating, p.rating_comment, p.rated_at = score, comment, utcnow()
    db.session.flush()


@dataclass
class RatingSummary:
    count: int
    average: Decimal | None


def rating_summary(activity: Activity) -> RatingSummary:
    count, avg = db.session.execute(select(func.count(Participant.rating), func.avg(Participant.rating)).where(
        Participant.activity_id == activity.id, Participant.rating.is_not(None))).one()
    return RatingSummary(count or 0, Decimal(str(avg)).quantize(Decimal("0.1")) if avg is not None else None)


def recent_comments(activity: Activity, limit: int = 10) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(
        Participant.activity_id == activity.id, Participant.rating.is_not(None))
        .order_by(Participant.rated_at.desc()).limit(limit)))


# ---- the public list ------------------------------------------------------------------------------

@dataclass
class PublicFilters:
    region: int | None = None
    category: str = ""
    skill: str = ""
    day_from: date | None = None

    @classmethod
    def from_args(cls, args) -> "PublicFilters":
        from core.validators import parse_date, parse_id

        f = cls(region=parse_id(args.get("region")))
        category = args.get("category", "")
        f.category = category if category in {c.value for c in Category} else ""
        skill = args.get("skill", "")
        f.skill = skill if skill in SKILLS else ""
        raw = (args.get("from") or "").strip()
        f.day_from = parse_date(raw) if raw else None
        return f


def public_regions() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.scalars(
        select(Region).where(Region.level.in_([RegionLevel.DISTRICT, RegionLevel.TOWN]), Region.active.is_(True))
        .order_by(Region.path))]


def public_query(f: PublicFilters):
    """Published, open activities from today on. Public by design (issue 17: "a public, mobile list"):
    the list shows activities only, no person."""
    stmt = (select(Activity).where(Activity.recruiting.is_(True), Activity.status == ActivityStatus.OPEN,
                                   Activity.held_on >= max(local_today(), f.day_from or local_today()))
            .options(selectinload(Activity.organization), selectinload(Activity.region)))
    if f.region:
        stmt = stmt.where(Activity.region_id.in_(scope.region_subtree_ids(f.region)))
    if f.category:
        stmt = stmt.where(Activity.category == f.category)
    if f.skill:
        stmt = stmt.where(Activity.recruit_skills.contains(f.skill, autoescape=True))
    return stmt.order_by(Activity.held_on, Activity.start_time, Activity.id)


def public_activity_or_404(activity_id: int, user=None) -> Activity:
    """An activity the public may see (published for recruitment), or one the volunteer `user` is
    signed up for (an organizer may sign members up, and check-in works for every activity)."""
    from flask import abort

    a = db.session.get(Activity, activity_id) if 0 < activity_id < 2**31 else None
    if a is None:
        abort(404)
    if a.published_at is None and (user is None or not getattr(user, "is_authenticated", False)
                                   or own_participant(user, a) is None):
        abort(404)
    return a


def local_time_label(value: datetime | None) -> str:
    return f"{to_local(value):%m-%d %H:%M}" if value else ""


# ---- the district's figures (per organization, scoped) -----------------------------------------

@dataclass(frozen=True)
class OrgRef:
    """An organization as the figures list it (plain values: the figures are kept in the shared cache)."""
    id: int
    name: str
    name_pinyin: str | None = None


@dataclass
class OrgFigures:
    org: OrgRef
    recruited: int = 0
    signups: int = 0
    checkin_hours: Decimal = Decimal(0)
    hand_hours: Decimal = Decimal(0)
    ratings: int = 0
    average: Decimal | None = None

    @property
    def checkin_share(self) -> int | None:
        total = self.checkin_hours + self.hand_hours
        return int(self.checkin_hours * 100 / total) if total else None


def district_figures(user, year: int) -> list[OrgFigures]:
    """Per organization in the user's scope, for one year: activities recruited through the platform,
    sign-ups made there, hours from check-ins vs hand entries (not void), and the average rating.
    Computed once per data version and scope, in the cache all workers share (a sum over a year of the
    city's records: ~1 s at 10×); after a change a page view gets the last value at once and the job
    worker computes the new one (core/cache.py, like the home page's figures)."""
    from core import cache
    from core.figures import scope_key

    scope_of = scope_key(user)
    return cache.shared("recruitment", f"{scope_of}#{year}", lambda: _district_figures(user, year),
                        stale=("activities.recruitment", user.id, year), stale_group=f"recruitment:{scope_of}#{year}")


@cache_refresher("activities.recruitment")
def _refresh_district_figures(user_id: int, year: int) -> None:
    from blueprints.accounts.models import User

    user = db.session.get(User, user_id)
    if user is not None and user.is_active:
        district_figures(user, year)


def _district_figures(user, year: int) -> list[OrgFigures]:
    from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord

    start, end = date(year, 1, 1), date(year, 12, 31)
    orgs = {oid: OrgFigures(OrgRef(oid, name, pinyin)) for oid, name, pinyin in db.session.execute(
        scope.scoped(select(Organization.id, Organization.name, Organization.name_pinyin), Organization, user))}
    if not orgs:
        return []
    acts = scope.scoped(select(Activity.organization_id, func.count(Activity.id))
                        .where(Activity.published_at.is_not(None), Activity.held_on.between(start, end))
                        .group_by(Activity.organization_id), Activity, user)
    for oid, n in db.session.execute(acts):
        if oid in orgs:
            orgs[oid].recruited = n
    sign = (select(Activity.organization_id, func.count(Participant.id), func.count(Participant.rating),
                   func.avg(Participant.rating))
            .join(Activity, Activity.id == Participant.activity_id)
            .where(Participant.via_portal.is_(True), Activity.held_on.between(start, end),
                   scope.scope_filter(Activity, user)).group_by(Activity.organization_id))
    for oid, n, rated, avg in db.session.execute(sign):
        if oid in orgs:
            f = orgs[oid]
            f.signups, f.ratings = n, rated
            f.average = Decimal(str(avg)).quantize(Decimal("0.1")) if avg is not None else None
    hours = scope.scoped(select(ServiceRecord.organization_id, ServiceRecord.source,
                                func.coalesce(func.sum(ServiceRecord.hours), 0))
                         .where(ServiceRecord.status != RecordStatus.VOID,
                                ServiceRecord.service_date.between(start, end))
                         .group_by(ServiceRecord.organization_id, ServiceRecord.source), ServiceRecord, user)
    for oid, source, total in db.session.execute(hours):
        if oid in orgs:
            if source == RecordSource.CHECKIN:
                orgs[oid].checkin_hours += Decimal(str(total))
            else:
                orgs[oid].hand_hours += Decimal(str(total))
    rows = [f for f in orgs.values() if f.recruited or f.signups or f.checkin_hours or f.hand_hours]
    return sorted(rows, key=lambda f: (-f.recruited, -f.signups, f.org.name_pinyin or ""))


def totals(rows: list[OrgFigures]) -> dict:
    """The sums over the organizations (the tile and the page's total row): a share in whole percent."""
    checkin = sum((r.checkin_hours for r in rows), Decimal(0))
    hand = sum((r.hand_hours for r in rows), Decimal(0))
    return dict(recruited=sum(r.recruited for r in rows), signups=sum(r.signups for r in rows),
                checkin_hours=checkin, hand_hours=hand,
                share=int(checkin * 100 / (checkin + hand)) if checkin + hand else 0)
