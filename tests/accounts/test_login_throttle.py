"""Login: no user enumeration, per-address and global limits, locks that are not total, exact
failure counts under concurrent requests (SQLite and PostgreSQL: `make test-pg`)."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from blueprints.accounts import services
from blueprints.accounts.models import LoginAttempt, LoginLock, UserStatus
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import utcnow
from tests import factories


def _post(client, username: str, password: str = "wrong-Pass1", ip: str = "127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def hashes(monkeypatch):
    """Records the hash every login checks."""
    seen: list[str] = []
    real = services.check_password_hash

    def counting(pwhash, password):
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    return seen


def _normalized(resp, username: str) -> bytes:
    body = resp.get_data(as_text=True).replace(f'value="{username}"', 'value="NAME"')
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", body)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", body).encode()


def test_unknown_user_and_wrong_password_get_byte_identical_answers(app, world, hashes):
    world["reviewer"].status = UserStatus.DISABLED
    db.session.commit()
    answers = {}
    for name, password in (("nobody_here", "wrong-Pass1"), ("district_staff", "wrong-Pass1"),
                           ("reviewer", factories.PASSWORD)):  # disabled, right password
        before = len(hashes)
        resp = _post(app.test_client(), name, password)
        assert len(hashes) == before + 1  # exactly one hash check each
        answers[name] = (resp.status_code, _normalized(resp, name))
    assert answers["nobody_here"] == answers["district_staff"] == answers["reviewer"]
    assert answers["nobody_here"][0] == 401
    assert b"\xe7\x94\xa8\xe6\x88\xb7\xe5\x90\x8d\xe6\x88\x96\xe5\xaf\x86\xe7\xa0\x81\xe4\xb8\x8d\xe6\xad\xa3\xe7\xa1\xae" \
        in answers["nobody_here"][1]  # 用户名或密码不正确
    # The unknown name was checked against a real hash made as the app makes account hashes.
    assert hashes[0] == services._dummy_hash()
    assert hashes[0].split("$")[0] == generate_password_hash("x").split("$")[0]


def test_locked_and_unknown_names_stay_alike(app, world):
    c = app.test_client()
    for _ in range(5):
        _post(c, "district_staff")
        _post(c, "nobody_here")
    known = _post(c, "district_staff", factories.PASSWORD)  # locked from here: refused
    unknown = _post(c, "nobody_here", factories.PASSWORD)
    assert known.status_code == unknown.status_code == 401
    assert _normalized(known, "district_staff") == _normalized(unknown, "nobody_here")
    body = known.get_data(as_text=True)
    assert "锁定" not in body and "再错" not in body
    # Unknown names are counted and locked like known ones (the lock is keyed on the typed name).
    assert db.session.scalar(select(LoginLock.locked_until).where(LoginLock.name_key == services.name_key("nobody_here"))) > utcnow()


def test_the_hint_about_remaining_tries_goes_to_the_audit_log(app, world):
    c = app.test_client()
    body = _post(c, "leader").get_data(as_text=True)
    assert "再错" not in body
    summary = db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "login_failed"))
    assert "127.0.0.1" in summary and "再错 4 次将锁定" in summary


def test_lock_from_one_address_does_not_lock_out_the_others(app, world):
    attacker = app.test_client()
    for _ in range(5):
        assert _post(attacker, "city_admin", ip="203.0.113.5").status_code == 401
    assert _post(attacker, "city_admin", factories.PASSWORD, ip="203.0.113.5").status_code == 401
    # The real administrator, from an address without failures, still gets in.
    assert _post(app.test_client(), "city_admin", factories.PASSWORD, ip="10.20.0.8").status_code == 303
    # ...and that success does not unlock the attacker's address.
    assert _post(app.test_client(), "city_admin", factories.PASSWORD, ip="203.0.113.5").status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == world["city_admin"].id)).all()
    assert actions.count("lock") == 1 and actions.count("login") == 1


def test_per_address_limit_refuses_a_spraying_address(app, world, hashes, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_MAX_FAILURES", 4)
    c = app.test_client()
    for name in ("leader", "reviewer", "ghost1", "ghost2"):  # one try per name: no lock
        assert _post(c, name, ip="198.51.100.7").status_code == 401
    checked = len(hashes)
    resp = _post(c, "district_staff", factories.PASSWORD, ip="198.51.100.7")
    assert resp.status_code == 429 and "尝试过于频繁，请稍后再试" in resp.get_data(as_text=True)
    assert len(hashes) == checked  # refused before any password check
    # Other addresses are not affected.
    assert _post(app.test_client(), "district_staff", factories.PASSWORD, ip="198.51.100.8").status_code == 303
    # The window passes: the address may try again.
    db.session.execute(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(minutes=16)))
    db.session.commit()
    assert _post(c, "district_staff", factories.PASSWORD, ip="198.51.100.7").status_code == 303


def test_global_limit_slows_every_failing_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_GLOBAL_MAX_FAILURES", 5)
    for i in range(5):  # a botnet: one failure from each of many addresses
        assert _post(app.test_client(), f"user{i}", ip=f"192.0.2.{i}").status_code == 401
    # Over the limit, an address that failed within the minute waits...
    resp = _post(app.test_client(), "user9", ip="192.0.2.1")
    assert resp.status_code == 429 and "尝试过于频繁" in resp.get_data(as_text=True)
    assert _post(app.test_client(), "leader", factories.PASSWORD, ip="192.0.2.2").status_code == 429
    # ...while an address without failures still gets its try.
    assert _post(app.test_client(), "leader", factories.PASSWORD, ip="10.0.0.1").status_code == 303
    assert _post(app.test_client(), "user9", ip="10.0.0.2").status_code == 401
    # A minute later the failing addresses may try again.
    db.session.execute(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(seconds=61)))
    db.session.commit()
    assert _post(app.test_client(), "leader", factories.PASSWORD, ip="192.0.2.2").status_code == 303


def test_old_attempts_and_counters_are_pruned(app, world):
    old = utcnow() - timedelta(days=2)
    db.session.add_all([LoginAttempt(at=old, ip="10.0.0.1", name_key="x", success=False) for _ in range(3)])
    db.session.add(LoginLock(name_key="x", ip="10.0.0.1", failures=3, last_failure_at=old))
    db.session.commit()
    _post(app.test_client(), "leader")
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    assert [lk.name_key for lk in db.session.scalars(select(LoginLock))] == [services.name_key("leader")]


def test_a_password_typed_into_the_name_field_is_not_stored(app, world):
    c = app.test_client()
    _post(c, "Geheim-Pass77")
    _post(c, "LEADER")  # names are case-insensitive: counted with "leader"
    _post(c, "leader")
    stored = [(a.name_key, a.ip) for a in db.session.scalars(select(LoginAttempt))]
    stored += [(lk.name_key, lk.ip) for lk in db.session.scalars(select(LoginLock))]
    assert not any("Geheim" in key or "geheim" in key for key, _ in stored)
    assert db.session.scalar(select(LoginLock.failures).where(LoginLock.name_key == services.name_key("leader"))) == 2


@pytest.mark.parametrize("limit", [1000, 5])
def test_concurrent_wrong_passwords_are_counted_exactly(app, world, monkeypatch, limit):
    """Many wrong passwords for one account from one address at the same moment (threads, each
    with its own database connection): no failure is lost, and the locks follow the count."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", limit)
    attempts = 12
    start = threading.Barrier(attempts)
    errors: list[BaseException] = []

    def attempt():
        try:
            with app.test_request_context("/login", method="POST", environ_base={"REMOTE_ADDR": "10.3.3.3"}):
                start.wait()
                result = services.authenticate("leader", "wrong-Pass1", "10.3.3.3")
                db.session.commit()
                assert result.user is None and result.status == 401
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    failures = db.session.scalar(select(LoginLock.failures).where(LoginLock.name_key == services.name_key("leader")))
    counted = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "login_failed",
                                                                  AuditEntry.summary.contains("次失败"))).all()
    locks = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "lock"))
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == attempts
    # Every counted failure got its own number: 1, 2, 3, … with no number twice.
    numbers = sorted(int(re.search(r"第 (\d+) 次", s).group(1)) for s in counted)
    assert numbers == list(range(1, failures + 1))
    if limit > attempts:
        assert failures == attempts and locks == 0
    else:
        assert failures >= limit and locks == failures // limit
        locked_until = db.session.scalar(select(LoginLock.locked_until).where(LoginLock.name_key == services.name_key("leader")))
        assert locked_until > utcnow()
