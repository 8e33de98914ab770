"""Stations' headline figures (core/figures.py), all read from the one coverage board."""
from __future__ import annotations

from flask import g, url_for

from blueprints.stations import services
from core.sources import cite
from core.figures import Figure, register_figure


def _board(user):
    cache = g.setdefault("_station_boards", {})
    if user.id not in cache:
        cache[user.id] = services.coverage(user)
    return cache[user.id]


def _url() -> str:
    return url_for("stations.coverage")


@register_figure("stations.active")
def active(user) -> Figure:
    b = _board(user)
    if b.city_total is not None:
        return Figure(b.city_total.value, "全市站点", "运行中（未停用）的志愿服务站，含市直站点。", unit="个", url=_url(),
                      page_attr="data-figure")
    return Figure(b.totals["stations"], "运行中站点", "本县(市、区)运行中（未停用）的志愿服务站。", unit="个", url=_url(),
                  page_attr="data-figure")


@register_figure("stations.covered")
def covered(user) -> Figure:
    return Figure(_board(user).totals["covered"], "建有站点的社区", "至少有一个运行中的社区志愿服务站的村(社区)数。",
                  unit="个", url=_url(), page_attr="data-figure")


@register_figure("stations.communities")
def communities(user) -> Figure:
    return Figure(_board(user).totals["communities"], "社区总数", "管辖范围内启用的村(社区)数。", unit="个", url=_url(),
                  page_attr="data-figure")


@register_figure("stations.met")
def met(user) -> Figure:
    return Figure(_board(user).totals["met"], "“五有”达标站点", "最近一次评估“五有”全部达标的运行中站点（依据" + cite("001") + "）。",
                  unit="个", url=_url(), page_attr="data-figure")


@register_figure("stations.public")
def public(user) -> Figure:
    return Figure(_board(user).totals["public"], "公共场所站点", "设在公园、广场、活动中心、行业服务窗口等公共场所的运行中站点（依据" + cite("000") + "）。",
                  unit="个", url=_url(), page_attr="data-figure")
