"""Volunteer organizations (志愿服务组织). Issue #4 builds the registry on this model."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.regions.models import Region
from core.extensions import db, str_enum
from core.timeutil import utcnow


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


ORG_STATUS_LABELS = {
    OrgStatus.DRAFT: "草稿",
    OrgStatus.SUBMITTED: "待审核",
    OrgStatus.RETURNED: "已退回",
    OrgStatus.APPROVED: "已登记",
    OrgStatus.SUSPENDED: "已暂停",
    OrgStatus.DEREGISTERED: "已注销",
}


class Organization(db.Model):
    __tablename__ = "organization"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="社区志愿服务队")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    status: Mapped[OrgStatus] = mapped_column(str_enum(OrgStatus, 16), default=OrgStatus.DRAFT, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    parent: Mapped["Organization | None"] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return self.name
