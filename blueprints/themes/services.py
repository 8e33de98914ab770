"""Rules of 每月一主题: plan rows and their validation, who may edit which plan, copying, the
example table of seed 002, XLSX import, the plan rows that apply to a district in a month."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import func, select

from blueprints.accounts.models import Role, User
from blueprints.regions.models import Region, RegionLevel
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow
from core import scope
from core.audit import record_change
from core.extensions import db
from core.tabular import ImportRow
from core.timeutil import utcnow

IMPORT_COLUMNS = ["月份", "活动名称", "活动内容", "牵头单位", "责任单位"]
EDITOR_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
LIMITS = {"name": 200, "content": 2000, "lead_unit": 200, "responsible_units": 200}
MIN_YEAR, MAX_YEAR = 2000, 2100


class ThemeError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class RowInvalid(ValueError):
    """A plan row with messages per field (several fields may be wrong at once)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---- months ------------------------------------------------------------------------------------

_RANGE = re.compile(r"^(\d{1,2})\s*(?:-|~|—|–|至|到)\s*(\d{1,2})$")


def parse_months(text: str | None) -> tuple[int, int]:
    """"5" → (5, 5); "1－2" (the 附件's full-width hyphen), "1-2", "1~2", "1至2", "1-2月" → (1, 2)."""
    raw = unicodedata.normalize("NFKC", (text or "")).strip().removesuffix("月份").removesuffix("月").strip()
    if not raw:
        raise ThemeError("请填写月份（如 5 或 1－2）", "month")
    m = _RANGE.match(raw)
    if m:
        start, end = int(m.group(1)), int(m.group(2))
    elif raw.isdigit() and len(raw) <= 2:
        start = end = int(raw)
    else:
        raise ThemeError("月份应为 1–12 的数字或范围，如 5 或 1－2", "month")
    if not (1 <= start <= 12 and 1 <= end <= 12):
        raise ThemeError("月份应在 1–12 之间", "month")
    if start > end:
        raise ThemeError(f"月份范围不能倒置：{start}－{end} 应写作 {end}－{start} 或分成两行", "month")
    return start, end


def month_label(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}－{end}"


@dataclass
class RowData:
    month: str = ""
    name: str = ""
    content: str = ""
    lead_unit: str = ""
    responsible_units: str = ""

    @classmethod
    def from_row(cls, row: ThemePlanRow) -> "RowData":
        return cls(row.month_label, row.name, row.content, row.lead_unit, row.responsible_units)


def validate_row(data: RowData) -> tuple[int, int]:
    """The months of a valid row; RowInvalid with every field's message otherwise."""
    errors: dict[str, str] = {}
    months = (0, 0)
    try:
        months = parse_months(data.month)
    except ThemeError as e:
        errors["month"] = e.message
    if not (data.name or "").strip():
        errors["name"] = "请填写活动名称"
    labels = {"name": "活动名称", "content": "活动内容", "lead_unit": "牵头单位", "responsible_units": "责任单位"}
    for key, limit in LIMITS.items():
        if len((getattr(data, key) or "").strip()) > limit and key not in errors:
            errors[key] = f"{labels[key]}不能超过 {limit} 个字"
    if errors:
        raise RowInvalid(errors)
    return months


# ---- who may do what ---------------------------------------------------------------------------

def can_edit_plan(user: User, plan: ThemePlan) -> bool:
    """City admins edit the city's plans and every district's; district staff only their district's."""
    if not getattr(user, "can_write", False) or user.role not in EDITOR_ROLES:
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    return plan.region.level == RegionLevel.DISTRICT and scope.in_scope(user, plan.region)


def plan_regions_for(user: User) -> list[Region]:
    """Regions the user may create plans for: the city (city admins) and districts in scope."""
    if user.role not in EDITOR_ROLES or not user.can_write:
        return []
    stmt = select(Region).where(Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT]))
    if user.role != Role.CITY_ADMIN:
        stmt = stmt.where(Region.level == RegionLevel.DISTRICT)
    stmt = scope.scoped(stmt, Region, user).where(Region.active)
    return sorted(db.session.scalars(stmt), key=lambda r: (r.level != RegionLevel.CITY, r.sort, r.id))


def city_region() -> Region | None:
    return db.session.scalar(select(Region).where(Region.level == RegionLevel.CITY).order_by(Region.id).limit(1))


# ---- plans -------------------------------------------------------------------------------------

