"""Navigation by role: each blueprint registers its entries; base.html renders them."""
from __future__ import annotations

from dataclasses import dataclass, field


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
    groups: dict[str, list[NavItem]] = {}
    only = ROLE_MENUS.get(str(user.role))
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if user.role in item.roles and (only is None or item.endpoint in only):
            groups.setdefault(item.group, []).append(item)
    return list(groups.items())
