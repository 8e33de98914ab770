"""The rules of commendation: campaigns, eligibility, the nomination state machine, quotas, panel
scoring (trimmed mean, ranking with ties), 公示 with objections, and the final decision.

Plain functions taking a user; they flush, the route commits. Every refusal raises AwardError with
a Chinese message (and the form field it belongs to, when there is one).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import func, select

from blueprints.accounts.models import Role, User
from blueprints.awards.models import (AwardKind, Campaign, CampaignStage, DistrictQuota, Nomination,
                                      NominationStatus, NominationStep, NomineeType, Objection, ObjectionStatus,
                                      PanelMember, ScoreSheet)
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region
from blueprints.volunteers import ledger
from blueprints.volunteers.models import AwardReceived, Membership, Volunteer, VolunteerStatus
from blueprints.volunteers.services import dismissal_records
from core import scope, workdays
from core.audit import record_change
from core.extensions import db
from core.timeutil import local_today, utcnow
from core.workflow import actor_fields, verb, verbs_for

# 002: the award list of the work plan; each with its nominee type.
DEFAULT_KINDS = [
    ("最美志愿者", NomineeType.VOLUNTEER, 10, dict(min_star=1, min_hours=0, min_years=1)),
    ("最佳志愿服务项目", NomineeType.PROJECT, 10, dict(min_years=0)),
    ("最佳志愿服务组织", NomineeType.ORGANIZATION, 10, dict(min_years=1)),
    ("最佳社区志愿服务组织", NomineeType.ORGANIZATION, 10, dict(min_years=1)),
    ("志愿服务杰出贡献奖", NomineeType.VOLUNTEER, 3, dict(min_star=3, min_hours=0, min_years=3)),
]
DEFAULT_CRITERIA = [
    {"name": "服务时长与持续性", "max": 30},
    {"name": "服务成效与社会影响", "max": 40},
    {"name": "示范带动与创新", "max": 20},
    {"name": "材料完整规范", "max": 10},
]
# 003: 3月5日 (学雷锋纪念日), 5月4日 (青年节), 12月5日 (国际志愿者日).
PRESENTATION_DAYS = [(3, 5, "3月5日 学雷锋纪念日"), (5, 4, "5月4日 五四青年节"), (12, 5, "12月5日 国际志愿者日")]
DEFAULT_DISTRICT_QUOTA = 2
SUMMARY_MAX = 200
OBJECTION_LIMIT = 3  # per client and campaign …
OBJECTION_WINDOW = timedelta(hours=1)  # … within this time
TRIM_FROM = 5  # drop the highest and lowest total when at least this many reviewers scored

ACTION_LABELS = verbs_for("award_nomination", ("create", "submit", "recommend", "reject", "rank", "publicize",
                                                "drop", "award", "revoke"))


class AwardError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _district_ids() -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.level == "district").order_by(Region.code, Region.id)))


# ---- campaigns ------------------------------------------------------------------------------------

@dataclass
class CampaignData:
    year: int
    title: str
    nomination_start: date
    nomination_end: date
    district_deadline: date
    review_deadline: date
    notice_start: date
    notice_end: date
    presentation_date: date
    deeds_limit: int = 2000
    granting_unit: str = "湛江市精神文明建设委员会"


def check_dates(d: CampaignData) -> list[tuple[str, str]]:
    """The dates must follow each other: window → district review → panel → 公示 → presentation."""
    errors = []
    order = [("nomination_start", "推荐开始"), ("nomination_end", "推荐截止"), ("district_deadline", "区级推荐截止"),
             ("review_deadline", "市级评审截止"), ("notice_start", "公示开始"), ("notice_end", "公示结束"),
             ("presentation_date", "表彰日期")]
    for (a, la), (b, lb) in zip(order, order[1:]):
        if getattr(d, b) < getattr(d, a):
            errors.append((b, f"{lb}不能早于{la}"))
    return errors


def parse_criteria(text: str) -> list[dict]:
    """Lines "名称：分值" → [{"name", "max"}]; raises AwardError on a bad line."""
    out = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        sep = "：" if "：" in line else ":"
        name, _, value = line.rpartition(sep)
        name = name.strip()
        try:
            mx = int(value.strip())
        except ValueError:
            raise AwardError(f"第 {n} 行应为“名称：满分”，如“服务成效：40”", "criteria") from None
        if not name or not 1 <= mx <= 100:
            raise AwardError(f"第 {n} 行：名称不能为空，满分应在 1–100 之间", "criteria")
        out.append({"name": name[:40], "max": mx})
    if not out:
        raise AwardError("至少需要一项评分标准", "criteria")
    if len(out) > 10:
        raise AwardError("评分标准最多 10 项", "criteria")
    return out


def criteria_text(criteria: list[dict]) -> str:
    return "\n".join(f"{c['name']}：{c['max']}" for c in criteria)


# Time each stage gets in a new campaign's default dates (the city admin may change them).
NOMINATION_DAYS = 14      # 推荐: two weeks for organizations to nominate
DISTRICT_DAYS = 7         # 区级推荐: a week for the districts
REVIEW_DAYS = 14          # 市级评审: two weeks for the panel
NOTICE_WORKING_DAYS = 5   # 公示: at least five working days (official calendar, core/workdays.py)


def default_title(year: int) -> str:
    return f"{year}年度湛江市志愿服务先进典型评选表彰"


def title_taken(year: int, title: str, exclude_id: int | None = None) -> bool:
    stmt = select(func.count(Campaign.id)).where(Campaign.year == year, Campaign.title == (title or "").strip())
    if exclude_id is not None:
        stmt = stmt.where(Campaign.id != exclude_id)
    return bool(db.session.scalar(stmt))


def _working_day_on_or_after(day: date) -> date:
    return workdays.on_or_after(day)


def _add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (official holidays and 调休, core/workdays.py)."""
    return workdays.add_working_days(day, n)


