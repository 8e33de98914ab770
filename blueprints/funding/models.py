"""Funding (经费保障, seeds 000, 003, 004): the ledger of each holder, purchased-service projects, audits.

A *holder* is whoever keeps a ledger: a volunteer organization, or a 县(市、区) / the city (a region).
Every holder-owned row carries two nullable columns, `organization_id` and `region_id`, exactly one
of them set; core/scope.py decides visibility through the custom rule registered at the bottom.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db, money_check, str_enum
from core.timeutil import utcnow
from core.workflow import StepMixin

if TYPE_CHECKING:
    from blueprints.orgs.models import Organization
    from blueprints.regions.models import Region

MONEY = Numeric(14, 2)  # yuan to the fen; never float

_ONE_HOLDER = "(organization_id IS NULL) <> (region_id IS NULL)"


class HolderMixin:
    """Two nullable columns, exactly one set: an organization's or a region's (district/city) row."""

    @property
    def holder(self):
        return self.organization if self.organization_id else self.region

    @property
    def holder_name(self) -> str:
        h = self.holder
        return h.name if h is not None else "—"

    @property
    def holder_key(self) -> str:
        return f"org-{self.organization_id}" if self.organization_id else f"region-{self.region_id}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        if self.organization_id:
            org = self.organization
            return (org.region_id if org is not None else None), self.organization_id
        return self.region_id, None


class EntryKind(enum.StrEnum):
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def label(self) -> str:
        return "收入" if self is EntryKind.INCOME else "支出"

    @property
    def tone(self) -> str:
        return "green" if self is EntryKind.INCOME else "amber"


class LedgerEntry(HolderMixin, db.Model):
    """One line of a holder's ledger. `amount` is positive for what a person records; a reversing
    entry (红字冲销) carries the negated amount of the entry it corrects, same kind and source, so
    that every sum by source and purpose nets out."""

    __tablename__ = "funding_entry"
    __audit__ = True
    __table_args__ = (
        CheckConstraint(_ONE_HOLDER, name="one_holder"),
        money_check("amount"),  # signed: a reversing entry carries the negated amount
        Index("ix_funding_entry_org_date", "organization_id", "entry_date"),
        Index("ix_funding_entry_region_date", "region_id", "entry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, 8), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    source: Mapped[str] = mapped_column(String(32), index=True)  # 财政拨款, 政府购买服务, …
    purpose: Mapped[str] = mapped_column(String(64), default="")  # 用途
    project: Mapped[str] = mapped_column(String(128), default="")  # 项目 (free text)
    voucher_no: Mapped[str] = mapped_column(String(64), default="")  # 凭证号
    note: Mapped[str] = mapped_column(Text, default="")
    attachment: Mapped[str | None] = mapped_column(String(80))  # core/uploads stored name
    attachment_name: Mapped[str] = mapped_column(String(100), default="")
    # A reversing entry points at the entry it corrects (one reversal per entry), with the reason.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("funding_entry.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    service_project_id: Mapped[int | None] = mapped_column(ForeignKey("funding_project.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped["Organization | None"] = relationship(foreign_keys=[organization_id])
    region: Mapped["Region | None"] = relationship(foreign_keys=[region_id])
    reverses: Mapped["LedgerEntry | None"] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by")
    reversed_by: Mapped["LedgerEntry | None"] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False)
    service_project: Mapped["ServiceProject | None"] = relationship(foreign_keys=[service_project_id])

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind is EntryKind.INCOME else -self.amount

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "资金收支"
    __audit_fields__ = {
        "organization_id": "组织", "region_id": "区域", "entry_date": "日期", "kind": "收支", "amount": "金额",
        "source": "经费来源", "purpose": "用途", "project": "项目", "voucher_no": "凭证号", "note": "备注",
        "attachment": "附件", "attachment_name": "附件文件名", "reverses_id": "冲销的记录", "reason": "冲销原因",
        "service_project_id": "购买服务项目", "created_by_id": "录入人",
    }

    @property
    def audit_label(self) -> str:
        from core.templating import fmt_money
        from core.timeutil import cn_date

        return f"{self.holder_name} {cn_date(self.entry_date)} {self.kind.label} {fmt_money(self.amount)}"


class ProjectStatus(enum.StrEnum):
    """政府购买服务 (000: 立项招标): 立项 → 招标 → 实施 → 验收 → 结项."""

    INITIATED = "initiated"
    TENDERING = "tendering"
    IN_PROGRESS = "in_progress"
    ACCEPTANCE = "acceptance"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return PROJECT_STATUS_LABELS[self]

    @property
    def tone(self) -> str:
        return PROJECT_STATUS_TONES[self]


PROJECT_STATUS_LABELS = {
    ProjectStatus.INITIATED: "立项",
    ProjectStatus.TENDERING: "招标",
    ProjectStatus.IN_PROGRESS: "实施",
    ProjectStatus.ACCEPTANCE: "验收",
    ProjectStatus.CLOSED: "结项",
}
PROJECT_STATUS_TONES = {
    ProjectStatus.INITIATED: "neutral",
    ProjectStatus.TENDERING: "blue",
    ProjectStatus.IN_PROGRESS: "amber",
    ProjectStatus.ACCEPTANCE: "blue",
    ProjectStatus.CLOSED: "green",
}


class ServiceProject(db.Model):
    """A government-purchased service project: the buyer (the city or a district) buys a service
    from a provider organization (chosen at tender)."""

    __tablename__ = "funding_project"
    __audit__ = True
    __table_args__ = (money_check("amount", minimum=0),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    buyer_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(128), default="")  # 购买主体, e.g. 赤坎区文明办
    provider_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ProjectStatus] = mapped_column(
        str_enum(ProjectStatus, 16), default=ProjectStatus.INITIATED, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    buyer_region: Mapped["Region"] = relationship(foreign_keys=[buyer_region_id])
    provider: Mapped["Organization | None"] = relationship(foreign_keys=[provider_org_id])
    steps: Mapped[list["ProjectStep"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="(ProjectStep.at, ProjectStep.id)")
    payments: Mapped[list["ProjectPayment"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="(ProjectPayment.paid_on, ProjectPayment.id)")

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments if not p.is_reversed), Decimal("0.00"))

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "购买服务项目"
    __audit_fields__ = {
        "title": "项目名称", "buyer_region_id": "购买方（区域）", "buyer_name": "购买主体名称", "provider_org_id": "承接组织",
        "amount": "项目金额", "start_date": "开始日期", "end_date": "结束日期", "status": "状态", "description": "项目内容",
        "created_by_id": "创建人",
    }

    @property
    def audit_label(self) -> str:
        return f"购买服务项目“{self.title}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.buyer_region_id, self.provider_org_id

    # The volunteer-service project this contract buys (blueprints/projects), if it is in the library.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_project.id", ondelete="SET NULL"), index=True)
    __audit_fields__ = {**__audit_fields__, "project_id": "项目库项目"}




class ProjectStep(StepMixin, db.Model):
    """One transition of a project: who, when, from → to, comment."""

    __tablename__ = "funding_project_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("funding_project.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[ServiceProject] = relationship(back_populates="steps")


class ProjectPayment(db.Model):
    """A payment of a project: the provider's income entry (and the buyer's expense entry) in the
    ledger. Payments beyond the project amount need a recorded reason."""

    __tablename__ = "funding_payment"
    __audit__ = True
    __table_args__ = (money_check("amount", minimum=0),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("funding_project.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    income_entry_id: Mapped[int | None] = mapped_column(ForeignKey("funding_entry.id"))
    expense_entry_id: Mapped[int | None] = mapped_column(ForeignKey("funding_entry.id"))
    over_reason: Mapped[str] = mapped_column(Text, default="")
    # A wrong payment is reversed (both ledger lines get reversing entries), never deleted.
    reversed_at: Mapped[datetime | None] = mapped_column()
    reverse_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[ServiceProject] = relationship(back_populates="payments")
    income_entry: Mapped[LedgerEntry | None] = relationship(foreign_keys=[income_entry_id])
    expense_entry: Mapped[LedgerEntry | None] = relationship(foreign_keys=[expense_entry_id])

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "项目付款"
    __audit_fields__ = {
        "project_id": "项目", "paid_on": "付款日期", "amount": "付款金额", "income_entry_id": "对应收入记录",
        "expense_entry_id": "对应支出记录", "over_reason": "超付原因", "reversed_at": "冲销时间", "reverse_reason": "冲销原因",
        "created_by_id": "录入人",
    }

    @property
    def audit_label(self) -> str:
        from core.templating import fmt_money
        from core.timeutil import cn_date

        return f"“{self.project.title}”付款 {fmt_money(self.amount)}（{cn_date(self.paid_on)}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        p = self.project
        return (p.buyer_region_id, p.provider_org_id) if p is not None else (None, None)


class FundAudit(HolderMixin, db.Model):
    """An audit of a holder's funds over a period (003: 定时审计，接受社会监督). Entries of the holder
    dated within the period are locked once the audit is recorded."""

    __tablename__ = "funding_audit"
    __audit__ = True
    __table_args__ = (CheckConstraint(_ONE_HOLDER, name="one_holder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    audit_date: Mapped[date] = mapped_column(Date)
    auditor: Mapped[str] = mapped_column(String(128))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    findings: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[str | None] = mapped_column(String(80))
    report_name: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped["Organization | None"] = relationship(foreign_keys=[organization_id])
    region: Mapped["Region | None"] = relationship(foreign_keys=[region_id])
    items: Mapped[list["RectificationItem"]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="RectificationItem.id")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "资金审计"
    __audit_fields__ = {
        "organization_id": "被审计组织", "region_id": "被审计区域", "audit_date": "审计日期", "auditor": "审计机构",
        "period_start": "审计期间自", "period_end": "审计期间至", "findings": "审计发现", "report": "审计报告",
        "report_name": "审计报告文件名", "created_by_id": "录入人",
    }

    @property
    def audit_label(self) -> str:
        from core.timeutil import cn_date

        return f"{self.holder_name} 资金审计（{cn_date(self.period_start)}至{cn_date(self.period_end)}）"


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"open": "待整改", "in_progress": "整改中", "done": "已整改"}[self.value]

    @property
    def tone(self) -> str:
        return {"open": "red", "in_progress": "amber", "done": "green"}[self.value]


class RectificationItem(db.Model):
    """整改事项 from an audit's findings, with its status."""

    __tablename__ = "funding_rectification"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("funding_audit.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus, 16), default=ItemStatus.OPEN)
    result: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    audit: Mapped[FundAudit] = relationship(back_populates="items")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "整改事项"
    __audit_fields__ = {
        "audit_id": "所属审计", "description": "整改事项", "due_date": "整改期限", "status": "状态", "result": "整改结果",
    }

    @property
    def audit_label(self) -> str:
        return f"整改事项 {self.description[:40]}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        a = self.audit
        return a.audit_owner if a is not None else (None, None)


# ---- scope -----------------------------------------------------------------------------------------

def holder_rule(region_col, org_col):
    """Scope of a row held by an organization or a region (core/scope.py `custom=`):
    city-wide users: all; district staff and district leaders: their district's regions and its
    organizations; org leaders: their organizations' rows only (not their district's ledger)."""

    def rule(user):
        from blueprints.accounts.models import Role
        from blueprints.orgs.models import Organization
        from core.scope import region_subtree_ids, user_org_ids

        if user.is_city_wide:
            return true()
        if user.role in (Role.DISTRICT_STAFF, Role.LEADER) and user.region_id:
            subtree = region_subtree_ids(user.region_id)
            orgs = select(Organization.id).where(Organization.region_id.in_(subtree))
            return region_col.in_(subtree) | org_col.in_(orgs)
        if user.role == Role.ORG_LEADER:
            return org_col.in_(user_org_ids(user))
        from sqlalchemy import false

        return false()

    return rule


def _register_scope() -> None:
    from core import scope

    scope.register(LedgerEntry, custom=holder_rule(LedgerEntry.region_id, LedgerEntry.organization_id))
    scope.register(FundAudit, custom=holder_rule(FundAudit.region_id, FundAudit.organization_id))
    scope.register(ServiceProject,
                   custom=holder_rule(ServiceProject.buyer_region_id, ServiceProject.provider_org_id))

    def payments(user):
        return ProjectPayment.project_id.in_(select(ServiceProject.id).where(scope.scope_filter(ServiceProject, user)))

    def items(user):
        return RectificationItem.audit_id.in_(select(FundAudit.id).where(scope.scope_filter(FundAudit, user)))

    scope.register(ProjectPayment, custom=payments)
    scope.register(RectificationItem, custom=items)


_register_scope()
