"""Unattached extensions; app.py binds them to the app."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from flask import g, has_app_context, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CheckConstraint, Enum, Integer, MetaData, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapper, Session

# Named constraints so that Alembic (batch mode on SQLite) can alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@event.listens_for(Mapper, "after_mapper_constructed")
def _harden_mapped_table(mapper: Mapper, _cls) -> None:
    table = mapper.local_table
    if isinstance(table, Table) and table.metadata is Base.metadata:
        harden_table(table)


def harden_table(table: Table) -> None:
    """What every table gets, so no model can forget it (migration 0009_integrity adds the same):

    - an integer surrogate key never reused on SQLite (AUTOINCREMENT): the audit log points at
      (table, id), and a deleted record's trail must never pass to a new one;
    - a CHECK per enum column limiting it to the enum's values, named ck_<table>_<column>_enum.
    """
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, Integer):
        table.dialect_options["sqlite"]["autoincrement"] = True
    existing = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
    for column in table.columns:
        if isinstance(column.type, Enum) and not column.type.native_enum:
            name = f"{column.name}_enum"
            if name not in existing:
                table.append_constraint(CheckConstraint(column.in_(column.type.enums), name=name))


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()


# How long a request waits for SQLite's write lock before giving up (then: 503 "系统繁忙").
SQLITE_BUSY_TIMEOUT_MS = 10000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is always DEFERRED).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _wants_write() -> bool:
    # In WAL a DEFERRED transaction that later writes fails at once with SQLITE_BUSY, ignoring
    # busy_timeout; IMMEDIATE takes the write lock up front and waits politely. Safe-method
    # requests only read, so they keep DEFERRED and never queue behind writers.
    if has_app_context() and g.get("write_transactions"):  # a background job that writes (core/jobs.py)
        return True
    if has_request_context():
        # After a lock wait ran out (core.security answers 503) the error page only reads.
        return request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("db_busy")
    # CLI commands and scripts run alone; DEFERRED keeps a long-lived reader from blocking others.
    return False


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get("write") or _wants_write()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_read_only_requests(app) -> None:
    """PostgreSQL: a page view (GET/HEAD) reads in autocommit, without BEGIN and ROLLBACK — two round
    trips of a dozen, and a page view never writes through the request's session (bookkeeping goes
    through side_writes(), the shared cache through its own connection). Under PostgreSQL's READ
    COMMITTED every statement takes its own snapshot either way, so what a page reads is unchanged."""
    from flask import request

    @app.before_request
    def _autocommit_reads() -> None:
        if (request.method in ("GET", "HEAD") and request.endpoint not in (None, "static")
                and db.engine.dialect.name == "postgresql"):
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@contextmanager
def side_writes():
    """The session for what a request records beside its work (a throttle counter, a cleanup).

    A read-only request (GET) gets a short write transaction of its own (BEGIN IMMEDIATE on SQLite,
    committed on leaving): its own transaction stays a reader, and a reader that starts writing fails
    at once with "database is locked" when another write committed meanwhile. Any other request (and
    a background job) gets its own session, which already may hold SQLite's write lock."""
    if has_request_context() and request.method in ("GET", "HEAD") and not g.get("in_job_worker"):
        with Session(db.engine.execution_options(write=True)) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    else:
        yield db.session


def str_enum(enum_cls, length: int = 32):
    """Store a Python StrEnum by value as a plain VARCHAR (portable across SQLite/PostgreSQL).
    Its CHECK constraint is added per column by harden_table() (a deterministic name, unlike the
    type-bound constraint of create_constraint=True)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


# ---- CHECK constraints for what must never be stored, even by a bug (__table_args__) -------------

MONEY_LIMIT = 10**12  # Numeric(14, 2): at most 12 integer digits


def money_check(column: str, minimum: int | None = None) -> CheckConstraint:
    """|amount| < 10^12 in whole fen (PostgreSQL's numeric(14,2) enforces this; SQLite stores any
    number in a NUMERIC column). `minimum=0`: never negative. Named ck_<table>_<column>_money."""
    low = f"{column} >= {minimum}" if minimum is not None else f"{column} > -{MONEY_LIMIT}"
    return CheckConstraint(f"{low} AND {column} < {MONEY_LIMIT} AND round({column}, 2) = {column}",
                           name=f"{column}_money")


def hours_check(column: str) -> CheckConstraint:
    """One record's hours: more than 0, at most a day (24). Named ck_<table>_<column>_range."""
    return CheckConstraint(f"{column} > 0 AND {column} <= 24", name=f"{column}_range")


def nonnegative(*columns: str) -> tuple[CheckConstraint, ...]:
    """Counts, totals, quotas and limits: never below 0 (NULL allowed where the column is).
    Named ck_<table>_<column>_nonneg."""
    return tuple(CheckConstraint(f"{c} >= 0", name=f"{c}_nonneg") for c in columns)


# Whether a session's transaction has written anything not yet committed (flushed or pending): a
# helper that must not commit someone else's work asks this (core/uploads.py delete_stored,
# core/cache.py).
_WROTE = "zhiyuan.wrote"


@event.listens_for(Session, "after_flush")
def _mark_written(session, _flush_context):
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _clear_written(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def session_has_writes(session) -> bool:
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)