def default_campaign(today: date) -> CampaignData:
    """A new campaign's proposal: this year's default title unless a campaign already has it (then next
    year's, else no title), and dates that give every stage its time, the 公示 five working days and
    the presentation on the next commemoration day (003: 3月5日, 5月4日, 12月5日)."""
    year, title = today.year, ""
    for y in (today.year, today.year + 1):
        if not title_taken(y, default_title(y)):
            year, title = y, default_title(y)
            break
    nomination_end = today + timedelta(days=NOMINATION_DAYS)
    district_deadline = nomination_end + timedelta(days=DISTRICT_DAYS)
    review_deadline = district_deadline + timedelta(days=REVIEW_DAYS)
    notice_start = _working_day_on_or_after(review_deadline + timedelta(days=1))
    notice_end = _add_working_days(notice_start, NOTICE_WORKING_DAYS - 1)
    after = notice_end + timedelta(days=1)
    presentation = min(date(y, m, d) for y in (after.year, after.year + 1) for m, d, _ in PRESENTATION_DAYS
                       if date(y, m, d) >= after)
    return CampaignData(year=year, title=title, nomination_start=today, nomination_end=nomination_end,
                        district_deadline=district_deadline, review_deadline=review_deadline,
                        notice_start=notice_start, notice_end=notice_end, presentation_date=presentation)


def _check_title(d: CampaignData, exclude_id: int | None = None) -> None:
    if title_taken(d.year, d.title, exclude_id):
        raise AwardError(f"{d.year} 年已有同名评选“{d.title.strip()}”，请换一个名称", "title")


def create_campaign(user: User, d: CampaignData, criteria: list[dict]) -> Campaign:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以发起评选", status=403)
    errors = check_dates(d)
    if errors:
        raise AwardError(errors[0][1], errors[0][0])
    _check_title(d)
    c = Campaign(created_by_id=user.id, criteria=criteria, **d.__dict__)
    db.session.add(c)
    districts = _district_ids()
    for i, (name, ntype, quota, rules) in enumerate(DEFAULT_KINDS):
        k = AwardKind(position=i, name=name, nominee_type=ntype, quota=quota, **rules)
        k.district_quotas = [DistrictQuota(district_id=r.id, quota=DEFAULT_DISTRICT_QUOTA) for r in districts]
        c.kinds.append(k)
    db.session.flush()
    return c


def update_campaign(user: User, c: Campaign, d: CampaignData, criteria: list[dict]) -> None:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以修改评选", status=403)
    errors = check_dates(d)
    if errors:
        raise AwardError(errors[0][1], errors[0][0])
    if c.stage != CampaignStage.NOMINATING and criteria != c.criteria:
        raise AwardError("评审开始后不能再修改评分标准", "criteria")
    _check_title(d, exclude_id=c.id)
    for k, v in d.__dict__.items():
        setattr(c, k, v)
    c.criteria = criteria
    db.session.flush()


@dataclass
class KindData:
    name: str
    nominee_type: NomineeType
    quota: int
    min_star: int = 0
    min_hours: int = 0
    min_years: int = 0
    no_dismissal: bool = True
    active_org: bool = True


def save_kind(user: User, c: Campaign, kind: AwardKind | None, d: KindData, district_quotas: dict[int, int]) -> AwardKind:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以设置奖项", status=403)
    if c.stage != CampaignStage.NOMINATING:
        raise AwardError("评审开始后不能再修改奖项")
    if kind is not None and kind.nominee_type != d.nominee_type and db.session.scalar(
            select(func.count()).select_from(Nomination).where(Nomination.kind_id == kind.id)):
        raise AwardError("已有推荐对象，不能修改推荐对象类型", "nominee_type")
    if kind is None:
        kind = AwardKind(position=len(c.kinds))
        c.kinds.append(kind)
    for k, v in d.__dict__.items():
        setattr(kind, k, v)
    existing = {q.district_id: q for q in kind.district_quotas}
    for district_id, quota in district_quotas.items():
        if district_id in existing:
            existing[district_id].quota = quota
        else:
            kind.district_quotas.append(DistrictQuota(district_id=district_id, quota=quota))
    db.session.flush()
    return kind


