"""The theme calendar, the fixed days, tying activities to themes, and the board of concentrated
activities (002: "市级和各地每月要突出主题开展一次集中统一的志愿服务活动"; DOMAIN.md: "the calendar
shows which districts/orgs did and which did not")."""
from __future__ import annotations

import calendar as pycal
import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from lunardate import LunarDate
from sqlalchemy import extract, func, select

from blueprints.accounts.models import Role, User
from blueprints.activities.models import Activity, ActivityStatus
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region, RegionLevel
from blueprints.themes import services
from blueprints.themes.models import ThemeActivity, ThemePlanRow
from core import scope
from core.extensions import db
from core.settings import get_str

# ---- fixed days ---------------------------------------------------------------------------------

# 003/004: commemoration days of volunteer service.
FIXED = {(3, 5): "学雷锋纪念日", (5, 4): "青年节", (12, 5): "国际志愿者日"}
# 002 asks for the "党员学雷锋星期六志愿服务日" without naming the Saturdays: every Saturday by
# default; a city may narrow it to the first or last Saturday of the month (setting below).
SATURDAY_SETTING = "themes.party_saturdays"
SATURDAY_CHOICES = {"all": "每个星期六", "first": "每月第一个星期六", "last": "每月最后一个星期六"}
PARTY_SATURDAY = "党员学雷锋星期六"


def chongyang(year: int) -> date | None:
    """重阳节: the 9th day of the 9th lunar month (002 ties October's 敬老 theme to it)."""
    try:
        return LunarDate(year, 9, 9).to_solar_date()
    except ValueError:  # outside the library's table (1900–2099)
        return None


def party_saturdays(year: int, month: int, mode: str | None = None) -> list[date]:
    mode = mode or get_str(SATURDAY_SETTING, "all")
    days = [d for d in _month_days(year, month) if d.weekday() == 5]
    if mode == "first":
        return days[:1]
    if mode == "last":
        return days[-1:]
    return days


def _month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, pycal.monthrange(year, month)[1] + 1)]


def fixed_days(year: int, month: int | None = None, mode: str | None = None) -> dict[date, list[str]]:
    out: dict[date, list[str]] = defaultdict(list)
    for (m, d), label in FIXED.items():
        out[date(year, m, d)].append(label)
    cy = chongyang(year)
    if cy:
        out[cy].append("重阳节")
    for m in ([month] if month else range(1, 13)):
        for d in party_saturdays(year, m, mode):
            out[d].append(PARTY_SATURDAY)
    if month:
        return {d: v for d, v in out.items() if d.month == month}
    return dict(out)


def month_weeks(year: int, month: int) -> list[list[date]]:
    """Weeks Monday→Sunday covering the month (days of neighbouring months included)."""
    return pycal.Calendar(firstweekday=0).monthdatescalendar(year, month)


def month_end(year: int, month: int) -> date:
    return date(year, month, pycal.monthrange(year, month)[1])


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + delta
    return n // 12, n % 12 + 1


# ---- whose calendar ----------------------------------------------------------------------------

def district_choices(user: User) -> list[Region]:
    stmt = scope.scoped(select(Region).where(Region.level == RegionLevel.DISTRICT, Region.active), Region, user)
    return list(db.session.scalars(stmt.order_by(Region.sort, Region.id)))


def calendar_district(user: User, region_arg) -> Region | None:
    """The district whose themes the calendar shows: the one asked for if in scope; district users
    their own; city-wide users the city's themes alone unless they pick a district."""
    choices = district_choices(user)
    try:
        wanted = int(region_arg) if region_arg not in (None, "") else None
    except (TypeError, ValueError):
        wanted = None
    for r in choices:
        if r.id == wanted:
            return r
    if user.is_city_wide:
        return None
    if user.region_id:
        for r in choices:
            if r.id == user.region_id:
                return r
    return choices[0] if choices else None


def _unit_expr():
    """The region an activity belongs to: its own place, else its organization's."""
    return func.coalesce(Activity.region_id, Organization.region_id)


