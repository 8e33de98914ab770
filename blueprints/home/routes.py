from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from blueprints.accounts.models import Role, User
from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.dashboard import Tile, register_tile, tiles_for
from core.extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("home/index.html", tiles=tiles_for(current_user))


@register_tile(order=900)
def regions_tile(user):
    if user.role == Role.REVIEWER:
        return None
    rows = db.session.execute(
        scope.scoped(select(Region.level, func.count()).where(Region.active), Region, user).group_by(Region.level)
    ).all()
    counts = {level: n for level, n in rows}
    return Tile("区域", "home/_tile_regions.html",
                {"counts": [(lvl.label, counts.get(lvl, 0)) for lvl in RegionLevel if lvl != RegionLevel.CITY]},
                url="/regions/" if user.role != Role.ORG_LEADER else None)


@register_tile(order=910)
def users_tile(user):
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF):
        return None
    rows = db.session.execute(
        scope.scoped(select(User.role, func.count()), User, user).group_by(User.role)
    ).all()
    return Tile("账户", "home/_tile_users.html", {"rows": [(Role(r).label, n) for r, n in rows]}, url="/accounts")


@register_tile(order=990)
def audit_tile(user):
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER):
        return None
    from blueprints.audit.routes import actor_names, recent_entries

    entries = recent_entries(user)
    return Tile("最近操作", "home/_tile_audit.html", {"entries": entries, "names": actor_names(entries)},
                wide=True, url="/audit/")
