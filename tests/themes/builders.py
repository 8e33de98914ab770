"""Builders of theme plans and theme links for the themes tests (kept beside them: tests/factories.py
is shared and edited by other features at the same time)."""
from __future__ import annotations

from blueprints.themes import services
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow
from core.extensions import db

MONTHLY = [
    ("1－2", "暖冬行主题志愿服务月", "关爱困难群众", "市文明办", "各县(市、区)"),
    ("3", "学雷锋主题志愿服务月", "学雷锋便民服务", "市文明办", "各县(市、区)"),
    ("4", "文明交通主题志愿服务月", "文明交通劝导", "市公安局交警支队", "各县(市、区)"),
    ("5", "文明旅游主题志愿服务月", "文明旅游宣传", "市文化广电旅游体育局", "各县(市、区)"),
    ("5", "关爱残疾人志愿服务", "助残活动", "市残联", ""),
    ("6", "环保主题志愿服务月", "净滩护绿", "市生态环境局", "各县(市、区)"),
    ("7", "党员星期六主题志愿服务月", "党员志愿服务", "市委组织部", "各县(市、区)"),
    ("8", "文化主题志愿服务月", "文化志愿服务", "市文明办", "各县(市、区)"),
    ("9", "金秋助学主题志愿服务月", "助学", "市教育局", "各县(市、区)"),
    ("10", "敬老主题志愿服务月", "结合重阳节敬老", "市民政局", "各县(市、区)"),
    ("11", "社区主题志愿服务月", "社区志愿服务", "市民政局", "各县(市、区)"),
    ("12", "国际志愿者日展示交流活动", "评选表彰", "市文明办", "各县(市、区)"),
]


def theme_plan(region, year: int, rows=MONTHLY, published: bool = True, title: str | None = None) -> ThemePlan:
    plan = ThemePlan(year=year, region=region, title=title or f"{region.name}{year}年月主题活动安排表",
                     status=PlanStatus.PUBLISHED if published else PlanStatus.DRAFT)
    db.session.add(plan)
    for i, (month, name, content, lead, resp) in enumerate(rows, start=1):
        start, end = services.parse_months(month)
        plan.rows.append(ThemePlanRow(position=i * 10, month_start=start, month_end=end, name=name, content=content,
                                      lead_unit=lead, responsible_units=resp))
    db.session.flush()
    return plan


def row_of(plan: ThemePlan, month: int) -> ThemePlanRow:
    return next(r for r in plan.rows if r.covers(month))


def theme_link(activity, row: ThemePlanRow, unit, concentrated: bool = False) -> ThemeActivity:
    link = ThemeActivity(activity_id=activity.id, theme_row_id=row.id, unit_region_id=unit.id,
                         year=activity.held_on.year, month=activity.held_on.month, is_concentrated=concentrated)
    db.session.add(link)
    db.session.flush()
    return link