def delete_kind(user: User, kind: AwardKind) -> None:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以设置奖项", status=403)
    if db.session.scalar(select(func.count()).select_from(Nomination).where(Nomination.kind_id == kind.id)):
        raise AwardError("该奖项已有推荐对象，不能删除")
    db.session.delete(kind)
    db.session.flush()


# City admin moves a campaign along; each move has its own checks and effects.
STAGE_ACTIONS = {
    "start_scoring": (CampaignStage.NOMINATING, CampaignStage.SCORING, verb("start_scoring", "award_campaign")),
    "close_scoring": (CampaignStage.SCORING, CampaignStage.RANKED, verb("close_scoring", "award_campaign")),
    "publish": (CampaignStage.RANKED, CampaignStage.NOTICE, verb("publish", "award_campaign")),
    "decide": (CampaignStage.NOTICE, CampaignStage.DECIDED, verb("decide", "award_campaign")),
}


def advance(user: User, c: Campaign, action: str) -> None:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以推进评选阶段", status=403)
    if action not in STAGE_ACTIONS:
        raise AwardError("未知的操作")
    src, dst, label = STAGE_ACTIONS[action]
    if c.stage != src:
        raise AwardError(f"当前阶段为“{c.stage.label}”，不能{label}")
    if action == "start_scoring":
        if not c.panel:
            raise AwardError("请先指定评审专家")
        if not _nominations(c, NominationStatus.RECOMMENDED):
            raise AwardError("还没有区级推荐的对象")
    elif action == "close_scoring":
        close_scoring(user, c)
    elif action == "publish":
        publish_notice(user, c)
    elif action == "decide":
        decide(user, c)
    c.stage = dst
    record_change(action, c, user=user)


def _nominations(c: Campaign, *statuses: NominationStatus) -> list[Nomination]:
    return list(db.session.scalars(select(Nomination).where(Nomination.campaign_id == c.id,
                                                            Nomination.status.in_(statuses))
                                   .order_by(Nomination.kind_id, Nomination.rank, Nomination.id)))


def set_panel(user: User, c: Campaign, reviewer_ids: list[int]) -> None:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以指定评审专家", status=403)
    if c.scoring_closed:
        raise AwardError("评审已结束，不能再调整评审专家")
    reviewers = {u.id: u for u in db.session.scalars(select(User).where(User.role == Role.REVIEWER,
                                                                        User.id.in_(reviewer_ids)))}
    if set(reviewer_ids) - set(reviewers):
        raise AwardError("只能指定评审专家角色的账号", "reviewers")
    keep = set(reviewer_ids)
    for m in list(c.panel):
        if m.user_id not in keep:
            c.panel.remove(m)
    have = {m.user_id for m in c.panel}
    for uid in reviewer_ids:
        if uid not in have:
            c.panel.append(PanelMember(user_id=uid))
    db.session.flush()


# ---- facts and eligibility -----------------------------------------------------------------------

def years_between(start: date | None, day: date) -> int:
    if start is None:
        return 0
    return day.year - start.year - int((day.month, day.day) < (start.month, start.day))


def volunteer_facts(v: Volunteer, day: date) -> dict:
    """What the ledger knows about a volunteer (verified hours only, ledger.py)."""
    figures = ledger.figures_for(v, day.year)
    # A commendation's name already carries its year ("2025年度最美志愿者"): no second year in front.
    awards = [a.name if a.name.startswith(str(a.awarded_on.year)) else f"{a.awarded_on.year} {a.name}"
              for a in db.session.scalars(
        select(AwardReceived).where(AwardReceived.volunteer_id == v.id).order_by(AwardReceived.awarded_on))]
    # "无劝退记录" reads the history (001 附件4 第五条): a 劝退 at any organization or city-wide counts,
    # also after the person was reinstated.
    dismissals = [f"{e.effective_on.isoformat()} {e.where}"
                  for e in dismissal_records(v.id)]
    return {
        "total_hours": str(figures.total), "year_hours": str(figures.year_hours),
        "last_year_hours": str(figures.last_year_hours), "star": figures.star, "star_label": figures.star_label,
        "registered_on": v.registered_on.isoformat(), "years_active": years_between(v.registered_on, day),
        "dismissed": bool(dismissals) or v.status == VolunteerStatus.DISMISSED, "dismissals": dismissals,
        "awards": awards,
        "org_active": True,
    }


