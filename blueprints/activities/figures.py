"""Activities' headline figures (core/figures.py)."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from blueprints.activities.models import Activity, ActivityStatus
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure
from core.timeutil import local_today


def _open(user):
    return scope.scoped(select(func.count(Activity.id)), Activity, user).where(Activity.status == ActivityStatus.OPEN)


@register_figure("activities.month")
def held_this_month(user) -> Figure:
    today = local_today()
    start = today.replace(day=1)
    n = db.session.scalar(_open(user).where(Activity.held_on >= start, Activity.held_on <= today)) or 0
    return Figure(n, "本月已举办活动", f"您管辖范围内的组织本月 1 日至今天举办、未取消的活动（{today.month} 月）。", unit="场",
                  url=url_for("activities.index", status="open", **{"from": start.isoformat(), "to": today.isoformat()}))


@register_figure("activities.upcoming")
def upcoming(user) -> Figure:
    tomorrow = local_today() + timedelta(days=1)
    n = db.session.scalar(_open(user).where(Activity.held_on >= tomorrow)) or 0
    return Figure(n, "即将举办活动", "您管辖范围内的组织明天及以后举办、未取消的活动。", unit="场",
                  url=url_for("activities.index", status="open", **{"from": tomorrow.isoformat()}))
