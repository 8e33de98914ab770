"""The annual assessment's headline figures (core/figures.py): counted by the volunteer's residence
(居住地) and the year, as the indicators are, unlike the volunteers' figures (by organization)."""
from __future__ import annotations

from flask import url_for

from blueprints.assessment import services
from core.figures import Figure, register_figure
from core.timeutil import local_today


def tile_year() -> int:
    """The year the home page shows: this year once its indicators are set, else the last one."""
    year = local_today().year
    if services.results(year) is None and services.results(year - 1) is not None:
        return year - 1
    return year


def _key(user, year: int):
    visible = services.visible_district_ids(user)
    return services.key_figures(year, sorted(visible)) if visible else None


def _where(user) -> str:
    return "全市各县(市、区)" if user.is_city_wide else "本县(市、区)"


@register_figure("assessment.volunteers")
def volunteers(user) -> Figure:
    year = tile_year()
    key = _key(user, year)
    return Figure(key.volunteers if key else 0, "注册志愿者（按居住地）",
                  f"居住地在{_where(user)}、{year} 年末在册（登记日期不晚于年末且未劝退）的志愿者，不论加入哪个组织；"
                  "年度考核“注册志愿者占城市建成区常住人口比例”的分子。",
                  unit="人", url=url_for("assessment.index", year=year), page_attr="data-figure")


@register_figure("assessment.hours")
def hours(user) -> Figure:
    year = tile_year()
    key = _key(user, year)
    return Figure(key.hours if key else 0, f"{year} 年已审核服务时长（按居住地）",
                  f"上述注册志愿者在 {year} 年已审核的服务时长合计（不论哪个组织记录；待审核记录不计）；"
                  "年度考核“人均服务时长”的分子。",
                  unit="小时", kind="hours", url=url_for("assessment.index", year=year), page_attr="data-figure")
