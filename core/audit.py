"""Audit log: who changed which record, when, and which fields (personal data masked).

Creates, changes and deletes of every model marked `__audit__ = True` are captured
automatically at flush time; workflow steps and sensitive reads call `record_change()`.
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from flask import has_request_context
from sqlalchemy import JSON, ForeignKey, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.extensions import db
from core.timeutil import utcnow

ACTION_LABELS = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "transition": "流程",
    "login": "登录",
    "login_failed": "登录失败",
    "lock": "账户锁定",
    "logout": "退出",
    "reveal": "查看完整信息",
    "import": "导入",
    "export": "导出",
    "password": "密码",
}

_ALWAYS_EXCLUDED = {"updated_at", "created_at", "path"}


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(64), default="系统")
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entity_label: Mapped[str] = mapped_column(String(200), default="")
    # Whose record it is, for scoping the log itself (core/scope.py).
    region_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    changes: Mapped[dict | None] = mapped_column(JSON)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


# ---- helpers --------------------------------------------------------------------------------

def _actor(session: Session) -> tuple[int | None, str]:
    actor = session.info.get("actor")
    if actor is not None:
        return actor
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.username
    return None, "系统"


def owner_of(obj: Any) -> tuple[int | None, int | None]:
    """(region id, organization id) a record belongs to, for scoping its audit entries."""
    owner = getattr(obj, "audit_owner", None)
    if owner is not None:
        return owner
    region = getattr(obj, "region_id", None)
    org = getattr(obj, "organization_id", None) or getattr(obj, "org_id", None)
    return region, org


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "<二进制>"
    return str(value)


def _mask(obj: Any, key: str, value: Any) -> Any:
    masks = getattr(obj, "__audit_mask__", {})
    if key not in masks or value in (None, ""):
        return _plain(value)
    how = masks[key]
    if how == "phone":
        from core.validators import mask_phone

        return mask_phone(str(value))
    if how == "id_number":
        from core.validators import mask_id_number

        return mask_id_number(str(value))
    return "***"


def _excluded(obj: Any) -> set[str]:
    return _ALWAYS_EXCLUDED | set(getattr(obj, "__audit_exclude__", ()))


def _label(obj: Any) -> str:
    try:
        return str(getattr(obj, "audit_label", None) or obj)[:200]
    except Exception:  # a lazy relationship on a deleted row: keep the log, lose the label
        return f"#{getattr(obj, 'id', '')}"


def _row(session: Session, action: str, obj: Any, changes: dict | None, summary: str = "") -> dict:
    user_id, username = _actor(session)
    region_id, org_id = owner_of(obj)
    return dict(
        at=utcnow(),
        user_id=user_id,
        username=username,
        action=action,
        entity=obj.__tablename__,
        entity_id=getattr(obj, "id", None),
        entity_label=_label(obj),
        region_id=region_id,
        org_id=org_id,
        summary=summary[:500],
        changes=changes,
    )


def _column_changes(obj: Any, action: str) -> dict:
    state = inspect(obj)
    excluded = _excluded(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded or key == "id":
            continue
        hist = state.attrs[key].history
        if action == "update":
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _plain(old) == _plain(new):
                continue
            out[key] = [_mask(obj, key, old), _mask(obj, key, new)]
        else:
            value = getattr(obj, key, None)
            if value is not None:
                out[key] = _mask(obj, key, value)
    return out


# ---- automatic capture ------------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _capture(session: Session, _ctx) -> None:
    if session.info.get("audit_off"):
        return
    rows = []
    for obj in session.new:
        if getattr(obj, "__audit__", False):
            rows.append(_row(session, "create", obj, _column_changes(obj, "create")))
    for obj in session.dirty:
        if getattr(obj, "__audit__", False) and session.is_modified(obj, include_collections=False):
            changes = _column_changes(obj, "update")
            if changes:
                rows.append(_row(session, "update", obj, changes))
    for obj in session.deleted:
        if getattr(obj, "__audit__", False):
            rows.append(_row(session, "delete", obj, _column_changes(obj, "delete")))
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def record_change(action: str, obj: Any, summary: str = "", changes: dict | None = None,
                  session: Session | None = None) -> None:
    """Record a workflow step or a sensitive action (e.g. "显示" of a full ID number)."""
    session = session or db.session
    session.flush()
    session.connection().execute(insert(AuditEntry.__table__), [_row(session, action, obj, changes, summary)])


def record_event(action: str, entity: str, entity_id: int | None, label: str, summary: str = "",
                 user: Any = None, region_id: int | None = None, org_id: int | None = None) -> None:
    """Record an event that is not a change of a model row (login, lock, logout)."""
    session = db.session
    user_id, username = (user.id, user.username) if user is not None else _actor(session)
    session.connection().execute(insert(AuditEntry.__table__), [dict(
        at=utcnow(), user_id=user_id, username=username, action=action, entity=entity,
        entity_id=entity_id, entity_label=label[:200], region_id=region_id, org_id=org_id,
        summary=summary[:500], changes=None,
    )])


def record_read(action: str, entity: str, entity_id: int | None, label: str, summary: str = "",
                region_id: int | None = None, org_id: int | None = None) -> None:
    """Record what a read-only request did (an export, a download) in its own short write transaction.

    The request's own transaction stays read-only: on SQLite a reader that starts writing fails at
    once with "database is locked" when another write committed meanwhile, whatever the busy timeout.
    Call it at the end, once the file is built.
    """
    user_id, username = _actor(db.session)
    row = dict(at=utcnow(), user_id=user_id, username=username, action=action, entity=entity,
               entity_id=entity_id, entity_label=label[:200], region_id=region_id, org_id=org_id,
               summary=summary[:500], changes=None)
    with db.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(insert(AuditEntry.__table__), [row])


def _register_scope() -> None:
    from core import scope

    scope.register(AuditEntry, region=AuditEntry.region_id, org=AuditEntry.org_id)


_register_scope()
