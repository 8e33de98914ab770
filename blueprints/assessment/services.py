"""The rules of the annual assessment (DOMAIN.md "Annual assessment and its indicators", seed 002).

- Indicators are set per year by the city (target, weight, scoring method); `ensure_year` creates a
  year's set from the previous year's, or from DEFINITIONS (the defaults of seeds 000/001/002/004).
- Every computed indicator gives, per district, a numerator and a denominator (`Measure`) and the
  link to the records behind them. Only VERIFIED service records count (volunteers/ledger.py).
- score: LINEAR = weight × min(value / target, 1); PASS_FAIL = weight when value ≥ target, else 0.
  A value without data (no denominator) scores 0 and says so.
- grade: the total as a percentage of the total weight against the year's thresholds.
- ranking: by total score, ties share a rank (1, 1, 3).
- freeze: the results are stored as a snapshot; while frozen, pages and PDFs read the snapshot, so
  later changes of the data do not alter them. Re-opening (city admin, with a reason) is audited.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from markupsafe import Markup, escape
from sqlalchemy import and_, extract, func, or_, select

from blueprints.accounts.models import Role, User
from blueprints.activities.models import Activity, ActivityStatus
from blueprints.assessment.models import (AssessmentSnapshot, AssessmentYear, Indicator, IndicatorValue, Method,
                                          YearStatus)
from blueprints.regions.models import Region, RegionLevel, RegionYearFigure
from blueprints.stations import services as station_rules
from blueprints.stations.models import Station, StationType
from blueprints.themes.models import ThemeActivity
from blueprints.volunteers import ledger
from blueprints.volunteers.models import PoliticalStatus, ServiceRecord, Volunteer, VolunteerStatus, VolunteerYearHours
from core import scope
from core.audit import record_change
from core.cache import refresher as cache_refresher
from core.cache import request_memo
from core.extensions import db
from core.timeutil import local_today, to_local, utcnow

HUNDRED = Decimal("100")
CENT = Decimal("0.01")
GRADES = ("优秀", "良好", "合格", "不合格")
GRADE_TONES = {"优秀": "green", "良好": "blue", "合格": "amber", "不合格": "red"}
PARTY = (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY)


class AssessmentError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def q2(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ---- measures ----------------------------------------------------------------------------------

@dataclass
class Measure:
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None  # what is scored, in the indicator's unit
    num_label: str = ""
    den_label: str = ""
    link: tuple[str, dict] | None = None  # (endpoint, args) of the records behind the figure
    note: str = ""
    target: Decimal | None = None  # this district's own target, when it differs from the indicator's


def _ratio(num, den, percent: bool = True) -> Decimal | None:
    if den is None or Decimal(den) == 0:
        return None
    value = Decimal(num) / Decimal(den)
    return q2(value * HUNDRED if percent else value)


def _year_end(year: int) -> date:
    return date(year, 12, 31)


def _registered(year: int):
    """Condition: the volunteer was registered at the end of the year (joined by then, not dismissed by then)."""
    end = _year_end(year)
    return and_(Volunteer.registered_on <= end,
                or_(Volunteer.status == VolunteerStatus.ACTIVE, Volunteer.dismissed_on.is_(None),
                    Volunteer.dismissed_on > end))


def _by_district(stmt) -> dict[int, Decimal]:
    return {did: Decimal(n or 0) for did, n in db.session.execute(stmt) if did is not None}


def _registered_counts(year: int, ids: list[int]) -> dict[int, Decimal]:
    return _by_district(select(Region.district_id, func.count(Volunteer.id)).join(Region, Region.id == Volunteer.region_id)
                        .where(_registered(year), Region.district_id.in_(ids)).group_by(Region.district_id))


def _figures(year: int, ids: list[int]) -> dict[int, RegionYearFigure]:
    return {f.region_id: f for f in db.session.scalars(
        select(RegionYearFigure).where(RegionYearFigure.year == year, RegionYearFigure.region_id.in_(ids)))}


def m_registration(year: int, ids: list[int]) -> dict[int, Measure]:
    counts, figs = _registered_counts(year, ids), _figures(year, ids)
    out = {}
    for d in ids:
        den = figs[d].urban_population if d in figs else None
        num = counts.get(d, Decimal(0))
        out[d] = Measure(num, Decimal(den) if den else None, _ratio(num, den), "注册志愿者（人）", "城市建成区常住人口（人）",
                         ("volunteers.index", {"region": d, "year": year, "status": "active"}),
                         "" if den else "未填报城市建成区常住人口")
    return out


def m_party_league(year: int, ids: list[int]) -> dict[int, Measure]:
    active = select(VolunteerYearHours.volunteer_id).where(VolunteerYearHours.year == year, VolunteerYearHours.hours > 0)
    counts = _by_district(
        select(Region.district_id, func.count(Volunteer.id)).join(Region, Region.id == Volunteer.region_id)
        .where(_registered(year), Region.district_id.in_(ids), Volunteer.id.in_(active),
               Volunteer.political_status.in_([*PARTY, PoliticalStatus.LEAGUE_MEMBER])).group_by(Region.district_id))
    figs = _figures(year, ids)
    out = {}
    for d in ids:
        f = figs.get(d)
        den = (f.party_members or 0) + (f.league_members or 0) if f else 0
        num = counts.get(d, Decimal(0))
        out[d] = Measure(num, Decimal(den) if den else None, _ratio(num, den), "本年有服务时长的党员、团员志愿者（人）",
                         "党员、团员人数（人）", ("volunteers.index", {"region": d, "year": year, "status": "active"}),
                         "" if den else "未填报党员、团员人数")
    return out


def m_avg_hours(year: int, ids: list[int]) -> dict[int, Measure]:
    counts = _registered_counts(year, ids)
    hours = _by_district(
        select(Region.district_id, func.sum(VolunteerYearHours.hours)).select_from(VolunteerYearHours)
        .join(Volunteer, Volunteer.id == VolunteerYearHours.volunteer_id).join(Region, Region.id == Volunteer.region_id)
        .where(VolunteerYearHours.year == year, _registered(year), Region.district_id.in_(ids))
        .group_by(Region.district_id))
    out = {}
    for d in ids:
        den = counts.get(d, Decimal(0))
        num = q2(hours.get(d, Decimal(0)))
        out[d] = Measure(num, den or None, _ratio(num, den, percent=False), "已审核服务时长（小时）", "注册志愿者（人）",
                         ("volunteers.index", {"region": d, "year": year, "status": "active"}), "" if den else "无注册志愿者")
    return out


def _stations_day(year: int) -> date:
    """The day a year's station indicators look at: its last day, or today for the running year."""
    return min(_year_end(year), local_today())


