"""The volunteers' bottom tab bar: each part of the portal registers its tab (label, endpoint, order)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Tab:
    label: str
    endpoint: str
    order: int
    badge: Callable | None = None  # fn(user) -> int: a count shown on the tab (unread messages)


TABS: list[Tab] = []


def register_tab(label: str, endpoint: str, order: int = 100, badge: Callable | None = None) -> None:
    if all(t.endpoint != endpoint for t in TABS):
        TABS.append(Tab(label, endpoint, order, badge))
        TABS.sort(key=lambda t: t.order)


def portal_context() -> dict:
    return {"portal_tabs": TABS}
