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


def scope_key(user) -> str:
    """What a figure's value depends on besides the data: the role and the scope (region, organizations).
    Users with the same scope share one cached value; a reviewer's figures are personal."""
    role = getattr(getattr(user, "role", None), "value", "")
    orgs = ",".join(str(i) for i in sorted(o.id for o in getattr(user, "organizations", None) or []))
    personal = f"u{user.id}" if role == "reviewer" else ""
    return f"{role}|{getattr(user, 'region_id', None)}|{orgs}|{personal}"


def shared_for_scope(user, namespace: str, name: str, part: str, make):
    """`make()` kept per data version, day and the user's scope (scope_key) in the shared cache, under
    `namespace:name:<scope>:part`: a page's table that counts every row of the scope (core/cache.py)."""
    from core import cache

    return cache.shared_for_day(namespace, f"{name}:{scope_key(user)}:{part}", make)


def figure(key: str, user) -> Figure:
    """The figure `key` for `user`: computed once per data version and scope, in the cache all workers
    share (core/cache.py), and once per request."""
    from core import cache
    from core.timeutil import local_today

    try:
        fn = _REGISTRY[key]
    except KeyError:  # a programming error: fail loudly in tests
        raise LookupError(f"no figure registered as {key}") from None
    memo = cache.request_memo().setdefault("figures", {})
    hit = memo.get((key, getattr(user, "id", None)))
    if hit is not None:
        return hit
    if getattr(user, "is_authenticated", False):
        version = cache.data_version()
        make = lambda: Figure(**{**fn(user).__dict__, "key": key})  # noqa: E731
        if version < 0:
            f = make()
        else:
            scope, stamp = scope_key(user), f"{version}-{local_today().isoformat()}"
            cache.prefetch("figure", f"{scope}#", stamp)  # all of this scope's figures in one query
            # After a change: the last value at once, and the worker renders this user's home page
            # again (blueprints/home: the "home.render" refresher), which computes the new ones.
            f = cache.shared("figure", f"{scope}#{key}", make, version=stamp,
                             stale=("home.render", user.id), stale_group=f"figure:{scope}")
    else:
        f = Figure(**{**fn(user).__dict__, "key": key})
    memo[(key, getattr(user, "id", None))] = f
    return f
