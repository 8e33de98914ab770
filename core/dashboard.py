"""Home-page tiles: each feature registers a function that returns a tile for a user (or None)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class Tile:
    title: str
    template: str  # a partial under templates/, rendered with **context
    context: dict
    wide: bool = False
    url: str | None = None


_PROVIDERS: list[tuple[int, Callable]] = []


def register_tile(order: int = 100):
    def decorator(fn: Callable):
        if all(f is not fn for _, f in _PROVIDERS):
            _PROVIDERS.append((order, fn))
        return fn

    return decorator


def tiles_for(user) -> list[Tile]:
    out = []
    for _, fn in sorted(_PROVIDERS, key=lambda p: p[0]):
        tile = fn(user)
        if tile is not None:
            out.append(tile)
    return out