def org_facts(o: Organization, day: date) -> dict:
    members = select(Membership.volunteer_id).where(Membership.organization_id == o.id)
    count, hours = db.session.execute(select(func.count(Volunteer.id), func.coalesce(func.sum(Volunteer.total_hours), 0))
                                      .where(Volunteer.id.in_(members),
                                             Volunteer.status == VolunteerStatus.ACTIVE)).one()
    awards = [f"{n.campaign.year} {n.kind.name}" for n in db.session.scalars(
        select(Nomination).where(Nomination.nominee_org_id == o.id, Nomination.status == NominationStatus.AWARDED))]
    since = o.founded_on or (o.created_at.date() if o.created_at else day)
    return {"volunteers": int(count), "total_hours": str(Decimal(hours).quantize(Decimal("0.1"))),
            "founded_on": since.isoformat(), "years_active": years_between(since, day), "awards": awards,
            "org_active": o.status == OrgStatus.APPROVED, "dismissed": False}


def facts_for(n: Nomination, day: date | None = None) -> dict:
    day = day or local_today()
    if n.kind.nominee_type == NomineeType.VOLUNTEER and n.volunteer_id:
        v = db.session.get(Volunteer, n.volunteer_id)
        facts = volunteer_facts(v, day)
        facts["org_active"] = n.organization.status == OrgStatus.APPROVED
        return facts
    o = n.nominee_org or n.organization
    return org_facts(o, day)


def eligibility(kind: AwardKind, facts: dict) -> list[str]:
    """Why a nominee does not qualify (empty: eligible). Works on the facts dict alone."""
    reasons = []
    if kind.nominee_type == NomineeType.VOLUNTEER:
        if kind.no_dismissal and facts.get("dismissed"):
            reasons.append("该志愿者有劝退记录，不符合推荐条件")
        star = int(facts.get("star") or 0)
        if kind.min_star and star < kind.min_star:
            reasons.append(f"星级为{facts.get('star_label') or '未评星'}，本奖项要求至少 {kind.min_star} 星")
        hours = Decimal(str(facts.get("total_hours") or 0))
        if kind.min_hours and hours < kind.min_hours:
            reasons.append(f"累计已审核服务时长 {hours} 小时，本奖项要求至少 {kind.min_hours} 小时")
    elif kind.min_hours:
        hours = Decimal(str(facts.get("total_hours") or 0))
        if hours < kind.min_hours:
            reasons.append(f"组织志愿者累计服务 {hours} 小时，本奖项要求至少 {kind.min_hours} 小时")
    if kind.min_years and int(facts.get("years_active") or 0) < kind.min_years:
        what = "注册" if kind.nominee_type == NomineeType.VOLUNTEER else "成立"
        reasons.append(f"{what}满 {facts.get('years_active') or 0} 年，本奖项要求至少 {kind.min_years} 年")
    if kind.active_org and not facts.get("org_active", True):
        reasons.append("所在组织不是正常运行（已审核通过）状态")
    return reasons


# ---- nominations ----------------------------------------------------------------------------------

@dataclass
class NominationData:
    kind_id: int
    organization_id: int
    volunteer_id: int | None = None
    project_title: str = ""
    summary: str = ""
    deeds: str = ""
    activity_id: int | None = None
    project_id: int | None = None  # a project of the library (blueprints/projects)


def nomination_open(c: Campaign, day: date | None = None) -> bool:
    day = day or local_today()
    return c.stage == CampaignStage.NOMINATING and c.nomination_start <= day <= c.nomination_end


# The summary is published on the 公示 page (no login): no phone or ID numbers in it.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15}|1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}-?\d{7,8})(?![\dXx])")


def has_personal_number(text: str) -> bool:
    return bool(_PERSONAL_NUMBER.search(text or ""))


def _check_content(c: Campaign, d: NominationData) -> None:
    if not d.summary.strip():
        raise AwardError("请填写简要事迹（用于公示）", "summary")
    if len(d.summary.strip()) > SUMMARY_MAX:
        raise AwardError(f"简要事迹不超过 {SUMMARY_MAX} 字", "summary")
    if has_personal_number(d.summary):
        raise AwardError("简要事迹将在公示页公开，请勿填写手机号、电话或身份证号等个人信息", "summary")
    if len(d.deeds) > c.deeds_limit:
        raise AwardError(f"事迹材料不超过 {c.deeds_limit} 字（现 {len(d.deeds)} 字）", "deeds")