@dataclass
class PlanFilters:
    year: int | None = None
    region_id: int | None = None

    @classmethod
    def from_args(cls, args) -> "PlanFilters":
        def _int(key, lo, hi):
            try:
                v = int(args.get(key, ""))
            except ValueError:
                return None
            return v if lo <= v <= hi else None

        return cls(year=_int("year", MIN_YEAR, MAX_YEAR), region_id=_int("region", 1, 2**31 - 1))


def list_plans(user: User, f: PlanFilters) -> list[ThemePlan]:
    stmt = scope.scoped(select(ThemePlan), ThemePlan, user).join(Region, Region.id == ThemePlan.region_id)
    if f.year:
        stmt = stmt.where(ThemePlan.year == f.year)
    if f.region_id:
        stmt = stmt.where(ThemePlan.region_id == f.region_id)
    stmt = stmt.order_by(ThemePlan.is_example, ThemePlan.year.desc(), Region.level, Region.sort, ThemePlan.id)
    return list(db.session.scalars(stmt))


def row_counts(plan_ids: list[int]) -> dict[int, int]:
    if not plan_ids:
        return {}
    return dict(db.session.execute(select(ThemePlanRow.plan_id, func.count()).where(
        ThemePlanRow.plan_id.in_(plan_ids)).group_by(ThemePlanRow.plan_id)).all())