def m_public_stations(year: int, ids: list[int]) -> dict[int, Measure]:
    """The station target by district kind, counting the stations running at the year's end:
    a 区 its public-place stations (000 "每个区各选5至8个点"); a 县 or 县级市 its standardized community
    stations, those meeting "五有" (002 "各县市…标准化社区服务工作站，至少要达到5个"), against its own target."""
    day = _stations_day(year)
    running = station_rules.running_on(day)
    public = _by_district(select(Station.district_id, func.count(Station.id)).where(
        running, Station.station_type != StationType.COMMUNITY, Station.district_id.in_(ids))
        .group_by(Station.district_id))
    standard = _by_district(select(Station.district_id, func.count(Station.id)).where(
        running, Station.station_type == StationType.COMMUNITY, Station.id.in_(station_rules.met_by(day)),
        Station.district_id.in_(ids)).group_by(Station.district_id))
    county_min = Decimal(station_rules.targets().county_min)
    out = {}
    for region in db.session.scalars(select(Region).where(Region.id.in_(ids))):
        d, kind = region.id, region.district_kind
        if kind is not None and kind.is_county:
            n = standard.get(d, Decimal(0))
            out[d] = Measure(n, None, n, f"标准化社区志愿服务站（{kind.label}，个）", "",
                             ("stations.index", {"district": d, "type": "community", "wuyou": "met"}),
                             f"{kind.label}：标准化站点不少于 {county_min} 个", target=county_min)
        else:
            n = public.get(d, Decimal(0))
            out[d] = Measure(n, None, n, "公共场所志愿服务站（区，个）", "", ("stations.index", {"district": d}),
                             "区：公共场所站点 5 至 8 个")
    return out


def m_wuyou(year: int, ids: list[int]) -> dict[int, Measure]:
    """Communities with a community station running at the year's end whose latest assessment up to then
    meets "五有"."""
    day = _stations_day(year)
    communities = _by_district(select(Region.district_id, func.count(Region.id)).where(
        Region.level == RegionLevel.COMMUNITY, Region.active, Region.district_id.in_(ids)).group_by(Region.district_id))
    met = _by_district(
        select(Region.district_id, func.count(func.distinct(Station.region_id))).join(Region, Region.id == Station.region_id)
        .where(station_rules.running_on(day), Station.station_type == StationType.COMMUNITY,
               Region.level == RegionLevel.COMMUNITY, Region.active, Region.district_id.in_(ids),
               Station.id.in_(station_rules.met_by(day))).group_by(Region.district_id))
    out = {}
    for d in ids:
        den, num = communities.get(d, Decimal(0)), met.get(d, Decimal(0))
        out[d] = Measure(num, den or None, _ratio(num, den), "有“五有”达标站点的社区（个）", "社区（个）",
                         ("stations.index", {"district": d, "wuyou": "met"}), "" if den else "无社区")
    return out


def m_theme_months(year: int, ids: list[int]) -> dict[int, Measure]:
    """Months whose concentrated theme activity (002 每月一主题) was held, keyed by the activity's own date."""
    today = local_today()
    month = extract("month", Activity.held_on)
    held = {}
    for d, n in db.session.execute(
            select(ThemeActivity.unit_region_id, func.count(func.distinct(month))).join(
                Activity, Activity.id == ThemeActivity.activity_id)
            .where(ThemeActivity.is_concentrated, ThemeActivity.unit_region_id.in_(ids),
                   Activity.status == ActivityStatus.OPEN, Activity.held_on >= date(year, 1, 1),
                   Activity.held_on <= min(_year_end(year), today)).group_by(ThemeActivity.unit_region_id)):
        held[d] = Decimal(n)
    return {d: Measure(held.get(d, Decimal(0)), Decimal(12), held.get(d, Decimal(0)), "已举办集中活动的月份（个）",
                       "全年月份", ("themes.board", {"year": year})) for d in ids}


def _officials_met(year: int, ids: list[int], who) -> tuple:
    """(registered volunteers among `who`, those with 40 h on 7 days or more) per district (004 第15条)."""
    base = (select(Region.district_id, func.count(Volunteer.id)).join(Region, Region.id == Volunteer.region_id)
            .where(_registered(year), Region.district_id.in_(ids), who).group_by(Region.district_id))
    return _by_district(base), _by_district(base.where(Volunteer.id.in_(ledger.official_met_ids(year))))


