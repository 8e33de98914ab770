"""The volunteers' pages (issue 17). A volunteer's account reaches only the endpoints registered here
with `auth.allow_volunteer` (core/auth.py refuses every other page with 403)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from blueprints.portal import services, services_me
from blueprints.portal.nav import portal_context, register_tab
from core import auth
from core.auth import roles_required
from core.roles import Role

bp = Blueprint("portal", __name__)
bp.app_context_processor(portal_context)


@bp.get("/my/")
@roles_required(Role.VOLUNTEER)
def home():
    v = services.own_volunteer(current_user)
    return render_template("portal/home.html", v=v, s=services.summary(current_user, v),
                       memberships=services.memberships(current_user, v),
                       records=services.recent_records(current_user, v),
                       insurance=services_me.insurance_today(v))


auth.allow_volunteer("portal.home", home="portal.home")
register_tab("我的", "portal.home", order=10)


# The other pages of the portal register on this blueprint (imported last: they import `bp`).
from blueprints.portal import routes_join, routes_me  # noqa: E402,F401
from blueprints.portal import routes_activities  # noqa: E402,F401  (issue 17: recruitment, check-in, messages)
