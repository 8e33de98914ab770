"""Rules of 月报制度 (seed 002): figures from the ledger and the calendar, drafts with optimistic
locking, the review state machine, deadlines (late / missing), the matrix, 催报, attachments and
the publications (monthly needs list, quarterly bulletin).

Services flush; routes commit once.
"""
from __future__ import annotations

import calendar as pycal
import enum
import functools
import io
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import and_, false, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm import aliased

from blueprints.accounts.models import Role, User, UserStatus, user_organization
from blueprints.activities.models import Activity, ActivityStatus
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.reports.models import (AttachmentKind, MonthlyReport, Notification, ReminderLog, ReportAttachment,
                                       ReportLevel, ReportNeed, ReportStatus, ReportStep)
from blueprints.themes.models import ThemeActivity
from blueprints.volunteers.models import Membership, RecordStatus, ServiceRecord
from blueprints.volunteers.ledger import verified_hours
from core import scope
from core.audit import record_change
from core.extensions import db
from core import settings
from core.settings import set_value
from core.sources import cite
from core.timeutil import local_today, to_local, utcnow
from core.uploads import ATTACHMENTS, IMAGES, UploadError, delete_stored, read_upload, store_bytes
from core.workflow import actor_fields, verbs_for
from core.validators import parse_id, strip_control

log = logging.getLogger(__name__)

DEADLINE_KEY = "reports.deadline_day"
DEFAULT_DEADLINE_DAY = 5  # 002: reports are due early in the next month; the 5th unless the city sets another day
MIN_YEAR, MAX_YEAR = 2000, 2100
TEXT_LIMIT = 5000
NEED_LIMITS = {"what": 200, "place": 200, "contact": 100, "when": 100}
MAX_NEEDS = 30
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ZERO = Decimal("0")


class ReportError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class ReportForbidden(ReportError):
    """The user may see the report but not do this to it (a 403)."""


class ReportConflict(ReportError):
    """The draft changed since the page was loaded (another tab or person)."""

    def __init__(self, report: MonthlyReport):
        who = ""
        if report.updated_by_id:
            u = db.session.get(User, report.updated_by_id)
            who = f"（{u.display_name or u.username}）" if u else ""
        super().__init__(f"此月报已在其他窗口或由他人{who}修改过（当前版本 {report.version}）。"
                         "本页输入的内容尚未保存，仍保留在本页，请核对后选择覆盖保存或重新载入。")
        self.current_version = report.version


# ---- periods and the deadline -------------------------------------------------------------------

def deadline_day() -> int:
    return int(settings.policy(DEADLINE_KEY))


def set_deadline_day(day: int, user: User) -> None:
    if not 1 <= day <= 28:
        raise ReportError("截止日应为 1–28 之间的整数", "day")
    set_value(DEADLINE_KEY, day, user)


# The city admin edits it on the settings page with the other policy numbers (core/settings.py).
settings.register_policy(settings.Policy(
    DEADLINE_KEY, "月报截止日（次月几日）", DEFAULT_DEADLINE_DAY, "日", 1, 28, cite("002"),
    "各级、各单位、各志愿服务社团组织每月要定期向市文明办报送志愿服务项目、志愿服务工作情况。",
    group="月报与保险", order=10, hint="上月月报应在次月的这一天（含）之前提交；1–28 日，默认 5 日。"))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, pycal.monthrange(year, month)[1])


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + delta
    return n // 12, n % 12 + 1


def due_date(year: int, month: int, day: int | None = None) -> date:
    """The report of a month is due on a configurable day of the next month (default the 5th)."""
    return _due_date(year, month, day or deadline_day())


@functools.lru_cache(maxsize=4096)
def _due_date(year: int, month: int, day: int) -> date:
    # The matrix asks 12 times per unit (26,000 cells for the city's organizations): computed once.
    ny, nm = shift_month(year, month, 1)
    return date(ny, nm, min(day, pycal.monthrange(ny, nm)[1]))


def parse_period(text: str | None) -> tuple[int, int] | None:
    try:
        y, m = str(text or "").strip().split("-")
        year, month = int(y), int(m)
    except ValueError:
        return None
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return year, month


def default_period(today: date | None = None) -> tuple[int, int]:
    """The month being reported now: last month (its report is due in this one)."""
    today = today or local_today()
    return shift_month(today.year, today.month, -1)


def period_choices(today: date | None = None, count: int = 12) -> list[tuple[int, int]]:
    today = today or local_today()
    return [shift_month(today.year, today.month, -i) for i in range(0, count)]


# ---- figures from the ledger and the calendar ---------------------------------------------------

@dataclass
class Figures:
    activity_count: int = 0
    volunteer_count: int = 0
    service_hours: Decimal = ZERO
    new_volunteers: int = 0
    theme_held: bool = False


def unit_org_ids(report_or_level, unit_id: int | None = None) -> list[int]:
    """The organizations whose ledger a report covers: the org itself, or a district's approved orgs."""
    if isinstance(report_or_level, MonthlyReport):
        level = report_or_level.level
        unit_id = report_or_level.organization_id if level == ReportLevel.ORG else report_or_level.region_id
    else:
        level = ReportLevel(report_or_level)
    if level == ReportLevel.ORG:
        return [unit_id]
    return list(db.session.scalars(select(Organization.id).where(Organization.district_id == unit_id)))


