"""Audit log: who did what to which record, when, and which fields (personal data masked).

Creates, changes and deletes of every model marked `__audit__ = True` are captured automatically at
flush time; workflow steps and sensitive reads call `record_change()`, which names the action (提交,
审核通过, 出具 …) of the automatic entry of the same record in the same transaction, so that one step
is one line of the log.

What the log shows is Chinese throughout, from one contract every audited model fulfils:
- `__audit_noun__`: what the record is ("月报", "服务记录");
- `audit_label` (a property): which one it is ("2026 年 11 月月报（赤坎区…服务队）"), computed when the
  entry is written and stored with it, so the log still names a record after it is deleted;
- `__audit_fields__`: {column: Chinese field name} for every audited column.
Verbs come from the one table in core/workflow.py; enum values, booleans, money, dates and references to
other records are shown as people write them (`describe_changes`).
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
from typing import Any, NamedTuple

from flask import has_request_context
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, delete, event, \
    insert, inspect, select, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from core.timeutil import cn_date, to_local, utcnow
from core.workflow import VERBS, verb

# Every action by its general verb (table-specific verbs are variants of these).
ACTION_LABELS = {k: v for k, v in VERBS.items() if ":" not in k}
# The log's filter offers each verb once ("审核通过" covers approve, accept and verify).
def _first_per_verb(labels: dict[str, str]) -> dict[str, str]:
    first: dict[str, str] = {}
    for key, label in labels.items():
        first.setdefault(label, key)
    return {key: label for label, key in first.items()}


FILTER_ACTIONS = _first_per_verb(ACTION_LABELS)


def actions_like(action: str) -> list[str]:
    """The actions the log's filter means by `action`: all those with the same verb."""
    label = ACTION_LABELS.get(action)
    return [k for k, v in ACTION_LABELS.items() if v == label] if label else []

_ALWAYS_EXCLUDED = {"updated_at", "created_at", "path"}
_CREATING = {"create", "issue", "import"}  # actions that bring a record into being: they absorb its "新建"
_OPEN = "audit_open_rows"  # session.info: {(table, id): [entry ids]} written automatically, not yet named


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
        return verb(self.action, self.entity)

    @property
    def noun(self) -> str:
        return noun_of(self.entity)

    @property
    def label(self) -> str:
        """The record's Chinese label: as stored, or (entries written before labels were reliable)
        computed now from the record, or "<noun> #id" once the record is gone."""
        stored = (self.entity_label or "").strip()
        if stored and not _LEGACY_LABEL.search(stored):
            return stored
        cls = model_for(self.entity)
        if cls is not None and self.entity_id is not None:
            obj = db.session.get(cls, self.entity_id)
            if obj is not None:
                return label_of(obj)
        return fallback_label(self.entity, self.entity_id)

    @property
    def names_its_noun(self) -> bool:
        """Whether the label already says what the record is ("服务记录（…）", "2026 年 11 月月报（…）")."""
        return self.noun in self.label

    @property
    def change_rows(self) -> list["ChangeRow"]:
        return describe_changes(self.entity, self.changes)


# A stored label that is not one: a Python repr ("<MonthlyReport (pending 1403…)>"), a bare "#12", or
# the placeholder a record carried before its number was assigned ("记录证明 pending").
_LEGACY_LABEL = re.compile(r"^<|^#|\bpending\b|^[a-z]+(_[a-z]+)*#\d*$")


# ---- the models' Chinese contract ------------------------------------------------------------

_MODELS: dict[str, type] = {}


def model_for(table: str | None) -> type | None:
    """The mapped class of a table name (the `entity` of an entry)."""
    if not table:
        return None
    if table not in _MODELS:
        for mapper in db.Model.registry.mappers:
            cls = mapper.class_
            if getattr(cls, "__tablename__", None):
                _MODELS.setdefault(cls.__tablename__, cls)
    return _MODELS.get(table)


def audited_models() -> list[type]:
    return [m.class_ for m in db.Model.registry.mappers if getattr(m.class_, "__audit__", False)]


def audited_columns(cls: type) -> list[str]:
    """The columns whose values the log records for this model."""
    excluded = _excluded(cls)
    return [a.key for a in inspect(cls).column_attrs if a.key not in excluded and a.key != "id"]


