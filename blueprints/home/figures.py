"""The home page's own figures (core/figures.py): regions by level and accounts by role in scope."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from blueprints.accounts.models import Role, User
from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure


def _region_count(level: RegionLevel):
    def fn(user) -> Figure:
        n = db.session.scalar(scope.scoped(select(func.count()).select_from(Region), Region, user)
                              .where(Region.active, Region.level == level)) or 0
        return Figure(n, level.label, f"您管辖范围内启用的{level.label}数（停用的不计）。", unit="个")

    fn.__qualname__ = f"regions_{level.value}"
    return fn


def _user_count(role: Role):
    def fn(user) -> Figure:
        n = db.session.scalar(scope.scoped(select(func.count()).select_from(User), User, user)
                              .where(User.role == role)) or 0
        return Figure(n, role.label, f"您可管理的{role.label}账户数（含停用、待激活）。", unit="个",
                      url=url_for("accounts.index", role=role.value))

    fn.__qualname__ = f"accounts_{role.value}"
    return fn


for _level in RegionLevel:
    if _level != RegionLevel.CITY:
        register_figure(f"regions.{_level.value}")(_region_count(_level))
for _role in Role:
    register_figure(f"accounts.{_role.value}")(_user_count(_role))
