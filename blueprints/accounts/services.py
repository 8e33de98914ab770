"""Account rules: authentication with throttles and lock-out, server-side sessions, user management
within scope."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.accounts.models import LoginAttempt, LoginLock, Role, User, UserSession, UserStatus
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.audit import record_event
from core.auth import lock_period
from core.extensions import db
from core.timeutil import utcnow


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    status: int = 200


# One answer for every refused login, whoever the name belongs to (or nobody): unknown name, wrong
# password, disabled account, locked address. The details go to the audit log, never to the page.
LOGIN_REFUSED = "用户名或密码不正确"
LOGIN_THROTTLED = "尝试过于频繁，请稍后再试"
PRUNE_AFTER = timedelta(days=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked for unknown names, so that they cost the same hash as a known one."""
    return generate_password_hash(secrets.token_hex(16))


def login_throttled(ip: str, now: datetime) -> bool:
    """The per-address and the global limit, counted from LoginAttempt rows (shared by every worker
    and app server). Over the global limit (a spraying attack from many addresses), an address
    that failed within the last minute waits a minute before its next try."""
    cfg = current_app.config
    failed = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))
    window = now - timedelta(minutes=cfg["LOGIN_IP_WINDOW_MINUTES"])
    if db.session.scalar(failed.where(LoginAttempt.ip == ip, LoginAttempt.at > window)) >= cfg["LOGIN_IP_MAX_FAILURES"]:
        return True
    minute = now - timedelta(minutes=1)
    if db.session.scalar(failed.where(LoginAttempt.at > minute)) >= cfg["LOGIN_GLOBAL_MAX_FAILURES"]:
        return db.session.scalar(failed.where(LoginAttempt.ip == ip, LoginAttempt.at > minute)) > 0
    return False


def _upsert(table):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def name_key(name: str) -> str:
    """What the throttle tables keep of a typed user name: a keyed hash, case-insensitive. People
    type their password into the name field by mistake; it must not be stored in clear."""
    key = current_app.config["SECRET_KEY"]
    return hmac.new(key.encode() if isinstance(key, str) else key, name.strip().lower().encode(),
                    hashlib.sha256).hexdigest()


def count_failure(key: str, ip: str, now: datetime) -> int:
    """One more failure of the name `key` from `ip`; returns the new count. A single INSERT … ON CONFLICT
    DO UPDATE SET failures = failures + 1 … RETURNING: concurrent requests each get their own
    number, so none is lost and exactly one of them reaches the lock threshold."""
    t = LoginLock.__table__
    stmt = _upsert(t).values(name_key=key, ip=ip, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.name_key, t.c.ip],
        set_={"failures": t.c.failures + 1, "last_failure_at": now},
    ).returning(t.c.failures)
    return db.session.execute(stmt).scalar_one()


def _prune(now: datetime) -> None:
    """Drop attempts and counters older than a day, a bounded batch at a time; rows another
    transaction holds are skipped (PostgreSQL), so pruning never waits or deadlocks."""
    cutoff = now - PRUNE_AFTER
    old = (select(LoginAttempt.id).where(LoginAttempt.at < cutoff).limit(500)
           .with_for_update(skip_locked=True).scalar_subquery())
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(old)))
    stale = (select(LoginLock.id).where(LoginLock.last_failure_at < cutoff,
                                        or_(LoginLock.locked_until.is_(None), LoginLock.locked_until < now))
             .limit(500).with_for_update(skip_locked=True).scalar_subquery())
    db.session.execute(delete(LoginLock).where(LoginLock.id.in_(stale)))


def find_login_user(name: str) -> User | None:
    """The account a typed login name means: a user name, or (issue 17) a volunteer's number or phone
    for a volunteer's account. A phone shared by several accounts names none of them. Whatever the
    name, authenticate() then checks exactly one hash and answers the same on failure."""
    user = db.session.scalar(select(User).where(User.username == name))
    if user is not None or not name.isdigit() or len(name) > 20:
        return user
    from blueprints.accounts.models import VolunteerAccount
    from blueprints.volunteers.models import Volunteer

    stmt = (select(User).join(VolunteerAccount, VolunteerAccount.user_id == User.id)
            .join(Volunteer, Volunteer.id == VolunteerAccount.volunteer_id).where(User.role == Role.VOLUNTEER))
    user = db.session.scalar(stmt.where(Volunteer.number == name))
    if user is not None:
        return user
    by_phone = list(db.session.scalars(stmt.where(Volunteer.phone == name).limit(2)))
    return by_phone[0] if len(by_phone) == 1 else None


