from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role
from core import scope
from core.audit import FILTER_ACTIONS, AuditEntry, actions_like
from core.auth import roles_required
from core.nav import register_nav
from core.pagination import paginate
from core.timeutil import LOCAL_TZ
from core.validators import parse_date
from core.templating import is_htmx

bp = Blueprint("audit", __name__, url_prefix="/audit")
AUDITORS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
register_nav("操作日志", "audit.index", AUDITORS, order=950, group="系统")


def _day(value: str, end: bool = False):
    day = parse_date(value)  # the log starts with the platform: 2000 … today + 5 years, else no filter
    if day is None:
        return None
    d = datetime(day.year, day.month, day.day)
    if end:
        d += timedelta(days=1)
    # Local midnight → naive UTC, as stored.
    return d.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def recent_entries(user, limit: int = 8) -> list[AuditEntry]:
    from core.extensions import db

    stmt = scope.scoped(select(AuditEntry), AuditEntry, user).order_by(AuditEntry.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def actor_names(entries) -> dict[int, str]:
    """{user_id: display name} for the entries' actors, in one query (the log keeps the username)."""
    from blueprints.accounts.models import User
    from core.extensions import db

    ids = {e.user_id for e in entries if e.user_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


@bp.get("/")
@roles_required(*AUDITORS)
def index():
    args = request.args
    stmt = scope.scoped(select(AuditEntry), AuditEntry, current_user).order_by(AuditEntry.id.desc())
    action = args.get("action", "")
    if actions_like(action):
        stmt = stmt.where(AuditEntry.action.in_(actions_like(action)))
    entity = args.get("entity", "").strip()[:64]
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    who = args.get("user", "").strip()[:64]
    if who:
        stmt = stmt.where(AuditEntry.username.contains(who, autoescape=True))
    q = args.get("q", "").strip()[:64]
    if q:
        stmt = stmt.where(AuditEntry.entity_label.contains(q, autoescape=True) | AuditEntry.summary.contains(q, autoescape=True))
    start, end = _day(args.get("from", "")), _day(args.get("to", ""), end=True)
    if start:
        stmt = stmt.where(AuditEntry.at >= start)
    if end:
        stmt = stmt.where(AuditEntry.at < end)
    page = paginate(stmt, args.get("page"), per_page=50)
    ctx = dict(page=page, actions=FILTER_ACTIONS, args=args, names=actor_names(page.items))
    if is_htmx():
        return render_template("audit/_rows.html", **ctx)
    return render_template("audit/index.html", **ctx)
