"""What the volunteers' side keeps of its own (issue 17): self-registration applications waiting for an
organization's approval, one-time activation codes for people already in the registry, and a
volunteer's request for a new record certificate."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import scope
from core.extensions import db, str_enum
from core.timeutil import utcnow


class JoinStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "approved": "已通过", "refused": "未通过"}[self.value]


class JoinApplication(db.Model):
    """A resident's application to join an organization (001: 由社区审核后予以登记在册). The ID number is
    kept as the registry keeps it (encrypted, keyed hash, mask); the password chosen at registration
    only as its hash. Someone already in the registry is matched (`volunteer_id` set at once) and never
    registered twice."""

    __tablename__ = "join_application"
    __audit__ = True
    __table_args__ = (Index("ix_join_application_org_status", "organization_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    status: Mapped[JoinStatus] = mapped_column(str_enum(JoinStatus, 16), default=JoinStatus.PENDING)
    name: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    skills: Mapped[str] = mapped_column(String(200), default="")
    availability: Mapped[str] = mapped_column(String(100), default="")
    guardian_name: Mapped[str] = mapped_column(String(64), default="")
    guardian_phone: Mapped[str] = mapped_column(String(32), default="")
    guardian_relation: Mapped[str] = mapped_column(String(16), default="")
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id", ondelete="SET NULL"), index=True)
    refuse_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region | None] = relationship()

    __audit_noun__ = "注册申请"
    __audit_fields__ = {
        "organization_id": "申请加入的组织", "status": "状态", "name": "姓名", "id_masked": "身份证号", "phone": "手机号",
        "region_id": "居住区域", "skills": "服务技能", "availability": "服务时间", "guardian_name": "监护人姓名",
        "guardian_phone": "监护人电话", "guardian_relation": "与本人关系", "guardian_consent": "监护人同意",
        "volunteer_id": "志愿者", "refuse_reason": "不通过原因", "created_at": "提交时间", "decided_at": "处理时间",
        "decided_by_id": "处理人"}
    __audit_exclude__ = {"id_number_enc", "id_hash", "password_hash"}
    __audit_mask__ = {"phone": "phone", "guardian_phone": "phone"}

    @property
    def audit_label(self) -> str:
        return f"注册申请（{self.name}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return (self.organization.region_id if self.organization else None), self.organization_id

    @property
    def skill_list(self) -> list[str]:
        return [s for s in self.skills.split("、") if s]

    @property
    def availability_list(self) -> list[str]:
        return [s for s in self.availability.split("、") if s]


class ActivationCode(db.Model):
    """A one-time code an organization hands to a member already in the registry, to open their
    account. Only a keyed hash of the code is kept; it expires and is spent by its first use."""

    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization] = relationship()


class CertRequestStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"open": "待办理", "done": "已办理"}[self.value]


class CertificateRequest(db.Model):
    """A volunteer asks an organization for a new 志愿服务记录证明; it waits in the organization's queue."""

    __tablename__ = "certificate_request"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[CertRequestStatus] = mapped_column(str_enum(CertRequestStatus, 16), default=CertRequestStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship()

    __audit_noun__ = "证明申请"
    __audit_fields__ = {"volunteer_id": "志愿者", "organization_id": "出具单位", "note": "说明", "status": "状态",
                        "created_at": "申请时间", "done_at": "办理时间", "done_by_id": "办理人"}

    @property
    def audit_label(self) -> str:
        return f"证明申请 #{self.id}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return (self.organization.region_id if self.organization else None), self.organization_id


def _own(column):
    return lambda user: column == user.volunteer_id


scope.register(JoinApplication, org=JoinApplication.organization_id)
scope.register(ActivationCode, org=ActivationCode.organization_id)
scope.register(CertificateRequest, org=CertificateRequest.organization_id, volunteer=_own(CertificateRequest.volunteer_id))