def _officials_label() -> str:
    return f"年服务 {ledger.official_days()} 天以上、满 {ledger.official_hours()} 小时的"


def m_officials(year: int, ids: list[int]) -> dict[int, Measure]:
    """Party members and public servants registered as volunteers who served 40 h on 7 days or more in
    the year (004 第15条 "7天以上时间（服务时长累计不少于40小时）"), of those registered."""
    total, met = _officials_met(year, ids, or_(Volunteer.political_status.in_(PARTY), Volunteer.public_servant.is_(True)))
    out = {}
    for d in ids:
        den, num = total.get(d, Decimal(0)), met.get(d, Decimal(0))
        out[d] = Measure(num, den or None, _ratio(num, den), _officials_label() + "党员和公职人员志愿者（人）",
                         "分母：已注册为志愿者的党员和公职人员（人）",
                         ("volunteers.index", {"region": d, "year": year, "status": "active", "kind": "official_below"}),
                         "" if den else "无登记的党员和公职人员")
    return out


def m_officials_all(year: int, ids: list[int]) -> dict[int, Measure]:
    """The same, of all party members of the district (RegionYearFigure.party_members, 党员人数): the
    denominator option that also counts those who never registered. The region figures carry no count
    of public servants, so this variant measures party members only, and its label says so."""
    _, met = _officials_met(year, ids, Volunteer.political_status.in_(PARTY))
    figs = _figures(year, ids)
    out = {}
    for d in ids:
        den = figs[d].party_members if d in figs else None
        num = met.get(d, Decimal(0))
        out[d] = Measure(num, Decimal(den) if den else None, _ratio(num, den), _officials_label() + "党员志愿者（人）",
                         "分母：全体党员人数（区域年度数据）",
                         ("volunteers.index", {"region": d, "year": year, "status": "active", "political": "party_member"}),
                         "" if den else "未填报党员人数")
    return out


def m_reports_on_time(year: int, ids: list[int]) -> dict[int, Measure]:
    """The district's own monthly report to the city (002 月报制度) first submitted by its deadline."""
    from blueprints.reports.models import MonthlyReport, ReportLevel
    from blueprints.reports.services import deadline_day, due_date
    from core.timeutil import to_local

    day, today = deadline_day(), local_today()
    on_time: dict[int, int] = {}
    for rid, month, first in db.session.execute(
            select(MonthlyReport.region_id, MonthlyReport.month, MonthlyReport.first_submitted_at).where(
                MonthlyReport.level == ReportLevel.DISTRICT, MonthlyReport.year == year,
                MonthlyReport.region_id.in_(ids), MonthlyReport.first_submitted_at.is_not(None))):
        if to_local(first).date() <= due_date(year, month, day):
            on_time[rid] = on_time.get(rid, 0) + 1
    due = sum(1 for m in range(1, 13) if due_date(year, m, day) < today)  # months whose deadline has passed
    return {d: Measure(Decimal(on_time.get(d, 0)), Decimal(due), Decimal(on_time.get(d, 0)), "按时报送的区县月报（份）",
                       "已到截止日的月份", ("reports.matrix", {"level": "district", "year": year}),
                       "" if due else "本年度尚无到期的月报") for d in ids}


@dataclass(frozen=True)
class Definition:
    code: str
    name: str
    unit: str
    method: Method
    target: Decimal
    weight: Decimal
    seed: str
    compute: Callable | None  # None: entered (survey)
    short: str = ""  # column heading of the results table; "|" marks where a narrow heading may break
    active: bool = True  # in a new year's set by default (an alternative definition starts off)


# The default indicators and targets of DOMAIN.md (weights sum to 100).
DEFINITIONS: list[Definition] = [
    Definition("registration", "注册志愿者占城市建成区常住人口比例", "%", Method.LINEAR, Decimal(20), Decimal(15), "000",
               m_registration, "注册率"),
    Definition("party_league", "党员、团员参与志愿服务比例", "%", Method.LINEAR, Decimal(60), Decimal(10), "000",
               m_party_league, "党团员|参与率"),
    Definition("avg_hours", "注册志愿者年人均服务时长", "小时", Method.LINEAR, Decimal(25), Decimal(15), "000", m_avg_hours, "人均|时长"),
    Definition("public_stations", "志愿服务站（区：公共场所站点；县、县级市：标准化站点）", "个", Method.LINEAR, Decimal(5), Decimal(10), "000",
               m_public_stations, "站点|目标"),
    Definition("wuyou", "社区志愿服务站“五有”达标率", "%", Method.LINEAR, Decimal(100), Decimal(10), "001", m_wuyou, "“五有”|达标率"),
    Definition("reports_on_time", "区县月报按时报送月数", "个月", Method.LINEAR, Decimal(12), Decimal(10), "002",
               m_reports_on_time, "月报|按时"),
    Definition("theme_months", "每月一主题集中活动举办月数", "个月", Method.LINEAR, Decimal(12), Decimal(10), "002",
               m_theme_months, "主题活动|月数"),
    Definition("officials_40h", "党员和公职人员年服务 7 天以上、满 40 小时比例（分母：已注册的党员和公职人员）", "%",
               Method.LINEAR, Decimal(80), Decimal(5), "004", m_officials, "党员公职|40小时7天"),
    # 000: "市民对志愿服务活动认同和支持率达到90%以上" (a survey, entered).
    Definition("survey", "市民对志愿服务活动认同和支持率（问卷调查）", "%", Method.PASS_FAIL, Decimal(90), Decimal(15), "000", None,
               "认同和|支持率"),
    # The denominator option of officials_40h: all party members of the district. Off by default (the city
    # switches one on and the other off on the indicators page).
    Definition("officials_40h_all", "党员年服务 7 天以上、满 40 小时比例（分母：全体党员）", "%", Method.LINEAR, Decimal(30),
               Decimal(5), "004", m_officials_all, "党员|40小时7天", active=False),
]
BY_CODE = {d.code: d for d in DEFINITIONS}