def authenticate(username: str, password: str, ip: str) -> LoginResult:
    """Check a login. Every attempt that passes the throttles checks exactly one password hash
    (a dummy one for unknown names) and gets the same answer whenever it fails.
    LOGIN_MAX_FAILURES wrong passwords for a name from one address lock that name *from that
    address* for LOGIN_LOCK_MINUTES; other addresses can still log in."""
    cfg = current_app.config
    now = utcnow()
    ip = (ip or "unknown")[:64]
    name = username.strip()
    key = name_key(name)
    dummy = _dummy_hash()
    if login_throttled(ip, now):
        return LoginResult(None, LOGIN_THROTTLED, 429)
    user = find_login_user(name)
    locked_until = db.session.scalar(select(LoginLock.locked_until).where(LoginLock.name_key == key, LoginLock.ip == ip))
    locked = locked_until is not None and locked_until > now
    ok = check_password_hash(user.password_hash if user is not None else dummy, password)
    if ok and user is not None and user.is_active and not locked:
        db.session.add(LoginAttempt(at=now, ip=ip, name_key=key, success=True))
        db.session.execute(delete(LoginLock).where(LoginLock.name_key == key, LoginLock.ip == ip))
        # Sessions long over are history nobody reads; drop the account's old ones (cheap: by user).
        db.session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                                     UserSession.last_seen_at < now - timedelta(days=30)))
        user.last_login_at = now
        record_event("login", "user", user.id, user.username, f"登录成功（{ip}）", user=user, region_id=user.region_id)
        return LoginResult(user)

    db.session.add(LoginAttempt(at=now, ip=ip, name_key=key, success=False))
    limit = cfg["LOGIN_MAX_FAILURES"]
    if locked:
        if user is not None:
            record_event("login_failed", "user", user.id, user.username,
                         f"来自 {ip} 的登录被拒绝：该地址已被锁定", user=user, region_id=user.region_id)
    else:
        n = count_failure(key, ip, now)
        if user is not None:
            why = "账户已停用" if ok else "密码错误"
            left = limit - n % limit
            record_event("login_failed", "user", user.id, user.username,
                         f"来自 {ip} 的第 {n} 次失败（{why}），再错 {left} 次将锁定该地址", user=user,
                         region_id=user.region_id)
        if n % limit == 0:
            db.session.execute(update(LoginLock).where(LoginLock.name_key == key, LoginLock.ip == ip)
                               .values(locked_until=now + lock_period()))
            if user is not None:
                record_event("lock", "user", user.id, user.username,
                             f"来自 {ip} 连续 {limit} 次失败，该地址锁定 {cfg['LOGIN_LOCK_MINUTES']} 分钟",
                             user=user, region_id=user.region_id)
    _prune(now)
    return LoginResult(None, LOGIN_REFUSED, 401)


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these accounts are locked from some address right now (for the account list)."""
    keys = {name_key(u): u for u in usernames}
    if not keys:
        return set()
    rows = db.session.scalars(select(LoginLock.name_key).where(
        LoginLock.name_key.in_(list(keys)), LoginLock.locked_until > utcnow()))
    return {keys[k] for k in rows}


def clear_locks(user: User) -> None:
    db.session.execute(delete(LoginLock).where(LoginLock.name_key == name_key(user.username)))


# ---- sessions ---------------------------------------------------------------------------------

def _live_sessions(user: User):
    cfg = current_app.config
    now = utcnow()
    return select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - timedelta(minutes=cfg["IDLE_TIMEOUT_MINUTES"]),
        UserSession.created_at > now - timedelta(minutes=cfg["SESSION_LIFETIME_MINUTES"]),
    )


def active_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(_live_sessions(user).order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


def end_sessions(user: User, reason: str, keep: int | None = None, only: int | None = None) -> int:
    """End the user's open sessions (all, all but `keep`, or just `only`); returns how many."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    if only is not None:
        stmt = stmt.where(UserSession.id == only)
    return db.session.execute(stmt.values(ended_at=utcnow(), end_reason=reason)).rowcount or 0


