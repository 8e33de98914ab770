"""Pagination of a select() with a count; page size fixed per list.

A busy list (the ledger, the volunteers, the activities) renders its rows with `cached_rows`: the
rows of one page, as HTML, are kept per data version and day in the shared cache (core/cache.py),
keyed by the page's own SQL and parameters (so by the user's scope and every filter) plus the
template and the flags the rows depend on. A page view then reads one value instead of loading and
rendering 30–50 rows (issue 16: rendering was half of a list request)."""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Callable

from flask import render_template
from markupsafe import Markup
from sqlalchemy import Select, func, literal_column, select

from core import cache
from core.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    stmt: Select | None = field(default=None, repr=False)  # the page's own statement (LIMIT/OFFSET)
    loader: Callable[[list], list] | None = field(default=None, repr=False)  # keys → items (paginate_capped)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        out: list[int | None] = []
        for n in range(1, self.pages + 1):
            if n in (1, self.pages) or abs(n - self.page) <= size:
                out.append(n)
            elif out and out[-1] is not None:
                out.append(None)
        return out


def paginate(stmt: Select, page, per_page: int = 30, scalars: bool = True, load: bool = True) -> Page:
    """`load=False`: the items are not read (the rows come from cached_rows)."""
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    total = cache.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    q = stmt.limit(per_page).offset((page - 1) * per_page)
    if not load:
        return Page([], page, per_page, total, q)
    items = list(db.session.scalars(q)) if scalars else list(db.session.execute(q))
    return Page(items, page, per_page, total, q)


def _read(stmt: Select, loader: Callable[[list], list] | None) -> list:
    items = list(db.session.scalars(stmt))
    return loader(items) if loader is not None else items


COUNT_CAP = 10_000  # beyond this a list says "10,000+": no exact count(*) over millions of rows


@dataclass
class CappedPage(Page):
    """A page whose total is exact up to COUNT_CAP and "more than that" beyond (`capped`)."""
    capped: bool = False

    @property
    def total_text(self) -> str:
        return f"{self.total:,}+" if self.capped else f"{self.total}"


def paginate_capped(stmt: Select, page, per_page: int = 30, cap: int | None = None, load: bool = True,
                    loader: Callable[[list], list] | None = None) -> Page:
    """Like paginate(), but counts at most `cap` + 1 rows (LIMIT inside the count), so the cost of the
    count stays flat however many rows match; pages beyond the cap are not offered.
    With `loader`, `stmt` selects only the rows' keys (in the list's order) and `loader(keys)` returns the
    page's items in that order: the filters, the sort and the offset then run on an index that holds
    them (no full row read for every row skipped or sorted), and only the page's rows are read.
    `load=False`: the items are not read here (cached_rows reads them, through the loader)."""
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    cap = COUNT_CAP if cap is None else cap
    limited = (stmt.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True)
               .limit(cap + 1).subquery())
    total = cache.scalar(select(func.count()).select_from(limited))
    capped = total > cap
    total = min(total, cap)
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    q = stmt.limit(per_page).offset((page - 1) * per_page)
    items = _read(q, loader) if load else []
    return CappedPage(items, page, per_page, total, stmt=q, loader=loader, capped=capped)


@dataclass
class Rows:
    """A page's rows as HTML, and what the page needs to know about them (`info`)."""
    html: Markup
    info: dict


def cached_rows(page: Page, template: str, prepare: Callable[[list], dict] | None = None, **flags) -> Rows:
    """The rows of `page` rendered by `template` (its items as `items`, plus `flags` and what
    `prepare(items)` adds; `prepare` may put an "info" dict in its answer for the page itself), kept per
    data version and day in the shared cache. `flags` are what the rows depend on besides the data
    (the user's rights, the year shown): plain values, part of the key. Nothing personal beyond what
    the page shows is kept, and the rows' namespace is swept a day after it was stored."""
    key = "|".join((template, repr(sorted(flags.items())), cache.statement_text(page.stmt)))

    def make() -> dict:
        items = _read(page.stmt, page.loader)
        extra = prepare(items) if prepare else {}
        info = extra.pop("info", {})
        html = render_template(template, items=items, **flags, **extra)
        return {"html": Markup(html), "info": {"count": len(items), **info}}

    value = cache.shared_for_day("rows", cache.digest(key), make)
    return Rows(value["html"], value["info"])


def paginate_list(items: list, page, per_page: int = 30) -> Page:
    """A page of a list already computed in full (e.g. the reports matrix: its filters and totals need
    every row, the page renders only its own)."""
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    pages = max(1, ceil(len(items) / per_page))
    page = min(page, pages)
    return Page(items[(page - 1) * per_page:page * per_page], page, per_page, len(items))