def compute_figures(org_ids: list[int], year: int, month: int, district_id: int | None = None) -> Figures:
    """Activities held, distinct volunteers, VERIFIED hours, new members and whether a theme activity
    of the month was held — straight from the ledger, the activities and the theme links."""
    start, end = month_bounds(year, month)
    if not org_ids and district_id is None:
        return Figures()
    acts = db.session.scalar(select(func.count(Activity.id)).where(
        Activity.organization_id.in_(org_ids), Activity.held_on.between(start, end),
        Activity.status == ActivityStatus.OPEN)) or 0
    verified = (ServiceRecord.organization_id.in_(org_ids), ServiceRecord.status == RecordStatus.VERIFIED,
                ServiceRecord.service_date.between(start, end))
    people = db.session.scalar(select(func.count(func.distinct(ServiceRecord.volunteer_id))).where(*verified)) or 0
    hours = verified_hours(ServiceRecord.organization_id.in_(org_ids), start, end)  # one definition (ledger)
    new = db.session.scalar(select(func.count(func.distinct(Membership.volunteer_id))).where(
        Membership.organization_id.in_(org_ids), Membership.joined_on.between(start, end))) or 0
    theme = (select(ThemeActivity.id).join(Activity, Activity.id == ThemeActivity.activity_id)
             .where(ThemeActivity.year == year, ThemeActivity.month == month, Activity.status == ActivityStatus.OPEN))
    owner = Activity.organization_id.in_(org_ids)
    if district_id is not None:
        owner = owner | (ThemeActivity.unit_region_id == district_id)
    held = db.session.scalar(theme.where(owner).limit(1)) is not None
    return Figures(int(acts), int(people), hours, int(new), held)


def figures_for(report: MonthlyReport) -> Figures:
    district = report.region_id if report.level == ReportLevel.DISTRICT else None
    return compute_figures(unit_org_ids(report), report.year, report.month, district)


def _apply(report: MonthlyReport, f: Figures) -> None:
    report.activity_count, report.volunteer_count = f.activity_count, f.volunteer_count
    report.service_hours, report.new_volunteers, report.theme_held = f.service_hours, f.new_volunteers, f.theme_held


def refresh_figures(report: MonthlyReport) -> None:
    """Drafts (and returned reports) follow the ledger; a submitted version keeps its frozen figures."""
    if report.status.editable:
        f = figures_for(report)
        if (report.activity_count, report.volunteer_count, report.service_hours, report.new_volunteers,
                report.theme_held) != (f.activity_count, f.volunteer_count, f.service_hours, f.new_volunteers,
                                       f.theme_held):
            _apply(report, f)


# ---- who may do what ----------------------------------------------------------------------------

def can_file(user: User, report: MonthlyReport) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if report.level == ReportLevel.ORG:
        return user.role == Role.ORG_LEADER and any(o.id == report.organization_id for o in user.organizations)
    return user.role == Role.DISTRICT_STAFF and user.region_id == report.region_id


def can_review(user: User, report: MonthlyReport) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if report.level == ReportLevel.ORG:
        # 002: organizations report to their district; the city reviews the districts' reports (and
        # those of city-level organizations, which have no district).
        if report.organization is not None and report.organization.district_id is None:
            return user.role == Role.CITY_ADMIN
        return user.role == Role.DISTRICT_STAFF and user.region_id == report.region_id
    return user.role == Role.CITY_ADMIN


def filing_units(user: User) -> list[tuple[ReportLevel, int, str]]:
    """The units the user files reports for: their organizations, or their district."""
    if user.role == Role.ORG_LEADER:
        return [(ReportLevel.ORG, o.id, o.name) for o in sorted(user.organizations, key=lambda o: o.id)
                if o.status == OrgStatus.APPROVED]
    if user.role == Role.DISTRICT_STAFF and user.region is not None and user.region.level == RegionLevel.DISTRICT:
        return [(ReportLevel.DISTRICT, user.region.id, user.region.name)]
    return []


def find_report(level: ReportLevel, unit_id: int, year: int, month: int) -> MonthlyReport | None:
    return db.session.scalar(select(MonthlyReport).where(
        MonthlyReport.unit_key == f"{level.value}-{unit_id}", MonthlyReport.year == year,
        MonthlyReport.month == month))


def open_report(user: User, level: ReportLevel, unit_id: int, year: int, month: int,
                today: date | None = None) -> MonthlyReport:
    """The user's report for a unit and month, created as a draft (figures prefilled) if new."""
    today = today or local_today()
    if not any(lv == level and uid == unit_id for lv, uid, _ in filing_units(user)):
        raise ReportForbidden("您不能为该单位填报月报")
    if (year, month) > (today.year, today.month):
        raise ReportError("不能填报尚未开始的月份", "period")
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        raise ReportError("月份无效", "period")
    report = find_report(level, unit_id, year, month)
    if report is not None:
        return report
    if level == ReportLevel.ORG:
        org = db.session.get(Organization, unit_id)
        region_id = org.district_id or org.region_id
        report = MonthlyReport(level=level, organization_id=unit_id, region_id=region_id)
    else:
        report = MonthlyReport(level=level, organization_id=None, region_id=unit_id)
    report.unit_key, report.year, report.month = f"{level.value}-{unit_id}", year, month
    report.status, report.version, report.created_by_id = ReportStatus.DRAFT, 1, user.id
    report.summary = report.highlights = report.problems = report.next_plan = ""
    _apply(report, figures_for(report))
    db.session.add(report)
    db.session.flush()
    return report


# ---- drafts -------------------------------------------------------------------------------------

