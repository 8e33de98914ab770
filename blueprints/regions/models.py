"""The administrative tree (属地管理, seed 000): 市 → 县(市、区) → 乡镇(街道) → 村(社区)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import scope
from core.extensions import db, nonnegative, str_enum
from core.timeutil import utcnow


class RegionLevel(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"
    COMMUNITY = "community"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def depth(self) -> int:
        return list(RegionLevel).index(self)

    @property
    def child_level(self) -> "RegionLevel | None":
        levels = list(RegionLevel)
        return levels[self.depth + 1] if self.depth + 1 < len(levels) else None


LEVEL_LABELS = {
    RegionLevel.CITY: "市",
    RegionLevel.DISTRICT: "县(市、区)",
    RegionLevel.TOWN: "乡镇(街道)",
    RegionLevel.COMMUNITY: "村(社区)",
}


class DistrictKind(enum.StrEnum):
    """What a county-level region is: the station targets differ (000: 5–8 public-place stations in
    each 区; 002: each 县 and 县级市 at least 5 standardized stations)."""

    URBAN = "urban"  # 市辖区
    COUNTY = "county"  # 县
    COUNTY_CITY = "county_city"  # 县级市

    @property
    def label(self) -> str:
        return {"urban": "区", "county": "县", "county_city": "县级市"}[self.value]

    @property
    def is_county(self) -> bool:
        """县 and 县级市 (seed 002's "各县市")."""
        return self != DistrictKind.URBAN


def guess_kind(name: str) -> DistrictKind:
    """The kind a county-level name implies: "…区" 区, "…县" 县, "…市" 县级市 (a name like "经开区" too)."""
    name = (name or "").strip()
    if name.endswith("县") or name.endswith("自治县"):
        return DistrictKind.COUNTY
    if name.endswith("市"):
        return DistrictKind.COUNTY_CITY
    return DistrictKind.URBAN


class Region(db.Model):
    __tablename__ = "region"
    __audit__ = True
    __audit_exclude__ = {"district_id"}  # derived from the parent, like path

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel, 16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    # 行政区划代码 (6 digits for 市/县, 9 for 乡镇, 12 for 村), optional.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Materialised ancestry "/1/4/17/" so that "this district's subtree" is one indexed LIKE.
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    # The 县(市、区) this region lies in (itself for a district); None for the city.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 区 / 县 / 县级市 of a county-level region (None for the other levels).
    kind: Mapped[DistrictKind | None] = mapped_column(str_enum(DistrictKind, 16))

    parent: Mapped["Region | None"] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list["Region"]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="(Region.sort, Region.id)"
    )
    district: Mapped["Region | None"] = relationship(remote_side=[id], foreign_keys=[district_id])
    figures: Mapped[list["RegionYearFigure"]] = relationship(
        back_populates="region", order_by="RegionYearFigure.year.desc()", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "行政区域"
    __audit_fields__ = {
        "name": "名称", "level": "层级", "parent_id": "上级区域", "code": "行政区划代码", "active": "启用", "sort": "排序",
        "kind": "类别",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.level.label} {self.name}"

    @property
    def district_kind(self) -> DistrictKind | None:
        """区 / 县 / 县级市 of a county-level region (as set, else as its name implies)."""
        if self.level != RegionLevel.DISTRICT:
            return None
        return self.kind or guess_kind(self.name)

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.id, None


class RegionYearFigure(db.Model):
    """Per-year population figures a district's targets are measured against (seed 000)."""

    __tablename__ = "region_year_figure"
    __table_args__ = (UniqueConstraint("region_id", "year"),
                      *nonnegative("population", "urban_population", "party_members", "league_members"))
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)  # 常住人口
    urban_population: Mapped[int | None] = mapped_column(Integer)  # 城市建成区常住人口
    party_members: Mapped[int | None] = mapped_column(Integer)  # 党员人数
    league_members: Mapped[int | None] = mapped_column(Integer)  # 团员人数
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship(back_populates="figures")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "年度基础数据"
    __audit_fields__ = {
        "region_id": "区域", "year": "年度", "population": "常住人口", "urban_population": "城市建成区常住人口",
        "party_members": "党员人数", "league_members": "团员人数",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.region.name} {self.year} 年度数据"


# The administrative tree every region-scoped rule resolves through (core/scope.py).
scope.register_regions(Region)
scope.register(Region, region=Region.id)
scope.register(RegionYearFigure, region=RegionYearFigure.region_id)