def _activities_stmt(user: User, start: date, end: date, district: Region | None):
    stmt = (scope.scoped(select(Activity), Activity, user)
            .join(Organization, Organization.id == Activity.organization_id)
            .where(Activity.held_on >= start, Activity.held_on <= end, Activity.status == ActivityStatus.OPEN))
    if district is not None:
        stmt = stmt.where(_unit_expr().in_(scope.region_subtree_ids(district.id)))
    return stmt


def activities_between(user: User, start: date, end: date, district: Region | None) -> list[Activity]:
    stmt = _activities_stmt(user, start, end, district)
    return list(db.session.scalars(stmt.order_by(Activity.held_on, Activity.start_time, Activity.id)))


def theme_links(activity_ids: list[int]) -> dict[int, ThemeActivity]:
    if not activity_ids:
        return {}
    return {t.activity_id: t for t in db.session.scalars(
        select(ThemeActivity).where(ThemeActivity.activity_id.in_(activity_ids)))}


@dataclass
class Day:
    day: date
    in_month: bool
    labels: list[str] = field(default_factory=list)
    activities: list[tuple[Activity, ThemeActivity | None]] = field(default_factory=list)


def month_view(user: User, year: int, month: int, district: Region | None) -> dict:
    weeks = month_weeks(year, month)
    fixed = fixed_days(year, month)
    acts = activities_between(user, weeks[0][0], weeks[-1][-1], district)
    links = theme_links([a.id for a in acts])
    by_day: dict[date, list] = defaultdict(list)
    for a in acts:
        by_day[a.held_on].append((a, links.get(a.id)))
    grid = [[Day(d, d.month == month, fixed.get(d, []) if d.month == month else [], by_day.get(d, []))
             for d in week] for week in weeks]
    themes = services.themes_by_month(year, district.id if district else None)[month]
    return dict(weeks=grid, themes=themes, fixed=sorted(fixed.items()))


def year_view(user: User, year: int, district: Region | None) -> list[dict]:
    themes = services.themes_by_month(year, district.id if district else None)
    fixed = fixed_days(year, mode="first")  # the year view lists the dated days, not every Saturday
    counts = defaultdict(lambda: [0, 0])
    for month, n, themed in db.session.execute(
            _activities_stmt(user, date(year, 1, 1), date(year, 12, 31), district)
            .outerjoin(ThemeActivity, ThemeActivity.activity_id == Activity.id)
            .with_only_columns(extract("month", Activity.held_on), func.count(Activity.id),
                               func.count(ThemeActivity.id))
            .group_by(extract("month", Activity.held_on))):
        counts[int(month)] = [n, themed]
    out = []
    for m in range(1, 13):
        days = [(d, [x for x in labels if x != PARTY_SATURDAY]) for d, labels in sorted(fixed.items())
                if d.month == m]
        out.append(dict(month=m, rows=themes[m], days=[(d, ls) for d, ls in days if ls],
                        activities=counts[m][0], theme_activities=counts[m][1]))
    return out


# ---- tying an activity to a theme --------------------------------------------------------------

class LinkError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def unit_region_of(activity: Activity) -> Region:
    """The district an activity belongs to (the board's row); the city for city-level ones."""
    region = activity.region or activity.organization.region
    return region.district or region


def row_choices(activity: Activity) -> list[ThemePlanRow]:
    """Published theme rows of the activity's month that apply to its district."""
    unit = unit_region_of(activity)
    district_id = unit.id if unit.level == RegionLevel.DISTRICT else None
    return services.themes_by_month(activity.held_on.year, district_id)[activity.held_on.month]


def can_mark_concentrated(user: User, unit: Region) -> bool:
    """The district's office marks its concentrated activity; the city office the city's (and any)."""
    if not getattr(user, "can_write", False):
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    return (user.role == Role.DISTRICT_STAFF and unit.level == RegionLevel.DISTRICT
            and scope.in_scope(user, unit))


