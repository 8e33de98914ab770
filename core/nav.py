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


def register_nav(label: str, endpoint: str, roles, order: int = 100, group: str = "工作") -> None:
    item = NavItem(label, endpoint, frozenset(roles), order, group)
    if item not in _ITEMS:
        _ITEMS.append(item)


def nav_for(user) -> list[tuple[str, list[NavItem]]]:
    if not getattr(user, "is_authenticated", False) or getattr(user, "status", None) == "pending":
        return []  # a pending account (issue #4) only sees its application
    groups: dict[str, list[NavItem]] = {}
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if user.role in item.roles:
            groups.setdefault(item.group, []).append(item)
    return list(groups.items())
