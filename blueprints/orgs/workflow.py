"""The registration workflow of an organization as an explicit state machine (DOMAIN.md):

    draft ──submit──▶ submitted ──approve──▶ approved ──suspend──▶ suspended ──reinstate──▶ approved
                         │  ▲                    │                     │
                      return resubmit            └──── deregister ─────┴──▶ deregistered (read-only)
                         ▼  │
                       returned

Applicants and org leaders submit (and resubmit) their own organization; district staff of the
organization's district decide, city admins everywhere. Every step is kept (who, when, comment).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from blueprints.accounts.models import Role, User, UserStatus, user_organization
from blueprints.orgs.models import ACTION_LABELS, Organization, OrgStatus, OrgStep
from core import scope
from core.audit import record_change
from core.extensions import db
from core.timeutil import utcnow
from core.workflow import actor_fields

S = OrgStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[OrgStatus]
    target: OrgStatus
    by: str  # "submitter" (the org's own leader or staff) or "office" (district staff / city admin)
    reason_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({S.DRAFT}), S.SUBMITTED, "submitter"),
    "resubmit": Transition(frozenset({S.RETURNED}), S.SUBMITTED, "submitter"),
    "approve": Transition(frozenset({S.SUBMITTED}), S.APPROVED, "office"),
    "return": Transition(frozenset({S.SUBMITTED}), S.RETURNED, "office", reason_required=True),
    "suspend": Transition(frozenset({S.APPROVED}), S.SUSPENDED, "office", reason_required=True),
    "reinstate": Transition(frozenset({S.SUSPENDED}), S.APPROVED, "office"),
    "deregister": Transition(frozenset({S.APPROVED, S.SUSPENDED}), S.DEREGISTERED, "office", reason_required=True),
}

# The button label where it differs from the history label.
BUTTON_LABELS = {"submit": "提交审核", "resubmit": "重新提交", "approve": "审核通过", "return": "退回修改",
                 "suspend": "暂停", "reinstate": "恢复", "deregister": "注销"}
REASON_LABELS = {"return": "退回原因", "suspend": "暂停原因", "deregister": "注销原因"}


class WorkflowError(ValueError):
    """A move the state machine refuses (wrong state, missing reason); message in Chinese."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class NotPermitted(WorkflowError):
    """The user may not take this step on this organization at all (→ 403)."""


def is_office(user: User, org: Organization) -> bool:
    """District staff of the organization's district, or a city admin."""
    if user.role == Role.CITY_ADMIN:
        return True
    return user.role == Role.DISTRICT_STAFF and scope.in_scope(user, org)


def is_own_leader(user: User, org: Organization) -> bool:
    if user.role != Role.ORG_LEADER:
        return False
    return db.session.scalar(select(user_organization.c.user_id).where(
        user_organization.c.user_id == user.id, user_organization.c.organization_id == org.id)) is not None


def may(user: User, org: Organization, action: str) -> bool:
    """May this user take this step now (right role and right state)?"""
    t = TRANSITIONS.get(action)
    if t is None or org.status not in t.sources:
        return False
    return _permitted(user, org, t)


def _permitted(user: User, org: Organization, t: Transition) -> bool:
    if t.by == "office":
        return is_office(user, org)
    return is_office(user, org) or is_own_leader(user, org)


def actions_for(user: User, org: Organization) -> list[str]:
    return [a for a in TRANSITIONS if may(user, org, a)]


def record_step(org: Organization, action: str, user: User | None, comment: str = "",
                from_status: OrgStatus | None = None, at=None) -> OrgStep:
    step = OrgStep(organization=org, action=action, from_status=from_status.value if from_status else None,
                   to_status=org.status.value, comment=comment, at=at or utcnow(), **actor_fields(user))
    db.session.add(step)
    return step


def transition(org: Organization, action: str, user: User, comment: str = "") -> OrgStep:
    """Take one step of the workflow: check who and what, change the status, record the step.
    Raises NotPermitted (wrong role/scope) or WorkflowError (wrong state, missing reason)."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise WorkflowError("未知的操作")
    label = ACTION_LABELS[action]
    if not _permitted(user, org, t):
        raise NotPermitted(f"您无权对该组织执行“{label}”")
    if org.status not in t.sources:
        raise WorkflowError(f"该组织当前状态为“{org.status.label}”，不能执行“{label}”")
    comment = (comment or "").strip()
    if t.reason_required and not comment:
        raise WorkflowError(f"请填写{REASON_LABELS[action]}", "comment")
    if len(comment) > 1000:
        raise WorkflowError("说明最多 1000 个字", "comment")
    if action == "approve" and _registered_namesake(org):
        raise WorkflowError("本县(市、区)已有同名的已登记组织，不能审核通过；请退回申请人修改名称")
    before = org.status
    org.status = t.target
    if t.target == S.SUBMITTED:
        org.submitted_at = utcnow()
    step = record_step(org, action, user, comment, before)
    if action == "approve":
        _activate_leaders(org)
    record_change("transition", org, f"{label}：{before.label} → {org.status.label}" + (f"（{comment}）" if comment else ""))
    return step


def _registered_namesake(org: Organization) -> bool:
    """Another registered organization of the same name in the same district. Applicants are not told
    about other applications (issue 14), so two may carry one name; the first approved keeps it."""
    return db.session.scalar(select(Organization.id).where(
        Organization.id != org.id, Organization.name_key == org.name_key,
        Organization.district_id.is_(None) if org.district_id is None else Organization.district_id == org.district_id,
        Organization.status.in_([S.APPROVED, S.SUSPENDED])).limit(1)) is not None


def _activate_leaders(org: Organization) -> None:
    """Approval activates the applicant's pending org_leader account (issue #4)."""
    ids = select(user_organization.c.user_id).where(user_organization.c.organization_id == org.id)
    pending = list(db.session.scalars(select(User).where(User.id.in_(ids), User.status == UserStatus.PENDING)))
    for u in pending:
        u.status = UserStatus.ACTIVE
    db.session.flush()

