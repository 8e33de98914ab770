"""Login, lock-out, sessions, logout, password changes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from blueprints.accounts import services
from blueprints.accounts.models import LoginLock, UserSession
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import PASSWORD


def test_login_page_renders_in_chinese(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert "登录" in resp.get_data(as_text=True)


def test_each_role_logs_in_and_sees_its_dashboard(app, world):
    for role in ["city_admin", "district_staff", "org_leader", "leader", "reviewer"]:
        c = app.test_client()
        c.login(world[role].username)
        body = c.get("/").get_data(as_text=True)
        assert world[role].role.label in body


def test_wrong_password_is_refused_with_a_clear_message(client, world):
    resp = client.post("/login", data={"username": "district_staff", "password": "nope"})
    assert resp.status_code == 401
    assert "用户名或密码不正确" in resp.get_data(as_text=True)
    # The username the user typed is kept in the form.
    assert 'value="district_staff"' in resp.get_data(as_text=True)


def test_unknown_user_gets_the_same_message_as_a_wrong_password(client, world):
    resp = client.post("/login", data={"username": "ghost", "password": "nope"})
    assert resp.status_code == 401
    assert "用户名或密码不正确" in resp.get_data(as_text=True)


def test_empty_form_gets_field_messages(client):
    resp = client.post("/login", data={})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请输入用户名" in body and "请输入密码" in body


def test_ten_thousand_character_username_is_refused_not_a_500(client):
    resp = client.post("/login", data={"username": "a" * 10000, "password": "x"})
    assert resp.status_code == 422
    assert "用户名过长" in resp.get_data(as_text=True)


def test_forged_csrf_token_is_refused(client, world):
    resp = client.post("/login", data={"username": "city_admin", "password": PASSWORD, "csrf_token": "forged"},
                       csrf=False)
    assert resp.status_code == 400
    assert "页面已过期" in resp.get_data(as_text=True)
    assert 'value="city_admin"' in resp.get_data(as_text=True)
    assert "_user_id" not in (client.get_cookie("zhiyuan_session").value if client.get_cookie("zhiyuan_session") else "")


def test_forged_csrf_on_an_htmx_post_is_a_400_page(as_role):
    c = as_role("city_admin")
    resp = c.post("/logout", headers={"X-CSRFToken": "forged"}, csrf=False)
    assert resp.status_code == 400
    assert "安全校验失败" in resp.get_data(as_text=True)


def test_five_failures_lock_the_account_from_that_address_for_five_minutes(client, world):
    for _ in range(5):
        resp = client.post("/login", data={"username": "leader", "password": "bad"})
        assert resp.status_code == 401 and "用户名或密码不正确" in resp.get_data(as_text=True)
    # Even the right password is refused from that address while locked: the lock lives in the
    # database. The page says no more than for any wrong password (no "locked", no count).
    resp = client.post("/login", data={"username": "leader", "password": PASSWORD})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "用户名或密码不正确" in body and "锁定" not in body and "再错" not in body
    lock = db.session.scalar(select(LoginLock).where(LoginLock.name_key == services.name_key("leader")))
    assert lock.ip == "127.0.0.1" and lock.locked_until > utcnow() + timedelta(minutes=4)
    user = world["leader"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == user.id)).all()
    actions = [e.action for e in entries]
    assert "lock" in actions and actions.count("login_failed") == 6
    # The remaining tries went to the audit log instead of the page.
    assert any("再错 1 次将锁定" in e.summary for e in entries)


def test_lock_expires(client, world):
    for _ in range(5):
        client.post("/login", data={"username": "leader", "password": "bad"})
    db.session.execute(update(LoginLock).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.post("/login", data={"username": "leader", "password": PASSWORD}).status_code == 303
    assert db.session.scalar(select(LoginLock)) is None  # a success from the address clears its count


def test_logout_is_post_only_and_ends_the_session(as_role):
    c = as_role("district_staff")
    assert c.get("/logout").status_code == 405
    assert c.post("/logout").status_code == 303
    assert c.get("/").status_code == 302  # back to the login page


def _age_sessions(**minutes):
    """Move every session's timestamps back (created=…, seen=… minutes)."""
    for row in db.session.scalars(select(UserSession)):
        row.created_at -= timedelta(minutes=minutes.get("created", 0))
        row.last_seen_at -= timedelta(minutes=minutes.get("seen", 0))
    db.session.commit()