def is_entered(code: str) -> bool:
    d = BY_CODE.get(code)
    return d is not None and d.compute is None


# ---- scoring -----------------------------------------------------------------------------------

def score(method: Method | str, value: Decimal | None, target: Decimal, weight: Decimal) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if Method(method) == Method.PASS_FAIL:
        return q2(weight) if value >= target else Decimal("0.00")
    if target <= 0:
        return q2(weight)
    return q2(weight * min(Decimal(value) / Decimal(target), Decimal(1)))


def grade(total: Decimal, total_weight: Decimal, excellent: Decimal, good: Decimal, passing: Decimal) -> str:
    if total_weight <= 0:
        return GRADES[3]
    pct = Decimal(total) / Decimal(total_weight) * HUNDRED
    if pct >= excellent:
        return GRADES[0]
    if pct >= good:
        return GRADES[1]
    if pct >= passing:
        return GRADES[2]
    return GRADES[3]


def rank(totals: list[Decimal]) -> list[int]:
    """Competition ranking: equal totals share a rank, the next rank skips (1, 1, 3)."""
    ordered = sorted(totals, reverse=True)
    return [ordered.index(t) + 1 for t in totals]


# ---- years and indicators ----------------------------------------------------------------------

def check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise AssessmentError("年度无效。", "year") from None
    if not 2000 <= year <= 2100:
        raise AssessmentError("年度应在 2000 至 2100 之间。", "year")
    return year


def get_year(year: int) -> AssessmentYear | None:
    """Read once per request (a page asks 6–9 times); the memo holds the row itself, as the session's
    identity map keeps only what someone else still references."""
    from core.cache import request_memo

    years = request_memo().setdefault("assessment_year", {})
    if year not in years:
        years[year] = db.session.scalar(select(AssessmentYear).where(AssessmentYear.year == year))
    return years[year]


def indicators(year: int, active_only: bool = True) -> list[Indicator]:
    stmt = select(Indicator).where(Indicator.year == year).order_by(Indicator.position, Indicator.id)
    if active_only:
        stmt = stmt.where(Indicator.active)
    return list(db.session.scalars(stmt))


def ensure_year(year: int) -> AssessmentYear:
    """The year's row and indicator set: copied from the previous year when it has one, else the defaults."""
    year = check_year(year)
    ay = get_year(year)
    if ay is None:
        prev = get_year(year - 1)
        ay = AssessmentYear(year=year, excellent=prev.excellent if prev else Decimal(90),
                            good=prev.good if prev else Decimal(80), passing=prev.passing if prev else Decimal(60))
        db.session.add(ay)
    if not indicators(year, active_only=False):
        previous = indicators(year - 1, active_only=False)
        if previous:
            for i in previous:
                db.session.add(Indicator(year=year, code=i.code, name=i.name, unit=i.unit, method=i.method,
                                         target=i.target, weight=i.weight, position=i.position, active=i.active))
        else:
            for pos, d in enumerate(DEFINITIONS):
                db.session.add(Indicator(year=year, code=d.code, name=d.name, unit=d.unit, method=d.method,
                                         target=d.target, weight=d.weight, position=pos, active=d.active))
    db.session.flush()
    return ay


def require_open(year: int) -> None:
    ay = get_year(year)
    if ay is not None and ay.frozen:
        raise AssessmentError(f"{year} 年度考核结果已定稿，如需修改请先由市文明办重新开启。")


def update_indicator(ind: Indicator, *, name: str, target: Decimal, weight: Decimal, method: str, active: bool) -> None:
    require_open(ind.year)
    if target is None or target < 0:
        raise AssessmentError("目标值不能为负数。", "target")
    if ind.unit == "%" and target > 100:
        raise AssessmentError("百分比目标不能超过 100。", "target")
    if weight is None or weight < 0 or weight > 100:
        raise AssessmentError("权重应在 0 至 100 之间。", "weight")
    ind.name, ind.target, ind.weight, ind.method, ind.active = name.strip(), target, weight, Method(method), active
    db.session.flush()


def update_thresholds(ay: AssessmentYear, excellent: Decimal, good: Decimal, passing: Decimal) -> None:
    require_open(ay.year)
    for name, v in (("excellent", excellent), ("good", good), ("passing", passing)):
        if v is None or not 0 <= v <= 100:
            raise AssessmentError("等次线应在 0 至 100 之间。", name)
    if not excellent > good > passing:
        raise AssessmentError("等次线应满足：优秀 > 良好 > 合格。", "good")
    ay.excellent, ay.good, ay.passing = excellent, good, passing
    db.session.flush()


def value_row(ind: Indicator, region: Region) -> IndicatorValue | None:
    return db.session.scalar(select(IndicatorValue).where(IndicatorValue.indicator_id == ind.id,
                                                          IndicatorValue.region_id == region.id))


