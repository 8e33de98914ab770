"""Pagination of a select() with a count; page size fixed per list."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select, func, literal_column, select

from core.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

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


def paginate(stmt: Select, page, per_page: int = 30, scalars: bool = True) -> Page:
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    q = stmt.limit(per_page).offset((page - 1) * per_page)
    items = list(db.session.scalars(q)) if scalars else list(db.session.execute(q))
    return Page(items, page, per_page, total)


COUNT_CAP = 10_000  # beyond this a list says "10,000+": no exact count(*) over millions of rows


@dataclass
class CappedPage(Page):
    """A page whose total is exact up to COUNT_CAP and "more than that" beyond (`capped`)."""
    capped: bool = False

    @property
    def total_text(self) -> str:
        return f"{self.total:,}+" if self.capped else f"{self.total}"


def paginate_capped(stmt: Select, page, per_page: int = 30, cap: int | None = None, load=None) -> Page:
    """Like paginate(), but counts at most `cap` + 1 rows (LIMIT inside the count), so the cost of the
    count stays flat however many rows match; pages beyond the cap are not offered.
    With `load`, `stmt` selects only the rows' keys (in the list's order) and `load(keys)` returns the
    page's items in that order: the filters, the sort and the offset then run on an index that holds
    them (no full row read for every row skipped or sorted), and only the page's rows are read."""
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    cap = COUNT_CAP if cap is None else cap
    limited = (stmt.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True)
               .limit(cap + 1).subquery())
    total = db.session.scalar(select(func.count()).select_from(limited))
    capped = total > cap
    total = min(total, cap)
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    if load is not None:
        items = load(items)
    return CappedPage(items, page, per_page, total, capped)


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
