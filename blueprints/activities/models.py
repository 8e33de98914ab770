"""Volunteer activities (志愿服务活动, DOMAIN.md "Activities"): sign-up and attendance.

Attendance creates the service records (blueprints/volunteers ServiceRecord, source "attendance");
the participant row keeps a link to its record so the grid shows whether it is pending or verified.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, Time, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from blueprints.volunteers.models import HOURS, Quality, ServiceRecord, Volunteer
from core import scope
from core.extensions import db, hours_check, nonnegative, str_enum
from core.timeutil import utcnow

if TYPE_CHECKING:
    from blueprints.stations.models import Station


class Category(enum.StrEnum):
    """三关爱 (002)."""

    OTHERS = "others"
    NATURE = "nature"
    SOCIETY = "society"

    @property
    def label(self) -> str:
        return {"others": "关爱他人", "nature": "关爱自然", "society": "关爱社会"}[self.value]


class ActivityStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"open": "正常", "cancelled": "已取消"}[self.value]

    @property
    def tone(self) -> str:
        return {"open": "green", "cancelled": "neutral"}[self.value]


class RecruitScope(enum.StrEnum):
    """Who may sign up on the platform (issue 17)."""

    MEMBERS = "members"
    DISTRICT = "district"

    @property
    def label(self) -> str:
        return {"members": "仅限本组织成员", "district": "面向本区志愿者"}[self.value]


class SignupStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "accepted": "已录用", "declined": "未录用", "cancelled": "已取消"}[self.value]

    @property
    def tone(self) -> str:
        return {"pending": "amber", "accepted": "green", "declined": "red", "cancelled": "neutral"}[self.value]


# A sign-up in these states holds one of the activity's places.
HOLDS_PLACE = (SignupStatus.PENDING, SignupStatus.ACCEPTED)


class MakeupStatus(enum.StrEnum):
    """补签: a check-in without its check-out, for the organization to confirm or refuse."""

    NONE = "none"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"none": "", "requested": "补签待确认", "confirmed": "补签已确认", "refused": "补签未通过"}[self.value]


class Activity(db.Model):
    __tablename__ = "activity"
    __audit__ = True
    __table_args__ = nonnegative("capacity", "participant_count")

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)  # where it is held
    held_on: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(str_enum(Category, 16), index=True)
    # Risky service needs insurance for the participants (002).
    risky: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    person_in_charge: Mapped[str] = mapped_column(String(64), default="")  # 活动负责人 (《办法》)
    status: Mapped[ActivityStatus] = mapped_column(str_enum(ActivityStatus, 16), default=ActivityStatus.OPEN,
                                                   index=True)
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column()
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The volunteer service station it takes place at, if any (001 附件2: 每月组织2-3次社区志愿服务活动).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"), index=True)

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region | None] = relationship()
    station: Mapped["Station | None"] = relationship()
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Participant.id")

    # ---- recruitment on the platform (issue 17): conditions, places (capacity), deadline, acceptance ----
    recruiting: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    recruit_open_to: Mapped[RecruitScope] = mapped_column(str_enum(RecruitScope, 16), default=RecruitScope.MEMBERS)
    recruit_min_age: Mapped[int | None] = mapped_column(Integer)
    recruit_max_age: Mapped[int | None] = mapped_column(Integer)
    recruit_skills: Mapped[str] = mapped_column(String(200), default="")  # "扶老,助残": all are required
    recruit_minors: Mapped[bool] = mapped_column(Boolean, default=False)  # never with risky (001 附件4)
    signup_deadline: Mapped[datetime | None] = mapped_column()  # UTC
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column()

    def __str__(self) -> str:
        return self.title

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "活动"
    __audit_fields__ = {
        "title": "活动名称", "organization_id": "组织单位", "region_id": "所在区域", "held_on": "活动日期",
        "start_time": "开始时间", "end_time": "结束时间", "place": "活动地点", "category": "活动类别", "risky": "有风险的志愿服务",
        "description": "活动内容", "capacity": "招募人数", "person_in_charge": "活动负责人", "status": "状态",
        "cancel_reason": "取消原因", "cancelled_at": "取消时间", "participant_count": "参加人数", "created_by_id": "创建人",
        "station_id": "所在站点",
        "recruiting": "发布招募", "recruit_open_to": "招募范围", "recruit_min_age": "最低年龄", "recruit_max_age": "最高年龄",
        "recruit_skills": "技能要求", "recruit_minors": "允许未成年人参加", "signup_deadline": "报名截止时间",
        "auto_accept": "自动录用", "published_at": "发布时间",
    }

    @property
    def skill_list(self) -> list[str]:
        return [s for s in (self.recruit_skills or "").split(",") if s]

    @property
    def audit_label(self) -> str:
        from core.timeutil import cn_date

        return f"活动“{self.title}”（{cn_date(self.held_on)}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id

    @property
    def planned_hours(self) -> Decimal | None:
        """Length of the activity from its start and end time, to the half hour (the default attendance)."""
        if not (self.start_time and self.end_time) or self.end_time <= self.start_time:
            return None
        minutes = (self.end_time.hour * 60 + self.end_time.minute) - (self.start_time.hour * 60 + self.start_time.minute)
        half_hours = max(1, round(minutes / 30))
        return Decimal(half_hours) / 2

    @property
    def time_label(self) -> str:
        if self.start_time and self.end_time:
            return f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        if self.start_time:
            return f"{self.start_time:%H:%M} 起"
        return ""

    # The project it belongs to (项目库, 000 (五)1; blueprints/projects). Kept last: other features add columns too.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_project.id", ondelete="SET NULL"), index=True)
    __audit_fields__ = {**__audit_fields__, "project_id": "所属志愿服务项目"}


class Participant(db.Model):
    """A volunteer signed up for an activity, and what the organizer recorded for them."""

    __tablename__ = "activity_participant"
    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id"), hours_check("hours"),
                      CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    signed_up_at: Mapped[datetime] = mapped_column(default=utcnow)
    attended: Mapped[bool | None] = mapped_column(Boolean)  # None: not recorded yet
    hours: Mapped[Decimal | None] = mapped_column(HOURS)
    quality: Mapped[Quality] = mapped_column(str_enum(Quality, 16), default=Quality.GOOD)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("service_record.id", ondelete="SET NULL"))

    activity: Mapped[Activity] = relationship(back_populates="participants")
    volunteer: Mapped[Volunteer] = relationship()
    record: Mapped[ServiceRecord | None] = relationship()

    # ---- sign-up on the platform, check-in/out, 补签 and rating (issue 17) ----
    signup_status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus, 16), default=SignupStatus.ACCEPTED,
                                                        index=True)
    via_portal: Mapped[bool] = mapped_column(Boolean, default=False)  # signed up by the volunteer
    guardian_present: Mapped[bool] = mapped_column(Boolean, default=False)  # a minor's guardian comes along
    decided_at: Mapped[datetime | None] = mapped_column()
    checkin_at: Mapped[datetime | None] = mapped_column()  # UTC
    checkout_at: Mapped[datetime | None] = mapped_column()
    checkin_window: Mapped[int | None] = mapped_column(Integer)  # the code's time window used (replay check)
    checkout_window: Mapped[int | None] = mapped_column(Integer)
    makeup_status: Mapped[MakeupStatus] = mapped_column(str_enum(MakeupStatus, 16), default=MakeupStatus.NONE)
    makeup_checkout_at: Mapped[datetime | None] = mapped_column()
    makeup_note: Mapped[str] = mapped_column(String(200), default="")
    reminded_on: Mapped[date | None] = mapped_column(Date)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[datetime | None] = mapped_column()

    @property
    def holds_place(self) -> bool:
        return self.signup_status in HOLDS_PLACE


scope.register(Activity, org=Activity.organization_id)
scope.register(Participant, custom=lambda user: Participant.activity_id.in_(
    select(Activity.id).where(scope.scope_filter(Activity, user))),
    volunteer=lambda user: Participant.volunteer_id == user.volunteer_id)  # a volunteer's own sign-ups