def save_value(user: User, ind: Indicator, region: Region, *, entered: Decimal | None, adjusted: Decimal | None,
               reason: str) -> IndicatorValue:
    """Enter a survey value and/or adjust a value by hand; an adjustment needs a reason (audited on flush)."""
    require_open(ind.year)
    reason = (reason or "").strip()
    for name, v in (("entered", entered), ("adjusted", adjusted)):
        if v is not None and (v < 0 or (ind.unit == "%" and v > 100)):
            raise AssessmentError("数值应在 0 至 100 之间。" if ind.unit == "%" else "数值不能为负数。", name)
    if entered is not None and not is_entered(ind.code):
        raise AssessmentError("该指标由系统根据数据计算，不能直接录入；如需调整请填写调整值和理由。", "entered")
    if adjusted is not None and len(reason) < 4:
        raise AssessmentError("人工调整须填写理由（至少 4 个字）。", "reason")
    row = value_row(ind, region)
    if row is None:
        row = IndicatorValue(indicator_id=ind.id, region_id=region.id)
        db.session.add(row)
    row.entered, row.adjusted = entered, adjusted
    row.reason = reason if adjusted is not None else ""
    row.updated_by_id = user.id
    db.session.flush()
    return row


# ---- results -----------------------------------------------------------------------------------

@dataclass
class Cell:
    code: str
    numerator: Decimal | None
    denominator: Decimal | None
    computed: Decimal | None  # from the data (or entered)
    value: Decimal | None  # what is scored: the adjusted value when there is one
    score: Decimal
    num_label: str = ""
    den_label: str = ""
    adjusted: bool = False
    reason: str = ""
    note: str = ""
    link: tuple[str, dict] | None = None
    target: Decimal | None = None

    @property
    def met(self) -> bool:
        return self.value is not None and self.target is not None and self.value >= self.target


@dataclass
class DistrictResult:
    id: int
    name: str
    cells: list[Cell]
    total: Decimal
    grade: str
    rank: int = 0
    prev_total: Decimal | None = None
    prev_rank: int | None = None
    prev_grade: str | None = None
    figures: dict | None = None  # key figures of the district, kept in a frozen snapshot

    @property
    def tone(self) -> str:
        return GRADE_TONES.get(self.grade, "neutral")

    @property
    def delta(self) -> Decimal | None:
        return None if self.prev_total is None else self.total - self.prev_total


@dataclass
class IndicatorInfo:
    id: int
    code: str
    name: str
    unit: str
    method: str
    target: Decimal
    weight: Decimal

    @property
    def method_label(self) -> str:
        return Method(self.method).label

    @property
    def short(self) -> str:
        return self._short.replace("|", "")

    @property
    def short_html(self) -> Markup:
        """The heading with break opportunities between words only (<wbr>; CSS keeps the words whole)."""
        return Markup("<wbr>").join(escape(part) for part in self._short.split("|"))

    @property
    def _short(self) -> str:
        d = BY_CODE.get(self.code)
        return d.short if d and d.short else self.name

    @property
    def entered(self) -> bool:
        return is_entered(self.code)


@dataclass
class Results:
    year: int
    indicators: list[IndicatorInfo]
    districts: list[DistrictResult]
    total_weight: Decimal
    thresholds: dict
    frozen: bool = False
    snapshot_id: int | None = None
    frozen_at: str = ""
    computed_at: str = ""
    stale: bool = False  # the last computed results, shown while the new ones are computed

    @property
    def computed_local(self) -> str:
        """When these results were computed, local time (the 截至 of stale results)."""
        if not self.computed_at:
            return ""
        return to_local(datetime.fromisoformat(self.computed_at)).strftime("%Y-%m-%d %H:%M")

    def district(self, did: int) -> DistrictResult | None:
        return next((d for d in self.districts if d.id == did), None)

    @property
    def ranked(self) -> list[DistrictResult]:
        return sorted(self.districts, key=lambda d: (d.rank, d.name))

    def grade_counts(self) -> dict[str, int]:
        return {g: sum(1 for d in self.districts if d.grade == g) for g in GRADES}


def districts() -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.level == RegionLevel.DISTRICT, Region.active)
                                   .order_by(Region.sort, Region.id)))


def compute(year: int) -> Results | None:
    """The live results of a year from the data (None when the year has no indicators)."""
    ay = get_year(year)
    inds = indicators(year)
    if ay is None or not inds:
        return None
    regions = districts()
    ids = [r.id for r in regions]
    values = {(v.indicator_id, v.region_id): v for v in db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.indicator_id.in_([i.id for i in inds])))}
    measures: dict[str, dict[int, Measure]] = {}
    for ind in inds:
        d = BY_CODE.get(ind.code)
        if d is not None and d.compute is not None:
            measures[ind.code] = d.compute(year, ids)
    rows = []
    for r in regions:
        cells = []
        for ind in inds:
            v = values.get((ind.id, r.id))
            if ind.code in measures:
                m = measures[ind.code][r.id]
            else:  # entered (survey): the value is the numerator, out of 100 %
                entered = v.entered if v is not None else None
                m = Measure(entered, HUNDRED if entered is not None else None, entered, "问卷认同和支持率（录入）", "",
                            None, "" if entered is not None else "尚未录入")
            value = v.adjusted if v is not None and v.adjusted is not None else m.value
            target = m.target if m.target is not None else ind.target  # e.g. 县 and 县级市: their own
            cells.append(Cell(ind.code, m.numerator, m.denominator, m.value, value,
                              score(ind.method, value, target, ind.weight), m.num_label, m.den_label,
                              adjusted=v is not None and v.adjusted is not None, reason=v.reason if v else "",
                              note=m.note, link=m.link, target=target))
        total = q2(sum((c.score for c in cells), Decimal(0)))
        rows.append(DistrictResult(r.id, r.name, cells, total, ""))
    total_weight = q2(sum((i.weight for i in inds), Decimal(0)))
    for row, rk in zip(rows, rank([r.total for r in rows])):
        row.rank = rk
        row.grade = grade(row.total, total_weight, ay.excellent, ay.good, ay.passing)
    infos = [IndicatorInfo(i.id, i.code, i.name, i.unit, i.method.value, i.target, i.weight) for i in inds]
    return Results(year, infos, rows, total_weight,
                   {"excellent": ay.excellent, "good": ay.good, "passing": ay.passing},
                   computed_at=utcnow().isoformat(timespec="seconds"))