def noun_of(table: str | None) -> str:
    cls = model_for(table)
    return getattr(cls, "__audit_noun__", None) or "记录"


def fallback_label(table: str | None, entity_id: int | None) -> str:
    return f"{noun_of(table)} #{entity_id}" if entity_id else noun_of(table)


def _own_label(obj: Any) -> str:
    try:
        text = obj.audit_label
    except Exception:  # a relationship not loaded yet (pending row) or gone (deleted row)
        return ""
    text = str(text or "").strip()
    return "" if not text or _LEGACY_LABEL.search(text) else text[:200]


def _hydrate(obj: Any, session: Session) -> None:
    """Load the many-to-one relationships a pending row only knows by foreign key, without marking
    anything changed, so that its label can name its volunteer, organization, month…"""
    state = inspect(obj)
    for rel in state.mapper.relationships:
        if rel.direction.name != "MANYTOONE" or rel.key in state.dict and state.dict[rel.key] is not None:
            continue
        cols = list(rel.local_columns)
        if len(cols) != 1:
            continue
        prop = state.mapper.get_property_by_column(cols[0])
        fk = state.dict.get(prop.key)
        if fk is None:
            continue
        try:
            target = session.get(rel.mapper.class_, fk)
        except Exception:  # pragma: no cover - a label is not worth failing a flush for
            continue
        if target is not None:
            set_committed_value(obj, rel.key, target)


def label_of(obj: Any, session: Session | None = None) -> str:
    """Chinese label of a record, never a repr or a table name."""
    text = _own_label(obj)
    if not text and session is not None:
        _hydrate(obj, session)
        text = _own_label(obj)
    return text or fallback_label(getattr(obj, "__tablename__", None), getattr(obj, "id", None))


def field_label(cls: type | None, key: str) -> str:
    names = getattr(cls, "__audit_fields__", None) or {}
    return names.get(key) or key


class ChangeRow(NamedTuple):
    field: str
    old: str | None  # None: a value recorded on creation or deletion, not a change
    new: str


def describe_changes(table: str | None, changes: dict | None) -> list[ChangeRow]:
    """The entry's fields as people read them: Chinese names, labels of enum values, 是/否, ¥, dates."""
    if not changes or not isinstance(changes, dict):
        return []
    cls = model_for(table)
    rows = []
    for key, value in changes.items():
        name = field_label(cls, key)
        if isinstance(value, list) and len(value) == 2:
            rows.append(ChangeRow(name, display_value(cls, key, value[0]), display_value(cls, key, value[1])))
        else:
            rows.append(ChangeRow(name, None, display_value(cls, key, value)))
    return rows


