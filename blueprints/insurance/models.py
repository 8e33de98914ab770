"""Insurance policies bought for volunteers (DOMAIN.md "Insurance"; 000, 002: "对从事有风险的志愿服务，
为志愿者购买必要的人身保险").

A policy belongs to one insured organization and either names its insured volunteers
(`InsuredPerson` rows) or only states a head count (团体不记名保单); services.py decides who is covered
on a given day.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import scope
from core.extensions import db, money_check, nonnegative, str_enum
from core.timeutil import utcnow

if TYPE_CHECKING:
    from blueprints.orgs.models import Organization
    from blueprints.volunteers.models import Volunteer

MONEY = Numeric(14, 2)  # yuan to the fen; never float


class CoverageMode(enum.StrEnum):
    NAMED = "named"  # 记名：被保险人名单
    HEADCOUNT = "headcount"  # 不记名：按人数投保

    @property
    def label(self) -> str:
        return {"named": "记名（被保险人名单）", "headcount": "不记名（按人数）"}[self.value]


class InsurancePolicy(db.Model):
    __tablename__ = "insurance_policy"
    __audit__ = True
    __audit_exclude__ = {"updated_at"}
    __table_args__ = (
        UniqueConstraint("insurer", "policy_no", name="uq_insurance_policy_insurer_no"),
        CheckConstraint("end_date >= start_date", name="period_order"),
        CheckConstraint("sum_insured > 0 AND premium > 0", name="positive_amounts"),
        money_check("sum_insured"),
        money_check("premium"),
        *nonnegative("head_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    insurer: Mapped[str] = mapped_column(String(64), index=True)  # 保险公司
    policy_no: Mapped[str] = mapped_column(String(64))  # 保单号 (unique per insurer)
    product: Mapped[str] = mapped_column(String(128))  # 险种/产品
    mode: Mapped[CoverageMode] = mapped_column(str_enum(CoverageMode, 16), default=CoverageMode.NAMED)
    head_count: Mapped[int | None] = mapped_column(Integer)  # only for CoverageMode.HEADCOUNT
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    sum_insured: Mapped[Decimal] = mapped_column(MONEY)  # 保险金额（每人）
    premium: Mapped[Decimal] = mapped_column(MONEY)  # 保费（合计）
    payer_source: Mapped[str] = mapped_column(String(32), default="")  # 经费来源 (funding's configured list)
    payer_note: Mapped[str] = mapped_column(String(128), default="")  # 付款单位/说明
    scan: Mapped[str | None] = mapped_column(String(80))  # core/uploads stored name
    scan_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    renewed_from_id: Mapped[int | None] = mapped_column(ForeignKey("insurance_policy.id", ondelete="SET NULL"),
                                                        index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped["Organization"] = relationship()
    renewed_from: Mapped["InsurancePolicy | None"] = relationship(remote_side=[id], foreign_keys=[renewed_from_id])
    insured: Mapped[list["InsuredPerson"]] = relationship(back_populates="policy", cascade="all, delete-orphan")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "保单"
    __audit_fields__ = {
        "organization_id": "投保组织", "insurer": "保险公司", "policy_no": "保单号", "product": "保险产品", "mode": "投保方式",
        "head_count": "投保人数", "start_date": "保险起期", "end_date": "保险止期", "sum_insured": "保险金额（每人）",
        "premium": "保费合计", "payer_source": "经费来源", "payer_note": "付款单位/说明", "scan": "保单扫描件",
        "scan_name": "扫描件文件名", "note": "备注", "renewed_from_id": "续保自", "created_by_id": "录入人",
    }

    @property
    def audit_label(self) -> str:
        return f"保单 {self.insurer} {self.policy_no}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        org = self.organization
        return (org.region_id if org is not None else None), self.organization_id

    @property
    def is_headcount(self) -> bool:
        return self.mode == CoverageMode.HEADCOUNT

    def covers_day(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date


class InsuredPerson(db.Model):
    """One volunteer named on a policy."""

    __tablename__ = "insurance_insured"

    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id", ondelete="CASCADE"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True,
                                              index=True)

    policy: Mapped[InsurancePolicy] = relationship(back_populates="insured")
    volunteer: Mapped["Volunteer"] = relationship()


scope.register(InsurancePolicy, org=InsurancePolicy.organization_id)
