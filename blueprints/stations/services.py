"""Rules of the stations: who edits what, the "五有" assessment (with photos), the coverage board
and its configurable targets (000: city ≥ 30 stations, 5–8 public-place stations per district;
001: every community has a station meeting "五有")."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import Role, User
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from core import scope, settings, uploads
from core.sources import cite
from core.extensions import db
from core.timeutil import LOCAL_TZ, local_today
from core.validators import ValidationError, validate_phone
from core.validators import parse_id
from blueprints.stations.models import (WUYOU_KEYS, Station, StationAssessment, StationAssessmentItem,
                                        StationType)

PHOTO_MAX_BYTES = 5 * 1024 * 1024
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
STATION_FIELDS = {"name", "station_type", "region_id", "address", "organization_id", "opening_hours",
                  "opened_on", "contact_name", "contact_phone", "active", "closed_on"}
TEXT_FIELDS = {"name", "address", "opening_hours", "contact_name", "contact_phone"}
LEADER_FIELDS = {"address", "opening_hours", "contact_name", "contact_phone"}


class StationError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- targets (configurable by city admins, defaults from the seeds) -------------------------------

@dataclass
class Targets:
    city_min: int = 30  # 000: 全市建立志愿服务站 30 个以上
    public_min: int = 5  # 000: 每个区各选 5 至 8 个点 (区 only)
    public_max: int = 8
    county_min: int = 5  # 002: 各县市…标准化社区服务工作站，至少要达到 5 个 (县 and 县级市)
    coverage_percent: int = 100  # 001: 所有社区都要完成一个志愿服务站点建设
    wuyou_percent: int = 100  # 001: 以“五有”为标准
    amber_percent: int = 80  # below target but at least this share of it: amber, else red
    monthly_activities: int = 2  # 001 附件2: 每月组织 2-3 次社区志愿服务活动


TARGET_KEYS = {
    "city_min": "stations.city_min", "public_min": "stations.public_min", "public_max": "stations.public_max",
    "county_min": "stations.county_min", "coverage_percent": "stations.coverage_percent",
    "wuyou_percent": "stations.wuyou_percent", "amber_percent": "stations.amber_percent",
    "monthly_activities": "stations.monthly_activities",
}
_GROUP = "志愿服务站"
_P = settings.Policy
for _p in (
    _P("stations.city_min", "全市志愿服务站（个，不少于）", 30, "个", 0, 10000, cite("000"),
       "全市建立志愿服务站 30个以上", _GROUP, 10),
    _P("stations.public_min", "每个区公共场所站点下限", 5, "个", 0, 1000, cite("000"),
       "依托公园、商贸广场、社区活动中心、行业服务窗口等设立志愿服务站。每个区各选5至8个点设立志愿服务站。", _GROUP, 20,
       hint="适用于区；县、县级市适用下一项。"),
    _P("stations.public_max", "每个区公共场所站点上限", 8, "个", 0, 1000, cite("000"),
       "每个区各选5至8个点设立志愿服务站。", _GROUP, 30),
    _P("stations.county_min", "每个县、县级市标准化站点（个，不少于）", 5, "个", 0, 1000, cite("002"),
       "各县市也要在建成区大力建设标准化社区服务工作站，至少要达到5个。", _GROUP, 40,
       hint="标准化站点：最近一次评估“五有”全部达标的社区志愿服务站。"),
    _P("stations.coverage_percent", "社区站点覆盖率目标", 100, "%", 0, 100, cite("001"),
       "今年11月底前，我市所有社区都要完成一个志愿服务站点建设的任务。", _GROUP, 50),
    _P("stations.wuyou_percent", "“五有”达标率目标", 100, "%", 0, 100, cite("001"),
       "各社区志愿服务站点建设要坚持以“五有”为标准", _GROUP, 60),
    _P("stations.amber_percent", "黄色提示线（达到目标的百分之几以上显示黄色）", 80, "%", 0, 100,
       "系统默认值（政策文件未规定）", "", _GROUP, 70),
    _P("stations.monthly_activities", "每个站点每月活动（次，不少于）", 2, "次", 1, 100, cite("001", "附件2"),
       "每月组织2-3次社区志愿服务活动", _GROUP, 80,
       hint="覆盖情况页标出上一个完整月份活动少于此数的站点。"),
):
    settings.register_policy(_p)


@settings.register_policy_check
def _public_range(values: dict) -> dict[str, str]:
    low, high = values.get("stations.public_min"), values.get("stations.public_max")
    if low is not None and high is not None and low > high:
        return {"stations.public_min": "公共场所站点目标的下限不能大于上限"}
    return {}


def targets() -> Targets:
    return Targets(**{name: int(settings.policy(key)) for name, key in TARGET_KEYS.items()})


# ---- who may do what -------------------------------------------------------------------------------

def is_own_leader(user: User, org: Organization) -> bool:
    """An org leader of the station's managing organization (they keep its practical details)."""
    if user.role != Role.ORG_LEADER:
        return False
    return org.id in set(db.session.scalars(scope.user_org_ids(user)))


