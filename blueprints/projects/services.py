"""The project library's rules (seed 000 (五)1: "规范项目的立项、管理及评估等流程，逐步建立……志愿服务项目库").

- A project is entered (立项) by whoever manages its organization (org leader, district staff, city admin).
- 立项 → 实施 (start) and 实施 → 评估 (review: the organization asks for evaluation) are the
  organization's moves; 评估 → 结项 happens only by saving the evaluation, and 评估 → 实施 (return, with a
  reason) — both are the offices' (district staff of its district, the city admin): the organization does
  not evaluate its own project (003: "加强对……志愿服务项目的评估").
- The evaluation scores weighted criteria (0–100 each); the total is the weighted sum.
- Activities of the project's organization may be linked to it while it is not closed.
Services flush; the route commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from blueprints.activities.models import Activity
from blueprints.activities.services import organizer_orgs
from blueprints.orgs.services import service_field_options
from blueprints.projects.models import ProjectEvaluation, ProjectStatus, VolunteerProject, VolunteerProjectStep
from core import scope, settings
from core.audit import record_change
from core.extensions import db
from core.roles import Role
from core.timeutil import local_today
from core.validators import ValidationError, parse_money
from core.workflow import actor_fields, verb

# 服务对象 (DOMAIN.md, issue 18); city admins may change the list through settings like the service fields.
TARGET_GROUPS_KEY = "projects.target_groups"
DEFAULT_TARGET_GROUPS = ["空巢老人", "留守儿童", "残疾人", "困境儿童", "低保家庭", "环卫工人", "外来务工人员",
                         "青少年", "社区居民", "游客市民"]

# The evaluation's criteria: (key, label, weight); the weights add up to 100.
CRITERIA: list[tuple[str, str, int]] = [
    ("goals", "目标达成度", 30),
    ("effect", "服务成效", 25),
    ("satisfaction", "服务对象满意度", 20),
    ("management", "项目管理规范", 15),
    ("funds", "经费使用", 10),
]
GRADES = [(Decimal(90), "优秀"), (Decimal(75), "良好"), (Decimal(60), "合格"), (Decimal(0), "不合格")]

OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
# action → (from, to, who: "org" = anyone managing the project, "office" = district/city staff, comment required)
TRANSITIONS: dict[str, tuple[ProjectStatus, ProjectStatus, str, bool]] = {
    "start": (ProjectStatus.INITIATED, ProjectStatus.IMPLEMENTING, "org", False),
    "review": (ProjectStatus.IMPLEMENTING, ProjectStatus.EVALUATING, "org", False),
    "return": (ProjectStatus.EVALUATING, ProjectStatus.IMPLEMENTING, "office", True),
    "close": (ProjectStatus.EVALUATING, ProjectStatus.CLOSED, "office", False),
}
BUTTONS = ("start", "review", "return")  # "close" is the evaluation form's


class ProjectError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def target_groups() -> list[str]:
    return settings.get_list(TARGET_GROUPS_KEY, DEFAULT_TARGET_GROUPS)


def save_target_groups(user, text: str) -> list[str]:
    """The city admin's list of target groups (an option list, like the organizations' service fields)."""
    from blueprints.orgs.services import OrgError, parse_option_lines

    try:
        items = parse_option_lines(text, "服务对象")
    except OrgError as e:
        raise ProjectError(e.message, "target_groups") from None
    settings.set_value(TARGET_GROUPS_KEY, items, user)
    return items


def grade(total: Decimal | None) -> str:
    if total is None:
        return ""
    return next(label for low, label in GRADES if total >= low)


def can_manage(user, project: VolunteerProject) -> bool:
    return bool(user.can_write) and scope.in_scope(user, project)


def can_evaluate(user, project: VolunteerProject) -> bool:
    return user.role in OFFICE and can_manage(user, project)


def allowed_actions(user, project: VolunteerProject) -> list[str]:
    if not can_manage(user, project):
        return []
    out = []
    for action in BUTTONS:
        src, _, who, _ = TRANSITIONS[action]
        if project.status == src and (who == "org" or user.role in OFFICE):
            out.append(action)
    return out


# ---- create / edit -----------------------------------------------------------------------------------

@dataclass
class ProjectData:
    title: str
    organization_id: int | None
    field: str
    target_group: str
    start_date: date | None
    end_date: date | None
    budget: object
    goals: str


def _check(user, d: ProjectData, project: VolunteerProject | None) -> dict:
    title = (d.title or "").strip()
    if not title:
        raise ProjectError("请填写项目名称", "title")
    orgs = {o.id for o in organizer_orgs(user)}
    if (d.organization_id or 0) not in orgs and not (project is not None and d.organization_id == project.organization_id):
        raise ProjectError("请选择您所管理的、已登记的组织", "organization_id")
    if project is not None and d.organization_id != project.organization_id and project_activity_count(project):
        raise ProjectError("项目已关联活动，不能更换实施组织", "organization_id")
    if d.field not in service_field_options() and not (project is not None and d.field == project.field):
        raise ProjectError("请选择服务领域", "field")
    if d.target_group not in target_groups() and not (project is not None and d.target_group == project.target_group):
        raise ProjectError("请选择服务对象", "target_group")
    if d.start_date is None:
        raise ProjectError("请选择开始日期", "start_date")
    if d.end_date is None:
        raise ProjectError("请选择结束日期", "end_date")
    if d.end_date < d.start_date:
        raise ProjectError("结束日期不能早于开始日期", "end_date")
    if d.start_date.year < 2000 or d.end_date.year > local_today().year + 10:
        raise ProjectError("项目周期不在可接受的范围内", "end_date")
    try:
        budget = parse_money(d.budget, "项目预算", allow_zero=True)
    except ValidationError as e:
        raise ProjectError(e.message, "budget") from None
    if budget < 0:
        raise ProjectError("项目预算不能为负数", "budget")
    goals = (d.goals or "").strip()
    if not goals:
        raise ProjectError("请填写项目目标", "goals")
    return dict(title=title[:128], organization_id=d.organization_id, field=d.field, target_group=d.target_group,
                start_date=d.start_date, end_date=d.end_date, budget=budget, goals=goals)


def create_project(user, d: ProjectData) -> VolunteerProject:
    values = _check(user, d, None)
    p = VolunteerProject(**values, created_by_id=user.id)
    db.session.add(p)
    db.session.flush()
    p.steps.append(VolunteerProjectStep(action="create", from_status=None, to_status=ProjectStatus.INITIATED.value,
                                        comment="", **actor_fields(user)))
    db.session.flush()
    return p


def update_project(user, project: VolunteerProject, d: ProjectData) -> None:
    if project.status not in (ProjectStatus.INITIATED, ProjectStatus.IMPLEMENTING):
        raise ProjectError(f"项目处于“{project.status.label}”阶段，不能修改", "title")
    for k, v in _check(user, d, project).items():
        setattr(project, k, v)
    db.session.flush()


# ---- the state machine -------------------------------------------------------------------------------

def transition(user, project: VolunteerProject, action: str, comment: str = "") -> None:
    """The one move of a project from one stage to the next; refuses an illegal move with a clear message."""
    if action not in TRANSITIONS:
        raise ProjectError("不支持的操作")
    src, dst, who, needs_comment = TRANSITIONS[action]
    if not can_manage(user, project):
        raise ProjectError("您不能办理该项目")
    if who == "office" and user.role not in OFFICE:
        raise ProjectError("该步骤由县区或市文明办办理")
    if project.status != src:
        raise ProjectError(f"项目处于“{project.status.label}”阶段，不能{verb(action, 'volunteer_project')}")
    comment = (comment or "").strip()
    if needs_comment and not comment:
        raise ProjectError("请填写退回原因", "comment")
    project.steps.append(VolunteerProjectStep(action=action, from_status=src.value, to_status=dst.value,
                                              comment=comment[:2000], **actor_fields(user)))
    project.status = dst
    record_change(action, project, f"意见：{comment}" if comment else "", user=user)  # the log reads the step's verb


# ---- evaluation --------------------------------------------------------------------------------------

def parse_score(raw, key: str, label: str) -> Decimal:
    """One criterion's score as typed: 0 to 100, at most one decimal."""
    text = str(raw if raw is not None else "").strip()[:12]
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise ProjectError(f"{label}：请填写 0 到 100 之间的分数", f"score_{key}") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100) or value != value.quantize(Decimal("0.1")):
        raise ProjectError(f"{label}：请填写 0 到 100 之间的分数（最多一位小数）", f"score_{key}")
    return value


