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


# ---- recruitment on the platform (issue 17): the district office's tile and page ----------------------

def _recruitment_totals(user) -> dict:
    """One computation per request for the three figures below (each is cached on its own)."""
    from blueprints.activities.recruitment import district_figures, totals
    from core import cache

    memo = cache.request_memo().setdefault("recruitment_totals", {})
    if user.id not in memo:
        memo[user.id] = totals(district_figures(user, local_today().year))
    return memo[user.id]


@register_figure("recruitment.activities")
def recruited_activities(user) -> Figure:
    year = local_today().year
    return Figure(_recruitment_totals(user)["recruited"], f"{year} 年平台招募活动",
                  "您管辖范围内的组织本年举办、在平台发布过招募的活动（含已取消）。", unit="场",
                  url=url_for("activities.recruitment"), page_attr="data-figure")


@register_figure("recruitment.signups")
def portal_signups(user) -> Figure:
    year = local_today().year
    return Figure(_recruitment_totals(user)["signups"], f"{year} 年平台报名",
                  "志愿者本人在平台上对本年活动的报名（含待审核、未录用和已取消的）。", unit="人次",
                  url=url_for("activities.recruitment"), page_attr="data-figure")


@register_figure("recruitment.checkin_share")
def checkin_share(user) -> Figure:
    year = local_today().year
    return Figure(_recruitment_totals(user)["share"], f"{year} 年签到时长占比",
                  "本年服务记录（未作废）中，来源为扫码签到的时长占全部时长的百分比（其余为手工录入、活动考勤、转入），按记录单位。",
                  unit="%", url=url_for("activities.recruitment"), page_attr="data-figure")
