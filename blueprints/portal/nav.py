"""The volunteers' bottom tab bar: each part of the portal registers its tab (label, endpoint, order)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    label: str
    endpoint: str
    order: int


TABS: list[Tab] = []


def register_tab(label: str, endpoint: str, order: int = 100) -> None:
    if all(t.endpoint != endpoint for t in TABS):
        TABS.append(Tab(label, endpoint, order))
        TABS.sort(key=lambda t: t.order)


def portal_context() -> dict:
    return {"portal_tabs": TABS}
