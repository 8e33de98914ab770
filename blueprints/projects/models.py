"""The project library (志愿服务项目库, seed 000 (五)1: "规范项目的立项、管理及评估").

A project runs 立项 → 实施 → 评估 → 结项, one explicit step per move (services.transition). Activities
belong to a project (Activity.project_id); a 最佳志愿服务项目 nomination and a 政府购买服务 contract may
point at one. The evaluation (ProjectEvaluation) scores weighted criteria; saving it closes the project.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from core import scope
from core.extensions import db, money_check, str_enum
from core.timeutil import utcnow
from core.workflow import StepMixin

MONEY = Numeric(14, 2)


class ProjectStatus(enum.StrEnum):
    INITIATED = "initiated"  # 立项
    IMPLEMENTING = "implementing"  # 实施
    EVALUATING = "evaluating"  # 评估
    CLOSED = "closed"  # 结项

    @property
    def label(self) -> str:
        return {"initiated": "立项", "implementing": "实施", "evaluating": "评估", "closed": "结项"}[self.value]

    @property
    def tone(self) -> str:
        return {"initiated": "blue", "implementing": "green", "evaluating": "amber", "closed": "neutral"}[self.value]


class VolunteerProject(db.Model):
    __tablename__ = "volunteer_project"
    __audit__ = True
    __table_args__ = (money_check("budget", minimum=0),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    field: Mapped[str] = mapped_column(String(32), default="")  # 服务领域 (orgs' service fields)
    target_group: Mapped[str] = mapped_column(String(32), default="")  # 服务对象
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    budget: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    goals: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProjectStatus] = mapped_column(str_enum(ProjectStatus, 16), default=ProjectStatus.INITIATED,
                                                  index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    steps: Mapped[list["VolunteerProjectStep"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="(VolunteerProjectStep.at, VolunteerProjectStep.id)")
    evaluation: Mapped["ProjectEvaluation | None"] = relationship(back_populates="project", cascade="all, delete-orphan")

    __audit_noun__ = "志愿服务项目"
    __audit_fields__ = {
        "title": "项目名称", "organization_id": "实施组织", "field": "服务领域", "target_group": "服务对象",
        "start_date": "开始日期", "end_date": "结束日期", "budget": "项目预算", "goals": "项目目标", "status": "状态",
        "created_by_id": "创建人",
    }

    def __str__(self) -> str:
        return self.title

    @property
    def audit_label(self) -> str:
        return f"志愿服务项目“{self.title}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id


class VolunteerProjectStep(StepMixin, db.Model):
    __tablename__ = "volunteer_project_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("volunteer_project.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[VolunteerProject] = relationship(back_populates="steps")


class ProjectEvaluation(db.Model):
    """The evaluation of a project: one score (0–100) per criterion, weighted into the total."""

    __tablename__ = "volunteer_project_evaluation"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("volunteer_project.id", ondelete="CASCADE"), unique=True)
    evaluated_on: Mapped[date] = mapped_column(Date)
    evaluator: Mapped[str] = mapped_column(String(128))  # 评估单位 / 评估人
    # [{"key", "label", "weight", "score"}]: the criteria as they stood when scored.
    scores: Mapped[list] = mapped_column(JSON, default=list)
    total: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    conclusion: Mapped[str] = mapped_column(Text, default="")
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[VolunteerProject] = relationship(back_populates="evaluation")

    __audit_noun__ = "项目评估"
    __audit_fields__ = {"project_id": "项目", "evaluated_on": "评估日期", "evaluator": "评估单位", "scores": "各项得分",
                        "total": "总分", "conclusion": "评估结论", "evaluated_by_id": "评估人",
                        "evaluated_at": "评估录入时间"}

    @property
    def audit_label(self) -> str:
        return f"项目评估（{self.project.title}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.project.organization.region_id, self.project.organization_id


scope.register(VolunteerProject, org=VolunteerProject.organization_id)
scope.register(ProjectEvaluation, custom=lambda user: ProjectEvaluation.project_id.in_(
    db.select(VolunteerProject.id).where(scope.scope_filter(VolunteerProject, user))))
