"""Home-page tiles: each feature registers a function that returns a tile for a user (or None).

A home page is the most expensive page of the site (some 15 tiles, each with its own queries). Tiles
are therefore rendered once per data version, day and scope (core/figures.scope_key: users who see
the same data share them) and kept in the shared cache (core/cache.py), as HTML: a home page then
reads them in one query (issue 16). After a change the last rendered tiles answer at once and the job
worker renders the new ones (stale-while-revalidate, the `home.render` refresher), as for the figures.

A tile whose content belongs to the person rather than to the scope, or comes from bookkeeping rows
that do not move the data version (their unread notifications, the audit log), is registered with
`live=True` and rendered on every page view.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from markupsafe import Markup


@dataclass
class Tile:
    title: str
    template: str  # a partial under templates/, rendered with **context
    context: dict
    wide: bool = False
    url: str | None = None


@dataclass
class RenderedTile:
    title: str
    html: Markup
    wide: bool = False
    url: str | None = None


@dataclass
class Tiles:
    """What the home page shows: the tiles in order, and when the cached ones were rendered if they
    are an earlier data version's (`stale`: the worker is rendering the current ones); `pending`: none were
    ever rendered for this scope, the worker is rendering them (the page shows the live tiles and waits)."""
    tiles: list[RenderedTile]
    stale: bool = False
    rendered_at: datetime | None = None
    pending: bool = False


_PROVIDERS: list[tuple[int, Callable, bool]] = []


def register_tile(order: int = 100, live: bool = False):
    def decorator(fn: Callable):
        if all(f is not fn for _, f, _ in _PROVIDERS):
            _PROVIDERS.append((order, fn, live))
        return fn

    return decorator


def _providers(live: bool | None = None) -> list[tuple[int, Callable, bool]]:
    return [p for p in sorted(_PROVIDERS, key=lambda p: p[0]) if live is None or p[2] == live]


def tiles_for(user) -> list[Tile]:
    """Every tile of `user`, unrendered (tests look at their context)."""
    return [t for _, fn, _ in _providers() if (t := fn(user)) is not None]


def render_tile(tile: Tile) -> RenderedTile:
    from flask import render_template

    html = render_template("home/_tile_body.html", tile=tile)
    return RenderedTile(tile.title, Markup(html), tile.wide, tile.url)


def _render(providers, user) -> list[tuple[int, RenderedTile]]:
    return [(order, render_tile(t)) for order, fn, _ in providers if (t := fn(user)) is not None]


def home_tiles(user, wait: bool = True) -> Tiles:
    """The home page's tiles for `user`: the scope's cached ones (one shared value) and the live ones.
    `wait=False`: if none were ever rendered for the scope, render them in this request (the page has
    waited long enough for the worker: it is not running, or busy with long jobs)."""
    from core import cache, figures
    from core.timeutil import local_today, utcnow

    version = cache.data_version()
    cached: list[tuple[int, RenderedTile]]
    stale, rendered_at, pending = False, None, False
    if version < 0 or not getattr(user, "is_authenticated", False):
        cached = _render(_providers(live=False), user)
    else:
        scope = figures.scope_key(user)
        key = f"{scope}#tiles"
        # Never rendered for this scope (a new database, an emptied Redis): the worker renders them; at
        # 10× on SQLite that is 4–5 s of work that no page view should do (issue 16).
        value = cache.shared("tiles", key, lambda: {"at": utcnow(), "tiles": _render(_providers(live=False), user)},
                             version=f"{version}-{local_today().isoformat()}",
                             stale=("home.render", user.id), stale_group=f"figure:{scope}",
                             pending=(lambda: {"at": None, "tiles": []}) if wait else None)
        cached, rendered_at = value["tiles"], value["at"]
        stale, pending = cache.is_stale("tiles", key), cache.is_pending("tiles", key)
    live = _render(_providers(live=True), user)
    ordered = sorted(cached + live, key=lambda p: p[0])
    return Tiles([t for _, t in ordered], stale=stale, rendered_at=rendered_at, pending=pending)
