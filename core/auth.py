"""Login session handling and role checks shared by every blueprint."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from core.extensions import db, login_manager
from core.timeutil import utcnow

login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = None  # our own idle/absolute limits below replace it
log = logging.getLogger("zhiyuan")


class _Accounts:
    """The account and login-session models, registered by the accounts feature (its models.py)."""
    user: type | None = None
    session: type | None = None


ACCOUNTS = _Accounts()


def register_account_models(user: type, user_session: type) -> None:
    ACCOUNTS.user, ACCOUNTS.session = user, user_session


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
    """A cookie is good only while its UserSession row is: not ended, within the idle timeout and
    the absolute lifetime, of an active account. The row and its user are read in one query of the
    request's own session (one round trip per request, issue 16); the row is touched at most once a
    minute beside the request's work (core.extensions.side_writes: a GET's reader stays a reader)."""
    User, UserSession = ACCOUNTS.user, ACCOUNTS.session
    row_id, _, secret = str(session.get("sid", "")).partition(".")
    if not row_id.isdigit() or not secret or len(row_id) > 9:
        return None
    t = UserSession.__table__
    now = utcnow()
    ended_reason = None
    found = db.session.execute(
        select(t.c.user_id, t.c.secret_hash, t.c.created_at, t.c.last_seen_at, t.c.ended_at, User)
        .join(User, User.id == t.c.user_id).where(t.c.id == int(row_id))).first()
    if (found is None or found.ended_at is not None or str(found.user_id) != user_id
            or not hmac.compare_digest(found.secret_hash, _hash_secret(secret))):
        return None
    if now - found.last_seen_at > timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"]):
        ended_reason = "idle"
    elif now - found.created_at > timedelta(minutes=current_app.config["SESSION_LIFETIME_MINUTES"]):
        ended_reason = "expired"
    if ended_reason or now - found.last_seen_at > SEEN_RESOLUTION:
        values = {"ended_at": now, "end_reason": ended_reason} if ended_reason else {"last_seen_at": now}
        from core.extensions import side_writes

        try:  # bookkeeping only: a busy database must not turn a page into an error
            with side_writes() as writes:
                writes.execute(update(t).where(t.c.id == int(row_id), t.c.ended_at.is_(None)).values(**values))
        except OperationalError:
            log.warning("could not update session %s", row_id)
    if ended_reason:
        g.session_timed_out = True
        return None
    user = found[-1]
    if user is None or not user.is_active:
        return None
    g.user_session_id = int(row_id)
    return user


# A request updates its session's last_seen_at only when the stored value is older than this:
# one write a minute at most, not one per request.
SEEN_RESOLUTION = timedelta(seconds=60)
SESSION_KEYS = ("sid", "_user_id", "_fresh", "_id")


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_ip() -> str:
    """The client's address (behind TRUSTED_PROXIES, ProxyFix has already put the real one here)."""
    return (request.remote_addr or "unknown")[:64]


def short_user_agent(ua: str) -> str:
    """"Chrome · Windows" rather than a 150-character header."""
    ua = ua or ""
    browser = next((name for key, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("MicroMessenger", "微信"), ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"),
    ) if key in ua), "")
    system = next((name for key, name in (
        ("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
        ("Mac OS X", "macOS"), ("Linux", "Linux"),
    ) if key in ua), "")
    return " · ".join(p for p in (browser, system) if p) or (ua[:40] or "未知")


def current_session_id() -> int | None:
    """Id of the UserSession row of this request's login, if any."""
    if not current_user.is_authenticated:
        return None
    return g.get("user_session_id")


def start_session(user) -> None:
    """A fresh session at login: nothing from before survives (no fixation), no personal data;
    a new UserSession row whose id and secret the signed cookie carries."""
    UserSession = ACCOUNTS.session
    session.clear()
    secret = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, secret_hash=_hash_secret(secret), ip=client_ip(),
                      user_agent=(request.user_agent.string or "")[:255])
    db.session.add(row)
    db.session.flush()
    session["sid"] = f"{row.id}.{secret}"
    session.permanent = False
    login_user(user, remember=False, fresh=True)
    g.user_session_id = row.id


def end_session() -> None:
    """Logout: the row ends (the caller commits), so a copy of the cookie is worthless too."""
    UserSession = ACCOUNTS.session
    sid = current_session_id()
    if sid is not None:
        db.session.execute(update(UserSession).where(UserSession.id == sid, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason="logout"))
    logout_user()
    session.clear()


def enforce_session_limits():
    """before_request: a dead or timed-out session cookie is dropped; forced password change."""
    if request.endpoint in (None, "static"):
        return None
    if not current_user.is_authenticated:
        if g.pop("session_timed_out", False):
            session.clear()
            flash("登录已超时，请重新登录。", "warning")
            return _to_login(request.full_path if request.method == "GET" else None)
        if "sid" in session:  # ended elsewhere (logout, another device, an admin): forget it
            for key in SESSION_KEYS:
                session.pop(key, None)
        return None
    if current_user.must_change_password and request.endpoint not in SESSION_ENDPOINTS:
        flash("请先修改初始密码。", "warning")
        return redirect(url_for("accounts.change_password"))
    if current_user.role == "volunteer" and request.endpoint not in VOLUNTEER_ENDPOINTS:
        # A volunteer's account reaches only the pages opened to volunteers (their own record, the
        # public pages); the staff pages refuse it whatever their own checks would say (issue 17).
        if request.endpoint == "home.index" and VOLUNTEER_HOME:
            return redirect(url_for(VOLUNTEER_HOME[0]))
        abort(403)
    if current_user.status == "pending" and request.endpoint not in PENDING_ENDPOINTS:
        # An account waiting for approval (an organization's applicant, issue #4) reaches only the
        # pages a feature opened to it; everything else leads to its status page.
        if PENDING_HOME:
            return redirect(url_for(PENDING_HOME[0]), 303 if request.method != "GET" else 302)
        abort(403)
    return None


# Endpoints a pending account may use, and where it is sent otherwise (registered by the feature
# that creates pending accounts: blueprints/orgs).
SESSION_ENDPOINTS = ("accounts.change_password", "accounts.logout", "accounts.end_other_sessions",
                     "accounts.end_own_session")
PENDING_ENDPOINTS: set[str] = set(SESSION_ENDPOINTS)
PENDING_HOME: list[str] = []


# Endpoints a volunteer's account may use (registered by the features that serve volunteers: the
# volunteers' portal, public pages), and the page "/" sends it to.
VOLUNTEER_ENDPOINTS: set[str] = set(SESSION_ENDPOINTS)
VOLUNTEER_HOME: list[str] = []


def allow_volunteer(*endpoints: str, home: str | None = None) -> None:
    VOLUNTEER_ENDPOINTS.update(endpoints)
    if home:
        if home not in VOLUNTEER_HOME:
            VOLUNTEER_HOME.insert(0, home)
        VOLUNTEER_ENDPOINTS.add(home)


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
    User = ACCOUNTS.user
    return db.session.scalar(select(User).where(User.username == username))
