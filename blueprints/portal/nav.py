"""The volunteers' navigation: each part of the portal registers its page (label, endpoint, order). A phone's
bottom bar holds a few (`in_bar`: 我的 and the daily ones); the others are listed on 我的 under their `title`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Tab:
    label: str
    endpoint: str
    order: int
    badge: Callable | None = None  # fn(user) -> int: a count shown on the tab (unread messages)
    in_bar: bool = True  # in the bottom bar (at most five fit a 360 px phone), else a link on 我的
    title: str = ""  # the longer name of a link on 我的


TABS: list[Tab] = []


def register_tab(label: str, endpoint: str, order: int = 100, badge: Callable | None = None, *,
                 in_bar: bool = True, title: str = "") -> None:
    if all(t.endpoint != endpoint for t in TABS):
        TABS.append(Tab(label, endpoint, order, badge, in_bar, title or label))
        TABS.sort(key=lambda t: t.order)


def portal_context() -> dict:
    return {"portal_tabs": [t for t in TABS if t.in_bar], "portal_more": [t for t in TABS if not t.in_bar]}