def is_office(user: User, station: Station | None = None) -> bool:
    if user.role == Role.CITY_ADMIN:
        return True
    if user.role != Role.DISTRICT_STAFF:
        return False
    return station is None or scope.in_scope(user, station)


def editable_fields(user: User, station: Station | None) -> set[str]:
    if station is None:
        return set(STATION_FIELDS) if is_office(user) else set()
    if is_office(user, station):
        return set(STATION_FIELDS)
    if station.organization is not None and is_own_leader(user, station.organization):
        return set(LEADER_FIELDS)
    return set()


def can_assess(user: User, station: Station) -> bool:
    return is_office(user, station)


# ---- choices ---------------------------------------------------------------------------------------

def region_choices(user: User) -> list[tuple[int, str, str]]:
    """(id, label, level) of regions in scope below the city, for the station form."""
    regions = list(db.session.scalars(scope.scoped(
        select(Region).where(Region.active, Region.level != RegionLevel.CITY), Region, user).order_by(Region.path)))
    labels = region_labels(regions)
    return [(r.id, labels[r.id], r.level.value) for r in regions]


def region_labels(regions: list[Region]) -> dict[int, str]:
    """"霞山区 / 解放街道 / 幸福社区" for each region (the city is implied)."""
    ids = {int(x) for r in regions for x in r.path.strip("/").split("/") if x}
    names = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all()) if ids else {}
    out = {}
    for r in regions:
        parts = [names.get(int(x), "") for x in r.path.strip("/").split("/") if x]
        out[r.id] = " / ".join(parts[1:] if len(parts) > 1 else parts)
    return out


def org_choices(user: User, region_id: int | None = None) -> list[Organization]:
    """Registered organizations in scope that may manage a station: those of the station's
    district, or city-level ones."""
    stmt = scope.scoped(select(Organization), Organization, user).where(Organization.status == OrgStatus.APPROVED)
    if region_id:
        district_id = db.session.scalar(select(Region.district_id).where(Region.id == region_id))
        city_ids = select(Region.id).where(Region.level == RegionLevel.CITY)
        local = Organization.region_id.in_(scope.region_subtree_ids(district_id)) if district_id else false()
        stmt = stmt.where(or_(local, Organization.region_id.in_(city_ids)))
    return list(db.session.scalars(stmt.order_by(Organization.name_pinyin).limit(3000)))


def district_choices(user: User) -> list[Region]:
    return list(db.session.scalars(scope.scoped(
        select(Region).where(Region.level == RegionLevel.DISTRICT), Region, user).order_by(Region.sort, Region.id)))


# ---- create / edit ---------------------------------------------------------------------------------