def concentrated_of(unit_id: int, year: int, month: int) -> ThemeActivity | None:
    return db.session.scalar(select(ThemeActivity).where(
        ThemeActivity.unit_region_id == unit_id, ThemeActivity.year == year, ThemeActivity.month == month,
        ThemeActivity.is_concentrated.is_(True)))


def link_activity(user: User, activity: Activity, row_id: int | None, concentrated: bool) -> ThemeActivity | None:
    """Tie (or re-tie) an activity to a theme row; optionally mark it as its district's
    concentrated activity of the month (one per district and month, 002). row_id None unties."""
    link = db.session.scalar(select(ThemeActivity).where(ThemeActivity.activity_id == activity.id))
    if row_id is None:
        if link is not None:
            if link.is_concentrated and not can_mark_concentrated(user, link.unit_region):
                raise LinkError("这是本区的集中活动，只有文明办工作人员可以取消关联")
            db.session.delete(link)
            db.session.flush()
        return None
    if activity.status != ActivityStatus.OPEN:
        raise LinkError("已取消的活动不能关联主题", "theme_row_id")
    rows = {r.id: r for r in row_choices(activity)}
    if row_id not in rows:
        raise LinkError(f"{activity.held_on.year} 年 {activity.held_on.month} 月没有这个已发布的主题", "theme_row_id")
    unit = unit_region_of(activity)
    was_concentrated = bool(link and link.is_concentrated)
    if concentrated != was_concentrated and not can_mark_concentrated(user, unit):
        raise LinkError("只有本区文明办工作人员可以标记或取消集中活动", "concentrated")
    if concentrated:
        other = concentrated_of(unit.id, activity.held_on.year, activity.held_on.month)
        if other is not None and other.activity_id != activity.id:
            raise LinkError(f"{unit.name} {activity.held_on.month} 月已有集中活动：{other.activity.title}"
                            f"（{other.activity.held_on:%m月%d日}），请先取消其标记", "concentrated")
    if link is None:
        link = ThemeActivity(activity_id=activity.id)
        db.session.add(link)
    link.theme_row_id, link.unit_region_id = row_id, unit.id
    link.year, link.month = activity.held_on.year, activity.held_on.month
    link.is_concentrated = concentrated
    link.marked_by_id = user.id
    db.session.flush()
    return link


def link_of(activity: Activity) -> ThemeActivity | None:
    return db.session.scalar(select(ThemeActivity).where(ThemeActivity.activity_id == activity.id))


# ---- the board ---------------------------------------------------------------------------------

class CellState(enum.StrEnum):
    HELD = "held"
    PLANNED = "planned"
    MISSING = "missing"
    DUE = "due"
    NOT_DUE = "not_due"
    NO_THEME = "no_theme"

    @property
    def label(self) -> str:
        return {"held": "已举办", "planned": "已安排", "missing": "未开展", "due": "本月待安排",
                "not_due": "未到期", "no_theme": "无主题"}[self.value]

    @property
    def tone(self) -> str:
        return {"held": "green", "planned": "blue", "missing": "red", "due": "amber", "not_due": "neutral",
                "no_theme": "neutral"}[self.value]


def classify(year: int, month: int, today: date, has_theme: bool, held_on: date | None) -> CellState:
    """One district-month: the concentrated activity's date (None when none is marked) against today.
    Missing turns red only once the month is over."""
    if held_on is not None:
        return CellState.HELD if held_on <= today else CellState.PLANNED
    if not has_theme:
        return CellState.NO_THEME
    if month_end(year, month) < today:
        return CellState.MISSING
    if (year, month) == (today.year, today.month):
        return CellState.DUE
    return CellState.NOT_DUE


@dataclass
class Cell:
    state: CellState
    activity: Activity | None = None
    orgs: int = 0  # organizations that held theme activities (participation)
    activities: int = 0