def _resolve_nominee(user: User, c: Campaign, d: NominationData) -> tuple[AwardKind, Organization, dict]:
    kind = db.session.get(AwardKind, d.kind_id)
    if kind is None or kind.campaign_id != c.id:
        raise AwardError("请选择本次评选的奖项", "kind_id")
    org = db.session.get(Organization, d.organization_id)
    if org is None or not scope.in_scope(user, org) or org.id not in {o.id for o in user.organizations}:
        raise AwardError("只能以本人负责的组织名义推荐", "organization_id")
    values: dict = {"volunteer_id": None, "nominee_org_id": None, "project_title": "", "activity_id": None,
                    "project_id": None}
    if kind.nominee_type == NomineeType.VOLUNTEER:
        v = db.session.get(Volunteer, d.volunteer_id) if d.volunteer_id else None
        member = v is not None and db.session.scalar(select(Membership.id).where(
            Membership.volunteer_id == v.id, Membership.organization_id == org.id)) is not None
        if not member:
            raise AwardError("请选择本组织的志愿者", "volunteer_id")
        values.update(volunteer_id=v.id, nominee_name=v.name)
    elif kind.nominee_type == NomineeType.PROJECT:
        title = d.project_title.strip()
        if d.activity_id:
            from blueprints.activities.models import Activity

            activity = db.session.get(Activity, d.activity_id)
            if activity is None or activity.organization_id != org.id:
                raise AwardError("请选择本组织举办的活动", "activity_id")
            values["activity_id"] = activity.id
            title = title or activity.title
        if d.project_id:
            from blueprints.projects.models import VolunteerProject

            project = db.session.get(VolunteerProject, d.project_id)
            if project is None or project.organization_id != org.id:
                raise AwardError("请选择本组织实施的项目", "project_id")
            values["project_id"] = project.id
            title = title or project.title
        if not title:
            raise AwardError("请填写项目名称", "project_title")
        if len(title) > 128:
            raise AwardError("项目名称不超过 128 字", "project_title")
        values.update(project_title=title, nominee_name=title)
    else:
        values.update(nominee_org_id=org.id, nominee_name=org.name)
    return kind, org, values


def save_nomination(user: User, c: Campaign, n: Nomination | None, d: NominationData) -> Nomination:
    """Create or edit a draft nomination (org leaders of the nominating organization)."""
    if user.role != Role.ORG_LEADER:
        raise AwardError("推荐由组织负责人提交", status=403)
    if not nomination_open(c):
        raise AwardError(f"不在推荐申报期内（{c.nomination_start:%Y-%m-%d} 至 {c.nomination_end:%Y-%m-%d}）")
    if n is not None and n.status != NominationStatus.DRAFT:
        raise AwardError("只有草稿可以修改")
    d.deeds = (d.deeds or "").replace("\r\n", "\n")
    _check_content(c, d)
    kind, org, values = _resolve_nominee(user, c, d)
    dup = select(Nomination.id).where(Nomination.campaign_id == c.id, Nomination.kind_id == kind.id,
                                      Nomination.nominee_name == values["nominee_name"],
                                      Nomination.organization_id == org.id)
    if n is not None:
        dup = dup.where(Nomination.id != n.id)
    if db.session.scalar(dup) is not None:
        raise AwardError("本组织已推荐过该对象参评此奖项", "kind_id")
    if values.get("volunteer_id"):
        # One person, one nomination per award: a volunteer of several organizations is put forward once.
        other = select(Organization.name).join(Nomination, Nomination.organization_id == Organization.id).where(
            Nomination.campaign_id == c.id, Nomination.kind_id == kind.id,
            Nomination.volunteer_id == values["volunteer_id"], Nomination.organization_id != org.id,
            Nomination.status != NominationStatus.REJECTED)
        taken = db.session.scalar(other.limit(1))
        if taken is not None:
            raise AwardError(f"该志愿者已由“{taken}”推荐参评此奖项，同一人不能重复推荐", "volunteer_id")
    created = n is None
    if created:
        n = Nomination(campaign_id=c.id, created_by_id=user.id)
        db.session.add(n)
    n.kind_id, n.organization_id, n.district_id = kind.id, org.id, org.district_id
    n.summary, n.deeds = d.summary.strip(), d.deeds.strip()
    for k, v in values.items():
        setattr(n, k, v)
    db.session.flush()
    db.session.refresh(n)
    if created:
        record_step(n, "create", NominationStatus.DRAFT, NominationStatus.DRAFT, user, "")
    return n


# The state machine: action → (from, to, roles that may do it). "system" moves happen inside the
# campaign stage changes (close_scoring, publish_notice, decide) and are refused from outside.
TRANSITIONS: dict[str, tuple[tuple[NominationStatus, ...], NominationStatus, tuple[str, ...]]] = {
    "submit": ((NominationStatus.DRAFT,), NominationStatus.SUBMITTED, (Role.ORG_LEADER,)),
    "recommend": ((NominationStatus.SUBMITTED,), NominationStatus.RECOMMENDED, (Role.DISTRICT_STAFF, Role.CITY_ADMIN)),
    "reject": ((NominationStatus.SUBMITTED,), NominationStatus.REJECTED, (Role.DISTRICT_STAFF, Role.CITY_ADMIN)),
    "rank": ((NominationStatus.RECOMMENDED,), NominationStatus.RANKED, ("system",)),
    "publicize": ((NominationStatus.RANKED,), NominationStatus.PUBLICIZED, ("system",)),
    "drop": ((NominationStatus.RANKED,), NominationStatus.NOT_SELECTED, ("system",)),
    "award": ((NominationStatus.PUBLICIZED,), NominationStatus.AWARDED, ("system",)),
    "revoke": ((NominationStatus.PUBLICIZED,), NominationStatus.NOT_SELECTED, (Role.CITY_ADMIN,)),
}
USER_ACTIONS = ("submit", "recommend", "reject", "revoke")


