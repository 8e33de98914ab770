"""Funding's headline figures (core/figures.py). Two money figures must never share a name:
the year's income − expense is 本年收支差额; what is left over all years is 当前余额 (DOMAIN.md, 经费保障)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from blueprints.funding import services
from blueprints.funding.models import LedgerEntry
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure
from core.timeutil import local_today

NET_LABEL = "收支差额"  # income − expense of a period (a year, a month): never "结余"
BALANCE_LABEL = "当前余额"  # every entry to date, all years


def _year_totals(user) -> services.Totals:
    return services.scope_year_totals(user, local_today().year)


def _url() -> str:
    return url_for("funding.balances", year=local_today().year)


@register_figure("funding.year_income")
def year_income(user) -> Figure:
    year = local_today().year
    return Figure(_year_totals(user).income, f"{year} 年收入", f"您管辖范围内各记账单位 {year} 年 1 月 1 日至今的收入合计。",
                  kind="money", url=_url(), page_attr="data-figure")


@register_figure("funding.year_expense")
def year_expense(user) -> Figure:
    year = local_today().year
    return Figure(_year_totals(user).expense, f"{year} 年支出", f"您管辖范围内各记账单位 {year} 年 1 月 1 日至今的支出合计。",
                  kind="money", url=_url(), page_attr="data-figure")


@register_figure("funding.year_net")
def year_net(user) -> Figure:
    year = local_today().year
    return Figure(_year_totals(user).balance, f"{year} 年{NET_LABEL}",
                  f"{year} 年收入 − {year} 年支出；不含往年结转，所以不是余额（可为负：花的是往年的钱）。",
                  kind="money", url=_url(), page_attr="data-figure")


@register_figure("funding.balance")
def balance(user) -> Figure:
    total = services.from_fen(db.session.scalar(
        scope.scoped(select(services.fen_sum(services.signed())), LedgerEntry, user)
        .where(LedgerEntry.entry_date <= local_today())))
    return Figure(total, BALANCE_LABEL, "您管辖范围内各记账单位自开始记账至今的全部收入 − 全部支出（含往年结转）。",
                  kind="money", url=_url(), page_attr="data-figure")
