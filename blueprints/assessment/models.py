"""Annual assessment (002: "纳入精神文明建设年度考核"): per-year indicators set by the city, per-district
entered values and adjustments, and frozen snapshots of a year's results."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import scope
from core.extensions import db, str_enum
from core.timeutil import utcnow

FIGURE = Numeric(12, 2)


class Method(enum.StrEnum):
    LINEAR = "linear"  # score grows linearly with the value up to the target
    PASS_FAIL = "pass_fail"  # full weight when the target is met, nothing otherwise

    @property
    def label(self) -> str:
        return {"linear": "按完成比例计分", "pass_fail": "达标得分"}[self.value]


class YearStatus(enum.StrEnum):
    OPEN = "open"
    FROZEN = "frozen"

    @property
    def label(self) -> str:
        return {"open": "计算中", "frozen": "已定稿"}[self.value]


class AssessmentYear(db.Model):
    """One assessment year: grade thresholds (percent of the total weight) and whether it is frozen."""

    __tablename__ = "assessment_year"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    excellent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("90"))  # 优秀 ≥
    good: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("80"))  # 良好 ≥
    passing: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("60"))  # 合格 ≥
    status: Mapped[YearStatus] = mapped_column(str_enum(YearStatus, 16), default=YearStatus.OPEN)
    snapshot_id: Mapped[int | None] = mapped_column(Integer)  # the frozen snapshot in force
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def frozen(self) -> bool:
        return self.status == YearStatus.FROZEN

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "年度考核"
    __audit_fields__ = {
        "year": "年度", "excellent": "优秀线（得分率 %）", "good": "良好线（得分率 %）", "passing": "合格线（得分率 %）", "status": "状态",
        "snapshot_id": "定稿快照",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.year} 年度考核"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, None


class Indicator(db.Model):
    __tablename__ = "assessment_indicator"
    __table_args__ = (UniqueConstraint("year", "code"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(32))  # which computation (services.DEFINITIONS)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(8), default="%")
    method: Mapped[Method] = mapped_column(str_enum(Method, 16), default=Method.LINEAR)
    target: Mapped[Decimal] = mapped_column(FIGURE)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "考核指标"
    __audit_fields__ = {
        "year": "年度", "code": "计算方法", "name": "指标名称", "unit": "单位", "method": "计分方式", "target": "目标值",
        "weight": "权重（分）", "position": "排序", "active": "纳入本年度考核",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.year} 年度考核指标：{self.name}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, None


class IndicatorValue(db.Model):
    """A district's entered value (survey) and/or a manual adjustment of a computed value, with its reason."""

    __tablename__ = "assessment_value"
    __table_args__ = (UniqueConstraint("indicator_id", "region_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("assessment_indicator.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    entered: Mapped[Decimal | None] = mapped_column(FIGURE)
    adjusted: Mapped[Decimal | None] = mapped_column(FIGURE)
    reason: Mapped[str] = mapped_column(String(500), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    indicator: Mapped[Indicator] = relationship()
    region: Mapped["Region"] = relationship()  # noqa: F821

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "考核数据"
    __audit_fields__ = {
        "indicator_id": "指标", "region_id": "区域", "entered": "录入值", "adjusted": "调整后数值", "reason": "调整理由",
        "updated_by_id": "修改人",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.region.name} {self.indicator.year} 年“{self.indicator.name}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, None


class AssessmentSnapshot(db.Model):
    """A frozen year's results exactly as computed at freezing (later data changes do not alter it)."""

    __tablename__ = "assessment_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reopened_at: Mapped[datetime | None] = mapped_column()
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reopen_reason: Mapped[str] = mapped_column(String(500), default="")


def _readers(user):
    # City-wide configuration: every office user and leader may read it; the rows carry no district.
    from blueprints.accounts.models import Role

    return true() if user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER) else false()


scope.register(AssessmentYear, custom=_readers)
scope.register(Indicator, custom=_readers)
scope.register(AssessmentSnapshot, custom=_readers)
scope.register(IndicatorValue, region=IndicatorValue.region_id)