def record_step(n: Nomination, action: str, src: NominationStatus, dst: NominationStatus, user: User | None,
          comment: str) -> None:
    db.session.add(NominationStep(nomination_id=n.id, action=action, from_status=src.value, to_status=dst.value,
                                  comment=comment[:500], at=utcnow(), **actor_fields(user)))
    record_change(action, n, f"意见：{comment[:490]}" if comment else "", user=user)


def available_actions(n: Nomination, user: User) -> list[str]:
    out = []
    for action in USER_ACTIONS:
        sources, _, roles = TRANSITIONS[action]
        if n.status in sources and user.role in roles:
            out.append(action)
    return out


def transition(n: Nomination, action: str, user: User | None, comment: str = "", *, system: bool = False) -> None:
    """The one way a nomination changes state: checks role, state and the action's own rules, then
    records the step (who, when, comment)."""
    if action not in TRANSITIONS:
        raise AwardError("未知的操作")
    sources, dst, roles = TRANSITIONS[action]
    if "system" in roles:
        if not system:
            raise AwardError(f"“{ACTION_LABELS[action]}”由评选阶段推进时自动完成", status=403)
    elif user is None or user.role not in roles:
        raise AwardError("您无权进行此操作", status=403)
    if n.status not in sources:
        raise AwardError(f"当前状态为“{n.status.label}”，不能{ACTION_LABELS[action]}")
    comment = (comment or "").strip()
    c = n.campaign
    if action == "submit":
        if not nomination_open(c):
            raise AwardError(f"不在推荐申报期内（{c.nomination_start:%Y-%m-%d} 至 {c.nomination_end:%Y-%m-%d}）")
        facts = facts_for(n)
        reasons = eligibility(n.kind, facts)
        if reasons:
            raise AwardError("不符合推荐条件：" + "；".join(reasons))
        n.facts = facts  # frozen: later changes of the ledger do not alter what was submitted
        n.submitted_at = utcnow()
    elif action in ("recommend", "reject"):
        if c.stage != CampaignStage.NOMINATING:
            raise AwardError("市级评审已开始，区级推荐已截止")
        if action == "reject" and not comment:
            raise AwardError("请填写不予推荐的理由", "comment")
        if action == "recommend":
            quota = n.kind.quota_for(n.district_id)
            used = db.session.scalar(select(func.count()).select_from(Nomination).where(
                Nomination.kind_id == n.kind_id, Nomination.district_id == n.district_id,
                Nomination.status == NominationStatus.RECOMMENDED))
            if used >= quota:
                raise AwardError(f"本区“{n.kind.name}”推荐名额为 {quota} 个，已推荐 {used} 个，不能再推荐")
            n.district_order = used + 1
    elif action == "revoke":
        if c.stage != CampaignStage.NOTICE:
            raise AwardError("只有公示期间可以取消表彰资格")
        if not comment:
            raise AwardError("请填写取消理由（如异议核实情况）", "comment")
    src = n.status
    n.status = dst
    record_step(n, action, src, dst, user, comment)
    db.session.flush()


def reorder(user: User, n: Nomination, direction: str) -> None:
    """Move a recommended nomination up or down in its district's order (same kind)."""
    if user.role not in (Role.DISTRICT_STAFF, Role.CITY_ADMIN):
        raise AwardError("您无权调整推荐顺序", status=403)
    if n.status != NominationStatus.RECOMMENDED or n.campaign.stage != CampaignStage.NOMINATING:
        raise AwardError("只有推荐阶段的区级推荐对象可以调整顺序")
    peers = list(db.session.scalars(select(Nomination).where(
        Nomination.kind_id == n.kind_id, Nomination.district_id == n.district_id,
        Nomination.status == NominationStatus.RECOMMENDED).order_by(Nomination.district_order, Nomination.id)))
    i = peers.index(n)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(peers):
        peers[i], peers[j] = peers[j], peers[i]
    for pos, p in enumerate(peers, start=1):
        p.district_order = pos
    db.session.flush()


# ---- scoring ---------------------------------------------------------------------------------------

def reviewer_org_ids(user: User) -> set[int]:
    return {o.id for o in user.organizations}


def nominee_org_ids(n: Nomination) -> set[int]:
    ids = {n.organization_id}
    if n.nominee_org_id:
        ids.add(n.nominee_org_id)
    if n.volunteer_id:
        ids |= set(db.session.scalars(select(Membership.organization_id).where(Membership.volunteer_id == n.volunteer_id)))
    return ids


def must_recuse(user: User, n: Nomination) -> bool:
    """A reviewer does not score nominees of their own organization(s)."""
    return bool(reviewer_org_ids(user) & nominee_org_ids(n))


def is_panel_member(user: User, c: Campaign) -> bool:
    return any(m.user_id == user.id for m in c.panel)


