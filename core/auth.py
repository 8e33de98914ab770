"""Login session handling and role checks shared by every blueprint."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from core.extensions import db, login_manager
from core.timeutil import utcnow

login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = None  # our own idle/absolute limits below replace it


def _to_login(next_url: str | None = None):
    """Redirect to the login page; an HTMX request is told to navigate (not to swap the login page
    into a table cell)."""
    from flask import Response

    target = url_for("accounts.login", next=next_url)
    if request.headers.get("HX-Request") == "true":
        resp = Response(status=401)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


@login_manager.unauthorized_handler
def _unauthorized():
    flash("请先登录。", "warning")
    return _to_login(request.full_path if request.method == "GET" else None)


@login_manager.user_loader
def _load_user(user_id: str):
    from blueprints.accounts.models import User

    uid, _, token = user_id.partition(":")
    try:
        user = db.session.get(User, int(uid))
    except ValueError:
        return None
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user


def start_session(user) -> None:
    """A fresh session at login: nothing from before survives (no fixation), no personal data."""
    session.clear()
    login_user(user, remember=False, fresh=True)
    now = utcnow().timestamp()
    session["started"] = now
    session["seen"] = now
    session.permanent = False


def end_session() -> None:
    logout_user()
    session.clear()


def enforce_session_limits():
    """before_request: idle timeout and absolute lifetime, forced password change."""
    if request.endpoint in (None, "static"):
        return None
    if not current_user.is_authenticated:
        return None
    now = utcnow().timestamp()
    idle = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    lifetime = current_app.config["SESSION_LIFETIME_MINUTES"] * 60
    started, seen = session.get("started", 0), session.get("seen", 0)
    if now - seen > idle or now - started > lifetime:
        end_session()
        flash("登录已超时，请重新登录。", "warning")
        return _to_login(request.full_path if request.method == "GET" else None)
    # Writing the cookie on every request is wasteful; a minute's resolution is plenty.
    if now - seen > 60:
        session["seen"] = now
    if current_user.must_change_password and request.endpoint not in (
        "accounts.change_password", "accounts.logout"
    ):
        flash("请先修改初始密码。", "warning")
        return redirect(url_for("accounts.change_password"))
    if current_user.status == "pending" and request.endpoint not in PENDING_ENDPOINTS:
        # An account waiting for approval (an organization's applicant, issue #4) reaches only the
        # pages a feature opened to it; everything else leads to its status page.
        if PENDING_HOME:
            return redirect(url_for(PENDING_HOME[0]), 303 if request.method != "GET" else 302)
        abort(403)
    return None


# Endpoints a pending account may use, and where it is sent otherwise (registered by the feature
# that creates pending accounts: blueprints/orgs).
PENDING_ENDPOINTS: set[str] = {"accounts.logout", "accounts.change_password"}
PENDING_HOME: list[str] = []


def allow_pending(*endpoints: str, home: str | None = None) -> None:
    PENDING_ENDPOINTS.update(endpoints)
    if home and home not in PENDING_HOME:
        PENDING_HOME.insert(0, home)
        PENDING_ENDPOINTS.add(home)


def roles_required(*roles: str):
    """Refuse (403) a logged-in user whose role is not listed; anonymous users go to /login."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None, default_endpoint: str = "home.index") -> str:
    """Only a local path may be a redirect target."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for(default_endpoint)


def lock_period() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def find_user(username: str):
    from blueprints.accounts.models import User

    return db.session.scalar(select(User).where(User.username == username))
