"""Insurance's headline figures (core/figures.py)."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for

from blueprints.insurance import services
from core.figures import Figure, register_figure
from core.timeutil import local_today


@register_figure("insurance.expiring")
def expiring(user) -> Figure:
    counts = services.expiry_counts(user, local_today())
    return Figure(counts["expiring"], f"{counts['days']} 天内到期待续保",
                  f"您管辖范围内的保单中，{counts['days']} 天内到期、尚未续保（没有接续的新保单）的份数。", unit="份",
                  url=url_for("insurance.index", status="expiring", unrenewed="1"))


@register_figure("insurance.expired")
def expired(user) -> Figure:
    counts = services.expiry_counts(user, local_today())
    return Figure(counts["expired"], "已过期未续保",
                  "近一年内已过期、尚未续保（没有接续的新保单）的保单份数。", unit="份",
                  url=url_for("insurance.index", status="expired", unrenewed="1"))


@register_figure("insurance.risky")
def risky(user) -> Figure:
    today = local_today()
    days = services.RISKY_UPCOMING_DAYS
    n = len(services.risky_activities(user, today, today + timedelta(days=days)))
    return Figure(n, f"{days} 天内风险活动有人未保",
                  f"今天起 {days} 天内举办的有风险活动中，有参与者在活动当日未被任何保单覆盖的场数。", unit="场",
                  url=url_for("insurance.risky"))
