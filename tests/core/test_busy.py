"""A lock wait that runs out answers 503 "系统繁忙，请稍后重试" and saves nothing; read-only requests
never write in the transaction of their reads (an export during a concurrent write used to be a 500)."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

from blueprints.regions.models import Region
from core import extensions
from core.audit import AuditEntry

from core.extensions import db
from tests.jobs import export_file


@pytest.fixture
def sqlite_file(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("simulates the lock on the SQLite file")
    return db.engine.url.database


@pytest.fixture
def short_busy_timeout(monkeypatch, sqlite_file):
    """Pooled connections re-read the busy timeout: 200 ms instead of 10 s."""
    monkeypatch.setattr(extensions, "SQLITE_BUSY_TIMEOUT_MS", 200)
    db.session.commit()
    db.engine.dispose()
    yield
    db.session.remove()
    db.engine.dispose()  # after monkeypatch's undo the next connections get the normal timeout


def _hold_write_lock(path: str) -> sqlite3.Connection:
    """Another process's writer: takes SQLite's write lock and keeps it."""
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO setting (key, value, updated_at) VALUES ('lock.test', '1', '2026-01-01 00:00:00')")
    return blocker


def _regions() -> int:
    return db.session.scalar(select(func.count()).select_from(Region))


def test_a_write_lock_held_longer_than_the_busy_timeout_answers_503_and_saves_nothing(
        world, as_role, sqlite_file, short_busy_timeout):
    client = as_role("city_admin")
    before = _regions()
    blocker = _hold_write_lock(sqlite_file)
    try:
        started = time.monotonic()
        resp = client.post(f"/regions/{world['district_a'].id}/new", data={"name": "新建镇", "sort": "1"})
        waited = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert "系统繁忙，请稍后重试" in body and "<footer" in body  # the Chinese page, in the base layout
    assert resp.headers.get("Retry-After")
    assert waited < 5  # the short timeout applied, not the default 10 s
    db.session.expire_all()
    assert _regions() == before
    assert db.session.scalar(select(Region).where(Region.name == "新建镇")) is None


def test_an_htmx_request_gets_the_503_too(world, as_role, sqlite_file, short_busy_timeout):
    client = as_role("city_admin")
    blocker = _hold_write_lock(sqlite_file)
    try:
        resp = client.post(f"/regions/{world['district_a'].id}/new", data={"name": "新建镇"},
                           headers={"HX-Request": "true"})
    finally:
        blocker.rollback()
        blocker.close()
    assert resp.status_code == 503 and "系统繁忙" in resp.get_data(as_text=True)


def test_the_same_post_succeeds_when_the_lock_is_released_within_the_timeout(world, as_role, sqlite_file):
    client = as_role("city_admin")
    blocker = _hold_write_lock(sqlite_file)
    threading.Timer(0.3, blocker.rollback).start()
    try:
        resp = client.post(f"/regions/{world['district_a'].id}/new", data={"name": "新建镇", "sort": "1"})
    finally:
        time.sleep(0.35)
        blocker.close()
    assert resp.status_code == 303
    assert db.session.scalar(select(Region).where(Region.name == "新建镇")) is not None


@pytest.mark.parametrize("url,services", [
    ("/volunteers/export.xlsx", "blueprints.volunteers.services"),
    ("/orgs/export.xlsx", "blueprints.orgs.services"),
])
def test_an_export_during_a_concurrent_write_succeeds_and_is_logged(world, as_role, sqlite_file, monkeypatch,
                                                                    url, services):
    """Another request commits a write between the export's reads and its audit row: a read
    transaction turned writer would fail at once with "database is locked" (SQLITE_BUSY_SNAPSHOT)."""
    import importlib

    module = importlib.import_module(services)
    original = module.export_rows

    def export_rows_then_someone_writes(*args, **kwargs):
        rows = original(*args, **kwargs)
        other = sqlite3.connect(sqlite_file, isolation_level=None)
        other.execute("INSERT INTO setting (key, value, updated_at) VALUES ('concurrent.write', '1', '2026-01-01 00:00:00')")
        other.close()
        return rows

    monkeypatch.setattr(module, "export_rows", export_rows_then_someone_writes)
    client = as_role("city_admin")
    resp = export_file(client, url)  # the export is a job: its file, built while someone else wrote
    assert resp.status_code == 200, resp.status_code
    assert resp.data[:2] == b"PK"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")) == 1


def test_an_export_waits_for_the_lock_and_answers_503_when_it_runs_out(world, as_role, sqlite_file,
                                                                       short_busy_timeout):
    client = as_role("city_admin")
    blocker = _hold_write_lock(sqlite_file)
    try:
        resp = client.get("/volunteers/export.xlsx")
    finally:
        blocker.rollback()
        blocker.close()
    assert resp.status_code == 503 and "系统繁忙" in resp.get_data(as_text=True)


def test_a_database_error_that_is_no_lock_stays_a_500(app):
    from sqlalchemy.exc import OperationalError

    from core.security import is_lock_timeout

    assert is_lock_timeout(OperationalError("x", {}, sqlite3.OperationalError("database is locked")))
    assert not is_lock_timeout(OperationalError("x", {}, sqlite3.OperationalError("no such table: foo")))

    class PgLock(Exception):
        sqlstate = "55P03"

    assert is_lock_timeout(OperationalError("x", {}, PgLock("canceling statement due to lock timeout")))


@pytest.fixture
def pg_short_lock_timeout(app):
    """PostgreSQL: every new connection waits at most 200 ms for a lock (production: DB_LOCK_TIMEOUT_MS)."""
    from sqlalchemy import event

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout")

    def short(dbapi_connection, _record):
        cur = dbapi_connection.cursor()
        cur.execute("SET lock_timeout = 200")
        cur.close()
        dbapi_connection.commit()

    db.session.commit()
    db.engine.dispose()
    event.listen(db.engine, "connect", short)
    yield
    event.remove(db.engine, "connect", short)
    db.session.remove()
    db.engine.dispose()


def test_postgresql_a_row_lock_held_longer_than_lock_timeout_answers_503(world, as_role, pg_short_lock_timeout):
    town = world["town_a"]
    client = as_role("city_admin")
    blocker = db.engine.connect()
    blocker.execute(select(Region.id).where(Region.id == town.id).with_for_update())
    try:
        resp = client.post(f"/regions/{town.id}/edit", data={"name": "改名街道", "code": town.code or ""})
    finally:
        blocker.rollback()
        blocker.close()
    assert resp.status_code == 503 and "系统繁忙，请稍后重试" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Region, town.id).name != "改名街道"
