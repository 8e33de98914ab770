"""Monthly reports (月报制度, seed 002): one report per organization and month, one per district and
month to the city; their needs (需求信息), attachments, workflow steps; in-app notifications and the
log of 催报 reminders."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import scope
from core.extensions import db, nonnegative, str_enum
from core.timeutil import utcnow
from core.workflow import StepMixin

if TYPE_CHECKING:
    from blueprints.orgs.models import Organization
    from blueprints.regions.models import Region


class ReportLevel(enum.StrEnum):
    ORG = "org"  # an organization reports to its district
    DISTRICT = "district"  # a district reports to the city

    @property
    def label(self) -> str:
        return {"org": "组织月报", "district": "区县月报"}[self.value]


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "resubmitted": "已重新提交",
                "accepted": "已通过"}[self.value]

    @property
    def tone(self) -> str:
        return {"draft": "neutral", "submitted": "blue", "returned": "amber", "resubmitted": "blue",
                "accepted": "green"}[self.value]

    @property
    def editable(self) -> bool:
        return self in (ReportStatus.DRAFT, ReportStatus.RETURNED)

    @property
    def awaiting_review(self) -> bool:
        return self in (ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED)


class AttachmentKind(enum.StrEnum):
    # 002: 活动方案、工作简报、活动图片、总结
    PLAN = "plan"
    BRIEF = "brief"
    PHOTO = "photo"
    SUMMARY = "summary"

    @property
    def label(self) -> str:
        return {"plan": "活动方案", "brief": "工作简报", "photo": "活动图片", "summary": "总结"}[self.value]


HOURS = Numeric(10, 1)


class MonthlyReport(db.Model):
    __tablename__ = "monthly_report"
    __audit__ = True
    # Drafts autosave every few seconds: the narrative, the live figures and the lock counter are not
    # audited (the workflow steps are, through `status`, and are kept in ReportStep).
    __audit_exclude__ = {"unit_key", "version", "summary", "highlights", "problems", "next_plan", "activity_count",
                         "volunteer_count", "service_hours", "new_volunteers", "theme_held", "updated_by_id"}
    __table_args__ = (
        # One report per unit ("org-12" / "district-3") and month.
        UniqueConstraint("unit_key", "year", "month", name="uq_monthly_report_unit_month"),
        Index("ix_monthly_report_period", "year", "month"),
        *nonnegative("activity_count", "volunteer_count", "service_hours", "new_volunteers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[ReportLevel] = mapped_column(str_enum(ReportLevel, 16), index=True)
    unit_key: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    # The district the report belongs to (the org's district, or the district itself).
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus, 16), default=ReportStatus.DRAFT, index=True)
    # Optimistic locking: every save must name the version it was based on.
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Figures, prefilled from the ledger and the calendar; frozen at submission.
    activity_count: Mapped[int] = mapped_column(Integer, default=0)
    volunteer_count: Mapped[int] = mapped_column(Integer, default=0)
    service_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0"))
    new_volunteers: Mapped[int] = mapped_column(Integer, default=0)
    theme_held: Mapped[bool] = mapped_column(Boolean, default=False)
    figures_frozen_at: Mapped[datetime | None] = mapped_column()

    summary: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    next_plan: Mapped[str] = mapped_column(Text, default="")

    first_submitted_at: Mapped[datetime | None] = mapped_column()  # decides on time / late
    submitted_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped["Organization | None"] = relationship()
    region: Mapped["Region"] = relationship()
    needs: Mapped[list["ReportNeed"]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                     order_by="ReportNeed.position")
    steps: Mapped[list["ReportStep"]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                     order_by="ReportStep.id")
    attachments: Mapped[list["ReportAttachment"]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                                 order_by="ReportAttachment.id")

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def unit_name(self) -> str:
        return self.organization.name if self.organization is not None else self.region.name

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "月报"
    __audit_fields__ = {
        "level": "层级", "organization_id": "填报组织", "region_id": "所属区县", "year": "年度",
        "month": "月份", "status": "状态", "figures_frozen_at": "数据冻结时间", "first_submitted_at": "首次提交时间",
        "submitted_at": "提交时间", "decided_at": "审核时间", "created_by_id": "创建人",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.year} 年 {self.month} 月月报（{self.unit_name}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, self.organization_id


class ReportNeed(db.Model):
    """One 需求信息 line: what is needed, where, who to contact, when (published monthly, 002)."""

    __tablename__ = "report_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    when: Mapped[str] = mapped_column(String(100), default="")

    report: Mapped[MonthlyReport] = relationship(back_populates="needs")

    @property
    def blank(self) -> bool:
        return not (self.what or self.place or self.contact or self.when)


class ReportStep(StepMixin, db.Model):
    """One workflow step (who, when, what, comment): the report's timeline."""

    __tablename__ = "report_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[MonthlyReport] = relationship(back_populates="steps")


class ReportAttachment(db.Model):
    __tablename__ = "report_attachment"
    __audit__ = True
    __table_args__ = nonnegative("size")

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(str_enum(AttachmentKind, 16))
    stored_name: Mapped[str] = mapped_column(String(80))
    thumb_name: Mapped[str | None] = mapped_column(String(80))  # a small JPEG for images
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[MonthlyReport] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "月报附件"
    __audit_exclude__ = {"stored_name", "thumb_name"}  # file names on disk, not the user's
    __audit_fields__ = {
        "report_id": "所属月报", "kind": "附件类别", "original_name": "文件名", "content_type": "文件类型",
        "size": "文件大小（字节）", "uploaded_by_id": "上传人", "uploaded_at": "上传时间",
    }

    @property
    def audit_label(self) -> str:
        return f"月报附件“{self.original_name}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return (self.report.region_id, self.report.organization_id) if self.report else (None, None)


class Notification(db.Model):
    """An in-app message to one user (催报 and review results)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class ReminderLog(db.Model):
    """One 催报 action: who chased which month in which area, how many organizations and people."""

    __tablename__ = "report_reminder"
    __audit__ = True
    __table_args__ = nonnegative("unit_count", "recipient_count", "emailed")

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16), default="org")
    unit_count: Mapped[int] = mapped_column(Integer, default=0)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    emailed: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[str] = mapped_column(Text, default="")  # names of the chased units, for the log
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    sent_by_name: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "催报记录"
    __audit_fields__ = {
        "region_id": "区域", "year": "年度", "month": "月份", "level": "层级", "unit_count": "催报单位数",
        "recipient_count": "通知人数", "emailed": "已发邮件", "units": "催报单位", "sent_by_id": "催报人账户",
        "sent_by_name": "催报人", "sent_at": "催报时间",
    }

    @property
    def audit_label(self) -> str:
        return f"催报 {self.year} 年 {self.month} 月"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, None


def _via_report(column):
    def rule(user):
        return column.in_(select(MonthlyReport.id).where(scope.scope_filter(MonthlyReport, user)))
    return rule


def _own_notifications(user):
    return Notification.user_id == user.id


scope.register(MonthlyReport, region=MonthlyReport.region_id, org=MonthlyReport.organization_id)
scope.register(ReportNeed, custom=_via_report(ReportNeed.report_id))
scope.register(ReportStep, custom=_via_report(ReportStep.report_id))
scope.register(ReportAttachment, custom=_via_report(ReportAttachment.report_id))
scope.register(Notification, custom=_own_notifications, volunteer=_own_notifications)  # a volunteer reads their own (issue 17)
scope.register(ReminderLog, region=ReminderLog.region_id)