def display_value(cls: type | None, key: str, value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    column = cls.__table__.columns.get(key) if cls is not None and hasattr(cls, "__table__") else None
    if column is None:
        return _short(value)
    kind = column.type
    try:
        if isinstance(kind, Boolean):
            return "是" if value in (True, 1, "1", "true", "True") else "否"
        if isinstance(kind, SAEnum) and kind.enum_class is not None:
            member = kind.enum_class(value)
            return str(getattr(member, "label", member.value))
        if isinstance(kind, Numeric) and not isinstance(kind, Integer):
            amount = decimal.Decimal(str(value))
            if kind.precision == 14 and kind.scale == 2:  # money (house style: Numeric(14, 2))
                from core.templating import fmt_money

                return fmt_money(amount)
            return f"{amount:,}"
        if isinstance(kind, DateTime):
            local = to_local(dt.datetime.fromisoformat(str(value)))
            return f"{cn_date(local)} {local:%H:%M}"
        if isinstance(kind, Date):
            return cn_date(dt.date.fromisoformat(str(value)[:10]))
        if isinstance(kind, JSON):
            return "（明细略）"
    except Exception:  # a value the column no longer accepts (an old enum value): show it as stored
        return _short(value)
    if column.foreign_keys and isinstance(value, int) and not isinstance(value, bool):
        return _referenced(next(iter(column.foreign_keys)).column.table.name, value)
    return _short(value)


def _referenced(table: str, ident: int) -> str:
    cls = model_for(table)
    obj = db.session.get(cls, ident) if cls is not None else None
    if obj is None:
        return fallback_label(table, ident)
    if table == "user":
        return getattr(obj, "display_name", None) or obj.username
    name, noun = label_of(obj), noun_of(table)
    # The field already says what it is ("志愿者"): "欧阳娜娜（AV…）", not "志愿者 欧阳娜娜（AV…）".
    return name[len(noun) + 1:] if name.startswith(noun + " ") else name


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


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
    try:
        owner = getattr(obj, "audit_owner", None)
    except Exception:
        owner = None
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
        entity_label=label_of(obj, session),
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
    rows, tracked = [], []
    for obj in session.new:
        if getattr(obj, "__audit__", False):
            _hydrate(obj, session)  # a new row often knows its volunteer or month by foreign key only
            rows.append(_row(session, "create", obj, _column_changes(obj, "create")))
            tracked.append(True)
    for obj in session.dirty:
        if getattr(obj, "__audit__", False) and session.is_modified(obj, include_collections=False):
            changes = _column_changes(obj, "update")
            if changes:
                rows.append(_row(session, "update", obj, changes))
                tracked.append(True)
    for obj in session.deleted:
        if getattr(obj, "__audit__", False):
            rows.append(_row(session, "delete", obj, _column_changes(obj, "delete")))
            tracked.append(False)
    if not rows:
        return
    table = AuditEntry.__table__
    ids = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    open_rows = session.info.setdefault(_OPEN, {})
    for row, entry_id, keep in zip(rows, ids, tracked):
        if keep and row["entity_id"] is not None:
            open_rows.setdefault((row["entity"], row["entity_id"]), []).append(entry_id)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _close(session: Session) -> None:
    session.info.pop(_OPEN, None)


def _merge(entries, extra: dict | None) -> dict | None:
    """One entry's changes from the automatic ones it replaces: first value → last value per field."""
    created = entries[0].action == "create"
    out: dict[str, Any] = {}
    for e in entries:
        for key, value in (e.changes or {}).items():
            if e.action == "create":
                out[key] = value
                continue
            old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
            if created or key not in out:
                out[key] = new if created else [old, new]
            else:
                out[key] = [out[key][0], new]
    if extra:
        out.update(extra)
    return out or None


def record_change(action: str, obj: Any, summary: str = "", changes: dict | None = None,
                  session: Session | None = None, *, user: Any = None) -> None:
    """Record what was done to `obj` (a workflow step such as "submit", or a sensitive action such as
    "reveal"), by a verb of core.workflow.VERBS. The record's automatic create/update entries of this
    transaction become this one entry, so that a submission reads "提交" with its changed fields."""
    session = session or db.session
    session.flush()
    table = AuditEntry.__table__
    conn = session.connection()
    pending = session.info.get(_OPEN, {}).pop((obj.__tablename__, getattr(obj, "id", None)), [])
    entries = conn.execute(select(table.c.id, table.c.action, table.c.changes)
                           .where(table.c.id.in_(pending)).order_by(table.c.id)).all() if pending else []
    if action not in _CREATING:
        # The record was created in this transaction: its creation stays a line of its own (named as
        # the record is named now, e.g. with the number it was given after its first flush).
        created = [e.id for e in entries if e.action == "create"]
        if created:
            conn.execute(update(table).where(table.c.id.in_(created)).values(entity_label=label_of(obj, session)))
        entries = [e for e in entries if e.action != "create"]
    if entries:
        values = dict(action=action, summary=summary[:500], entity_label=label_of(obj, session),
                      changes=_merge(entries, changes))
        if user is not None:
            values.update(user_id=user.id, username=user.username)
        conn.execute(update(table).where(table.c.id == entries[0].id).values(**values))
        if len(entries) > 1:
            conn.execute(delete(table).where(table.c.id.in_([e.id for e in entries[1:]])))
        return
    row = _row(session, action, obj, changes, summary)
    if user is not None:  # the service names who acted (a request's current user, or a job's)
        row.update(user_id=user.id, username=user.username)
    conn.execute(insert(table), [row])


def record_event(action: str, entity: str, entity_id: int | None, label: str, summary: str = "",
                 user: Any = None, region_id: int | None = None, org_id: int | None = None) -> None:
    """Record an event that is not a change of a model row (login, lock, logout, an export of a list)."""
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
