"""Server-side sessions: logout ends them for every copy of the cookie; users and admins end them."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.accounts.models import UserSession
from core.audit import AuditEntry
from core.extensions import db
from tests import factories

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")


def _login(app, username: str, ip: str = "127.0.0.1", ua: str = CHROME_WINDOWS):
    c = app.test_client()
    resp = c.post("/login", data={"username": username, "password": factories.PASSWORD},
                  environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": ua})
    assert resp.status_code == 303
    return c


def _open_sessions(user) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))


def test_cookie_copied_before_logout_is_worthless_after_it(app, world, as_role):
    number = factories.id_number()
    v = factories.volunteer(world["org_a"], number=number)
    db.session.commit()
    c = as_role("district_staff")
    reveal = f"/volunteers/{v.id}/reveal/id_number"
    assert number in c.post(reveal, headers={"HX-Request": "true"}).get_data(as_text=True)
    copied = c.get_cookie("zhiyuan_session").value
    token = c.csrf_token()

    assert c.post("/logout").status_code == 303

    replay = app.test_client()
    replay.set_cookie("zhiyuan_session", copied)
    resp = replay.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    replay.set_cookie("zhiyuan_session", copied)
    resp = replay.htmx_get("/volunteers/")
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")
    replay.set_cookie("zhiyuan_session", copied)
    resp = replay.post(reveal, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert resp.status_code == 401 and number not in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reveal")) == 1
    assert db.session.scalar(select(UserSession.end_reason)) == "logout"


def test_forged_or_unknown_session_id_is_refused(app, world, as_role):
    c = as_role("district_staff")
    with c.session_transaction() as sess:
        row_id, _, secret = sess["sid"].partition(".")
        sess["sid"] = f"{row_id}.{'x' * len(secret)}"
    assert c.get("/").status_code == 302
    with c.session_transaction() as sess:
        assert "sid" not in sess and "_user_id" not in sess  # the dead session is forgotten
    c = as_role("district_staff")
    with c.session_transaction() as sess:
        sess["sid"] = "999999.abc"
    assert c.get("/").status_code == 302


def test_a_session_cannot_be_moved_to_another_account(app, world):
    a = _login(app, "org_leader")
    with a.session_transaction() as sess:
        sess["_user_id"] = str(world["city_admin"].id)
    assert a.get("/accounts").status_code == 302


def test_password_page_lists_the_open_sessions(app, world):
    here = _login(app, "org_leader")
    _login(app, "org_leader", ip="10.1.2.3", ua="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) MicroMessenger/8.0")
    other_user = _login(app, "org_leader_2", ip="10.9.9.9")
    other_user.post("/logout")
    body = here.get("/account/password").get_data(as_text=True)
    assert body.count("<td>127.0.0.1</td>") == 1 and "<td>10.1.2.3</td>" in body
    assert "Chrome · Windows" in body and "微信 · iPhone" in body
    assert "当前会话" in body and "结束其他会话" in body
    assert "10.9.9.9" not in body  # another account's session


def test_user_ends_the_other_sessions(app, world):
    here = _login(app, "org_leader")
    there = _login(app, "org_leader", ip="10.1.2.3")
    third = _login(app, "org_leader", ip="10.1.2.4")
    resp = here.post("/account/sessions/end-others")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/account/password")
    assert there.get("/").status_code == 302 and third.get("/").status_code == 302
    assert here.get("/").status_code == 200
    assert _open_sessions(world["org_leader"]) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "logout"))
    assert "其他 2 个会话" in entry.summary and entry.username == "org_leader"


def test_ending_sessions_needs_csrf(app, world):
    here = _login(app, "org_leader")
    there = _login(app, "org_leader", ip="10.1.2.3")
    assert here.post("/account/sessions/end-others", csrf=False).status_code == 400
    assert there.get("/").status_code == 200


def test_user_ends_one_session_but_only_their_own(app, world):
    here = _login(app, "org_leader")
    there = _login(app, "org_leader", ip="10.1.2.3")
    stranger = _login(app, "org_leader_2")
    ids = {s.ip: s.id for s in db.session.scalars(select(UserSession).where(UserSession.user_id == world["org_leader"].id))}
    strangers = db.session.scalar(select(UserSession.id).where(UserSession.user_id == world["org_leader_2"].id))
    assert here.post(f"/account/sessions/{strangers}/end").status_code == 404
    assert stranger.get("/").status_code == 200
    assert here.post(f"/account/sessions/{ids['127.0.0.1']}/end").status_code == 400  # own: use 退出
    assert here.post(f"/account/sessions/{ids['10.1.2.3']}/end").status_code == 303
    assert there.get("/").status_code == 302 and here.get("/").status_code == 200
    assert here.post(f"/account/sessions/{ids['10.1.2.3']}/end").status_code == 404  # already ended


def test_admin_sees_and_ends_a_users_sessions(app, world, as_role):
    victim = _login(app, "org_leader", ip="10.1.2.3")
    admin = as_role("district_staff")
    page = admin.get(f"/accounts/{world['org_leader'].id}/edit").get_data(as_text=True)
    assert "10.1.2.3" in page and "结束全部会话" in page
    resp = admin.post(f"/accounts/{world['org_leader'].id}/sessions/end")
    assert resp.status_code == 303
    assert victim.get("/").status_code == 302
    assert admin.get("/").status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "logout",
                                                       AuditEntry.entity_id == world["org_leader"].id))
    assert entry.username == "district_staff" and "全部会话（1 个）" in entry.summary
    assert db.session.scalar(select(UserSession.end_reason).where(UserSession.user_id == world["org_leader"].id)) == "admin"


def test_admin_ends_sessions_only_within_their_scope(app, world, as_role):
    victim = _login(app, "org_leader")
    staff = _login(app, "district_staff")
    other = as_role("district_staff_2")
    assert other.post(f"/accounts/{world['org_leader'].id}/sessions/end").status_code == 404
    assert victim.get("/").status_code == 200
    mine = as_role("district_staff")
    assert mine.post(f"/accounts/{world['city_admin'].id}/sessions/end").status_code == 404
    assert mine.post(f"/accounts/{world['district_staff'].id}/sessions/end").status_code == 403  # self
    assert as_role("org_leader_2").post(f"/accounts/{world['org_leader'].id}/sessions/end").status_code == 403
    assert staff.get("/").status_code == 200 and victim.get("/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "logout", AuditEntry.entity_id == world["org_leader"].id)) == 0


def test_reset_and_deactivation_end_every_session(app, world, as_role):
    victim = _login(app, "leader")
    admin = as_role("city_admin")
    assert admin.post(f"/accounts/{world['leader'].id}/reset").status_code == 200
    assert victim.get("/").status_code == 302
    assert _open_sessions(world["leader"]) == 0
    victim = _login(app, "reviewer")
    assert admin.post(f"/accounts/{world['reviewer'].id}/active", data={"active": "0"}).status_code == 303
    assert victim.get("/").status_code == 302 and _open_sessions(world["reviewer"]) == 0


def test_password_change_keeps_this_session_and_ends_the_others(app, world):
    here = _login(app, "org_leader")
    there = _login(app, "org_leader", ip="10.1.2.3")
    resp = here.post("/account/password", data={"current": factories.PASSWORD, "new": "NewPass123",
                                                "confirm": "NewPass123"})
    assert resp.status_code == 303
    assert here.get("/").status_code == 200 and there.get("/").status_code == 302
    assert [s.end_reason for s in db.session.scalars(select(UserSession).order_by(UserSession.id))] == ["", "password"]


def test_sessions_over_a_month_old_are_dropped_at_the_next_login(app, world):
    from datetime import timedelta

    from core.timeutil import utcnow

    old = utcnow() - timedelta(days=31)
    db.session.add(UserSession(user_id=world["leader"].id, secret_hash="0" * 64, created_at=old, last_seen_at=old,
                               ended_at=old, end_reason="logout"))
    db.session.add(UserSession(user_id=world["reviewer"].id, secret_hash="0" * 64, created_at=old, last_seen_at=old))
    db.session.commit()
    _login(app, "leader")
    owners = sorted(db.session.scalars(select(UserSession.user_id)))
    assert owners == sorted([world["leader"].id, world["reviewer"].id])  # the new one, and another account's
    assert db.session.scalar(select(func.min(UserSession.created_at)).where(
        UserSession.user_id == world["leader"].id)) > old
