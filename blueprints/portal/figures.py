"""The portal's headline figures (core/figures.py): volunteers who registered themselves (issue 17)."""
from __future__ import annotations

from flask import url_for

from blueprints.portal import services_join as sj
from core import cache
from core.figures import Figure, register_figure


def _join_figures(user):
    """One computation per request for the three figures below."""
    memo = cache.request_memo().setdefault("join_figures", {})
    if user.id not in memo:
        memo[user.id] = sj.figures(user)
    return memo[user.id]


@register_figure("portal.self_registered")
def self_registered(user) -> Figure:
    return Figure(_join_figures(user).self_registered, "自主注册的志愿者",
                  "您管辖范围内通过平台自主注册、经组织审核登记在册的志愿者（按人计）。", unit="人")


@register_figure("portal.join_pending")
def join_pending(user) -> Figure:
    return Figure(_join_figures(user).pending, "待审核的注册申请", "您管辖范围内的组织尚未审核的志愿者注册申请。",
                  unit="份", url=url_for("portal.applications", status="pending"))


@register_figure("portal.activated")
def activated(user) -> Figure:
    return Figure(_join_figures(user).activated, "凭激活码开通的账户",
                  "您管辖范围内的组织发出、已被使用的一次性激活码（每个开通一个志愿者账户）。", unit="个")
