"""Volunteer organizations (志愿服务组织): registry, registration workflow and its history.

DOMAIN.md "Organizations and stations"; seed 000 (依法登记, 示范点, 孵化, service fields), seed 002
(总队/支队/大队 hierarchy).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.regions.models import Region
from core import scope
from core.collation import PinyinSorted
from core.extensions import db, str_enum
from core.timeutil import utcnow
from core.workflow import StepMixin


class OrgStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    DEREGISTERED = "deregistered"

    @property
    def label(self) -> str:
        return ORG_STATUS_LABELS[self]

    @property
    def tone(self) -> str:
        return ORG_STATUS_TONES[self]


ORG_STATUS_LABELS = {
    OrgStatus.DRAFT: "草稿",
    OrgStatus.SUBMITTED: "待审核",
    OrgStatus.RETURNED: "已退回",
    OrgStatus.APPROVED: "已登记",
    OrgStatus.SUSPENDED: "已暂停",
    OrgStatus.DEREGISTERED: "已注销",
}
ORG_STATUS_TONES = {
    OrgStatus.DRAFT: "neutral",
    OrgStatus.SUBMITTED: "blue",
    OrgStatus.RETURNED: "amber",
    OrgStatus.APPROVED: "green",
    OrgStatus.SUSPENDED: "red",
    OrgStatus.DEREGISTERED: "neutral",
}


class RegistrationType(enum.StrEnum):
    """000: 推进志愿服务组织依法登记; unregistered teams are allowed with a 备案 only."""

    REGISTERED = "registered"
    FILED = "filed"

    @property
    def label(self) -> str:
        return {"registered": "依法登记", "filed": "备案"}[self.value]


class Organization(PinyinSorted, db.Model):
    __tablename__ = "organization"
    __audit__ = True
    __audit_mask__ = {"contact_phone": "phone"}
    __audit_exclude__ = {"district_id", "name_key", "name_pinyin", "submitted_at"}
    __table_args__ = (
        # The registry list filters by district/status/kind and sorts by name or date (5,000 rows).
        Index("ix_organization_district_status", "district_id", "status"),
        Index("ix_organization_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    # Normalised name (no spaces, full-width folded) for duplicate checks.
    name_key: Mapped[str] = mapped_column(String(128), default="", index=True)
    kind: Mapped[str] = mapped_column(String(32), default="社区志愿服务队", index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    # The 县(市、区) of the region, kept with the row: the registry filters and counts by it.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    status: Mapped[OrgStatus] = mapped_column(str_enum(OrgStatus, 16), default=OrgStatus.DRAFT, index=True)
    registration_type: Mapped[RegistrationType] = mapped_column(
        str_enum(RegistrationType, 16), default=RegistrationType.FILED)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码 (GB 32100)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    founded_on: Mapped[date | None] = mapped_column(Date)
    is_demo_site: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # 示范点 (000)
    demo_site_year: Mapped[int | None] = mapped_column(Integer)
    is_incubated: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # 孵化 (000)
    incubated_year: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    district: Mapped[Region | None] = relationship(foreign_keys=[district_id])
    parent: Mapped["Organization | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Organization"]] = relationship(back_populates="parent", order_by="Organization.name_pinyin")
    service_field_rows: Mapped[list["OrgServiceField"]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="OrgServiceField.field")
    steps: Mapped[list["OrgStep"]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="(OrgStep.at, OrgStep.id)")

    def __str__(self) -> str:
        return self.name

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "志愿服务组织"
    __audit_fields__ = {
        "name": "组织名称", "kind": "组织类型", "region_id": "所属区域", "parent_id": "上级组织", "status": "状态",
        "registration_type": "登记类型", "credit_code": "统一社会信用代码", "contact_name": "联系人", "contact_phone": "联系电话",
        "address": "地址", "founded_on": "成立日期", "is_demo_site": "示范点", "demo_site_year": "示范点年度",
        "is_incubated": "孵化组织", "incubated_year": "孵化年度", "description": "简介",
    }

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, self.id

    @property
    def service_fields(self) -> list[str]:
        return [r.field for r in self.service_field_rows]

    @property
    def read_only(self) -> bool:
        return self.status == OrgStatus.DEREGISTERED

    @property
    def last_return_reason(self) -> str:
        for step in reversed(self.steps):
            if step.action == "return":
                return step.comment
        return ""


class OrgServiceField(db.Model):
    """One service field (服务领域, 000) of an organization; a row each so the registry filters by it."""

    __tablename__ = "org_service_field"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    organization: Mapped[Organization] = relationship(back_populates="service_field_rows")




class OrgStep(StepMixin, db.Model):
    """One step of the registration workflow: who, when, what, and the comment (reason)."""

    __tablename__ = "org_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship(back_populates="steps")


class ApplyAttempt(db.Model):
    """A POST to the public application form, counted per client address (the throttle must hold
    across workers, so it lives in the database)."""

    __tablename__ = "org_apply_attempt"
    __table_args__ = (Index("ix_org_apply_attempt_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# Organizations: what every org-scoped rule resolves through (core/scope.py), and their own rule.
scope.register_organizations(Organization)
scope.register(Organization, region=Organization.region_id, org=Organization.id)
