"""Accounts, roles and each account's scope (DOMAIN.md, roles)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (Boolean, Column, ColumnElement, ForeignKey, Index, Integer, String, Table, UniqueConstraint,
                        select, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import auth, scope
from core.extensions import db, str_enum
from core.roles import ROLE_LABELS, Role  # noqa: F401  (re-exported: features import the roles from here)
from core.timeutil import utcnow


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # an applicant whose organization is not approved yet (issue #4)
    DISABLED = "disabled"

    @property
    def label(self) -> str:
        return {"active": "正常", "pending": "待激活", "disabled": "已停用"}[self.value]


user_organization = Table(
    "user_organization",
    db.Model.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("organization_id", Integer, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __audit__ = True
    __audit_exclude__ = {"password_hash", "session_token", "failed_logins", "last_login_at", "updated_at"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    # Work e-mail for notifications (催报) when SMTP is configured; optional.
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20), index=True)
    # Scope: a region for district staff and leaders (the city region = whole city).
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus, 16), default=UserStatus.ACTIVE)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Superseded by LoginLock (failures per account and address) and UserSession (server-side
    # sessions) below; no longer read or written. Dropping them rebuilds `user` on SQLite, whose
    # foreign keys would cascade, so they stay until a migration can do that safely.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region | None] = relationship()
    organizations: Mapped[list[Organization]] = relationship(
        secondary=user_organization, order_by=Organization.id
    )
    # A volunteer's account is tied to exactly one person record (issue 17); staff accounts to none.
    volunteer_link: Mapped["VolunteerAccount | None"] = relationship(
        back_populates="user", uselist=False, lazy="joined", cascade="all, delete-orphan")

    @property
    def volunteer_id(self) -> int | None:
        return self.volunteer_link.volunteer_id if self.volunteer_link else None

    # Flask-Login keeps the plain id; what makes a cookie valid is its UserSession row (core/auth.py).
    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_active(self) -> bool:
        return self.status != UserStatus.DISABLED

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_city_wide(self) -> bool:
        return self.role == Role.CITY_ADMIN or (
            self.role == Role.LEADER and (self.region is None or self.region.level == "city")
        )

    @property
    def can_write(self) -> bool:
        return self.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)

    @property
    def scope_label(self) -> str:
        if self.role == Role.ORG_LEADER:
            return "、".join(o.name for o in self.organizations) or "（未关联组织）"
        if self.role == Role.REVIEWER:
            return "评审任务"
        if self.role == Role.VOLUNTEER:
            return "本人"
        if self.is_city_wide:
            return "全市"
        return self.region.name if self.region else "（未设置）"

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "账户"
    __audit_fields__ = {
        "username": "用户名", "display_name": "姓名", "email": "工作邮箱", "role": "角色", "region_id": "管辖区域",
        "status": "状态", "must_change_password": "须修改密码", "locked_until": "锁定至",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.display_name}（{self.username}）" if self.display_name else self.username

    def __str__(self) -> str:
        return self.display_name or self.username


class VolunteerAccount(db.Model):
    """The link of a volunteer's login to their person record in the registry (issue 17): one person,
    at most one account. The volunteer's scope is this record and what hangs from it (core/scope.py)."""
    __tablename__ = "volunteer_account"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="volunteer_link")


class UserSession(db.Model):
    """One login: the signed cookie carries its id and a secret whose hash is kept here. Logout,
    password changes, deactivation and an admin end the row, and a copied cookie dies with it."""
    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the cookie's secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ended_at: Mapped[datetime | None] = mapped_column()
    # logout / idle / expired / password / user / admin / disabled
    end_reason: Mapped[str] = mapped_column(String(16), default="")

    user: Mapped[User] = relationship()

    @property
    def browser(self) -> str:
        """The user agent shortened to browser and system, e.g. "Chrome · Windows"."""
        from core.auth import short_user_agent

        return short_user_agent(self.user_agent)


class LoginAttempt(db.Model):
    """Every login attempt that reached the password check: the per-address and global limits
    count these rows, so they hold across workers and app servers sharing the database."""
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ip: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))  # services.name_key(typed name), never the name
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginLock(db.Model):
    """Wrong passwords for one username from one address, and the lock they caused. Keyed on the
    address, so failures from X never lock the account for Y; keyed on the typed name (hashed), not
    the account, so unknown names behave exactly like known ones. `failures` is only ever raised by an
    atomic upsert (services.count_failure), exact under concurrent requests."""
    __tablename__ = "login_lock"
    __table_args__ = (UniqueConstraint("name_key", "ip", name="uq_login_lock_name_key_ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name_key: Mapped[str] = mapped_column(String(64))  # services.name_key(typed name)
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column()


# ---- registered with core: the login session (core/auth.py) and the scope gate (core/scope.py) ----

auth.register_account_models(User, UserSession)
scope.register_org_leaders(user_organization.c.user_id, user_organization.c.organization_id)


def _users_in_scope(user) -> ColumnElement[bool]:
    # Accounts: city admins see all; district staff their district's staff/leaders and the org
    # leaders of organizations in their district; everyone else only themselves.
    if user.role == Role.CITY_ADMIN:
        return true()
    if user.role == Role.DISTRICT_STAFF and user.region_id:
        leads_here = select(user_organization.c.user_id).where(
            user_organization.c.organization_id.in_(scope.district_org_ids(user.region_id)))
        return User.region_id.in_(scope.region_subtree_ids(user.region_id)) | User.id.in_(leads_here)
    return User.id == user.id


scope.register(User, custom=_users_in_scope, volunteer=lambda user: User.id == user.id)
