from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.accounts.models import Role, User
from blueprints.regions.models import RegionLevel
from core import cache, scope
from core.dashboard import Tile, home_tiles, register_tile
from core.extensions import db
from core.validators import parse_int

bp = Blueprint("home", __name__)


# A page whose tiles were never rendered for its scope asks again every 2 s (templates/home/index.html);
# after this many polls (~30 s: no worker running, or busy with long exports) it renders them itself.
HOME_POLLS = 15


@bp.get("/")
@login_required
def index():
    polls = parse_int(request.args.get("waited"), 0, HOME_POLLS) or 0
    return render_template("home/index.html", home=home_tiles(current_user, wait=polls < HOME_POLLS), polls=polls)


@cache.refresher("home.render")
def render_for(user_id: int) -> None:
    """In the job worker, after a change: the home page of this user, rendered and thrown away, so that its
    tiles (core/dashboard.py), figures (core/figures.py) and the assessment are computed and stored for
    every user of the scope."""
    from flask import g

    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    g._login_user = user  # flask_login's current_user for the templates' figure() calls
    render_template("home/index.html", home=home_tiles(user))
    cache.warm()  # what pages keep fresh on purpose (the insured today), ready before a page asks


@register_tile(order=900)
def regions_tile(user):
    """Its figures come from blueprints/home/figures.py (one definition each)."""
    if user.role == Role.REVIEWER:
        return None
    keys = [f"regions.{lvl.value}" for lvl in RegionLevel if lvl != RegionLevel.CITY]
    return Tile("区域", "home/_tile_regions.html", {"keys": keys},
                url="/regions/" if user.role != Role.ORG_LEADER else None)


@register_tile(order=910)
def users_tile(user):
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF):
        return None
    roles = db.session.scalars(scope.scoped(select(User.role).distinct(), User, user)).all()
    keys = [f"accounts.{r.value}" for r in Role if r in set(map(Role, roles))]
    return Tile("账户", "home/_tile_users.html", {"keys": keys}, url="/accounts")


@register_tile(order=990, live=True)  # the audit log does not move the data version
def audit_tile(user):
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER):
        return None
    from blueprints.audit.routes import actor_names, recent_entries

    entries = recent_entries(user)
    return Tile("最近操作", "home/_tile_audit.html", {"entries": entries, "names": actor_names(entries)},
                wide=True, url="/audit/")
