"""Training (培训制度, seeds 000, 001, 004 §4): a course catalogue, sessions held by an organization,
and their attendance.

Attending a session writes one TrainingRecord per person (blueprints/volunteers, 《办法》§8): training
hours live there, apart from the service ledger — they never count as service hours. A volunteer's
"岗前培训 done" is derived from the 岗前 sessions they attended (services.pre_service_done_clause).
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from blueprints.volunteers.models import HOURS, TrainingRecord, Volunteer
from core import scope
from core.extensions import db, hours_check, nonnegative, str_enum
from core.timeutil import utcnow


class CourseKind(enum.StrEnum):
    PRE_SERVICE = "pre_service"  # 岗前培训 (001 附件4, 004 §4)
    SKILL = "skill"  # 专业技能培训
    CORE = "core"  # 骨干培训: only 志愿者骨干 may join (001 第四条, their privilege)

    @property
    def label(self) -> str:
        return {"pre_service": "岗前培训", "skill": "专业技能培训", "core": "骨干培训"}[self.value]

    @property
    def tone(self) -> str:
        return {"pre_service": "green", "skill": "blue", "core": "amber"}[self.value]


class TrainingCourse(db.Model):
    """A course of the catalogue, kept by the city or a district office (region_id: who keeps it)."""

    __tablename__ = "training_course"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[CourseKind] = mapped_column(str_enum(CourseKind, 16), index=True)
    content: Mapped[str] = mapped_column(Text, default="")  # 主要内容
    default_hours: Mapped[Decimal] = mapped_column(HOURS)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()

    __table_args__ = (hours_check("default_hours"),)

    __audit_noun__ = "培训课程"
    __audit_fields__ = {"name": "课程名称", "kind": "课程类别", "content": "主要内容", "default_hours": "学时（小时）",
                        "region_id": "维护单位（区域）", "active": "启用", "created_by_id": "创建人"}

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"培训课程“{self.name}”"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, None


class TrainingSession(db.Model):
    """One session of a course: date, place, hours, trainer, the organizing organization, capacity."""

    __tablename__ = "training_session"
    __audit__ = True
    __table_args__ = (hours_check("hours"), *nonnegative("capacity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(HOURS)
    trainer: Mapped[str] = mapped_column(String(64), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[TrainingCourse] = relationship()
    organization: Mapped[Organization] = relationship()
    attendees: Mapped[list["TrainingAttendee"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="TrainingAttendee.id")

    __audit_noun__ = "培训场次"
    __audit_fields__ = {"course_id": "课程", "organization_id": "举办组织", "held_on": "培训日期", "place": "培训地点",
                        "hours": "学时（小时）", "trainer": "授课人", "capacity": "人数上限", "note": "备注",
                        "created_by_id": "创建人"}

    def __str__(self) -> str:
        return f"{self.course.name}（{self.held_on:%Y-%m-%d}）"

    @property
    def audit_label(self) -> str:
        return f"培训场次“{self.course.name}”（{self.held_on:%Y-%m-%d}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id


class TrainingAttendee(db.Model):
    """A volunteer who attended a session; `record` is the training record written for them."""

    __tablename__ = "training_attendee"
    __table_args__ = (UniqueConstraint("session_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    # The record and the attendance are one fact: deleting the training record (on the volunteer's page)
    # withdraws the attendance too, so "岗前培训 done" never outlives its record.
    record_id: Mapped[int | None] = mapped_column(ForeignKey("training_record.id", ondelete="CASCADE"))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TrainingSession] = relationship(back_populates="attendees")
    volunteer: Mapped[Volunteer] = relationship()
    record: Mapped[TrainingRecord | None] = relationship()


# The catalogue is shared: every staff account reads it (who may change a course: services.can_edit_course).
scope.register(TrainingCourse, custom=lambda user: true())
scope.register(TrainingSession, org=TrainingSession.organization_id)
scope.register(TrainingAttendee, custom=lambda user: TrainingAttendee.session_id.in_(
    select(TrainingSession.id).where(scope.scope_filter(TrainingSession, user))),
    volunteer=lambda user: TrainingAttendee.volunteer_id == user.volunteer_id)