def _check_year(year) -> int:
    if not isinstance(year, int) or not (MIN_YEAR <= year <= MAX_YEAR):
        raise ThemeError(f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间", "year")
    return year


def _plan_exists(region_id: int, year: int, exclude_id: int | None = None) -> ThemePlan | None:
    stmt = select(ThemePlan).where(ThemePlan.region_id == region_id, ThemePlan.year == year,
                                   ThemePlan.is_example.is_(False))
    if exclude_id:
        stmt = stmt.where(ThemePlan.id != exclude_id)
    return db.session.scalar(stmt)


def default_title(region: Region, year: int) -> str:
    return f"{region.name}{year}年“每月一主题”志愿服务活动安排表"


def create_plan(user: User, region: Region, year: int, title: str = "", note: str = "") -> ThemePlan:
    _check_year(year)
    if region not in plan_regions_for(user):
        raise ThemeError("您不能为该区域制定主题计划", "region_id")
    if _plan_exists(region.id, year):
        raise ThemeError(f"{region.name} {year} 年的主题计划已经存在", "year")
    title = (title or "").strip() or default_title(region, year)
    if len(title) > 200:
        raise ThemeError("标题不能超过 200 个字", "title")
    plan = ThemePlan(year=year, region=region, title=title, note=(note or "").strip(), created_by_id=user.id)
    db.session.add(plan)
    db.session.flush()
    return plan


def update_plan(plan: ThemePlan, title: str, note: str = "") -> None:
    title = (title or "").strip()
    if not title:
        raise ThemeError("请填写标题", "title")
    if len(title) > 200:
        raise ThemeError("标题不能超过 200 个字", "title")
    plan.title, plan.note = title, (note or "").strip()
    db.session.flush()


def transition(plan: ThemePlan, action: str) -> None:
    """draft → published (needs rows) and back (撤回 to change it)."""
    if action == "publish":
        if plan.status != PlanStatus.DRAFT:
            raise ThemeError("该计划已发布")
        if plan.is_example:
            raise ThemeError("示例计划仅供参考和复制，不能发布；请复制为本年度计划后发布")
        if not plan.rows:
            raise ThemeError("计划还没有任何主题，不能发布")
        plan.status, plan.published_at = PlanStatus.PUBLISHED, utcnow()
    elif action == "withdraw":
        if plan.status != PlanStatus.PUBLISHED:
            raise ThemeError("该计划尚未发布")
        plan.status, plan.published_at = PlanStatus.DRAFT, None
    else:
        raise ThemeError("不支持的操作")
    record_change(action, plan)


def delete_plan(plan: ThemePlan) -> None:
    if plan.status == PlanStatus.PUBLISHED:
        raise ThemeError("已发布的计划不能删除，请先撤回")
    linked = db.session.scalar(select(func.count()).select_from(ThemeActivity).join(
        ThemePlanRow, ThemePlanRow.id == ThemeActivity.theme_row_id).where(ThemePlanRow.plan_id == plan.id))
    if linked:
        raise ThemeError(f"已有 {linked} 项活动关联到该计划的主题，不能删除")
    db.session.delete(plan)
    db.session.flush()


def copy_plan(user: User, source: ThemePlan, year: int, region: Region | None = None) -> ThemePlan:
    """A new year's plan starting as a copy of an earlier one (DOMAIN.md): rows in order, draft."""
    _check_year(year)
    region = region or (source.region if not source.is_example else city_region())
    if region is None or region not in plan_regions_for(user):
        raise ThemeError("您不能为该区域制定主题计划", "region_id")
    if _plan_exists(region.id, year):
        raise ThemeError(f"{region.name} {year} 年的主题计划已经存在", "year")
    return copy_plan_unchecked(source, year, region, user.id)


def copy_plan_unchecked(source: ThemePlan, year: int, region: Region | None = None,
                        user_id: int | None = None) -> ThemePlan:
    """The copy itself (the demo seed calls it directly): title with the year replaced, rows in order."""
    region = region or source.region
    title = source.title.replace(str(source.year), str(year))
    if source.is_example or (str(source.year) not in source.title and region.id != source.region_id):
        title = default_title(region, year)
    # The 2015 广安 table is an example only: a plan made from it is the region's own, and neither its
    # title nor its note names 广安 or cites that plan.
    note = "" if source.is_example else source.note
    plan = ThemePlan(year=year, region=region, title=title[:200], note=note, created_by_id=user_id,
                     copied_from_id=source.id)
    db.session.add(plan)
    old, new = str(source.year), str(year)
    place = region.name.removesuffix("市") if source.is_example else ""

    def adapt(text: str) -> str:  # "感恩奋进·广安志愿2015"展示交流活动 becomes the new year's (and place's)
        text = text.replace(old, new)
        return text.replace("广安", place) if place else text

    for r in source.rows:
        plan.rows.append(ThemePlanRow(position=r.position, month_start=r.month_start, month_end=r.month_end,
                                      name=adapt(r.name)[:200], content=adapt(r.content),
                                      lead_unit=r.lead_unit, responsible_units=r.responsible_units))
    db.session.flush()
    return plan


# ---- rows --------------------------------------------------------------------------------------

def _renumber(plan: ThemePlan, rows: list[ThemePlanRow]) -> None:
    for i, r in enumerate(rows, start=1):
        r.position = i * 10
    plan.rows = list(rows)  # keep the loaded collection in the new order too


def add_row(plan: ThemePlan, data: RowData) -> ThemePlanRow:
    start, end = validate_row(data)
    row = ThemePlanRow(month_start=start, month_end=end, name=data.name.strip(), content=(data.content or "").strip(),
                       lead_unit=(data.lead_unit or "").strip(),
                       responsible_units=(data.responsible_units or "").strip())
    rows = list(plan.rows)
    # A new row goes after the last row of its month (or earlier months), keeping the table in order.
    at = 0
    for i, r in enumerate(rows):
        if r.month_start <= start:
            at = i + 1
    rows.insert(at, row)
    _renumber(plan, rows)
    db.session.flush()
    return row


def update_row(row: ThemePlanRow, data: RowData) -> None:
    start, end = validate_row(data)
    row.month_start, row.month_end = start, end
    row.name, row.content = data.name.strip(), (data.content or "").strip()
    row.lead_unit, row.responsible_units = (data.lead_unit or "").strip(), (data.responsible_units or "").strip()
    db.session.flush()


def delete_row(row: ThemePlanRow) -> None:
    linked = db.session.scalar(select(func.count()).select_from(ThemeActivity).where(
        ThemeActivity.theme_row_id == row.id))
    if linked:
        raise ThemeError(f"已有 {linked} 项活动关联到该主题，不能删除")
    plan = row.plan
    plan.rows.remove(row)
    db.session.delete(row)
    _renumber(plan, list(plan.rows))
    db.session.flush()


def move_row(row: ThemePlanRow, direction: str) -> None:
    rows = list(row.plan.rows)
    i = rows.index(row)
    j = i - 1 if direction == "up" else i + 1 if direction == "down" else i
    if 0 <= j < len(rows) and j != i:
        rows[i], rows[j] = rows[j], rows[i]
        _renumber(row.plan, rows)
        db.session.flush()


# ---- the example table of seed 002 -------------------------------------------------------------

EXAMPLE_YEAR = 2015
EXAMPLE_TITLE = "“感恩奋进·广安志愿2015月主题活动”安排表"
# 附件："感恩奋进·广安志愿2015月主题活动"安排表 — every row transcribed as it stands in 002, punctuation
# included (the second May row has no 月份 cell in the table: it belongs to May; its 责任单位 is empty).
EXAMPLE_ROWS: list[tuple[str, str, str, str, str]] = [
    ("1－2", "“暖冬行·爱传递”主题志愿服务月", "以关爱困难群众、老弱病残和留守儿童为重点,开展“暖冬行·爱传递”主题活动。",
     "市文明办", "各地各单位"),
    ("3", "“公民思想道德宣传月”主题志愿服务月",
     "组织开展“春晖志愿·爱满广安”、 “生态志愿·绿润广安”、 “文化志愿·科普之春”、医卫志愿·守护健康”等活动。",
     "市文明办", "各地各单位"),
    ("4", "文明交通主题志愿服务月", "组织开展文明交通宣传、劝导等志愿服务活动。", "市交警支队", "各地各单位"),
    ("5", "文明旅游主题志愿服务月", "组织开展文明旅游宣传、劝导等志愿服务活动。", "市旅游局", "各地各相关单位"),
    ("5", "关爱残疾人志愿服务", "组织开展助残系列志愿服务活动", "市残联", ""),
    ("6", "环保主题志愿服务月", "组织开展环境保护、节约能源等宣传和环境整治等环保志愿服务活动。", "市环保局", "各地各相关单位"),
    ("7", "“红七月”党员星期六主题志愿服务月", "组织开展各类党员志愿服务活动等志愿服务活动。", "市委组织部", "各地各相关单位"),
    ("8", "文化主题志愿服务月", "组织开展文化志愿服务进乡村学校少年宫、欢乐市民大赛等文艺志愿服务活动。", "市文广电新局",
     "各地各相关单位"),
    ("9", "金秋助学主题志愿服务月", "组织开展助学等活动。", "市教体局", "各地各相关单位"),
    ("10", "敬老主题志愿服务月", "结合重阳节，组织开展爱老敬老等志愿活动。", "市老龄办", "各地各相关单位"),
    ("11", "社区主题志愿服务月", "组织开展各类社区志愿服务活动。", "市民政局", "各地各相关单位"),
    ("12", "“感恩奋进·广安志愿2015”展示交流活动",
     "评选表彰最美志愿者、最佳志愿服务项目、最佳志愿服务组织、最佳社区志愿服务组织和志愿服务杰出贡献奖。", "市文明办",
     "各地各单位"),
]
EXAMPLE_NOTE = ("2015年广安市志愿服务制度化工作方案附件。按照“每月一主题”的原则，市级和各地每月要突出主题开展一次"
                "集中统一的志愿服务活动。")


def example_plan() -> ThemePlan | None:
    return db.session.scalar(select(ThemePlan).where(ThemePlan.is_example.is_(True)).order_by(ThemePlan.id).limit(1))


def load_example(user: User | None = None) -> tuple[ThemePlan, bool]:
    """The built-in 2015 广安 table as a read-and-copy example plan of the city; (plan, created)."""
    existing = example_plan()
    if existing is not None:
        return existing, False
    city = city_region()
    if city is None:
        raise ThemeError("尚未建立市级区域，无法载入示例")
    plan = ThemePlan(year=EXAMPLE_YEAR, region=city, title=EXAMPLE_TITLE, is_example=True, note=EXAMPLE_NOTE,
                     created_by_id=user.id if user else None)
    db.session.add(plan)
    for i, (month, name, content, lead, resp) in enumerate(EXAMPLE_ROWS, start=1):
        start, end = parse_months(month)
        plan.rows.append(ThemePlanRow(position=i * 10, month_start=start, month_end=end, name=name, content=content,
                                      lead_unit=lead, responsible_units=resp))
    db.session.flush()
    return plan, True


def pdf_rows(plan: ThemePlan) -> list[tuple[ThemePlanRow, int]]:
    """Rows with the rowspan of their 月份 cell: consecutive rows of one month share one merged cell,
    as in the 附件 (May); 0 means the cell is covered by the one above."""
    rows = list(plan.rows)
    out: list[tuple[ThemePlanRow, int]] = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1].month_label == rows[i].month_label:
            j += 1
        out.append((rows[i], j - i + 1))
        out.extend((rows[k], 0) for k in range(i + 1, j + 1))
        i = j + 1
    return out