def weighted_total(scores: dict[str, Decimal]) -> Decimal:
    total = sum((scores[key] * weight for key, _, weight in CRITERIA), Decimal(0)) / Decimal(100)
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def evaluate(user, project: VolunteerProject, raw_scores: dict, evaluator: str, evaluated_on: date | None,
             conclusion: str) -> ProjectEvaluation:
    """Save the evaluation and close the project (评估 → 结项), all or nothing."""
    if not can_evaluate(user, project):
        raise ProjectError("项目评估由县区或市文明办办理", "evaluator")
    if project.status != ProjectStatus.EVALUATING:
        raise ProjectError(f"项目处于“{project.status.label}”阶段，提交评估后才能评估", "evaluator")
    scores = {key: parse_score(raw_scores.get(key, ""), key, label) for key, label, _ in CRITERIA}
    evaluator = (evaluator or "").strip()
    if not evaluator:
        raise ProjectError("请填写评估单位", "evaluator")
    if evaluated_on is None or evaluated_on > local_today() or evaluated_on < project.start_date:
        raise ProjectError("评估日期应在项目开始之后、今天及以前", "evaluated_on")
    total = weighted_total(scores)
    ev = ProjectEvaluation(project_id=project.id, evaluated_on=evaluated_on, evaluator=evaluator[:128],
                           scores=[{"key": k, "label": label, "weight": w, "score": str(scores[k])} for k, label, w in CRITERIA],
                           total=total, conclusion=(conclusion or "").strip(), evaluated_by_id=user.id)
    db.session.add(ev)
    transition(user, project, "close", f"评估总分 {total}（{grade(total)}）")
    db.session.flush()
    return ev


