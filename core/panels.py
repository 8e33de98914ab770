"""Detail-page panels contributed by other features.

A feature that adds something to another feature's detail page (insurance coverage on an activity,
its theme on an activity, awards on a volunteer or an organization) registers a panel provider here
instead of editing that page's view:

    @register_panel("activity", order=50)
    def insurance_panel(activity, user) -> Panel | None: ...

and the page's template calls `{{ render_panels("activity", activity) }}` once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from markupsafe import Markup

_PROVIDERS: dict[str, list[tuple[int, Callable]]] = {}


@dataclass
class Panel:
    title: str
    template: str  # partial rendered with ctx=context
    context: dict = field(default_factory=dict)


def register_panel(kind: str, order: int = 100):
    def decorator(fn: Callable):
        entries = _PROVIDERS.setdefault(kind, [])
        if all(f is not fn for _, f in entries):
            entries.append((order, fn))
        return fn

    return decorator


def panels_for(kind: str, obj, user) -> list[Panel]:
    out = []
    for _, fn in sorted(_PROVIDERS.get(kind, []), key=lambda p: p[0]):
        panel = fn(obj, user)
        if panel is not None:
            out.append(panel)
    return out


def render_panels(kind: str, obj) -> Markup:
    from flask import render_template
    from flask_login import current_user

    html = [
        render_template("_macros/panel.html", panel=p, ctx=p.context)
        for p in panels_for(kind, obj, current_user)
    ]
    return Markup("".join(html))