# ---- XLSX import/export ------------------------------------------------------------------------

def export_rows(plan: ThemePlan) -> list[list[str]]:
    return [[r.month_label, r.name, r.content, r.lead_unit, r.responsible_units] for r in plan.rows]


def validate_import(rows: list[ImportRow]) -> list[ImportRow]:
    """Each row checked like a typed one; an empty 月份 continues the month above (as May's second row
    in the 附件)."""
    return list(check_rows(rows))


def check_rows(rows):
    """validate_import() one row at a time (a generator: a preview job keeps no row, issue 16)."""
    previous = ""
    for r in rows:
        v = r.values
        month = v.get("月份", "") or previous
        data = RowData(month, v.get("活动名称", ""), v.get("活动内容", ""), v.get("牵头单位", ""), v.get("责任单位", ""))
        try:
            validate_row(data)
        except RowInvalid as e:
            r.errors.extend(e.errors.values())
        else:
            v["月份"] = month
            previous = month
        yield r


def apply_import(plan: ThemePlan, rows) -> int:
    """Replace the plan's rows with the confirmed ones (any iterable of them), all or nothing: one
    transaction by design — a plan half replaced would be worse than none (a year's plan is a few
    dozen rows; a large file's rows are read from its preview job's file, core/jobs.py iter_rows)."""
    if db.session.scalar(select(func.count()).select_from(ThemeActivity).join(
            ThemePlanRow, ThemePlanRow.id == ThemeActivity.theme_row_id).where(ThemePlanRow.plan_id == plan.id)):
        raise ThemeError("已有活动关联到该计划的主题，不能整表替换；请逐行修改")
    new_rows = []
    for i, item in enumerate(rows, start=1):
        v = item["values"]
        data = RowData(v["月份"], v["活动名称"], v["活动内容"], v["牵头单位"], v["责任单位"])
        start, end = validate_row(data)
        new_rows.append(ThemePlanRow(position=i * 10, month_start=start, month_end=end, name=data.name.strip(),
                                     content=data.content.strip(), lead_unit=data.lead_unit.strip(),
                                     responsible_units=data.responsible_units.strip()))
    for r in list(plan.rows):
        plan.rows.remove(r)
        db.session.delete(r)
    db.session.flush()
    plan.rows.extend(new_rows)
    db.session.flush()
    return len(new_rows)