@dataclass
class DraftData:
    summary: str = ""
    highlights: str = ""
    problems: str = ""
    next_plan: str = ""
    needs: list[dict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> "DraftData":
        d = cls()
        labels = {"summary": "工作概况", "highlights": "工作亮点", "problems": "存在问题", "next_plan": "下月计划"}
        for name, label in labels.items():
            value = strip_control(str(form.get(name, "") or ""), multiline=True).strip()
            if len(value) > TEXT_LIMIT:
                d.errors[name] = f"{label}最多 {TEXT_LIMIT} 字"
                value = value[:TEXT_LIMIT]
            setattr(d, name, value)
        cols = {k: form.getlist(f"need_{k}") for k in NEED_LIMITS}
        rows = max((len(v) for v in cols.values()), default=0)
        for i in range(rows):
            row = {k: strip_control(cols[k][i] if i < len(cols[k]) else "").strip() for k in NEED_LIMITS}
            if not any(row.values()):
                continue  # an empty row the user added and left blank
            for k, limit in NEED_LIMITS.items():
                if len(row[k]) > limit:
                    d.errors["needs"] = f"需求信息第 {len(d.needs) + 1} 行内容过长（每项最多 {limit} 字）"
                    row[k] = row[k][:limit]
            if not row["what"]:
                d.errors["needs"] = f"需求信息第 {len(d.needs) + 1} 行请填写需求内容"
            d.needs.append(row)
        if len(d.needs) > MAX_NEEDS:
            d.errors["needs"] = f"需求信息最多 {MAX_NEEDS} 条"
        return d


def parse_version(value) -> int | None:
    try:
        v = int(str(value))
    except (TypeError, ValueError):
        return None
    return v if 0 < v < 2**31 else None


def save_draft(user: User, report: MonthlyReport, data: DraftData, base_version: int | None) -> None:
    """Save the narrative and the needs. Refused when the draft changed since `base_version`
    (optimistic lock: nothing is overwritten silently)."""
    if not can_file(user, report):
        raise ReportForbidden("您不能修改此月报")
    if not report.status.editable:
        raise ReportError(f"月报{report.status.label}，不能再修改")
    if base_version is None or base_version != report.version:
        raise ReportConflict(report)
    if data.errors:
        raise ReportError(next(iter(data.errors.values())), next(iter(data.errors)))
    # The check above reads this session's copy; the conditional UPDATE closes the race between two
    # requests that both read the same version (only one of them can move it on).
    moved = db.session.execute(update(MonthlyReport).where(
        MonthlyReport.id == report.id, MonthlyReport.version == base_version).values(version=base_version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.expire(report, ["version", "updated_by_id"])
        raise ReportConflict(report)
    set_committed_value(report, "version", base_version + 1)
    report.summary, report.highlights = data.summary, data.highlights
    report.problems, report.next_plan = data.problems, data.next_plan
    report.needs.clear()
    db.session.flush()
    for pos, row in enumerate(data.needs):
        report.needs.append(ReportNeed(position=pos, what=row["what"], place=row["place"], contact=row["contact"],
                                       when=row["when"]))
    report.updated_by_id = user.id
    refresh_figures(report)
    db.session.flush()


# ---- the review state machine -------------------------------------------------------------------

# (status, action) → new status. Filers submit and resubmit; reviewers accept or return.
TRANSITIONS: dict[tuple[ReportStatus, str], ReportStatus] = {
    (ReportStatus.DRAFT, "submit"): ReportStatus.SUBMITTED,
    (ReportStatus.RETURNED, "resubmit"): ReportStatus.RESUBMITTED,
    (ReportStatus.SUBMITTED, "accept"): ReportStatus.ACCEPTED,
    (ReportStatus.SUBMITTED, "return"): ReportStatus.RETURNED,
    (ReportStatus.RESUBMITTED, "accept"): ReportStatus.ACCEPTED,
    (ReportStatus.RESUBMITTED, "return"): ReportStatus.RETURNED,
}
ACTION_LABELS = verbs_for("monthly_report", ("submit", "resubmit", "accept", "return"))
FILER_ACTIONS = {"submit", "resubmit"}
REVIEW_ACTIONS = {"accept", "return"}


def allowed_actions(user: User, report: MonthlyReport) -> list[str]:
    out = []
    for (status, action), _ in TRANSITIONS.items():
        if status != report.status:
            continue
        if action in FILER_ACTIONS and can_file(user, report):
            out.append(action)
        if action in REVIEW_ACTIONS and can_review(user, report):
            out.append(action)
    return out


def transition(report: MonthlyReport, action: str, user: User, comment: str = "",
               today: date | None = None) -> ReportStep:
    """The one way a report changes status: checks who may do what, freezes figures on submission,
    records the step and tells the other side. A month is submitted only once it is over: freezing
    its figures earlier would leave out the rest of the month (and count activities not yet held)."""
    comment = str(comment or "").replace("\x00", "").strip()
    if action not in ACTION_LABELS:
        raise ReportError("未知的操作")
    target = TRANSITIONS.get((report.status, action))
    if target is None:
        raise ReportError(f"月报当前为「{report.status.label}」，不能{ACTION_LABELS[action]}")
    if action in FILER_ACTIONS and not can_file(user, report):
        raise ReportForbidden("只有填报单位可以提交此月报")
    if action in REVIEW_ACTIONS and not can_review(user, report):
        raise ReportForbidden("您不能审核此月报")
    if action == "return" and not comment:
        raise ReportError("退回时请填写退回意见", "comment")
    if len(comment) > 2000:
        raise ReportError("意见最多 2000 字", "comment")
    if action in FILER_ACTIONS and not report.summary:
        raise ReportError("请先填写本月工作概况再提交", "summary")
    today = today or local_today()
    if action in FILER_ACTIONS and (report.year, report.month) >= (today.year, today.month):
        ny, nm = shift_month(report.year, report.month, 1)
        raise ReportError(f"{report.year} 年 {report.month} 月尚未结束，{ny} 年 {nm} 月 1 日起才能提交；"
                          "现在可以先保存草稿")
    now = utcnow()
    source = report.status
    if action in FILER_ACTIONS:
        _apply(report, figures_for(report))  # frozen as of this submission
        report.figures_frozen_at = now
        report.submitted_at = now
        if report.first_submitted_at is None:
            report.first_submitted_at = now
    else:
        report.decided_at = now
    report.status = target
    report.version += 1
    step = ReportStep(action=action, from_status=source.value, to_status=target.value, comment=comment, at=now,
                      **actor_fields(user))
    report.steps.append(step)
    record_change(action, report, f"{'退回意见' if action == 'return' else '意见'}：{comment}" if comment else "", user=user)
    _notify_about(report, action, user, comment)
    return step


def _notify_about(report: MonthlyReport, action: str, actor: User, comment: str) -> None:
    url = _path("reports.detail", report_id=report.id)
    title = f"{report.unit_name} {report.year} 年 {report.month} 月月报"
    if action in REVIEW_ACTIONS:
        text = f"{title}已{'审核通过' if action == 'accept' else '被退回'}"
        notify(filer_users(report), text, comment, url)
    else:
        notify(reviewer_users(report), f"{title}已{ACTION_LABELS[action]}，待审核", "", url)


def filer_users(report: MonthlyReport) -> list[User]:
    if report.level == ReportLevel.ORG:
        return org_leaders([report.organization_id]).get(report.organization_id, [])
    return list(db.session.scalars(select(User).where(
        User.role == Role.DISTRICT_STAFF, User.region_id == report.region_id, User.status == UserStatus.ACTIVE)))


def reviewer_users(report: MonthlyReport) -> list[User]:
    if report.level == ReportLevel.ORG and report.organization.district_id is not None:
        stmt = select(User).where(User.role == Role.DISTRICT_STAFF, User.region_id == report.region_id)
    else:
        stmt = select(User).where(User.role == Role.CITY_ADMIN)
    return list(db.session.scalars(stmt.where(User.status == UserStatus.ACTIVE)))


def org_leaders(org_ids: list[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for oid, u in db.session.execute(
            select(user_organization.c.organization_id, User)
            .join(User, User.id == user_organization.c.user_id)
            .where(user_organization.c.organization_id.in_(org_ids), User.role == Role.ORG_LEADER,
                   User.status == UserStatus.ACTIVE)):
        out[oid].append(u)
    return out


# ---- deadline standing --------------------------------------------------------------------------

class Standing(enum.StrEnum):
    NOT_DUE = "not_due"  # not submitted, deadline not passed
    ON_TIME = "on_time"
    LATE = "late"  # first submitted after the deadline
    MISSING = "missing"  # not submitted and the deadline has passed

    @property
    def label(self) -> str:
        return {"not_due": "未到期", "on_time": "按时", "late": "逾期提交", "missing": "逾期未报"}[self.value]


def standing(report: MonthlyReport | None, year: int, month: int, today: date, day: int | None = None) -> Standing:
    due = due_date(year, month, day)
    if report is not None and report.first_submitted_at is not None:
        return Standing.ON_TIME if to_local(report.first_submitted_at).date() <= due else Standing.LATE
    return Standing.MISSING if today > due else Standing.NOT_DUE


def cell_state(report: MonthlyReport | None, year: int, month: int, today: date, day: int | None = None) -> dict:
    """What a matrix cell shows: label, colour class, and whether it is overdue."""
    st = standing(report, year, month, today, day)
    if (year, month) >= (today.year, today.month):
        current = (year, month) == (today.year, today.month)
        label = ("本月进行中" if current else "—") if report is None else report.status.label
        return {"label": label, "short": "—" if report is None else "草稿", "tone": "future", "standing": st}
    if st == Standing.MISSING:
        label = "逾期未报" if report is None else "逾期未报（草稿）"
        return {"label": label, "short": "未报", "tone": "missing", "standing": st}
    if st == Standing.NOT_DUE:
        return {"label": "待填报" if report is None else "草稿", "short": "待报", "tone": "pending", "standing": st}
    tone = {ReportStatus.ACCEPTED: "accepted", ReportStatus.RETURNED: "returned"}.get(report.status, "submitted")
    short = {"accepted": "通过", "returned": "退回", "submitted": "待审"}[tone]
    late = st == Standing.LATE
    return {"label": report.status.label + ("·逾期提交" if late else ""), "short": short + ("·迟" if late else ""),
            "tone": tone + (" late" if late else ""), "standing": st}


# ---- units, lists and the matrix ----------------------------------------------------------------

def orgs_in_scope(user: User, district_id: int | None = None) -> list[Organization]:
    stmt = scope.scoped(select(Organization), Organization, user).where(Organization.status == OrgStatus.APPROVED)
    if district_id:
        stmt = stmt.where(Organization.district_id == district_id)
    return list(db.session.scalars(stmt.order_by(Organization.district_id, Organization.name_pinyin)))


def districts_in_scope(user: User) -> list[Region]:
    stmt = scope.scoped(select(Region), Region, user).where(Region.level == RegionLevel.DISTRICT,
                                                            Region.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Region.sort, Region.id)))


@dataclass
class ReportFilter:
    year: int | None = None
    month: int | None = None
    status: str = ""
    level: str = ""
    district: int | None = None

    @classmethod
    def from_args(cls, args) -> "ReportFilter":
        f = cls()
        p = parse_period(args.get("period"))
        if p:
            f.year, f.month = p
        statuses = {s.value for s in ReportStatus} | {"pending", "review"}
        f.status = args.get("status", "") if args.get("status", "") in statuses else ""
        f.level = args.get("level", "") if args.get("level", "") in {lv.value for lv in ReportLevel} else ""
        f.district = parse_id(args.get("district"))
        return f

    def args(self) -> dict:
        out = {}
        if self.year:
            out["period"] = f"{self.year}-{self.month:02d}"
        for k in ("status", "level", "district"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        return out


def list_stmt(user: User, f: ReportFilter):
    stmt = scope.scoped(select(MonthlyReport), MonthlyReport, user)
    if f.year:
        stmt = stmt.where(MonthlyReport.year == f.year, MonthlyReport.month == f.month)
    if f.status == "pending":  # awaiting review, first time or again
        stmt = stmt.where(MonthlyReport.status.in_([ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED]))
    elif f.status == "review":  # awaiting this user's review: what pending_reviews() counts
        stmt = stmt.where(_awaiting_review_of(user))
    elif f.status:
        stmt = stmt.where(MonthlyReport.status == ReportStatus(f.status))
    if f.level:
        stmt = stmt.where(MonthlyReport.level == ReportLevel(f.level))
    if f.district:
        stmt = stmt.where(MonthlyReport.region_id == f.district)
    return stmt.order_by(MonthlyReport.year.desc(), MonthlyReport.month.desc(), MonthlyReport.level.desc(),
                         MonthlyReport.id)


def _awaiting_review_of(user: User):
    """Reports waiting for this user's review: a district office reviews its organizations' reports,
    the city office the districts' reports and those of organizations directly under the city."""
    pending = MonthlyReport.status.in_([ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED])
    if user.role == Role.DISTRICT_STAFF:
        return and_(pending, MonthlyReport.level == ReportLevel.ORG, MonthlyReport.region_id == user.region_id)
    if user.role == Role.CITY_ADMIN:
        city_orgs = select(Organization.id).where(Organization.district_id.is_(None))
        return and_(pending, (MonthlyReport.level == ReportLevel.DISTRICT) | MonthlyReport.organization_id.in_(city_orgs))
    return false()


def pending_reviews(user: User) -> int:
    if user.role not in (Role.DISTRICT_STAFF, Role.CITY_ADMIN):
        return 0
    stmt = scope.scoped(select(func.count(MonthlyReport.id)), MonthlyReport, user).where(_awaiting_review_of(user))
    return db.session.scalar(stmt) or 0


def next_pending_review(user: User, exclude_id: int | None = None) -> MonthlyReport | None:
    """The oldest report still awaiting this reviewer (offered after a review: "下一份待审")."""
    if user.role not in (Role.DISTRICT_STAFF, Role.CITY_ADMIN):
        return None
    stmt = scope.scoped(select(MonthlyReport), MonthlyReport, user).where(_awaiting_review_of(user))
    if exclude_id is not None:
        stmt = stmt.where(MonthlyReport.id != exclude_id)
    return db.session.scalar(stmt.order_by(MonthlyReport.year, MonthlyReport.month,
                                           func.coalesce(MonthlyReport.submitted_at, MonthlyReport.created_at),
                                           MonthlyReport.id).limit(1))


@dataclass
class MatrixRow:
    """One unit's year: its 12 months' reports (or None); `cells` (what the page and the export show)
    are built on first use, so the rows a page does not show cost no cell dictionaries."""
    unit_id: int
    name: str
    district: str
    reports: list
    late: int = 0
    missing: int = 0
    year: int = 0
    today: date | None = None
    day: int | None = None

    @functools.cached_property
    def cells(self) -> list[dict]:
        out = []
        for m, rep in enumerate(self.reports, start=1):
            cell = cell_state(rep, self.year, m, self.today, self.day)
            cell["report_id"] = rep.id if rep else None
            cell["month"] = m
            out.append(cell)
        return out


def matrix(user: User, level: ReportLevel, year: int, district_id: int | None = None, only_problems: bool = False,
           today: date | None = None) -> tuple[list[int], list[MatrixRow]]:
    """Every unit's row (the page shows a slice; the filter, the totals and the export need them all).
    Flat at 10× (5,000 organizations for the city): the units and reports are read as columns, not ORM
    objects, in one query each; a row counts its late and missing months from the standings (a month
    without a report has one standing, computed once) and builds its cells only when shown."""
    today = today or local_today()
    day = deadline_day()
    if level == ReportLevel.ORG:
        District = aliased(Region)
        stmt = (scope.scoped(select(Organization.id, Organization.name, District.name), Organization, user)
                .outerjoin(District, District.id == Organization.district_id)
                .where(Organization.status == OrgStatus.APPROVED))
        if district_id:
            stmt = stmt.where(Organization.district_id == district_id)
        units = [(uid, name, district or "") for uid, name, district in
                 db.session.execute(stmt.order_by(Organization.district_id, Organization.name_pinyin))]
    else:
        units = [(r.id, r.name, r.name) for r in districts_in_scope(user) if not district_id or r.id == district_id]
    keys = [f"{level.value}-{uid}" for uid, _, _ in units]
    wanted = set(keys)
    reports: dict[tuple[str, int], object] = {}
    for r in db.session.execute(scope.scoped(select(
            MonthlyReport.id, MonthlyReport.unit_key, MonthlyReport.month, MonthlyReport.status,
            MonthlyReport.first_submitted_at), MonthlyReport, user).where(
            MonthlyReport.level == level, MonthlyReport.year == year)):
        if r.unit_key in wanted:
            reports[(r.unit_key, r.month)] = r
    months = list(range(1, 13))
    no_report = [standing(None, year, m, today, day) for m in months]
    rows = []
    for (uid, name, district), key in zip(units, keys):
        reps = [reports.get((key, m)) for m in months]
        late = missing = 0
        for m, rep in zip(months, reps):
            st = no_report[m - 1] if rep is None else standing(rep, year, m, today, day)
            late += st == Standing.LATE
            missing += st == Standing.MISSING
        if only_problems and not (late or missing):
            continue
        rows.append(MatrixRow(uid, name, district, reps, late, missing, year, today, day))
    return months, rows


# ---- 催报 ----------------------------------------------------------------------------------------

def overdue_units(user: User, level: ReportLevel, year: int, month: int,
                  today: date | None = None) -> list[tuple[int, str]]:
    """Units in the user's scope whose report for the month is missing after the deadline."""
    today = today or local_today()
    if level == ReportLevel.ORG:
        units = [(o.id, o.name) for o in orgs_in_scope(user)]
    else:
        units = [(r.id, r.name) for r in districts_in_scope(user)]
    reports = {r.unit_key: r for r in db.session.scalars(select(MonthlyReport).where(
        MonthlyReport.level == level, MonthlyReport.year == year, MonthlyReport.month == month))}
    day = deadline_day()
    return [(uid, name) for uid, name in units
            if standing(reports.get(f"{level.value}-{uid}"), year, month, today, day) == Standing.MISSING]


def chase_levels(user: User) -> list[ReportLevel]:
    if user.role == Role.CITY_ADMIN:
        return [ReportLevel.ORG, ReportLevel.DISTRICT]
    if user.role == Role.DISTRICT_STAFF:
        return [ReportLevel.ORG]
    return []


def send_reminders(user: User, level: ReportLevel, year: int, month: int, today: date | None = None) -> ReminderLog:
    """催报: one in-app notification to every filer of every overdue unit (and an e-mail when SMTP is
    configured and the account has an address); the reminder is logged."""
    today = today or local_today()
    if level not in chase_levels(user):
        raise ReportForbidden("您不能催报")
    if today <= due_date(year, month):
        raise ReportError(f"{year} 年 {month} 月月报的截止日（{due_date(year, month):%Y-%m-%d}）未过，暂不能催报")
    units = overdue_units(user, level, year, month, today)
    if not units:
        raise ReportError("该月没有逾期未报的单位")
    if level == ReportLevel.ORG:
        people = org_leaders([uid for uid, _ in units])
    else:
        people = defaultdict(list)
        for u in db.session.scalars(select(User).where(
                User.role == Role.DISTRICT_STAFF, User.status == UserStatus.ACTIVE,
                User.region_id.in_([uid for uid, _ in units]))):
            people[u.region_id].append(u)
    due = due_date(year, month)
    recipients: list[User] = []
    for uid, name in units:
        for u in people.get(uid, []):
            recipients.append(u)
            notify([u], f"催报：{name} {year} 年 {month} 月月报已逾期",
                   f"{year} 年 {month} 月月报应于 {due:%Y-%m-%d} 前提交，请尽快填报。",
                   _report_link(level, uid, year, month))
    region_id = user.region_id
    entry = ReminderLog(region_id=region_id, year=year, month=month, level=level.value, unit_count=len(units),
                        recipient_count=len(recipients), emailed=0,
                        units="、".join(name for _, name in units)[:4000], sent_by_id=user.id,
                        sent_by_name=user.display_name or user.username)
    db.session.add(entry)
    db.session.flush()
    # The e-mail goes out in a background job (SMTP may take seconds per server): who should get one.
    entry.mail_to = ([u.id for u in recipients if getattr(u, "email", "")]
                     if current_app.config.get("SMTP_HOST") else [])
    return entry


def reminder_mail(year: int, month: int) -> tuple[str, str]:
    """Subject and text of the 催报 e-mail."""
    due = due_date(year, month)
    return (f"催报：{year} 年 {month} 月志愿服务月报",
            f"贵单位 {year} 年 {month} 月志愿服务月报应于 {due:%Y-%m-%d} 前提交，目前尚未提交，请尽快登录系统填报。")


def send_reminder_mail(log_id: int, user_ids: list[int]) -> int:
    """The job's half of 催报: e-mail the recipients and count what was sent on the reminder's log."""
    entry = db.session.get(ReminderLog, log_id)
    if entry is None:
        return 0
    users = list(db.session.scalars(select(User).where(User.id.in_(user_ids))))
    entry.emailed = send_emails(users, *reminder_mail(entry.year, entry.month))
    db.session.flush()
    return entry.emailed


def _report_link(level: ReportLevel, unit_id: int, year: int, month: int) -> str:
    return _path("reports.mine", period=f"{year}-{month:02d}")


def _path(endpoint: str, **values) -> str:
    """A local URL path, in or outside a request (the demo seed sends notifications too)."""
    from flask import has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def send_emails(users: list[User], subject: str, body: str) -> int:
    """E-mail when SMTP is configured and an account has an address; failures are logged, not raised."""
    host = current_app.config.get("SMTP_HOST")
    addresses = [a for a in (getattr(u, "email", "") for u in users) if a]
    if not host or not addresses:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(host, current_app.config.get("SMTP_PORT", 25), timeout=10) as smtp:
            for addr in addresses:
                msg = EmailMessage()
                msg["Subject"], msg["To"] = subject, addr
                msg["From"] = current_app.config.get("SMTP_FROM") or "noreply@localhost"
                msg.set_content(body)
                smtp.send_message(msg)
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("reminder e-mail failed after %d messages: %s", sent, exc.__class__.__name__)
    return sent


def reminder_logs(user: User, limit: int = 50) -> list[ReminderLog]:
    stmt = select(ReminderLog)
    if not user.is_city_wide:
        stmt = stmt.where(ReminderLog.sent_by_id == user.id) if user.region_id is None else \
            scope.scoped(stmt, ReminderLog, user)
    return list(db.session.scalars(stmt.order_by(ReminderLog.sent_at.desc()).limit(limit)))


# ---- notifications ------------------------------------------------------------------------------

def notify(users: list[User], title: str, body: str = "", url: str = "") -> None:
    for u in users:
        db.session.add(Notification(user_id=u.id, title=title[:200], body=body, url=url[:300]))
    db.session.flush()


def unread_count(user: User) -> int:
    """The person's unread notifications (the header and the reports tile ask: read once per request;
    marking read forgets it)."""
    from core import cache

    memo = cache.request_memo().setdefault("unread", {})
    if user.id not in memo:
        memo[user.id] = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
    return memo[user.id]


def notifications_for(user: User):
    return scope.scoped(select(Notification), Notification, user).order_by(Notification.created_at.desc(),
                                                                           Notification.id.desc())


def mark_read(user: User, note: Notification | None = None) -> int:
    from core import cache

    cache.request_memo().pop("unread", None)
    stmt = scope.scoped(select(Notification), Notification, user).where(Notification.read_at.is_(None))
    if note is not None:
        stmt = stmt.where(Notification.id == note.id)
    n = 0
    for row in db.session.scalars(stmt):
        row.read_at = utcnow()
        n += 1
    db.session.flush()
    return n


# ---- attachments --------------------------------------------------------------------------------

def add_attachment(user: User, report: MonthlyReport, kind: str, file_storage) -> ReportAttachment:
    if not can_file(user, report):
        raise ReportForbidden("您不能修改此月报")
    if not report.status.editable:
        raise ReportError(f"月报{report.status.label}，不能再上传附件", "file")
    try:
        k = AttachmentKind(kind)
    except ValueError:
        raise ReportError("请选择附件类别", "kind") from None
    allowed = IMAGES if k == AttachmentKind.PHOTO else ATTACHMENTS
    try:
        data, detected = read_upload(file_storage, allowed, MAX_ATTACHMENT_BYTES)
    except UploadError as exc:
        raise ReportError(exc.message, "file") from None
    if len(report.attachments) >= 30:
        raise ReportError("每份月报最多 30 个附件", "file")
    stored = store_bytes(data, detected, "reports", file_storage.filename)
    thumb = make_thumbnail(data) if detected in IMAGES else None
    att = ReportAttachment(kind=k, stored_name=stored.name, original_name=stored.original_name or "附件",
                           content_type=stored.content_type, size=stored.size, uploaded_by_id=user.id,
                           thumb_name=store_bytes(thumb, "jpeg", "reports").name if thumb else None)
    report.attachments.append(att)
    db.session.flush()
    return att


def make_thumbnail(data: bytes, size: int = 240) -> bytes | None:
    """A small JPEG of an (already checked) image for lists; None if Pillow cannot make one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((size, size))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=75)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def delete_attachment(user: User, att: ReportAttachment) -> None:
    report = att.report
    if not can_file(user, report):
        raise ReportForbidden("您不能修改此月报")
    if not report.status.editable:
        raise ReportError(f"月报{report.status.label}，附件不能删除")
    names = (att.stored_name, att.thumb_name)
    db.session.delete(att)
    db.session.flush()
    for name in names:
        delete_stored(name)


# ---- publications -------------------------------------------------------------------------------

def data_stamp() -> str:
    """Changes whenever reports, the ledger or the settings behind a publication change (PDF cache key)."""
    reports = db.session.execute(select(func.count(MonthlyReport.id), func.max(MonthlyReport.updated_at))).one()
    needs = db.session.scalar(select(func.max(ReportNeed.id)))
    ledger = db.session.execute(select(func.max(ServiceRecord.id), func.max(ServiceRecord.verified_at))).one()
    orgs = db.session.execute(select(func.count(Organization.id), func.max(Organization.updated_at))).one()
    themes = db.session.execute(select(func.count(ThemeActivity.id), func.max(ThemeActivity.updated_at))).one()
    acts = db.session.scalar(select(func.max(Activity.updated_at)))
    return "-".join(str(x) for x in (*reports, needs, *ledger, *orgs, *themes, acts, deadline_day()))


def published_needs(year: int, month: int) -> list[tuple[MonthlyReport, ReportNeed]]:
    """需求信息 from the month's ACCEPTED reports (published to every logged-in user)."""
    rows = db.session.execute(
        select(MonthlyReport, ReportNeed).join(ReportNeed, ReportNeed.report_id == MonthlyReport.id)
        .where(MonthlyReport.year == year, MonthlyReport.month == month,
               MonthlyReport.status == ReportStatus.ACCEPTED)
        .order_by(MonthlyReport.region_id, MonthlyReport.level, MonthlyReport.id, ReportNeed.position))
    return [(r, n) for r, n in rows]


@dataclass
class BulletinRow:
    unit_id: int
    name: str
    district: str
    on_time: int = 0
    late: int = 0
    missing: int = 0
    hours: Decimal = ZERO
    volunteers: int = 0
    theme_months: int = 0
    rank: int = 0

    @property
    def hours_per_volunteer(self) -> Decimal:
        return (self.hours / self.volunteers).quantize(Decimal("0.1")) if self.volunteers else ZERO


def quarter_months(year: int, quarter: int) -> list[tuple[int, int]]:
    return [(year, m) for m in range(3 * quarter - 2, 3 * quarter + 1)]


def bulletin(year: int, quarter: int, today: date | None = None) -> dict:
    """每季度通报: districts and organizations ranked by on-time reporting, then hours per volunteer,
    then theme months held (002), with a short generated summary. City-wide by nature, so computed once
    per data version and day for every user and worker (core/cache.py): it aggregates every record of
    the quarter (seconds at 10×). Callers must not change the returned dict."""
    from core import cache

    today = today or local_today()
    return cache.shared("reports", f"bulletin:{year}-{quarter}-{today.isoformat()}",
                        lambda: _bulletin(year, quarter, today))


def _bulletin(year: int, quarter: int, today: date) -> dict:
    months = quarter_months(year, quarter)
    start, end = month_bounds(*months[0])[0], month_bounds(*months[-1])[1]
    orgs = list(db.session.scalars(select(Organization).where(Organization.status == OrgStatus.APPROVED)))
    districts = list(db.session.scalars(select(Region).where(Region.level == RegionLevel.DISTRICT,
                                                             Region.active.is_(True)).order_by(Region.sort, Region.id)))
    reports = {(r.unit_key, r.month): r for r in db.session.scalars(select(MonthlyReport).where(
        MonthlyReport.year == year, MonthlyReport.month.in_([m for _, m in months])))}
    verified = (ServiceRecord.status == RecordStatus.VERIFIED, ServiceRecord.service_date.between(start, end))
    hours_by_org = dict(db.session.execute(select(ServiceRecord.organization_id, func.sum(ServiceRecord.hours))
                                           .where(*verified).group_by(ServiceRecord.organization_id)).all())
    people_by_org = dict(db.session.execute(
        select(ServiceRecord.organization_id, func.count(func.distinct(ServiceRecord.volunteer_id)))
        .where(*verified).group_by(ServiceRecord.organization_id)).all())
    people_by_district = dict(db.session.execute(
        select(Organization.district_id, func.count(func.distinct(ServiceRecord.volunteer_id)))
        .join(Organization, Organization.id == ServiceRecord.organization_id)
        .where(*verified).group_by(Organization.district_id)).all())
    theme_rows = db.session.execute(
        select(Activity.organization_id, ThemeActivity.unit_region_id, ThemeActivity.month)
        .join(Activity, Activity.id == ThemeActivity.activity_id)
        .where(ThemeActivity.year == year, ThemeActivity.month.in_([m for _, m in months]),
               Activity.status == ActivityStatus.OPEN)).all()
    org_theme: dict[int, set] = defaultdict(set)
    district_theme: dict[int, set] = defaultdict(set)
    org_district = {o.id: o.district_id for o in orgs}
    for oid, unit, m in theme_rows:
        org_theme[oid].add(m)
        district_theme[unit].add(m)
        if org_district.get(oid):
            district_theme[org_district[oid]].add(m)
    names = {d.id: d.name for d in districts}

    day = deadline_day()

    def fill(row: BulletinRow, key: str) -> BulletinRow:
        for y, m in months:
            st = standing(reports.get((key, m)), y, m, today, day)
            if st == Standing.ON_TIME:
                row.on_time += 1
            elif st == Standing.LATE:
                row.late += 1
            elif st == Standing.MISSING:
                row.missing += 1
        return row

    org_rows = []
    for o in orgs:
        r = fill(BulletinRow(o.id, o.name, names.get(o.district_id, "")), f"org-{o.id}")
        r.hours = Decimal(str(hours_by_org.get(o.id) or 0))
        r.volunteers = people_by_org.get(o.id, 0)
        r.theme_months = len(org_theme.get(o.id, ()))
        org_rows.append(r)
    district_rows = []
    for d in districts:
        r = fill(BulletinRow(d.id, d.name, d.name), f"district-{d.id}")
        r.hours = sum((Decimal(str(hours_by_org.get(o.id) or 0)) for o in orgs if o.district_id == d.id), ZERO)
        r.volunteers = people_by_district.get(d.id, 0)
        r.theme_months = len(district_theme.get(d.id, ()))
        district_rows.append(r)
    for rows in (org_rows, district_rows):
        rows.sort(key=lambda r: (-r.on_time, r.missing, -r.hours_per_volunteer, -r.theme_months, r.name))
        for i, r in enumerate(rows, 1):
            r.rank = i
    return {"year": year, "quarter": quarter, "months": months, "districts": district_rows, "orgs": org_rows,
            "summary": bulletin_summary(year, quarter, district_rows, org_rows)}


def bulletin_summary(year: int, quarter: int, districts: list[BulletinRow], orgs: list[BulletinRow]) -> str:
    slots = 3 * len(orgs)
    on_time = sum(r.on_time for r in orgs)
    missing = sum(r.missing for r in orgs)
    parts = [f"{year} 年第 {quarter} 季度，全市应报组织月报 {slots} 份，按时报送 {on_time} 份"
             f"（{(on_time * 100 // slots) if slots else 0}%），逾期未报 {missing} 份。"]
    full = [r.name for r in districts if r.on_time == 3]
    if full:
        parts.append(f"{'、'.join(full)}三个月均按时报送区县月报。")
    if districts:
        best = max(districts, key=lambda r: r.hours_per_volunteer)
        if best.volunteers:
            parts.append(f"人均服务时长最高的是{best.name}（{best.hours_per_volunteer} 小时/人）。")
    lagging = [r.name for r in orgs if r.missing >= 2][:10]
    if lagging:
        parts.append(f"{'、'.join(lagging)}等组织本季度两个月以上未报送月报，请所在区县督促整改。")
    return "".join(parts)


# ---- exports of the list and the matrix (issue 15: what the current filters show) -------------------

EXPORT_HEADERS = ["月份", "填报单位", "类别", "状态", "报送", "首次提交时间", "活动数", "志愿者人数", "服务时长（小时）",
                  "主题活动"]
EXPORT_WIDTHS = [10, 32, 8, 10, 10, 17, 8, 10, 14, 10]


def export_rows(user: User, f: ReportFilter) -> list[list]:
    from sqlalchemy.orm import selectinload

    from core.exports import EXPORT_ROW_LIMIT, capped_rows

    today, day = local_today(), deadline_day()
    stmt = list_stmt(user, f).options(selectinload(MonthlyReport.organization), selectinload(MonthlyReport.region))
    return capped_rows(
        [r.period, r.unit_name, r.level.label, r.status.label, standing(r, r.year, r.month, today, day).label,
         r.first_submitted_at, r.activity_count, r.volunteer_count, r.service_hours,
         "已开展" if r.theme_held else "未开展"]
        for r in db.session.scalars(stmt.limit(EXPORT_ROW_LIMIT + 1)))


def matrix_export(months: list[int], rows: list[MatrixRow], level: ReportLevel) -> tuple[list[str], list[list]]:
    """The matrix as a sheet: one row per unit, one column per month with the cell's label."""
    headers = ["组织" if level == ReportLevel.ORG else "区县"] + (["区县"] if level == ReportLevel.ORG else [])
    headers += [f"{m} 月" for m in months] + ["逾期提交", "逾期未报"]
    body = [[r.name] + ([r.district] if level == ReportLevel.ORG else []) + [c["label"] for c in r.cells]
            + [r.late, r.missing] for r in rows]
    return headers, body
