"""Training's headline figure (core/figures.py): new volunteers of the year with 岗前培训 done."""
from __future__ import annotations

from flask import url_for

from blueprints.training import services
from core.figures import Figure, register_figure
from core.timeutil import local_today


@register_figure("training.new_trained")
def new_trained(user) -> Figure:
    year = local_today().year
    n = services.trained_new_count(user, year)
    return Figure(n, f"{year} 年新注册志愿者已完成岗前培训",
                  f"您管辖范围内 {year} 年注册的志愿者中，参加过岗前培训场次的人数（各区占比见培训覆盖页）。",
                  unit="人", url=url_for("training.coverage", year=year))