# ---- snapshot (de)serialisation ----------------------------------------------------------------

def _enc(value):
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, tuple):
        return [_enc(v) for v in value]
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    return value


def _dec(value):
    if isinstance(value, dict):
        if set(value) == {"$d"}:
            return Decimal(value["$d"])
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


def to_json(res: Results) -> dict:
    return _enc(asdict(res))


def from_json(data: dict) -> Results:
    data = _dec(data)
    inds = [IndicatorInfo(**i) for i in data["indicators"]]
    rows = []
    for d in data["districts"]:
        cells = []
        for c in d["cells"]:
            if c.get("link"):
                c["link"] = (c["link"][0], c["link"][1])
            cells.append(Cell(**c))
        rows.append(DistrictResult(**{**d, "cells": cells}))
    return Results(**{**data, "indicators": inds, "districts": rows})


# Results and key figures are asked for on every home page of leaders and offices: keyed by the data
# version, kept in the store every worker shares (core/cache.py: the database or Redis), so that they are
# computed once per change, not once per worker; the last few also stay in this process (no unpickling).
_MEMO: dict[tuple, object] = {}
_MEMO_SIZE = 16


def _register_memo() -> None:
    from core.cache import LOCAL_MEMOS

    if _MEMO not in LOCAL_MEMOS:
        LOCAL_MEMOS.append(_MEMO)


def _memo(key: tuple, make, stale: tuple | None = None):
    """key = (kind, database, year, …, versions…): kept per version; `stale`: a page view may be
    answered with the last computed value while the job worker computes the current one (core/cache.py)."""
    from core import cache

    if any(isinstance(k, str) and k.startswith("uncommitted") for k in key):
        return make()  # this request's own uncommitted changes: neither shared nor kept
    _register_memo()
    if key in _MEMO:
        return _MEMO[key]
    what, versions = _split(key)
    value = cache.shared("assessment", what, make, version=versions, stale=stale)
    if cache.is_stale("assessment", what):
        request_memo().setdefault("assessment_stale", set()).add(key)
        return value  # an older version's value: not kept under this version
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = value
    return value


def _split(key: tuple) -> tuple[str, str]:
    """(what is computed, at which data versions): one stored row per `what`, replaced by newer versions."""
    versions = [k for k in key[2:] if isinstance(k, str) and k.startswith(("live", "snap"))]
    what = tuple(k for k in key[:1] + key[2:] if k not in versions)
    return repr(what), "|".join(versions)


@cache_refresher("assessment.results")
def _refresh_results(year: int) -> None:
    results(year)


@cache_refresher("assessment.key")
def _refresh_key(year: int, district_ids: list[int]) -> None:
    key_figures(year, list(district_ids))


def results(year: int) -> Results | None:
    """A frozen year's snapshot, or the live computation; with the previous year's totals for comparison.
    In a page view, after a change, the last computed results (res.stale, res.computed_at) while the
    job worker computes the new ones. Callers must not change the returned object (it may be shared)."""
    key = ("results", str(db.engine.url), year, data_version(year), data_version(year - 1))
    res = copy.deepcopy(_memo(key, lambda: _results(year), stale=("assessment.results", year)))
    if res is not None and key in request_memo().get("assessment_stale", ()):
        res.stale = True
    return res


def _results(year: int) -> Results | None:
    res = _results_only(year)
    if res is None:
        return None
    prev = _results_only(year - 1)
    if prev is not None:
        for row in res.districts:
            p = prev.district(row.id)
            if p is not None:
                row.prev_total, row.prev_rank, row.prev_grade = p.total, p.rank, p.grade
    return res


def _results_only(year: int) -> Results | None:
    ay = get_year(year)
    if ay is not None and ay.frozen and ay.snapshot_id:
        snap = db.session.get(AssessmentSnapshot, ay.snapshot_id)
        if snap is not None:
            res = from_json(snap.data)
            res.frozen, res.snapshot_id = True, snap.id
            res.frozen_at = to_local(snap.created_at).strftime("%Y-%m-%d %H:%M")  # stored UTC, shown local
            return res
    return compute(year)


