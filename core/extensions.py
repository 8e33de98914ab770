"""Unattached extensions; app.py binds them to the app."""
from __future__ import annotations

import sqlite3

from flask import g, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

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


def str_enum(enum_cls, length: int = 32):
    """Store a Python StrEnum by value as a plain VARCHAR (portable across SQLite/PostgreSQL)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
