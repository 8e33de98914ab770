"""Unattached extensions; app.py binds them to the app."""
from __future__ import annotations

import sqlite3

from flask import has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

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


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is always DEFERRED).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _wants_write() -> bool:
    # In WAL a DEFERRED transaction that later writes fails at once with SQLITE_BUSY, ignoring
    # busy_timeout; IMMEDIATE takes the write lock up front and waits politely. Safe-method
    # requests only read, so they keep DEFERRED and never queue behind writers.
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    # CLI commands and scripts run alone; DEFERRED keeps a long-lived reader from blocking others.
    return False


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


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