def validate(user: User, data: dict, station: Station | None, fields: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if "name" in fields and not (data.get("name") or "").strip():
        errors["name"] = "请填写站点名称"
    stype = data.get("station_type") if "station_type" in fields else (station.station_type if station else None)
    if "station_type" in fields:
        try:
            stype = StationType(data.get("station_type"))
        except ValueError:
            errors["station_type"] = "请选择站点类型"
            stype = None
    if "region_id" in fields:
        regions = {rid: level for rid, _, level in region_choices(user)}
        level = regions.get(data.get("region_id"))
        if level is None:
            errors["region_id"] = "请选择所在区域（须在您的管辖范围内）"
        elif stype == StationType.COMMUNITY and level != RegionLevel.COMMUNITY.value:
            errors["region_id"] = "社区志愿服务站的所在区域须为一个村(社区)"
    if "organization_id" in fields and data.get("organization_id") and "region_id" not in errors:
        region_id = data.get("region_id") if "region_id" in fields else station.region_id
        if data["organization_id"] not in {o.id for o in org_choices(user, region_id)}:
            errors["organization_id"] = "管理组织须为本县(市、区)或市级的已登记组织"
    if "opened_on" in fields and data.get("opened_on") and data["opened_on"] > local_today():
        errors["opened_on"] = "设立日期不能晚于今天"
    if "closed_on" in fields and data.get("closed_on"):
        opened = data.get("opened_on") if "opened_on" in fields else (station.opened_on if station else None)
        if data.get("active", station.active if station else True):
            errors["closed_on"] = "运行中的站点不填写停用日期（停用时请取消“站点运行中”）"
        elif data["closed_on"] > local_today():
            errors["closed_on"] = "停用日期不能晚于今天"
        elif opened and data["closed_on"] < opened:
            errors["closed_on"] = "停用日期不能早于设立日期"
    if "contact_phone" in fields and (data.get("contact_phone") or "").strip():
        try:
            data["contact_phone"] = validate_phone(data["contact_phone"])
        except ValidationError as e:
            errors["contact_phone"] = e.message
    return errors


def _assign(station: Station, data: dict, fields: set[str]) -> None:
    for k in fields:
        if k in data:
            value = data[k]
            if k == "station_type":
                value = StationType(value)
            elif k in TEXT_FIELDS:
                value = (value or "").strip()
            elif k == "active":
                value = bool(value)
            setattr(station, k, value)
    if station.active:
        station.closed_on = None
    elif station.closed_on is None:  # stopped without a date: today
        station.closed_on = local_today()
    if "region_id" in fields:
        region = db.session.get(Region, station.region_id)
        station.region = region
        station.district_id = region.district_id


def create_station(user: User, data: dict) -> Station:
    fields = editable_fields(user, None)
    errors = validate(user, data, None, fields)
    if errors:
        key = next(iter(errors))
        raise StationError(errors[key], key)
    station = Station(active=True, address="", opening_hours="", contact_name="", contact_phone="")
    _assign(station, data, fields)
    db.session.add(station)
    db.session.flush()
    return station


def update_station(user: User, station: Station, data: dict) -> None:
    fields = editable_fields(user, station)
    errors = validate(user, data, station, fields)
    if errors:
        key = next(iter(errors))
        raise StationError(errors[key], key)
    _assign(station, data, fields)
    db.session.flush()


# ---- stations of a year ------------------------------------------------------------------------------

def running_on(day: date):
    """Condition: the station was running on `day` — set up by then (its 设立日期, else the day it was
    entered) and not stopped by then. A year's indicators count the stations running at its end."""
    next_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    opened = or_(Station.opened_on <= day,
                 and_(Station.opened_on.is_(None), Station.created_at < next_day.replace(tzinfo=None)))
    return and_(opened, or_(Station.closed_on > day, and_(Station.closed_on.is_(None), Station.active.is_(True))))


def met_by(day: date):
    """Ids of the stations whose latest "五有" assessment up to `day` met all five items (标准化)."""
    rn = func.row_number().over(partition_by=StationAssessment.station_id,
                                order_by=(StationAssessment.assessed_on.desc(), StationAssessment.id.desc()))
    ranked = (select(StationAssessment.station_id, StationAssessment.all_met, rn.label("rn"))
              .where(StationAssessment.assessed_on <= day).subquery())
    return select(ranked.c.station_id).where(ranked.c.rn == 1, ranked.c.all_met.is_(True))


# ---- list --------------------------------------------------------------------------------------------

def latest_assessments() -> Select:
    """Subquery: the latest assessment of each station (station_id, id, all_met, assessed_on)."""
    rn = func.row_number().over(partition_by=StationAssessment.station_id,
                                order_by=(StationAssessment.assessed_on.desc(), StationAssessment.id.desc()))
    ranked = select(StationAssessment.station_id, StationAssessment.id, StationAssessment.all_met,
                    StationAssessment.assessed_on, rn.label("rn")).subquery()
    return select(ranked.c.station_id, ranked.c.id, ranked.c.all_met, ranked.c.assessed_on).where(
        ranked.c.rn == 1).subquery()


@dataclass
class StationFilters:
    district: int | None = None
    station_type: str = ""
    wuyou: str = ""  # met / unmet / none
    active: str = "1"
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "StationFilters":
        district = parse_id(args.get("district"))
        stype = args.get("type", "")
        wuyou = args.get("wuyou", "")
        active = args.get("active", "1")
        return cls(district=district, station_type=stype if stype in [t.value for t in StationType] else "",
                   wuyou=wuyou if wuyou in ("met", "unmet", "none") else "",
                   active=active if active in ("1", "0", "all") else "1", q=args.get("q", "").strip()[:64])

    def as_args(self) -> dict:
        return {k: v for k, v in dict(district=self.district or "", type=self.station_type, wuyou=self.wuyou,
                                      active=self.active, q=self.q).items() if v}


def list_stmt(user: User, f: StationFilters) -> Select:
    latest = latest_assessments()
    stmt = (scope.scoped(select(Station, latest.c.all_met, latest.c.assessed_on), Station, user)
            .outerjoin(latest, latest.c.station_id == Station.id)
            .options(joinedload(Station.region), joinedload(Station.organization)))
    if f.district:
        stmt = stmt.where(Station.region_id.in_(scope.region_subtree_ids(f.district)))
    if f.station_type:
        stmt = stmt.where(Station.station_type == f.station_type)
    if f.active == "1":
        stmt = stmt.where(Station.active.is_(True))
    elif f.active == "0":
        stmt = stmt.where(Station.active.is_(False))
    if f.wuyou == "met":
        stmt = stmt.where(latest.c.all_met.is_(True))
    elif f.wuyou == "unmet":
        stmt = stmt.where(latest.c.all_met.is_(False))
    elif f.wuyou == "none":
        stmt = stmt.where(latest.c.id.is_(None))
    if f.q:
        stmt = stmt.where(Station.name.contains(f.q, autoescape=True))
    return stmt.order_by(Station.district_id, Station.name, Station.id)


def stations_of_org(user: User, org: Organization) -> list[Station]:
    return list(db.session.scalars(scope.scoped(
        select(Station).where(Station.organization_id == org.id), Station, user).order_by(Station.name)))


# ---- the "五有" assessment ---------------------------------------------------------------------------

@dataclass
class ItemInput:
    key: str
    ok: bool
    note: str = ""
    upload: object = None  # a werkzeug FileStorage or None


def photo_errors(files: dict) -> dict[str, str]:
    """Check the chosen photos without storing them: {"<key>_photo": message} for each refused one."""
    errors = {}
    for key, f in files.items():
        if f is None or not getattr(f, "filename", ""):
            continue
        try:
            uploads.read_upload(f, uploads.IMAGES, PHOTO_MAX_BYTES)
        except uploads.UploadError as e:
            errors[f"{key}_photo"] = e.message
        finally:
            f.stream.seek(0)
    return errors


def add_assessment(user: User, station: Station, assessed_on: date | None, items: list[ItemInput],
                   assessor_name: str = "") -> StationAssessment:
    """Check everything (date, notes, every photo) before storing anything; then save the photos
    and the assessment. Raises StationError with the field name (e.g. "place_photo")."""
    if not can_assess(user, station):
        raise StationError("您无权评估该站点")
    if assessed_on is None:
        raise StationError("请填写评估日期", "assessed_on")
    if assessed_on > local_today():
        raise StationError("评估日期不能晚于今天", "assessed_on")
    if [i.key for i in items] != WUYOU_KEYS:
        raise StationError("评估项目不完整")
    checked = []
    for i in items:
        if len(i.note or "") > 500:
            raise StationError("说明最多 500 个字", f"{i.key}_note")
        content = None
        if i.upload is not None and getattr(i.upload, "filename", ""):
            try:
                content = uploads.read_upload(i.upload, uploads.IMAGES, PHOTO_MAX_BYTES)
            except uploads.UploadError as e:
                raise StationError(e.message, f"{i.key}_photo") from None
        checked.append((i, content))
    assessment = StationAssessment(station=station, assessed_on=assessed_on, assessor_id=user.id,
                                   assessor_name=assessor_name.strip()[:64] or user.display_name or user.username,
                                   all_met=all(i.ok for i in items))
    stored = []
    try:
        for pos, (i, content) in enumerate(checked):
            item = StationAssessmentItem(item=i.key, position=pos, ok=bool(i.ok), note=(i.note or "").strip(),
                                         photo=None, photo_name="")
            if content is not None:
                f = uploads.store_bytes(content[0], content[1], "stations", i.upload.filename)
                stored.append(f.name)
                item.photo, item.photo_name = f.name, f.original_name
            assessment.items.append(item)
        db.session.add(assessment)
        db.session.flush()
    except Exception:
        for name in stored:
            uploads.delete_stored(name)
        raise
    return assessment


def get_item_in_scope(user: User, item_id: int) -> StationAssessmentItem:
    """The photo's item, only if its station is in the user's scope (404 otherwise)."""
    item = db.session.get(StationAssessmentItem, item_id) if isinstance(item_id, int) else None
    if item is None:
        from flask import abort

        abort(404)
    scope.get_scoped_or_404(Station, item.assessment.station_id, user)
    return item


# ---- coverage board ----------------------------------------------------------------------------------

TONE_LABELS = {"green": "达标", "amber": "接近目标", "red": "差距较大", "neutral": "无数据"}


@dataclass
class Figure:
    value: int
    total: int | None = None
    tone: str = "neutral"  # green / amber / red / neutral

    @property
    def ratio(self) -> float | None:
        if not self.total:
            return None
        return self.value / self.total


@dataclass
class DistrictCoverage:
    district: Region
    communities: int
    covered: int
    stations: int
    met: int
    public: int
    coverage: Figure = field(default_factory=lambda: Figure(0))
    wuyou: Figure = field(default_factory=lambda: Figure(0))
    public_fig: Figure = field(default_factory=lambda: Figure(0))
    by_type: dict = field(default_factory=dict)
    standard: int = 0  # community stations meeting "五有" (标准化站点)
    target_fig: Figure = field(default_factory=lambda: Figure(0))  # the station target of its kind
    target_label: str = ""
    quiet: int = 0  # stations below the monthly activities in the last complete month

    @property
    def uncovered(self) -> int:
        return self.communities - self.covered


@dataclass
class Board:
    rows: list[DistrictCoverage]
    targets: Targets
    city_total: Figure | None  # only for city-wide users
    totals: dict
    total_coverage: Figure = field(default_factory=lambda: Figure(0))
    total_wuyou: Figure = field(default_factory=lambda: Figure(0))
    quiet: list["QuietStation"] = field(default_factory=list)
    quiet_month: tuple[int, int] = (0, 0)


def _tone_ratio(value: int, total: int, target_percent: int, amber_percent: int) -> str:
    if total == 0:
        return "neutral"
    share = Decimal(value) / Decimal(total) * 100
    if share >= target_percent:
        return "green"
    if share >= Decimal(target_percent) * amber_percent / 100:
        return "amber"
    return "red"


def _tone_min(value: int, minimum: int, amber_percent: int) -> str:
    if value >= minimum:
        return "green"
    if value >= math.ceil(minimum * amber_percent / 100):
        return "amber"
    return "red"


def coverage(user: User) -> Board:
    t = targets()
    districts = district_choices(user)
    ids = [d.id for d in districts]
    communities = dict(db.session.execute(
        select(Region.district_id, func.count()).where(Region.level == RegionLevel.COMMUNITY, Region.active,
                                                       Region.district_id.in_(ids)).group_by(Region.district_id)).all())
    covered = dict(db.session.execute(
        select(Region.district_id, func.count(func.distinct(Station.region_id))).select_from(Station)
        .join(Region, Region.id == Station.region_id)
        .where(Station.active, Station.station_type == StationType.COMMUNITY, Region.level == RegionLevel.COMMUNITY,
               Region.active, Region.district_id.in_(ids)).group_by(Region.district_id)).all())
    latest = latest_assessments()
    per_type: dict[int, dict[str, int]] = {}
    met: dict[int, int] = {}
    standard: dict[int, int] = {}
    for did, stype, all_met, n in db.session.execute(
        select(Region.district_id, Station.station_type, latest.c.all_met, func.count()).select_from(Station)
        .join(Region, Region.id == Station.region_id)
        .outerjoin(latest, latest.c.station_id == Station.id)
        .where(Station.active, Region.district_id.in_(ids))
        .group_by(Region.district_id, Station.station_type, latest.c.all_met)
    ):
        stype = StationType(stype)
        per_type.setdefault(did, {}).setdefault(stype.value, 0)
        per_type[did][stype.value] += n
        if all_met:
            met[did] = met.get(did, 0) + n
            if stype == StationType.COMMUNITY:
                standard[did] = standard.get(did, 0) + n
    quiet, month = quiet_stations(user, t.monthly_activities)
    quiet_by_district: dict[int, int] = {}
    for q in quiet:
        quiet_by_district[q.district_id] = quiet_by_district.get(q.district_id, 0) + 1
    rows = []
    for d in districts:
        types = per_type.get(d.id, {})
        stations = sum(types.values())
        public = sum(n for k, n in types.items() if StationType(k).is_public_place)
        row = DistrictCoverage(d, communities.get(d.id, 0), covered.get(d.id, 0), stations, met.get(d.id, 0), public,
                               by_type=types)
        row.coverage = Figure(row.covered, row.communities,
                              _tone_ratio(row.covered, row.communities, t.coverage_percent, t.amber_percent))
        row.wuyou = Figure(row.met, row.stations, _tone_ratio(row.met, row.stations, t.wuyou_percent, t.amber_percent)
                           if row.stations else "red")
        row.public_fig = Figure(row.public, None, _tone_min(row.public, t.public_min, t.amber_percent))
        row.standard, row.quiet = standard.get(d.id, 0), quiet_by_district.get(d.id, 0)
        kind = d.district_kind
        if kind is not None and kind.is_county:  # 002: 各县市…标准化社区服务工作站，至少要达到5个
            row.target_fig = Figure(row.standard, None, _tone_min(row.standard, t.county_min, t.amber_percent))
            row.target_label = f"标准化站点（{kind.label}：不少于 {t.county_min} 个）"
        else:  # 000: 每个区各选5至8个点
            row.target_fig = row.public_fig
            row.target_label = f"公共场所站点（区：{t.public_min}–{t.public_max} 个）"
        rows.append(row)
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("communities", "covered", "stations", "met", "public")}
    city_total = None
    if user.is_city_wide:
        n = db.session.scalar(select(func.count()).select_from(Station).where(Station.active))
        city_total = Figure(n, t.city_min, _tone_min(n, t.city_min, t.amber_percent))
    board = Board(rows, t, city_total, totals, quiet=quiet, quiet_month=month)
    board.total_coverage = Figure(totals["covered"], totals["communities"], _tone_ratio(
        totals["covered"], totals["communities"], t.coverage_percent, t.amber_percent))
    board.total_wuyou = Figure(totals["met"], totals["stations"], _tone_ratio(
        totals["met"], totals["stations"], t.wuyou_percent, t.amber_percent) if totals["stations"] else "red")
    return board