# ---- the rows that apply ------------------------------------------------------------------------

@dataclass
class MonthTheme:
    month: int
    rows: list[ThemePlanRow] = field(default_factory=list)


def published_plans(year: int, district_id: int | None) -> list[ThemePlan]:
    """The city's published plan of the year, and the district's own when one is given."""
    regions = [r.id for r in [city_region()] if r is not None]
    if district_id:
        regions.append(district_id)
    return list(db.session.scalars(select(ThemePlan).where(
        ThemePlan.year == year, ThemePlan.region_id.in_(regions), ThemePlan.is_example.is_(False),
        ThemePlan.status == PlanStatus.PUBLISHED).order_by(ThemePlan.region_id)))


def themes_by_month_all(year: int, district_ids: list[int]) -> dict[int | None, dict[int, list[ThemePlanRow]]]:
    """themes_by_month() for the city (key None) and each district, from one query for the plans and
    one for their rows (the board showed one query per district and plan: 40 per page)."""
    from sqlalchemy.orm import selectinload

    city = city_region()
    regions = [r.id for r in [city] if r is not None] + list(district_ids)
    plans = list(db.session.scalars(select(ThemePlan).where(
        ThemePlan.year == year, ThemePlan.region_id.in_(regions), ThemePlan.is_example.is_(False),
        ThemePlan.status == PlanStatus.PUBLISHED).order_by(ThemePlan.region_id)
        .options(selectinload(ThemePlan.region), selectinload(ThemePlan.rows))))
    city_plans = [p for p in plans if city is not None and p.region_id == city.id]
    out: dict[int | None, dict[int, list[ThemePlanRow]]] = {None: themes_by_month(year, None, city_plans)}
    for d in district_ids:
        out[d] = themes_by_month(year, d, city_plans + [p for p in plans if p.region_id == d])
    return out


def themes_by_month(year: int, district_id: int | None, plans: list[ThemePlan] | None = None) -> dict[int, list[ThemePlanRow]]:
    out: dict[int, list[ThemePlanRow]] = {m: [] for m in range(1, 13)}
    plans = published_plans(year, district_id) if plans is None else list(plans)
    # The city's rows first, then the district's own.
    plans.sort(key=lambda p: p.region.level != RegionLevel.CITY)
    for plan in plans:
        for row in plan.rows:
            for m in range(row.month_start, row.month_end + 1):
                out[m].append(row)
    return out
