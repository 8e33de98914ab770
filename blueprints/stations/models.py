"""Volunteer service stations (志愿服务站) and their "五有" assessments (seed 001, seed 000)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core.extensions import db, str_enum
from core.timeutil import utcnow


class StationType(enum.StrEnum):
    """001: every community has a station; 000: stations in public places (公园, 商贸广场,
    社区活动中心, 行业服务窗口), 5–8 per district."""

    COMMUNITY = "community"
    PARK = "park"
    PLAZA = "plaza"
    ACTIVITY_CENTER = "activity_center"
    SERVICE_WINDOW = "service_window"
    OTHER = "other"

    @property
    def label(self) -> str:
        return STATION_TYPE_LABELS[self]

    @property
    def is_public_place(self) -> bool:
        return self != StationType.COMMUNITY


STATION_TYPE_LABELS = {
    StationType.COMMUNITY: "社区志愿服务站",
    StationType.PARK: "公园",
    StationType.PLAZA: "商贸广场",
    StationType.ACTIVITY_CENTER: "社区活动中心",
    StationType.SERVICE_WINDOW: "行业服务窗口",
    StationType.OTHER: "其他公共场所",
}
PUBLIC_PLACE_TYPES = [t for t in StationType if t.is_public_place]

# 001 "五有" standard, in the order of the document.
WUYOU_ITEMS = [
    ("place", "有服务场所", "依托社区服务中心、办公场所设立站点，设有独立的志愿服务岗位，配备必要的办公设备。"),
    ("sign", "有统一标识", "统一的志愿服务标识，放有“志愿服务台”牌；服务期间志愿者统一着装。"),
    ("team", "有志愿队伍", "有固定时间、有常态化活动、符合站点定位的社区志愿服务队伍。"),
    ("rules", "有管理制度", "站点工作制度上墙：组织领导、招募注册、服务项目、义工守则、工作流程等。"),
    ("ledger", "有工作台账", "建立志愿服务活动台账和电子档案，及时、完整、准确记录服务时长、内容和质量。"),
]
WUYOU_KEYS = [k for k, _, _ in WUYOU_ITEMS]
WUYOU_LABELS = {k: label for k, label, _ in WUYOU_ITEMS}


class Station(db.Model):
    __tablename__ = "station"
    __audit__ = True
    __audit_mask__ = {"contact_phone": "phone"}
    __audit_exclude__ = {"district_id"}
    __table_args__ = (Index("ix_station_district_type", "district_id", "station_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    station_type: Mapped[StationType] = mapped_column(str_enum(StationType, 20), default=StationType.COMMUNITY)
    # A community (村/社区) for a 社区 station; any region of the district for a public place.
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    opened_on: Mapped[date | None] = mapped_column(Date)  # 设立日期 (001: "于 X 年 X 月 X 日设立并运行")
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # 停用日期: a year's indicators count the stations running at its end (opened_on … closed_on).
    closed_on: Mapped[date | None] = mapped_column(Date)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    district: Mapped[Region | None] = relationship(foreign_keys=[district_id])
    organization: Mapped[Organization | None] = relationship()
    assessments: Mapped[list["StationAssessment"]] = relationship(
        back_populates="station", cascade="all, delete-orphan",
        order_by="(StationAssessment.assessed_on.desc(), StationAssessment.id.desc())")

    def __str__(self) -> str:
        return self.name

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "志愿服务站"
    __audit_fields__ = {
        "name": "站点名称", "station_type": "站点类型", "region_id": "所在区域", "address": "地址",
        "organization_id": "管理组织", "opening_hours": "开放时间", "opened_on": "设立日期", "contact_name": "联系人",
        "contact_phone": "联系电话", "active": "站点运行中", "closed_on": "停用日期",
    }

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, self.organization_id

    @property
    def latest(self) -> "StationAssessment | None":
        """Every assessment is kept; the latest one counts."""
        return self.assessments[0] if self.assessments else None


class StationAssessment(db.Model):
    """One "五有" assessment of a station: date, assessor, five items."""

    __tablename__ = "station_assessment"
    __audit__ = True
    __table_args__ = (Index("ix_station_assessment_station_date", "station_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    assessed_on: Mapped[date] = mapped_column(Date)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assessor_name: Mapped[str] = mapped_column(String(64), default="")
    all_met: Mapped[bool] = mapped_column(Boolean, default=False)  # all five items "yes"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship(back_populates="assessments")
    items: Mapped[list["StationAssessmentItem"]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="StationAssessmentItem.position")

    @property
    def met_count(self) -> int:
        return sum(1 for i in self.items if i.ok)

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "站点“五有”评估"
    __audit_fields__ = {
        "station_id": "站点", "assessed_on": "评估日期", "assessor_id": "评估人账户", "assessor_name": "评估人",
        "all_met": "“五有”全部达标",
    }

    @property
    def audit_label(self) -> str:
        from core.timeutil import cn_date

        return f"{self.station.name} “五有”评估（{cn_date(self.assessed_on)}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.station.region_id, self.station.organization_id


class StationAssessmentItem(db.Model):
    """One of the five items: yes/no, a note, an optional photo (stored by core/uploads.py)."""

    __tablename__ = "station_assessment_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("station_assessment.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(16))  # a key of WUYOU_ITEMS
    position: Mapped[int] = mapped_column(default=0)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(80))  # stored name under UPLOAD_DIR
    photo_name: Mapped[str] = mapped_column(String(100), default="")  # the uploader's file name, display only

    assessment: Mapped[StationAssessment] = relationship(back_populates="items")

    @property
    def label(self) -> str:
        return WUYOU_LABELS.get(self.item, self.item)


def _register_scope() -> None:
    from core import scope

    scope.register(Station, region=Station.region_id, org=Station.organization_id)


_register_scope()