def score(user: User, n: Nomination, points: list) -> ScoreSheet:
    c = n.campaign
    if user.role != Role.REVIEWER or not is_panel_member(user, c):
        raise AwardError("您不是本次评选的评审专家", status=403)
    if c.stage != CampaignStage.SCORING:
        raise AwardError("当前不在评审打分阶段")
    if n.status != NominationStatus.RECOMMENDED:
        raise AwardError("该对象不在评审范围内")
    if must_recuse(user, n):
        raise AwardError("该推荐对象与您所在组织有关，您应当回避，不能评分", status=403)
    if len(points) != len(c.criteria):
        raise AwardError("请为每一项评分标准打分")
    clean = []
    for i, (crit, value) in enumerate(zip(c.criteria, points)):
        try:
            p = Decimal(str(value).strip())
        except Exception:
            raise AwardError(f"“{crit['name']}”请填写数字", f"p{i}") from None
        if not p.is_finite() or p < 0 or p > int(crit["max"]):
            raise AwardError(f"“{crit['name']}”应在 0–{crit['max']} 分之间", f"p{i}")
        if p != p.quantize(Decimal("0.5")):
            raise AwardError(f"“{crit['name']}”最小单位为 0.5 分", f"p{i}")
        clean.append(p)
    sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.nomination_id == n.id,
                                                       ScoreSheet.reviewer_id == user.id))
    if sheet is None:
        sheet = ScoreSheet(nomination_id=n.id, reviewer_id=user.id)
        db.session.add(sheet)
    sheet.points = [str(p) for p in clean]
    sheet.total = sum(clean, Decimal(0))
    db.session.flush()
    return sheet


def trimmed_mean(totals: list[Decimal]) -> Decimal | None:
    """Mean of the reviewers' totals; with TRIM_FROM (5) or more, the highest and lowest are dropped."""
    values = sorted(Decimal(t) for t in totals)
    if not values:
        return None
    if len(values) >= TRIM_FROM:
        values = values[1:-1]
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rank_scores(items: list[tuple[int, Decimal | None]]) -> dict[int, tuple[int, bool]]:
    """Competition ranking (1, 2, 2, 4) of (id, score) pairs, highest first; → {id: (rank, tied)}."""
    ordered = sorted(items, key=lambda it: (it[1] is None, -(it[1] or 0)))
    counts: dict = {}
    for _, s in ordered:
        counts[s] = counts.get(s, 0) + 1
    out, prev, rank = {}, object(), 0
    for pos, (nid, s) in enumerate(ordered, start=1):
        if s != prev:
            rank, prev = pos, s
        out[nid] = (rank, counts[s] > 1)
    return out


def sheets_of(n: Nomination) -> list[ScoreSheet]:
    return list(db.session.scalars(select(ScoreSheet).where(ScoreSheet.nomination_id == n.id)
                                   .order_by(ScoreSheet.reviewer_id)))


@dataclass
class ResultRow:
    nomination: Nomination
    score: Decimal | None
    rank: int | None
    tied: bool
    sheets: int


def results(c: Campaign) -> dict[int, list[ResultRow]]:
    """Results per kind: while scoring runs they are computed live from the sheets (city admin only);
    once scoring has closed the frozen score and rank are shown."""
    by_kind: dict[int, list[Nomination]] = {}
    statuses = (NominationStatus.RECOMMENDED, NominationStatus.RANKED, NominationStatus.PUBLICIZED,
                NominationStatus.NOT_SELECTED, NominationStatus.AWARDED)
    for n in _nominations(c, *statuses):
        by_kind.setdefault(n.kind_id, []).append(n)
    out: dict[int, list[ResultRow]] = {}
    for kind_id, items in by_kind.items():
        sheets = {n.id: sheets_of(n) for n in items}
        if c.scoring_closed:
            rows = [ResultRow(n, n.score, n.rank, n.tied, len(sheets[n.id])) for n in items]
        else:
            scores = {n.id: trimmed_mean([s.total for s in sheets[n.id]]) for n in items}
            ranks = rank_scores(list(scores.items()))
            rows = [ResultRow(n, scores[n.id], *ranks[n.id], len(sheets[n.id])) for n in items]
        rows.sort(key=lambda r: (r.rank or 10**6, r.nomination.id))
        out[kind_id] = rows
    return out


def close_scoring(user: User, c: Campaign) -> None:
    pending = _nominations(c, NominationStatus.RECOMMENDED)
    unscored = [n for n in pending if not sheets_of(n)]
    if unscored:
        raise AwardError(f"尚有 {len(unscored)} 个推荐对象没有任何评分（如：{unscored[0].nominee_name}）")
    by_kind: dict[int, list[Nomination]] = {}
    for n in pending:
        n.score = trimmed_mean([s.total for s in sheets_of(n)])
        by_kind.setdefault(n.kind_id, []).append(n)
    for items in by_kind.values():
        ranks = rank_scores([(n.id, n.score) for n in items])
        for n in items:
            n.rank, n.tied = ranks[n.id]
            transition(n, "rank", user, f"得分 {n.score}，本奖项第 {n.rank} 名" + ("（并列）" if n.tied else ""),
                       system=True)


