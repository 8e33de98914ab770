"""Navigation by role: each blueprint registers its entries; base.html renders them."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int = 100
    group: str = "工作"


_ITEMS: list[NavItem] = []

# A role whose work is narrow gets only that work in its menu, whatever features register for "every
# role" (issue 15): a reviewer (award panel member) scores nominations — the campaigns and the inbox.
ROLE_MENUS: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"awards.index", "reports.notifications"}),
}


def register_nav(label: str, endpoint: str, roles, order: int = 100, group: str = "工作") -> None:
    item = NavItem(label, endpoint, frozenset(roles), order, group)
    if item not in _ITEMS:
        _ITEMS.append(item)


def nav_for(user) -> list[tuple[str, list[NavItem]]]:
    if not getattr(user, "is_authenticated", False) or getattr(user, "status", None) == "pending":
        return []  # a pending account (issue #4) only sees its application
    key = (str(user.role), len(_ITEMS))
    if key not in _MENUS:  # the same for every user of a role: built once per process
        groups: dict[str, list[NavItem]] = {}
        only = ROLE_MENUS.get(str(user.role))
        for item in sorted(_ITEMS, key=lambda i: i.order):
            if user.role in item.roles and (only is None or item.endpoint in only):
                groups.setdefault(item.group, []).append(item)
        _MENUS[key] = list(groups.items())
    return _MENUS[key]


_MENUS: dict[tuple, list] = {}
_SIDENAV: dict[tuple, Markup] = {}


def sidenav(user) -> Markup:
    """base.html's side menu as HTML, built once per process for each (role, current page): every page
    shows it, and its ~40 url_for() calls and loops were a good part of a page's rendering (issue 16).
    One active item: the page's own entry, else the first entry of the page's feature."""
    from flask import request, url_for

    groups = nav_for(user)
    endpoint = request.endpoint or ""
    key = (str(getattr(user, "role", "")), getattr(user, "status", None) == "pending", endpoint,
           request.script_root, len(_ITEMS))
    html = _SIDENAV.get(key)
    if html is None:
        items = [item for _, its in groups for item in its]
        active = next((i.endpoint for i in items if i.endpoint == endpoint), None)
        if active is None and endpoint:
            active = next((i.endpoint for i in items if i.endpoint.split(".")[0] == endpoint.split(".")[0]), None)
        out = [f'<nav class="sidenav" aria-label="主导航">\n    <a href="{escape(url_for("home.index"))}" '
               f'class="{"active" if endpoint == "home.index" else ""}">首页</a>\n']
        for group, its in groups:
            out.append(f'      <div class="navgroup">{escape(group)}</div>\n')
            for item in its:
                out.append(f'        <a href="{escape(url_for(item.endpoint))}" '
                           f'class="{"active" if item.endpoint == active else ""}">{escape(item.label)}</a>\n')
        out.append("  </nav>\n")
        html = _SIDENAV[key] = Markup("".join(out))
    return html