def freeze(user: User, year: int) -> AssessmentSnapshot:
    ay = get_year(year)
    if ay is None:
        raise AssessmentError(f"{year} 年度尚未设置考核指标。")
    if ay.frozen:
        raise AssessmentError(f"{year} 年度考核结果已定稿。")
    res = compute(year)
    if res is None:
        raise AssessmentError(f"{year} 年度没有启用的考核指标。")
    for row in res.districts:
        row.prev_total = row.prev_rank = row.prev_grade = None
        row.figures = asdict(_key_figures(year, [row.id]))  # the dashboard's figures freeze with the scores
    snap = AssessmentSnapshot(year=year, data=to_json(res), created_by_id=user.id)
    db.session.add(snap)
    db.session.flush()
    ay.status, ay.snapshot_id = YearStatus.FROZEN, snap.id
    db.session.flush()
    record_change("finalize", ay, "考核结果定稿", user=user)
    return snap


def reopen(user: User, year: int, reason: str) -> None:
    ay = get_year(year)
    if ay is None or not ay.frozen:
        raise AssessmentError(f"{year} 年度考核结果未定稿，无需重新开启。")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise AssessmentError("重新开启须填写理由（至少 4 个字）。", "reason")
    snap = db.session.get(AssessmentSnapshot, ay.snapshot_id) if ay.snapshot_id else None
    if snap is not None:
        snap.reopened_at, snap.reopened_by_id, snap.reopen_reason = utcnow(), user.id, reason[:500]
    ay.status, ay.snapshot_id = YearStatus.OPEN, None
    db.session.flush()
    record_change("reopen", ay, f"重新开启的理由：{reason}"[:500], user=user)


# ---- what a user may see -----------------------------------------------------------------------

def visible_district_ids(user: User) -> set[int]:
    """Districts whose detail the user may open: all for city-wide users, their own otherwise."""
    return set(db.session.scalars(scope.scoped(select(Region.id).where(Region.level == RegionLevel.DISTRICT),
                                               Region, user)))


def can_edit(user: User) -> bool:
    return user.role == Role.CITY_ADMIN


def data_version(year: int) -> str:
    """Changes whenever anything an assessment of `year` is computed from changes (the PDF cache key).
    A frozen year is its snapshot (plus the previous year's figures it is compared with)."""
    ay, prev = get_year(year), get_year(year - 1)
    if ay is not None and ay.frozen and ay.snapshot_id:
        prev_part = "none" if prev is None else f"snap{prev.snapshot_id}" if prev.frozen else _live_version(year - 1)
        return f"snap{ay.snapshot_id}-{prev_part}"
    return _live_version(year)


def _live_version(year: int) -> str:
    # One primary-key read (core/cache.py: bumped by every transaction that changes business data),
    # and the day: theme months count only held (past) activities.
    from core.cache import data_version as current

    n = current()
    return f"live{n}-{local_today().isoformat()}" if n >= 0 else f"uncommitted-{id(db.session)}"



# ---- findings of the annual report -------------------------------------------------------------
# The "主要发现" section of the city report, written from the results rather than typed by hand:
# who rose and who fell against the previous year, the spread of the totals, the indicators most
# districts miss (with the target and the lowest values), and the values still missing.

