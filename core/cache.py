"""A cache that every worker and every app server shares: the `shared_cache` table.

For values computed from the data and keyed by a data version (the assessment results, key figures):
whoever computes one first stores it, the others read it instead of recomputing (issue 16: cold
results were recomputed by every worker). The caller's key must change whenever the data behind the
value changes; an entry is never updated, old ones are simply never asked for again and are swept
after MAX_AGE.

The entry is written on a connection of its own and committed at once, so a GET request (which
never commits) still shares what it computed. It is not written while the request's own session has
unsaved or uncommitted writes: the value may reflect them, and on SQLite the separate writer would
wait for that session's lock. Failing to store is never an error; the value is simply returned.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import JSON, String, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, session_has_writes
from core.timeutil import utcnow

T = TypeVar("T")
MAX_AGE = timedelta(days=7)
log = logging.getLogger(__name__)


class CacheEntry(db.Model):
    __tablename__ = "shared_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the caller's key
    value: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shared(key: str, make: Callable[[], T], dump: Callable[[T], Any], load: Callable[[Any], T]) -> T:
    """The value cached under `key`, or `make()` stored for everyone. `dump` turns it into JSON-able
    data, `load` back (a value that no longer loads is recomputed)."""
    digest = _digest(key)
    data = db.session.scalar(select(CacheEntry.value).where(CacheEntry.key == digest))
    if data is not None:
        try:
            return load(data)
        except Exception:  # written by an older version of the code: recompute
            log.info("shared cache entry %s no longer loads; recomputing", digest[:12])
    value = make()
    if data is None and _can_write_apart():
        _put(digest, dump(value))
    return value


def _can_write_apart() -> bool:
    """A connection of its own may write now: not while the request's own transaction (a POST, a job
    that writes) may hold SQLite's write lock, nor when its unsaved work may be in the value."""
    if has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("in_job_worker"):
        return False
    if has_app_context() and g.get("write_transactions") and db.session().in_transaction():
        return False
    return not session_has_writes(db.session())


def _put(digest: str, data: Any) -> None:
    now = utcnow()
    try:
        with db.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(delete(CacheEntry).where(CacheEntry.created_at < now - MAX_AGE))
            conn.execute(insert(CacheEntry).values(key=digest, value=data, created_at=now))
    except SQLAlchemyError as e:  # another server stored it first, or the database is busy: fine
        log.info("shared cache entry %s not stored: %s", digest[:12], type(e).__name__)