@dataclass
class QuietStation:
    station: Station
    district_id: int | None
    activities: int


def last_complete_month(today: date | None = None) -> tuple[int, int]:
    today = today or local_today()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def quiet_stations(user: User, minimum: int, month: tuple[int, int] | None = None
                   ) -> tuple[list[QuietStation], tuple[int, int]]:
    """Stations in the user's scope, running the whole of the last complete month, that held fewer
    activities there than `minimum` (001 附件2: 每月组织2-3次社区志愿服务活动); cancelled ones do not count."""
    from blueprints.activities.models import Activity, ActivityStatus

    year, mon = month or last_complete_month()
    first = date(year, mon, 1)
    last = (date(year + mon // 12, mon % 12 + 1, 1)) - timedelta(days=1)
    held = (select(Activity.station_id, func.count(Activity.id).label("n"))
            .where(Activity.station_id.is_not(None), Activity.status == ActivityStatus.OPEN,
                   Activity.held_on >= first, Activity.held_on <= last)
            .group_by(Activity.station_id).subquery())
    n = func.coalesce(held.c.n, 0)
    stmt = (scope.scoped(select(Station, n), Station, user)
            .outerjoin(held, held.c.station_id == Station.id)
            .where(running_on(first), running_on(last), n < minimum)
            .options(joinedload(Station.region))
            .order_by(Station.district_id, Station.name, Station.id))
    return [QuietStation(s, s.district_id, int(k)) for s, k in db.session.execute(stmt)], (year, mon)


def uncovered_communities(user: User, district: Region) -> list[tuple[str, list[Region]]]:
    """Communities of a district without an active 社区 station, grouped by 乡镇(街道)."""
    with_station = select(Station.region_id).where(Station.active, Station.station_type == StationType.COMMUNITY)
    stmt = scope.scoped(select(Region).where(
        Region.level == RegionLevel.COMMUNITY, Region.active, Region.district_id == district.id,
        Region.id.notin_(with_station)), Region, user).options(joinedload(Region.parent)).order_by(Region.path)
    groups: dict[str, list[Region]] = {}
    for r in db.session.scalars(stmt):
        groups.setdefault(r.parent.name if r.parent else "", []).append(r)
    return list(groups.items())