@dataclass
class BoardRow:
    region: Region
    cells: list[Cell]
    mine: bool = False  # the viewer's own unit (details visible)

    @property
    def held(self) -> int:
        return sum(1 for c in self.cells if c.state == CellState.HELD)

    @property
    def missing(self) -> int:
        return sum(1 for c in self.cells if c.state == CellState.MISSING)

    @property
    def orgs(self) -> int:
        return sum(c.orgs for c in self.cells)


def board_units() -> list[Region]:
    city = services.city_region()
    districts = list(db.session.scalars(select(Region).where(
        Region.level == RegionLevel.DISTRICT, Region.active).order_by(Region.sort, Region.id)))
    return ([city] if city else []) + districts


def board_rows(user: User, year: int, today: date) -> list[BoardRow]:
    """Every unit (city + districts) × 12 months. Statuses and counts are shown to everyone who may
    open the board (district staff compare themselves with the others); which activity it was is
    shown only where the activity lies in the viewer's scope."""
    units = board_units()
    visible = {r.id for r in district_choices(user)}
    if user.is_city_wide:
        visible |= {u.id for u in units}
    # Keyed by the activity's own date, so that an activity moved to another day after it was tied
    # counts where it is now held.
    concentrated: dict[tuple[int, int], Activity] = {}
    orgs_of: dict[tuple[int, int], set[int]] = defaultdict(set)
    count_of: dict[tuple[int, int], int] = defaultdict(int)
    for link, act in db.session.execute(
            select(ThemeActivity, Activity).join(Activity, Activity.id == ThemeActivity.activity_id).where(
                Activity.held_on >= date(year, 1, 1), Activity.held_on <= date(year, 12, 31),
                Activity.status == ActivityStatus.OPEN).order_by(Activity.held_on, Activity.id)):
        key = (link.unit_region_id, act.held_on.month)
        if link.is_concentrated and key not in concentrated:
            concentrated[key] = act
        if act.held_on <= today:
            orgs_of[key].add(act.organization_id)
            count_of[key] += 1
    by_unit = services.themes_by_month_all(year, [u.id for u in units if u.level != RegionLevel.CITY])
    rows = []
    for unit in units:
        themes = by_unit[None] if unit.level == RegionLevel.CITY else by_unit[unit.id]
        cells = []
        for m in range(1, 13):
            act = concentrated.get((unit.id, m))
            orgs, n = len(orgs_of[(unit.id, m)]), count_of[(unit.id, m)]
            state = classify(year, m, today, bool(themes[m]), act.held_on if act else None)
            cells.append(Cell(state, act if unit.id in visible else None, orgs, n))
        rows.append(BoardRow(unit, cells, unit.id in visible))
    # The viewer's own district first, then the others: "their district and how it compares".
    if not user.is_city_wide:
        rows.sort(key=lambda r: not r.mine)
    return rows


def board_drill(user: User, unit: Region, year: int, month: int) -> list[tuple[Activity, ThemeActivity]]:
    """The theme activities of one unit and month, as far as they lie in the viewer's scope."""
    stmt = (scope.scoped(select(Activity, ThemeActivity), Activity, user)
            .join(ThemeActivity, ThemeActivity.activity_id == Activity.id)
            .where(ThemeActivity.unit_region_id == unit.id, Activity.held_on >= date(year, month, 1),
                   Activity.held_on <= month_end(year, month))
            .order_by(ThemeActivity.is_concentrated.desc(), Activity.held_on, Activity.id))
    return [(a, t) for a, t in db.session.execute(stmt)]


# ---- dashboard ---------------------------------------------------------------------------------

def org_theme_activities(user: User, year: int, month: int) -> list[tuple[Organization, list[Activity]]]:
    """For an org leader: each of their organizations with its theme activities of the month."""
    out = []
    for org in user.organizations:
        acts = list(db.session.scalars(
            select(Activity).join(ThemeActivity, ThemeActivity.activity_id == Activity.id).where(
                Activity.organization_id == org.id, Activity.held_on >= date(year, month, 1),
                Activity.held_on <= month_end(year, month),
                Activity.status == ActivityStatus.OPEN).order_by(Activity.held_on)))
        out.append((org, acts))
    return out