def test_idle_timeout_ends_the_session(app, as_role):
    c = as_role("district_staff")
    _age_sessions(seen=app.config["IDLE_TIMEOUT_MINUTES"] + 1, created=app.config["IDLE_TIMEOUT_MINUTES"] + 1)
    resp = c.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    row = db.session.scalar(select(UserSession))
    assert row.ended_at is not None and row.end_reason == "idle"
    assert "登录已超时" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_activity_keeps_the_session_alive_with_one_write_a_minute(app, as_role):
    c = as_role("district_staff")
    _age_sessions(seen=app.config["IDLE_TIMEOUT_MINUTES"] - 1, created=app.config["IDLE_TIMEOUT_MINUTES"])
    assert c.get("/").status_code == 200
    row = db.session.scalar(select(UserSession))
    touched = row.last_seen_at
    assert utcnow() - touched < timedelta(seconds=5)
    # Within the minute, further requests do not write.
    row.last_seen_at = touched - timedelta(seconds=30)
    db.session.commit()
    assert c.get("/").status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at == touched - timedelta(seconds=30)


def test_absolute_lifetime_ends_the_session(app, as_role):
    c = as_role("district_staff")
    _age_sessions(created=app.config["SESSION_LIFETIME_MINUTES"] + 1)
    assert c.get("/").status_code == 302
    assert db.session.scalar(select(UserSession.end_reason)) == "expired"


def test_login_starts_a_fresh_session_without_personal_data(client, world):
    with client.session_transaction() as sess:
        sess["planted"] = "x"
    client.login("district_staff")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert set(sess.keys()) <= {"_user_id", "_fresh", "_id", "_permanent", "sid", "csrf_token"}


def test_session_cookie_flags(client, world):
    resp = client.post("/login", data={"username": "district_staff", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_via_next_is_refused(client, world):
    resp = client.post("/login?next=https://evil.example/x", data={"username": "district_staff", "password": PASSWORD})
    assert resp.headers["Location"] == "/"
    c2 = client.application.test_client()
    resp = c2.post("/login?next=//evil.example", data={"username": "district_staff", "password": PASSWORD})
    assert resp.headers["Location"] == "/"


def test_local_next_is_followed(client, world):
    resp = client.post("/login?next=/regions/", data={"username": "district_staff", "password": PASSWORD})
    assert resp.headers["Location"] == "/regions/"


def test_change_own_password(as_role):
    c = as_role("org_leader")
    resp = c.post("/account/password", data={"current": "wrong", "new": "NewPass123", "confirm": "NewPass123"})
    assert resp.status_code == 422 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = c.post("/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert resp.status_code == 422 and "至少 8 位" in resp.get_data(as_text=True)
    resp = c.post("/account/password", data={"current": PASSWORD, "new": "NewPass123", "confirm": "NewPass123"})
    assert resp.status_code == 303
    c.post("/logout")
    c.login("org_leader", "NewPass123")


def test_password_change_ends_other_sessions(app, world):
    a, b = app.test_client(), app.test_client()
    a.login("org_leader")
    b.login("org_leader")
    a.post("/account/password", data={"current": PASSWORD, "new": "NewPass123", "confirm": "NewPass123"})
    assert a.get("/").status_code == 200
    assert b.get("/").status_code == 302


def test_pages_of_logged_in_users_are_not_cached(as_role):
    resp = as_role("district_staff").get("/")
    assert resp.headers["Cache-Control"] == "no-store"


def test_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_oversized_request_is_refused_with_413(client):
    big = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post("/login", data={"username": big, "password": "x"})
    assert resp.status_code == 413
    assert "文件过大" in resp.get_data(as_text=True)


def test_unknown_page_is_a_chinese_404(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_htmx_request_without_a_session_is_told_to_navigate_to_login(client, world):
    resp = client.htmx_get("/accounts?q=x")
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")


def test_html_answers_vary_on_hx_request(as_role):
    assert "HX-Request" in as_role("city_admin").get("/accounts").headers["Vary"]