def change_password(user: User, current: str, new: str, keep_session: int | None = None) -> str | None:
    """Change one's own password; every other session of the account ends."""
    if not user.check_password(current):
        return "当前密码不正确"
    if current == new:
        return "新密码不能与当前密码相同"
    user.set_password(new)
    user.must_change_password = False
    ended = end_sessions(user, "password", keep=keep_session)
    record_event("password", "user", user.id, user.username,
                 f"修改了自己的密码（结束其他 {ended} 个会话）" if ended else "修改了自己的密码", region_id=user.region_id)
    return None


def temporary_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(10))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def reset_password(user: User) -> str:
    pw = temporary_password()
    user.set_password(pw)
    user.must_change_password = True
    clear_locks(user)
    end_sessions(user, "reset")
    record_event("password", "user", user.id, user.username, "管理员重置了密码（下次登录须修改）", region_id=user.region_id)
    return pw


# ---- what an account manager may assign ------------------------------------------------------

def assignable_roles(manager: User) -> list[Role]:
    if manager.role == Role.CITY_ADMIN:
        return list(Role)
    if manager.role == Role.DISTRICT_STAFF:
        return [Role.ORG_LEADER]
    return []


def assignable_regions(manager: User) -> list[Region]:
    """City and districts for a city admin; a district manager assigns no regions."""
    if manager.role != Role.CITY_ADMIN:
        return []
    return list(db.session.scalars(
        select(Region).where(Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT]), Region.active)
        .order_by(Region.path)
    ))


def assignable_orgs(manager: User) -> list[Organization]:
    stmt = scope.scoped(select(Organization), Organization, manager).order_by(Organization.name_pinyin)
    return list(db.session.scalars(stmt))


def validate_assignment(manager: User, role: str, region_id: int | None, org_ids: list[int]) -> dict[str, str]:
    """Field errors (Chinese) for a role/scope assignment, checked against the manager's scope."""
    errors: dict[str, str] = {}
    if role not in [r.value for r in assignable_roles(manager)]:
        errors["role"] = "您不能分配该角色"
        return errors
    if role in (Role.DISTRICT_STAFF, Role.LEADER):
        allowed = {r.id: r for r in assignable_regions(manager)}
        region = allowed.get(region_id or 0)
        if region is None:
            errors["region_id"] = "请选择管辖区域"
        elif role == Role.DISTRICT_STAFF and region.level != RegionLevel.DISTRICT:
            errors["region_id"] = "县区工作人员的管辖区域须为一个县(市、区)"
    if role == Role.ORG_LEADER:
        allowed_orgs = {o.id for o in assignable_orgs(manager)}
        if not org_ids:
            errors["organizations"] = "请至少选择一个组织"
        elif not set(org_ids) <= allowed_orgs:
            errors["organizations"] = "所选组织不在您的管辖范围内"
    return errors


def username_taken(username: str, exclude_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(User).where(func.lower(User.username) == username.lower())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    return db.session.scalar(stmt) > 0


def apply_assignment(user: User, role: str, region_id: int | None, org_ids: list[int]) -> None:
    user.role = Role(role)
    user.region_id = region_id if role in (Role.DISTRICT_STAFF, Role.LEADER) else None
    if role == Role.ORG_LEADER:
        user.organizations = list(db.session.scalars(select(Organization).where(Organization.id.in_(org_ids))))
    else:
        user.organizations = []


def create_user(manager: User, *, username: str, display_name: str, password: str, role: str,
                region_id: int | None, org_ids: list[int], email: str = "") -> User:
    user = User(username=username, display_name=display_name, email=email, role=Role(role), must_change_password=True,
                status=UserStatus.ACTIVE)
    user.set_password(password)
    apply_assignment(user, role, region_id, org_ids)
    db.session.add(user)
    db.session.flush()
    return user


def set_active(user: User, active: bool) -> None:
    user.status = UserStatus.ACTIVE if active else UserStatus.DISABLED
    if not active:
        end_sessions(user, "disabled")
