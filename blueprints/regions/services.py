"""Rules of the administrative tree: who may change what, moves, deletion, yearly figures, import."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from blueprints.accounts.models import Role, User
from blueprints.regions.models import LEVEL_LABELS, DistrictKind, Region, RegionLevel, RegionYearFigure, guess_kind
from core import scope
from core.extensions import db
from core.tabular import ImportRow
from core.validators import compact_code

IMPORT_COLUMNS = ["名称", "级别", "行政区划代码", "上级行政区划代码"]
LEVEL_WORDS = {
    RegionLevel.CITY: {"市", "地级市"},
    RegionLevel.DISTRICT: {"县(市、区)", "县（市、区）", "县", "区", "县级市", "县区", "市辖区", "自治县"},
    RegionLevel.TOWN: {"乡镇(街道)", "乡镇（街道）", "乡", "镇", "街道", "乡镇"},
    RegionLevel.COMMUNITY: {"村(社区)", "村（社区）", "村", "社区", "居委会", "村委会"},
}


class RegionError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def roots_for(user: User) -> list[Region]:
    """Top of the tree the user sees: the city, or their district(s)."""
    if user.is_city_wide:
        stmt = select(Region).where(Region.parent_id.is_(None))
    elif user.role in (Role.DISTRICT_STAFF, Role.LEADER):
        stmt = select(Region).where(Region.id == user.region_id)
    else:
        stmt = scope.scoped(select(Region).where(Region.level == RegionLevel.DISTRICT), Region, user)
    return list(db.session.scalars(stmt.order_by(Region.sort, Region.id)))


def children_of(region: Region, user: User) -> list[tuple[Region, int]]:
    """Children in scope with their own child counts (one query, no N+1)."""
    child = db.aliased(Region)
    counts = (select(child.parent_id, func.count().label("n")).group_by(child.parent_id)).subquery()
    stmt = (
        scope.scoped(select(Region, func.coalesce(counts.c.n, 0)), Region, user)
        .outerjoin(counts, counts.c.parent_id == Region.id)
        .where(Region.parent_id == region.id)
        .order_by(Region.sort, Region.id)
    )
    return [(r, n) for r, n in db.session.execute(stmt)]


def can_edit(user: User, region: Region) -> bool:
    """City admins edit the whole tree; district staff the towns and communities of their district."""
    if user.role == Role.CITY_ADMIN:
        return True
    return (
        user.role == Role.DISTRICT_STAFF
        and region.level in (RegionLevel.TOWN, RegionLevel.COMMUNITY)
        and region.district_id == user.region_id
    )


def can_add_child(user: User, parent: Region) -> bool:
    if parent.level.child_level is None:
        return False
    if user.role == Role.CITY_ADMIN:
        return True
    return user.role == Role.DISTRICT_STAFF and parent.district_id == user.region_id and parent.level != RegionLevel.COMMUNITY


def can_edit_figures(user: User, region: Region) -> bool:
    return region.level == RegionLevel.DISTRICT and (
        user.role == Role.CITY_ADMIN or (user.role == Role.DISTRICT_STAFF and region.id == user.region_id)
    )


# 行政区划代码 by level (GB/T 2260 + 统计用区划代码): 市 and 县(市、区) 6 digits, 乡镇(街道) 9, 村(社区) 12.
# A district shares the city's first 4 digits, a town starts with its district's 6, a community with its town's 9.
CODE_LENGTH = {RegionLevel.CITY: 6, RegionLevel.DISTRICT: 6, RegionLevel.TOWN: 9, RegionLevel.COMMUNITY: 12}
PARENT_PREFIX = {RegionLevel.DISTRICT: 4, RegionLevel.TOWN: 6, RegionLevel.COMMUNITY: 9}


def normalize_code(value) -> str:
    """"４４０８０２ " → "440802" (NFKC, full-width digits, invisible characters and spaces removed)."""
    return compact_code(value if value is not None else "")


def code_problem(code: str, level: RegionLevel, parent_code: str | None) -> str | None:
    """Why a (normalized) code does not fit a region of this level under this parent, or None."""
    length = CODE_LENGTH[level]
    if not code.isascii() or not code.isdigit() or len(code) != length:
        return f"{level.label}的行政区划代码应为 {length} 位数字"
    prefix = PARENT_PREFIX.get(level)
    if prefix and parent_code and not code.startswith(parent_code[:prefix]):
        return f"行政区划代码应以上级区域代码的前 {prefix} 位 {parent_code[:prefix]} 开头"
    return None


def _check_code(code: str | None, level: RegionLevel, parent: Region | None) -> None:
    if code and (problem := code_problem(code, level, parent.code if parent else None)):
        raise RegionError(problem, "code")


def _code_taken(code: str | None, exclude_id: int | None = None) -> bool:
    if not code:
        return False
    stmt = select(Region.id).where(Region.code == code)
    if exclude_id:
        stmt = stmt.where(Region.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _set_lineage(region: Region, parent: Region | None) -> None:
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    if region.level == RegionLevel.DISTRICT:
        region.district_id = region.id
    elif region.level == RegionLevel.CITY:
        region.district_id = None
    else:
        region.district_id = parent.district_id if parent else None


def create_region(parent: Region | None, name: str, code: str | None = None, sort: int = 0,
                  level: RegionLevel | None = None, kind: DistrictKind | str | None = None) -> Region:
    level = level or (parent.level.child_level if parent else RegionLevel.CITY)
    if level is None:
        raise RegionError("村(社区)之下不能再设下级区域")
    if parent is not None and parent.level.child_level != level:
        raise RegionError(f"{LEVEL_LABELS[level]}的上级应为{LEVEL_LABELS[list(RegionLevel)[level.depth - 1]]}")
    code = normalize_code(code) or None
    _check_code(code, level, parent)
    if _code_taken(code):
        raise RegionError("该行政区划代码已存在", "code")
    if _sibling_named(parent, name):
        raise RegionError("同一上级下已有同名区域", "name")
    region = Region(name=name.strip(), level=level, parent=parent, code=code or None, sort=sort or 0,
                    kind=_kind(level, name, kind))
    db.session.add(region)
    db.session.flush()
    _set_lineage(region, parent)
    db.session.flush()
    return region


def _sibling_named(parent: Region | None, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Region.id).where(Region.name == name.strip(),
                                   Region.parent_id == (parent.id if parent else None))
    if exclude_id:
        stmt = stmt.where(Region.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _kind(level: RegionLevel, name: str, kind: DistrictKind | str | None) -> DistrictKind | None:
    """区 / 县 / 县级市 for a county-level region: as chosen, else as its name implies."""
    if level != RegionLevel.DISTRICT:
        return None
    try:
        return DistrictKind(kind) if kind else guess_kind(name)
    except ValueError:
        raise RegionError("请选择类别：区、县或县级市", "kind") from None


def update_region(region: Region, name: str, code: str | None, sort: int | None,
                  kind: DistrictKind | str | None = None) -> None:
    code = normalize_code(code) or None
    _check_code(code, region.level, region.parent)
    if _code_taken(code, region.id):
        raise RegionError("该行政区划代码已存在", "code")
    if _sibling_named(region.parent, name, region.id):
        raise RegionError("同一上级下已有同名区域", "name")
    if kind is not None or region.kind is None:  # None: keep the kind; "": as the name implies
        region.kind = _kind(region.level, name, kind)
    region.name = name.strip()
    region.code = code or None
    region.sort = sort or 0


def move_targets(user: User, region: Region) -> list[Region]:
    """Regions that may become the new parent: one level up, editable by the user, not the current."""
    if region.parent is None:
        return []
    stmt = scope.scoped(select(Region).where(Region.level == region.parent.level, Region.id != region.parent_id,
                                             Region.active), Region, user).order_by(Region.path)
    return [r for r in db.session.scalars(stmt) if can_add_child(user, r)]


def move_region(user: User, region: Region, new_parent: Region) -> None:
    if new_parent.id not in {r.id for r in move_targets(user, region)}:
        raise RegionError("不能移动到该区域下", "parent_id")
    if _sibling_named(new_parent, region.name, region.id):
        raise RegionError("新的上级下已有同名区域", "parent_id")
    old_path = region.path
    region.parent = new_parent
    _set_lineage(region, new_parent)
    new_path = region.path
    # Rewrite the whole subtree's ancestry in one statement (descendants keep their own suffix).
    descendants = list(db.session.scalars(
        select(Region).where(Region.path.startswith(old_path), Region.id != region.id)))
    for d in descendants:
        d.path = new_path + d.path[len(old_path):]
        if d.level not in (RegionLevel.CITY, RegionLevel.DISTRICT):
            d.district_id = region.district_id
    db.session.flush()
    scope.forget_region_paths()  # the paths core/scope.py looked up in this request


def references_to(region: Region) -> int:
    """How many rows anywhere point at this region (children, users, organizations, figures…)."""
    total = 0
    for table in db.Model.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "region" and fk.column.name == "id":
                col = fk.parent
                stmt = select(func.count()).select_from(table).where(col == region.id)
                if table.name == "region":
                    stmt = stmt.where(table.c.id != region.id)
                total += db.session.scalar(stmt) or 0
    return total


def delete_region(region: Region) -> None:
    if references_to(region):
        raise RegionError("该区域已有下级区域或关联记录，不能删除；可以停用。")
    db.session.delete(region)
    db.session.flush()


def set_active(region: Region, active: bool) -> None:
    region.active = active
    if not active:
        # A deactivated region takes its subtree with it.
        db.session.execute(update(Region).where(Region.path.startswith(region.path)).values(active=False))


POPULATION_MAX = 100_000_000
FIGURE_LABELS = {"population": "常住人口", "urban_population": "城市建成区常住人口", "party_members": "党员人数",
                 "league_members": "团员人数"}


def figures_for(region: Region, year: int) -> RegionYearFigure | None:
    return db.session.scalar(select(RegionYearFigure).where(
        RegionYearFigure.region_id == region.id, RegionYearFigure.year == year))


def save_figures(region: Region, year: int, **values) -> RegionYearFigure:
    fig = figures_for(region, year)
    if fig is None:
        fig = RegionYearFigure(region=region, year=year)
        db.session.add(fig)
    for key, value in values.items():
        setattr(fig, key, value)
    # Each figure 0 … 1 亿, and no part larger than the whole (checked on the saved result, so that
    # lowering 常住人口 below an existing part is refused as well as raising the part).
    for key in FIGURE_LABELS:
        value = getattr(fig, key)
        if value is not None and not 0 <= value <= POPULATION_MAX:
            raise RegionError("请填写 0 到 1 亿之间的整数", key)
    if fig.population is not None:
        for key, label in FIGURE_LABELS.items():
            value = getattr(fig, key)
            if key != "population" and value is not None and value > fig.population:
                raise RegionError(f"{label}不能大于常住人口", key)
    db.session.flush()
    return fig


# ---- import ------------------------------------------------------------------------------------

# A county-level row's 级别 may say which kind it is; "县(市、区)" leaves it to the name.
KIND_WORDS = {"区": DistrictKind.URBAN, "市辖区": DistrictKind.URBAN, "县": DistrictKind.COUNTY,
              "自治县": DistrictKind.COUNTY, "县级市": DistrictKind.COUNTY_CITY}


def parse_level(text: str) -> RegionLevel | None:
    t = text.strip()
    for level, words in LEVEL_WORDS.items():
        if t in words or t == level.value:
            return level
    return None


def validate_import(user: User, rows: list[ImportRow]) -> list[ImportRow]:
    """Check every row against the database and the rows above it; errors are attached to rows."""
    return list(check_rows(user, rows))


def check_rows(user: User, rows):
    """validate_import() one row at a time (a generator: a preview job keeps no row, issue 16)."""
    codes_in_db = {c: (rid, lvl) for c, rid, lvl in db.session.execute(select(Region.code, Region.id, Region.level).where(Region.code.isnot(None)))}
    in_file: dict[str, RegionLevel] = {}
    for row in rows:
        v = row.values
        v["行政区划代码"], v["上级行政区划代码"] = normalize_code(v["行政区划代码"]), normalize_code(v["上级行政区划代码"])
        name, code, parent_code = v["名称"], v["行政区划代码"], v["上级行政区划代码"]
        level = parse_level(v["级别"])
        if not name:
            row.errors.append("名称不能为空")
        elif len(name) > 64:
            row.errors.append("名称最多 64 个字")
        if level is None:
            row.errors.append(f"级别“{v['级别']}”无效（应为 区 / 县 / 县级市 / 乡镇(街道) / 村(社区)）")
        elif level == RegionLevel.CITY:
            row.errors.append("不能导入市级区域")
        if not code.isascii() or not code.isdigit() or len(code) not in (6, 9, 12):
            row.errors.append("行政区划代码应为 6、9 或 12 位数字")
        elif level is not None and level != RegionLevel.CITY and (problem := code_problem(code, level, parent_code)):
            row.errors.append(problem)
        elif code in codes_in_db or code in in_file:
            row.errors.append(f"行政区划代码 {code} 已存在")
        parent_level = None
        if parent_code in in_file:
            parent_level = in_file[parent_code]
        elif parent_code in codes_in_db:
            parent_id, parent_level = codes_in_db[parent_code]
            parent = db.session.get(Region, parent_id)
            if level is not None and not can_add_child(user, parent):
                row.errors.append(f"上级区域 {parent.name} 不在您可编辑的范围内")
        else:
            row.errors.append(f"找不到上级行政区划代码 {parent_code or '（空）'}（须已存在或在本文件的前面行中）")
        if level is not None and parent_level is not None and parent_level.child_level != level:
            row.errors.append(f"上级区域的级别应为{LEVEL_LABELS[list(RegionLevel)[level.depth - 1]]}")
        if not row.errors and level is not None:
            in_file[code] = level
        yield row


def apply_import(user: User, rows: list[dict]) -> int:
    """Save validated rows (re-validated: the database may have changed since the preview). The import
    job calls it a chunk at a time (core/jobs.py chunked_importer): a parent saved by an earlier chunk
    is in the database by then."""
    checked = validate_import(user, [ImportRow(line=r["line"], values=r["values"]) for r in rows])
    bad = next((r for r in checked if r.errors), None)
    if bad is not None:
        raise RegionError(f"第 {bad.line} 行：{'；'.join(bad.errors)}（数据在预览后发生了变化，请重新上传文件）")
    by_code = {}
    for row in checked:
        v = row.values
        parent = by_code.get(v["上级行政区划代码"]) or db.session.scalar(
            select(Region).where(Region.code == v["上级行政区划代码"]))
        by_code[v["行政区划代码"]] = create_region(parent, v["名称"], v["行政区划代码"], level=parse_level(v["级别"]),
                                                   kind=KIND_WORDS.get(v["级别"].strip()))
    return len(checked)


# ---- summary for the PDF ----------------------------------------------------------------------

@dataclass
class DistrictSummary:
    district: Region
    towns: int
    communities: int
    figure: RegionYearFigure | None


def district_summaries(user: User, year: int) -> list[DistrictSummary]:
    districts = list(db.session.scalars(scope.scoped(
        select(Region).where(Region.level == RegionLevel.DISTRICT), Region, user).order_by(Region.sort, Region.id)))
    counts = dict()
    for did, level, n in db.session.execute(
        select(Region.district_id, Region.level, func.count()).where(Region.active)
        .group_by(Region.district_id, Region.level)
    ):
        counts[(did, level)] = n
    figs = {f.region_id: f for f in db.session.scalars(
        select(RegionYearFigure).where(RegionYearFigure.year == year,
                                       RegionYearFigure.region_id.in_([d.id for d in districts])))}
    return [DistrictSummary(d, counts.get((d.id, RegionLevel.TOWN), 0), counts.get((d.id, RegionLevel.COMMUNITY), 0),
                            figs.get(d.id)) for d in districts]
