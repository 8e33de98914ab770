"""Shared pieces of the features' workflow timelines (organizations, projects, reports, nominations).

Each feature keeps its own step table (its owner column, whether `from_status` may be empty, the comment's
length); the columns and behaviour they share are here, so a timeline reads the same everywhere.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.timeutil import utcnow


class StepMixin:
    """One transition: what was done, to which status, by whom and when (`actor_name` is kept, so the
    timeline survives the account's deletion)."""

    action: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def actor(self) -> str:
        return self.actor_name or "系统"


def actor_fields(user) -> dict:
    """actor_id / actor_name of a step recorded by `user` (None: the system)."""
    if user is None:
        return {"actor_id": None, "actor_name": "系统"}
    return {"actor_id": user.id, "actor_name": user.display_name or user.username}