# ---- activities of a project -------------------------------------------------------------------------

def project_activity_count(project: VolunteerProject) -> int:
    return db.session.scalar(select(func.count(Activity.id)).where(Activity.project_id == project.id)) or 0


def activities_of(project: VolunteerProject) -> list[Activity]:
    return list(db.session.scalars(select(Activity).where(Activity.project_id == project.id)
                                   .order_by(Activity.held_on.desc(), Activity.id.desc())))


def linkable_activities(user, project: VolunteerProject, limit: int = 100) -> list[Activity]:
    """Activities of the project's organization, in the user's scope, not yet in a project."""
    stmt = scope.scoped(select(Activity), Activity, user).where(
        Activity.organization_id == project.organization_id, Activity.project_id.is_(None))
    return list(db.session.scalars(stmt.order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit)))


def link_activity(user, project: VolunteerProject, activity: Activity) -> None:
    if not can_manage(user, project) or not scope.in_scope(user, activity):
        raise ProjectError("您不能关联该活动", "activity_id")
    if project.status == ProjectStatus.CLOSED:
        raise ProjectError("项目已结项，不能再关联活动", "activity_id")
    if activity.organization_id != project.organization_id:
        raise ProjectError("只能关联项目实施组织举办的活动", "activity_id")
    if activity.project_id not in (None, project.id):
        raise ProjectError("该活动已属于另一个项目", "activity_id")
    activity.project_id = project.id
    db.session.flush()


def project_refusal(user, project_id: int, organization_id: int) -> str | None:
    """Why an activity of `organization_id` may not be put in project `project_id` by `user` (None: it may);
    the activity form asks this (blueprints/activities)."""
    project = db.session.scalar(scope.scoped(select(VolunteerProject), VolunteerProject, user)
                                .where(VolunteerProject.id == project_id))
    if project is None:
        return "请从列表中选择项目"
    if project.status == ProjectStatus.CLOSED:
        return "项目已结项，不能再添加活动"
    if project.organization_id != organization_id:
        return "所选项目不是本活动组织单位实施的项目"
    return None


def unlink_activity(user, project: VolunteerProject, activity: Activity) -> None:
    if not can_manage(user, project) or activity.project_id != project.id:
        raise ProjectError("该活动不属于本项目", "activity_id")
    if project.status == ProjectStatus.CLOSED:
        raise ProjectError("项目已结项，不能取消关联", "activity_id")
    activity.project_id = None
    db.session.flush()


def pointing_at(user, project: VolunteerProject) -> tuple[list, list]:
    """The purchased-service contracts and the award nominations in the user's scope that name this project."""
    from blueprints.awards.models import Nomination, NominationStatus
    from blueprints.funding.models import ServiceProject

    contracts = list(db.session.scalars(scope.scoped(select(ServiceProject), ServiceProject, user)
                                        .where(ServiceProject.project_id == project.id).order_by(ServiceProject.id)))
    nominations = list(db.session.scalars(scope.scoped(select(Nomination), Nomination, user).where(
        Nomination.project_id == project.id, Nomination.status != NominationStatus.DRAFT).order_by(Nomination.id)))
    return contracts, nominations


def project_choices(user, organization_id: int | None = None, include_closed: bool = True) -> list[VolunteerProject]:
    """Projects in the user's scope (of one organization), for the pickers of other features."""
    stmt = scope.scoped(select(VolunteerProject), VolunteerProject, user)
    if organization_id:
        stmt = stmt.where(VolunteerProject.organization_id == organization_id)
    if not include_closed:
        stmt = stmt.where(VolunteerProject.status != ProjectStatus.CLOSED)
    return list(db.session.scalars(stmt.order_by(VolunteerProject.start_date.desc(), VolunteerProject.id.desc()).limit(300)))


# ---- the list ----------------------------------------------------------------------------------------

def list_query(user, status: str = "", q: str = "", field: str = ""):
    stmt = scope.scoped(select(VolunteerProject), VolunteerProject, user)
    if status in {s.value for s in ProjectStatus}:
        stmt = stmt.where(VolunteerProject.status == status)
    q = (q or "").strip()[:40]
    if q:
        stmt = stmt.where(VolunteerProject.title.contains(q, autoescape=True))
    if field:
        stmt = stmt.where(VolunteerProject.field == field)
    return stmt.order_by(VolunteerProject.start_date.desc(), VolunteerProject.id.desc())
