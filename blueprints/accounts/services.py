"""Account rules: authentication with lock-out, user management within scope."""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from blueprints.accounts.models import Role, User, UserStatus
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.audit import record_event
from core.extensions import db
from core.timeutil import utcnow


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    status: int = 200


def authenticate(username: str, password: str) -> LoginResult:
    """Check a login. Failures are counted in the database (so the lock holds across workers):
    LOGIN_MAX_FAILURES wrong passwords lock the account for LOGIN_LOCK_MINUTES."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    generic = "用户名或密码不正确"
    if user is None:
        return LoginResult(None, generic, 401)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(None, f"该账户因多次密码错误已被锁定，请 {minutes} 分钟后再试，或联系管理员。", 423)
    if not user.check_password(password):
        user.failed_logins = (user.failed_logins or 0) + 1
        limit = current_app.config["LOGIN_MAX_FAILURES"]
        record_event("login_failed", "user", user.id, user.username, f"第 {user.failed_logins} 次密码错误", user=user,
                     region_id=user.region_id)
        if user.failed_logins >= limit:
            from core.auth import lock_period

            user.locked_until = now + lock_period()
            user.failed_logins = 0
            record_event("lock", "user", user.id, user.username,
                         f"连续 {limit} 次密码错误，锁定 {current_app.config['LOGIN_LOCK_MINUTES']} 分钟", user=user,
                         region_id=user.region_id)
            return LoginResult(None, f"密码连续错误 {limit} 次，账户已锁定 {current_app.config['LOGIN_LOCK_MINUTES']} 分钟。", 423)
        left = limit - user.failed_logins
        return LoginResult(None, f"{generic}（再错 {left} 次将锁定账户）", 401)
    if user.status == UserStatus.DISABLED:
        return LoginResult(None, "该账户已停用，请联系管理员。", 403)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_event("login", "user", user.id, user.username, "登录成功", user=user, region_id=user.region_id)
    return LoginResult(user)


def change_password(user: User, current: str, new: str) -> str | None:
    if not user.check_password(current):
        return "当前密码不正确"
    if current == new:
        return "新密码不能与当前密码相同"
    user.set_password(new)
    user.must_change_password = False
    record_event("password", "user", user.id, user.username, "修改了自己的密码", region_id=user.region_id)
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
    user.failed_logins = 0
    user.locked_until = None
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
        user.session_token = secrets.token_hex(16)  # ends its open sessions
