"""Global search from the header (issue 15). GET shows the form; POST answers with the results (the
term stays out of URLs and history: it may be the last digits of an ID number or a phone)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.search import services
from core.auth import roles_required
from core.templating import render_htmx, vary_hx

bp = Blueprint("search", __name__, url_prefix="/search")
# Staff who read the registries; a reviewer only scores nominations and has no registry to search.
SEARCHERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)


@bp.app_context_processor
def _header_search() -> dict:
    # base.html shows the header's search box to these roles only (an active account: it has a menu).
    return {"can_search": getattr(current_user, "is_authenticated", False) and current_user.role in SEARCHERS}


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"  # results name people: not kept in caches or history
    return resp


@bp.get("/")
@roles_required(*SEARCHERS)
def index():
    return _no_store(vary_hx(render_template("search/index.html", results=None, term="")))


@bp.post("/")
@roles_required(*SEARCHERS)
def results():
    results = services.search(current_user, request.form.get("q"))
    return _no_store(render_htmx("search/index.html", "search/_results.html", results=results, term=results.term))