def fmt_value(value: Decimal | None, unit: str) -> str:
    """89.5% / 12 个月 / 无数据: an indicator value as printed."""
    if value is None:
        return "无数据"
    text = format(Decimal(value).normalize(), "f")
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def fmt_points(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


@dataclass
class Movement:
    name: str
    total: Decimal
    prev_total: Decimal
    delta: Decimal
    rank: int
    prev_rank: int | None


@dataclass
class Lag:
    name: str  # the indicator
    target: str  # "≥ 60%"
    missed: int  # districts below target (or without data)
    of: int
    lowest: list[tuple[str, str]]  # (district, value) of up to three lowest


@dataclass
class Findings:
    improved: list[Movement]
    fell: list[Movement]
    steady: list[str]
    no_previous: list[str]
    top: tuple[str, Decimal] | None
    bottom: tuple[str, Decimal] | None
    lagging: list[Lag]
    all_met: list[str]
    missing: list[tuple[str, list[str]]]  # indicator → districts without a value

    @property
    def spread(self) -> Decimal | None:
        return None if self.top is None or self.bottom is None else self.top[1] - self.bottom[1]


def findings(res: Results) -> Findings:
    rows = res.ranked
    moves = [Movement(d.name, d.total, d.prev_total, d.total - d.prev_total, d.rank, d.prev_rank)
             for d in rows if d.prev_total is not None]
    improved = sorted((m for m in moves if m.delta > 0), key=lambda m: (-m.delta, m.name))
    fell = sorted((m for m in moves if m.delta < 0), key=lambda m: (m.delta, m.name))
    lagging, all_met, missing = [], [], []
    for k, ind in enumerate(res.indicators):
        cells = [(d.name, d.cells[k]) for d in rows if k < len(d.cells)]
        if not cells:
            continue
        absent = [name for name, c in cells if c.value is None]
        if absent:
            missing.append((ind.name, absent))
        below = [(name, c) for name, c in cells if not c.met]
        if not below:
            all_met.append(ind.name)
        elif len(below) * 2 >= len(cells):  # half the districts or more miss it
            valued = sorted((bc for bc in below if bc[1].value is not None), key=lambda bc: (bc[1].value, bc[0]))
            lagging.append(Lag(ind.name, f"≥ {fmt_value(ind.target, ind.unit)}", len(below), len(cells),
                               [(name, fmt_value(c.value, ind.unit)) for name, c in valued[:3]]))
    lagging.sort(key=lambda lag: (-lag.missed, lag.name))
    return Findings(improved, fell, [m.name for m in moves if m.delta == 0],
                    [d.name for d in rows if d.prev_total is None],
                    (rows[0].name, rows[0].total) if rows else None,
                    (rows[-1].name, rows[-1].total) if rows else None,
                    lagging, all_met, missing)

# ---- key figures and the monthly brief ---------------------------------------------------------

@dataclass
class KeyFigures:
    volunteers: int
    urban_population: int
    ratio: Decimal | None
    hours: Decimal
    avg_hours: Decimal | None
    stations: int
    theme_months: int


def key_figures(year: int, district_ids: list[int]) -> KeyFigures:
    """The key figures of some districts; a frozen year's come from its snapshot."""
    key = ("key", str(db.engine.url), year, tuple(sorted(district_ids)), data_version(year))
    return _memo(key, lambda: _frozen_figures(year, district_ids) or _key_figures(year, district_ids),
                 stale=("assessment.key", year, sorted(district_ids)))


def _frozen_figures(year: int, district_ids: list[int]) -> KeyFigures | None:
    ay = get_year(year)
    if ay is None or not ay.frozen:
        return None
    res = _results_only(year)
    rows = [d for d in res.districts if d.id in set(district_ids)] if res else []
    if not rows or any(d.figures is None for d in rows):
        return None
    f = [d.figures for d in rows]
    vols = sum(int(x["volunteers"]) for x in f)
    urban = sum(int(x["urban_population"]) for x in f)
    hours = q2(sum((Decimal(x["hours"]) for x in f), Decimal(0)))
    return KeyFigures(vols, urban, _ratio(vols, urban), hours, _ratio(hours, vols, percent=False),
                      sum(int(x["stations"]) for x in f), max(int(x["theme_months"]) for x in f))


def _key_figures(year: int, district_ids: list[int]) -> KeyFigures:
    # The registered volunteers and their hours are the average-hours indicator's own numerator and
    # denominator (one definition: by residence, registered at year end, verified hours).
    avg = m_avg_hours(year, district_ids)
    vols = sum((m.denominator or Decimal(0) for m in avg.values()), Decimal(0))
    hours = sum((m.numerator for m in avg.values()), Decimal(0))
    urban = sum((f.urban_population or 0) for f in _figures(year, district_ids).values())
    stations = db.session.scalar(select(func.count(Station.id)).where(
        station_rules.running_on(_stations_day(year)), Station.district_id.in_(district_ids)))
    themes = m_theme_months(year, district_ids)
    return KeyFigures(int(vols), urban, _ratio(vols, urban), q2(hours or 0), _ratio(hours or 0, vols, percent=False),
                      stations or 0, int(max((m.numerator for m in themes.values()), default=0)))


@dataclass
class BriefRow:
    name: str
    new_volunteers: int
    hours: Decimal
    activities: int
    theme_held: bool


def last_complete_month(today: date | None = None) -> tuple[int, int]:
    """The default month of the 月度简报: the last month that has ended."""
    today = today or local_today()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def brief_period(value: str | None, year: str | None = None, month: str | None = None,
                 today: date | None = None) -> tuple[int, int]:
    """The month a 月度简报 is asked for: `month=YYYY-MM` (the page's month field) or the older
    `year=…&month=…`; anything unreadable, or a month not yet begun, gives the last complete month."""
    today = today or local_today()
    default = last_complete_month(today)
    try:
        if value and "-" in value:
            y, m = (int(x) for x in value.split("-", 1))
        elif value or month:
            y, m = int(year) if year else today.year, int(value or month)
        else:
            return default
    except (TypeError, ValueError):
        return default
    if not (2000 <= y <= 2100 and 1 <= m <= 12) or (y, m) > (today.year, today.month):
        return default
    return y, m


def monthly_brief(year: int, month: int, district_ids: list[int]) -> list[BriefRow]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    names = {r.id: r.name for r in districts() if r.id in district_ids}
    new = _by_district(select(Region.district_id, func.count(Volunteer.id)).join(Region, Region.id == Volunteer.region_id)
                       .where(Volunteer.registered_on >= start, Volunteer.registered_on < end,
                              Region.district_id.in_(district_ids)).group_by(Region.district_id))
    hours = _by_district(select(Region.district_id, func.sum(ServiceRecord.hours)).select_from(ServiceRecord)
                         .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
                         .join(Region, Region.id == Volunteer.region_id)
                         .where(ServiceRecord.status == "verified", ServiceRecord.service_date >= start,
                                ServiceRecord.service_date < end, Region.district_id.in_(district_ids))
                         .group_by(Region.district_id))
    acts = _by_district(select(Region.district_id, func.count(Activity.id)).join(Region, Region.id == Activity.region_id)
                        .where(Activity.status == ActivityStatus.OPEN, Activity.held_on >= start, Activity.held_on < end,
                               Region.district_id.in_(district_ids)).group_by(Region.district_id))
    held = set(db.session.scalars(select(ThemeActivity.unit_region_id).join(Activity, Activity.id == ThemeActivity.activity_id)
                                  .where(ThemeActivity.is_concentrated, Activity.status == ActivityStatus.OPEN,
                                         Activity.held_on >= start, Activity.held_on < min(end, local_today() + timedelta(days=1)))))
    return [BriefRow(names[d], int(new.get(d, 0)), q2(hours.get(d, 0)), int(acts.get(d, 0)), d in held)
            for d in names]