def publish_notice(user: User, c: Campaign) -> None:
    """The top `quota` of each kind go to 公示; ties at the boundary are all included (shown as 并列)."""
    for n in _nominations(c, NominationStatus.RANKED):
        if n.rank is not None and n.rank <= n.kind.quota:
            transition(n, "publicize", user, "", system=True)
        else:
            transition(n, "drop", user, f"名次 {n.rank} 超出名额 {n.kind.quota}", system=True)


def decide(user: User, c: Campaign) -> None:
    open_count = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.campaign_id == c.id, Objection.status == ObjectionStatus.OPEN))
    if open_count:
        raise AwardError(f"还有 {open_count} 条公示异议未处理")
    today = local_today()
    if today < c.notice_end:
        raise AwardError(f"公示期至 {c.notice_end:%Y-%m-%d} 结束，期满后方可作出表彰决定")
    awarded_on = min(c.presentation_date, today)
    for n in _nominations(c, NominationStatus.PUBLICIZED):
        transition(n, "award", user, "", system=True)
        if n.volunteer_id:
            v = db.session.get(Volunteer, n.volunteer_id)
            ledger.add_award(v, f"{c.year}年度{n.kind.name}", awarded_on, c.granting_unit, user=user,
                             org=n.organization, source="commendation", source_ref=f"award-nomination:{n.id}")


def progress(c: Campaign) -> tuple[list[User], list[Nomination], dict[tuple[int, int], str]]:
    """Who has scored what: cell = "done" | "recused" | "todo"."""
    reviewers = [m.user for m in c.panel]
    noms = _nominations(c, NominationStatus.RECOMMENDED, NominationStatus.RANKED, NominationStatus.PUBLICIZED,
                        NominationStatus.NOT_SELECTED, NominationStatus.AWARDED)
    noms = [n for n in noms if n.rank is not None or n.status == NominationStatus.RECOMMENDED]
    done = {(a, b) for a, b in db.session.execute(select(ScoreSheet.nomination_id, ScoreSheet.reviewer_id).where(
        ScoreSheet.nomination_id.in_([n.id for n in noms])))}
    cells = {}
    for n in noms:
        for r in reviewers:
            cells[(n.id, r.id)] = "done" if (n.id, r.id) in done else ("recused" if must_recuse(r, n) else "todo")
    return reviewers, noms, cells


# ---- 公示 and objections --------------------------------------------------------------------------

def client_key(address: str | None) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, (address or "-").encode(), hashlib.sha256).hexdigest()


def raise_objection(c: Campaign, nomination_id: int | None, name: str, contact: str, content: str, address: str | None,
                    now=None) -> Objection:
    if c.stage != CampaignStage.NOTICE:
        raise AwardError("公示期已结束", status=404)
    now = now or utcnow()
    key = client_key(address)
    recent = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.campaign_id == c.id, Objection.client_key == key, Objection.created_at >= now - OBJECTION_WINDOW))
    if recent >= OBJECTION_LIMIT:
        raise AwardError("提交过于频繁，请一小时后再试", status=429)
    n = None
    if nomination_id:
        n = db.session.get(Nomination, nomination_id)
        if n is None or n.campaign_id != c.id or n.status != NominationStatus.PUBLICIZED:
            raise AwardError("请选择公示名单中的对象", "nomination_id")
    o = Objection(campaign_id=c.id, nomination_id=n.id if n else None, name=name.strip(), contact=contact.strip(),
                  content=content.strip(), client_key=key, created_at=now)
    db.session.add(o)
    db.session.flush()
    return o


def resolve_objection(user: User, o: Objection, upheld: bool, outcome: str) -> None:
    if user.role != Role.CITY_ADMIN:
        raise AwardError("只有市文明办可以处理异议", status=403)
    if o.status != ObjectionStatus.OPEN:
        raise AwardError("该异议已处理")
    outcome = (outcome or "").strip()
    if not outcome:
        raise AwardError("请填写核实情况和处理结果", "outcome")
    o.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    o.outcome, o.resolved_by_id, o.resolved_at = outcome[:1000], user.id, utcnow()
    if upheld and o.nomination is not None and o.nomination.status == NominationStatus.PUBLICIZED:
        transition(o.nomination, "revoke", user, f"公示异议成立：{outcome}")
    record_change("resolve", o, f"{o.status.label}：{outcome}"[:500], user=user)


def public_rows(c: Campaign) -> list[dict]:
    """What the 公示 page shows: kind, name, organization, summary — nothing personal."""
    rows = []
    for n in _nominations(c, NominationStatus.PUBLICIZED):
        rows.append({"id": n.id, "kind": n.kind.name, "name": n.nominee_name, "org": n.organization.name,
                     "summary": _PERSONAL_NUMBER.sub("（已隐去）", n.summary or ""), "tied": n.tied})
    return rows


def winners(c: Campaign) -> list[Nomination]:
    return _nominations(c, NominationStatus.AWARDED)
