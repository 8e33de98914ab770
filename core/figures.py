"""Headline figures: ONE definition per figure, used by every tile, page, PDF and export that shows it.

A feature registers each figure it owns once (in `blueprints/<feature>/figures.py`):

    @register_figure("volunteers.registered")
    def registered(user) -> Figure:
        return Figure(count, "在册志愿者（按组织）", "状态为在册……", unit="人", url=...)

and templates show it with `{{ fig(figure("volunteers.registered")) }}` (templates/_macros/figures.html),
which writes `data-figure="volunteers.registered"` and the definition as a tooltip. Where two figures
differ on purpose (by residence vs by organization; the year vs all time; verified only vs all) the
labels say so in words. tests/core/test_figures.py checks that every number on a home tile carries
such a key and equals the registered function's value, and that the page the figure links to shows
the same number.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from flask import g, has_app_context


@dataclass(frozen=True)
class Figure:
    value: int | Decimal
    label: str  # Chinese; names what sets it apart from a neighbour ("2026 年已审核服务时长（按记录单位）")
    definition: str  # the tooltip / footnote: what is counted, from which records
    unit: str = ""  # 人, 小时, 个, 份, 场 …; money carries its own ¥
    kind: str = "count"  # count | hours | money
    url: str | None = None  # a page showing the same figure: a list filtered to exactly these rows
    page_attr: str = "data-total"  # on that page: the attribute holding the figure (the list's total)
    key: str = ""  # filled in by figure()

    @property
    def text(self) -> str:
        from core.templating import fmt_money, fmt_number

        if self.kind == "money":
            return fmt_money(self.value)
        if self.kind == "hours":
            return fmt_number(self.value, 1)
        return fmt_number(self.value)


_REGISTRY: dict[str, Callable] = {}


def register_figure(key: str):
    def decorator(fn: Callable):
        if key in _REGISTRY and _REGISTRY[key] is not fn and _REGISTRY[key].__qualname__ != fn.__qualname__:
            raise LookupError(f"figure {key} is defined twice")
        _REGISTRY[key] = fn
        return fn

    return decorator


def registered_keys() -> list[str]:
    return sorted(_REGISTRY)


def figure(key: str, user) -> Figure:
    """The figure `key` for `user` (computed once per request and user)."""
    try:
        fn = _REGISTRY[key]
    except KeyError:  # a programming error: fail loudly in tests
        raise LookupError(f"no figure registered as {key}") from None
    cache = None
    if has_app_context():
        cache = g.setdefault("_figures", {})
        hit = cache.get((key, getattr(user, "id", None)))
        if hit is not None:
            return hit
    f = fn(user)
    f = Figure(**{**f.__dict__, "key": key})
    if cache is not None:
        cache[(key, getattr(user, "id", None))] = f
    return f
