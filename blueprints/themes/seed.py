"""Demo 每月一主题: the 2015 广安 table as the built-in example, last year's and this year's city plans
copied from it (adapted to the city), a few districts' own rows, and demo activities tied to the
themes so that the board shows held, planned and missing months.

Runs after the activities seed; without activities it only creates the plans.
"""
from __future__ import annotations

import random
from datetime import date
from collections import defaultdict

import click
from sqlalchemy import func, insert, select

from blueprints.activities.models import Activity, ActivityStatus
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region, RegionLevel
from blueprints.themes import services
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow
from core.extensions import db
from core.timeutil import local_today, utcnow

# The city's adaptation of the 2015 lead units (the rows themselves come from the example).
LEAD_UNITS = {"市交警支队": "市公安局交警支队", "市旅游局": "市文化广电旅游体育局", "市环保局": "市生态环境局",
              "市文广电新局": "市文化广电旅游体育局", "市教体局": "市教育局", "市老龄办": "市民政局"}
DISTRICT_ROWS = {
    "赤坎区": [("3", "“赤坎老街·学雷锋”便民服务周", "在赤坎老街设立学雷锋便民服务点，开展义诊、义剪、家电维修等活动。", "赤坎区文明办",
              "各街道、各志愿服务队")],
    "霞山区": [("6", "“蓝色海湾”净滩护海行动", "组织志愿者在观海长廊、海滨公园开展净滩和海洋保护宣传。", "霞山区文明办",
              "各街道、区生态环境分局"),
             ("8", "“清凉一夏”关爱户外劳动者", "为环卫工人、快递小哥等户外劳动者送清凉。", "霞山区总工会", "各街道")],
    "麻章区": [("10", "湖光岩重阳登高敬老服务", "结合重阳节组织志愿者陪伴老人登高、开展健康义诊。", "麻章区文明办", "各镇(街道)")],
}


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(ThemePlan)):
        return
    city = services.city_region()
    if city is None:
        return
    example, _ = services.load_example(None)
    today = local_today()
    plans = {}
    for year in (today.year - 1, today.year):
        plan = ThemePlan(year=year, region=city, title=f"{city.name}{year}年“每月一主题”志愿服务活动安排表",
                         status=PlanStatus.PUBLISHED, published_at=utcnow(), copied_from_id=example.id,
                         note="市级和各地每月突出主题开展一次集中统一的志愿服务活动。")
        db.session.add(plan)
        for r in example.rows:
            plan.rows.append(ThemePlanRow(
                position=r.position, month_start=r.month_start, month_end=r.month_end,
                name=r.name.replace("广安", city.name.removesuffix("市")).replace("2015", str(year)),
                content=r.content.replace("广安", city.name.removesuffix("市")),
                lead_unit=LEAD_UNITS.get(r.lead_unit, r.lead_unit),
                responsible_units=r.responsible_units.replace("各地", "各县(市、区)", 1)))
        plans[year] = plan
    districts = {r.name: r for r in db.session.scalars(select(Region).where(Region.level == RegionLevel.DISTRICT))}
    for name, rows in DISTRICT_ROWS.items():
        if name not in districts:
            continue
        plan = ThemePlan(year=today.year, region=districts[name], status=PlanStatus.PUBLISHED, published_at=utcnow(),
                         title=f"{name}{today.year}年“每月一主题”本地主题安排")
        db.session.add(plan)
        for i, (month, rname, content, lead, resp) in enumerate(rows, start=1):
            start, end = services.parse_months(month)
            plan.rows.append(ThemePlanRow(position=i * 10, month_start=start, month_end=end, name=rname,
                                          content=content, lead_unit=lead, responsible_units=resp))
    # A draft for next year, copied from this year's, as a city office would start in autumn.
    db.session.flush()
    draft = services.copy_plan_unchecked(plans[today.year], today.year + 1)
    db.session.flush()
    n = _links(plans, city)
    click.echo(f"    主题计划 {db.session.scalar(select(func.count()).select_from(ThemePlan))} 份"
               f"（含 2015 广安示例、{draft.year} 年草稿），{n} 项活动关联到主题")


def _links(plans: dict[int, ThemePlan], city: Region) -> int:
    rng = random.Random(2015)
    today = local_today()
    row_of = {}
    for year, plan in plans.items():
        for r in plan.rows:
            for m in range(r.month_start, r.month_end + 1):
                row_of.setdefault((year, m), r.id)
    unit = func.coalesce(Activity.region_id, Organization.region_id)
    by_unit_month: dict[tuple[int, int, int], list[tuple[int, object]]] = defaultdict(list)
    for aid, held_on, district_id, region_id in db.session.execute(
            select(Activity.id, Activity.held_on, Region.district_id, Region.id)
            .join(Organization, Organization.id == Activity.organization_id)
            .join(Region, Region.id == unit)
            .where(Activity.status == ActivityStatus.OPEN, Activity.held_on >= date(min(plans), 1, 1))
            .order_by(Activity.held_on, Activity.id)):
        key = (district_id or region_id, held_on.year, held_on.month)
        by_unit_month[key].append((aid, held_on))
    rows = []
    for (unit_id, year, month), acts in sorted(by_unit_month.items()):
        theme_row = row_of.get((year, month))
        if theme_row is None:
            continue
        past = (year, month) < (today.year, today.month)
        # Most districts hold their concentrated activity; some months stay missing (red on the board).
        concentrated = rng.random() < (0.8 if past else 0.6)
        pick = rng.sample(acts, min(len(acts), rng.randint(1, 4)))
        for i, (aid, held_on) in enumerate(pick):
            rows.append({"activity_id": aid, "theme_row_id": theme_row, "unit_region_id": unit_id, "year": year,
                         "month": month, "is_concentrated": concentrated and i == 0, "created_at": utcnow(),
                         "updated_at": utcnow()})
    if rows:
        db.session.execute(insert(ThemeActivity), rows)
    return len(rows)
