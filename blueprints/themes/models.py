"""每月一主题 (seed 002 附件, DOMAIN.md "Activities and the monthly theme calendar").

- ThemePlan: a yearly table of one region — the city's plan, which every district follows, or a
  district's plan holding the rows it adds of its own. Draft until published.
- ThemePlanRow: one line of the table exactly as the 附件 has it: 月份 (one month or a range such as
  1－2), 活动名称, 活动内容, 牵头单位, 责任单位. A month may hold several rows (May in 002).
- ThemeActivity: ties an activity (blueprints/activities, not edited here) to a theme row; a district
  (or the city) marks one activity per month as its concentrated theme activity (集中活动, 002:
  "市级和各地每月要突出主题开展一次集中统一的志愿服务活动").
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, select, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.extensions import db, str_enum
from core.timeutil import utcnow

DASH = "－"  # the 附件 writes ranges with a full-width hyphen: "1－2"


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "published": "已发布"}[self.value]

    @property
    def tone(self) -> str:
        return {"draft": "amber", "published": "green"}[self.value]


class ThemePlan(db.Model):
    __tablename__ = "theme_plan"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # the city or a district
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, 16), default=PlanStatus.DRAFT, index=True)
    # The built-in 2015 广安 table (002 附件): a reference to read, print and copy, never a live plan.
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("theme_plan.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    rows: Mapped[list["ThemePlanRow"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="(ThemePlanRow.position, ThemePlanRow.id)")
    copied_from: Mapped["ThemePlan | None"] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return self.title

    @property
    def is_city(self) -> bool:
        return self.region.level == RegionLevel.CITY

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "主题活动计划"
    __audit_fields__ = {
        "year": "年度", "region_id": "区域", "title": "标题", "status": "状态", "is_example": "示例计划",
        "copied_from_id": "复制自", "note": "说明", "published_at": "发布时间", "created_by_id": "创建人",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.year} 年主题活动计划“{self.title}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, None


class ThemePlanRow(db.Model):
    __tablename__ = "theme_plan_row"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("theme_plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    month_start: Mapped[int] = mapped_column(Integer)
    month_end: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # 活动名称
    content: Mapped[str] = mapped_column(Text, default="")  # 活动内容
    lead_unit: Mapped[str] = mapped_column(String(200), default="")  # 牵头单位
    responsible_units: Mapped[str] = mapped_column(String(200), default="")  # 责任单位

    plan: Mapped[ThemePlan] = relationship(back_populates="rows")

    def __str__(self) -> str:
        return self.name

    @property
    def month_label(self) -> str:
        if self.month_start == self.month_end:
            return str(self.month_start)
        return f"{self.month_start}{DASH}{self.month_end}"

    def covers(self, month: int) -> bool:
        return self.month_start <= month <= self.month_end

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "月度主题"
    __audit_fields__ = {
        "plan_id": "所属计划", "position": "排序", "month_start": "起始月份", "month_end": "结束月份", "name": "主题名称",
        "content": "活动内容", "lead_unit": "牵头单位", "responsible_units": "责任单位",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.plan.year} 年 {self.month_label} 月主题“{self.name}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.plan.region_id, None


class ThemeActivity(db.Model):
    """An activity held on a theme. `unit_region_id` is the district whose activity it is (the city
    region for activities of city-level organizations): the board's row."""

    __tablename__ = "theme_activity"
    __audit__ = True
    __table_args__ = (
        # 002: one concentrated activity per district (or the city) and month.
        Index("uq_theme_activity_concentrated", "unit_region_id", "year", "month", unique=True,
              sqlite_where=text("is_concentrated"), postgresql_where=text("is_concentrated")),
        Index("ix_theme_activity_unit_month", "unit_region_id", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), unique=True)
    theme_row_id: Mapped[int] = mapped_column(ForeignKey("theme_plan_row.id", ondelete="CASCADE"), index=True)
    unit_region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    is_concentrated: Mapped[bool] = mapped_column(Boolean, default=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    theme_row: Mapped[ThemePlanRow] = relationship()
    unit_region: Mapped[Region] = relationship()
    activity = relationship("Activity")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "主题活动认定"
    __audit_fields__ = {
        "activity_id": "活动", "theme_row_id": "所属主题", "unit_region_id": "认定单位（区域）", "year": "年度", "month": "月份",
        "is_concentrated": "集中活动", "marked_by_id": "认定人",
    }

    @property
    def audit_label(self) -> str:
        kind = "集中活动" if self.is_concentrated else "主题活动"
        title = self.activity.title if self.activity is not None else ""
        return f"{self.year} 年 {self.month} 月{kind}“{title}”" if title else f"{self.year} 年 {self.month} 月{kind}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.unit_region_id, None


def _plans_in_scope(user):
    # Everyone reads the city's plans (the districts follow them); district plans by region scope.
    city_ids = select(Region.id).where(Region.level == RegionLevel.CITY)
    return ThemePlan.region_id.in_(scope.region_ids_in_scope(user)) | ThemePlan.region_id.in_(city_ids)


def _plan_scope(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if user.is_city_wide:
        return true()
    return _plans_in_scope(user)


def _activity_scope(user):
    from blueprints.activities.models import Activity

    return ThemeActivity.activity_id.in_(select(Activity.id).where(scope.scope_filter(Activity, user)))


scope.register(ThemePlan, custom=_plan_scope)
scope.register(ThemePlanRow, custom=lambda user: ThemePlanRow.plan_id.in_(
    select(ThemePlan.id).where(_plan_scope(user))))
scope.register(ThemeActivity, custom=_activity_scope)
