"""HTTP: the volunteers' recruitment pages (issue 17) — the public list and page, sign-up and cancel, the
QR landing page and the typed code, 补签, rating, my sign-ups and messages; each volunteer sees only
their own sign-ups, staff and anonymous users get what their role allows."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from blueprints.activities import checkin, recruitment
from blueprints.activities.models import Participant, RecruitScope, SignupStatus
from blueprints.reports.models import Notification
from blueprints.volunteers.models import RecordSource, ServiceRecord, VolunteerSkill
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import local_today, to_local, utcnow
from tests import factories


def _recruiting(org, held_on=None, **kw):
    a = factories.activity(org, held_on=held_on or local_today() + timedelta(days=3), start_time=time(9),
                           end_time=time(12), **kw)
    a.recruiting, a.published_at, a.auto_accept = True, utcnow(), kw.get("auto_accept", True)
    db.session.commit()
    return a


def _running_now(org):
    """An activity held today whose time includes now (codes are active)."""
    now = to_local(utcnow())
    start = time(max(0, now.hour - 1), 0)
    end = time(min(23, now.hour + 2), 0) if now.hour < 22 else time(23, 59)
    a = factories.activity(org, held_on=local_today(), start_time=start, end_time=end)
    a.recruiting, a.published_at, a.auto_accept = True, utcnow(), True
    a.signup_deadline = utcnow() + timedelta(minutes=30)
    db.session.commit()
    return a


def _code(a, now=None):
    return checkin.code_for(a.id, checkin.window_of(now or utcnow()))


@pytest.mark.parametrize("role", [None, "volunteer", "org_leader", "district_staff_2", "reviewer"])
def test_the_public_list_and_page_open_to_everyone(as_role, client, world, role):
    a = _recruiting(world["org_a"], recruit_skills="扶老")
    hidden = factories.activity(world["org_a"], "未发布的活动", held_on=local_today() + timedelta(days=3))
    db.session.commit()
    c = as_role(role) if role else client
    body = c.get("/recruit/").get_data(as_text=True)
    assert a.title in body and "未发布的活动" not in body
    assert c.get(f"/recruit/{a.id}").status_code == 200
    assert c.get(f"/recruit/{hidden.id}").status_code == 404


def test_the_list_filters_by_region_category_skill_and_date(client, world):
    a = _recruiting(world["org_a"], recruit_skills="扶老")
    b = _recruiting(world["org_b"], category="others")
    b.title = "霞山敬老"
    db.session.commit()
    get = lambda q: client.get("/recruit/" + q).get_data(as_text=True)  # noqa: E731
    assert a.title in get(f"?region={world['district_a'].id}") and "霞山敬老" not in get(f"?region={world['district_a'].id}")
    assert "霞山敬老" in get("?category=others") and a.title not in get("?category=others")
    assert a.title in get("?skill=扶老") and "霞山敬老" not in get("?skill=扶老")
    later = (local_today() + timedelta(days=10)).isoformat()
    assert a.title not in get(f"?from={later}")
    resp = client.htmx_get("/recruit/?skill=扶老&region=x&from=junk")
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)


def test_anonymous_is_asked_to_log_in_to_sign_up(client, world):
    a = _recruiting(world["org_a"])
    assert "登录后报名" in client.get(f"/recruit/{a.id}").get_data(as_text=True)
    resp = client.post(f"/recruit/{a.id}/signup")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_volunteer_signs_up_and_cancels(me, as_role):
    a = _recruiting(me["org_v"], capacity=5)
    c = as_role("volunteer")
    assert c.post(f"/recruit/{a.id}/signup").status_code == 303
    body = c.get(f"/recruit/{a.id}").get_data(as_text=True)
    assert 'id="signup-status">已录用<' in body and "剩余 4 / 5" in body
    assert a.title in c.get("/my/activities").get_data(as_text=True)
    assert c.post(f"/recruit/{a.id}/signup").status_code == 422  # already
    assert c.post(f"/recruit/{a.id}/cancel").status_code == 303
    p = db.session.scalar(select(Participant).where(Participant.activity_id == a.id))
    assert p.signup_status == SignupStatus.CANCELLED
    assert "报名成功" in c.get("/my/notices").get_data(as_text=True)


def test_conditions_are_checked_on_the_server(me, as_role):
    a = _recruiting(me["org_b"] if "org_b" in me else me["org_a"], recruit_skills="法律援助")
    c = as_role("volunteer")
    resp = c.post(f"/recruit/{a.id}/signup")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "仅限本组织成员" in body and "法律援助" in body
    assert db.session.scalar(select(Participant.id).where(Participant.activity_id == a.id)) is None


def test_a_minor_signs_up_only_with_a_guardian_present(world, client, app):
    org = factories.org(world["community_a"], "少年志愿队")
    kid = factories.activity_volunteer(org, "小华", birth=f"{local_today().year - 14}0301")
    factories.volunteer_account(kid, "kid")
    a = _recruiting(org)
    a.recruit_minors = True
    db.session.commit()
    c = app.test_client()
    c.login("kid")
    assert "监护人陪同参加" in c.get(f"/recruit/{a.id}").get_data(as_text=True)
    resp = c.post(f"/recruit/{a.id}/signup")
    assert resp.status_code == 422 and "监护人" in resp.get_data(as_text=True)
    assert c.post(f"/recruit/{a.id}/signup", data={"guardian_present": "y"}).status_code == 303
    p = db.session.scalar(select(Participant).where(Participant.activity_id == a.id))
    assert p.guardian_present and p.signup_status == SignupStatus.ACCEPTED


def test_a_volunteer_sees_only_their_own_sign_ups(me, as_role, app):
    a = _recruiting(me["org_v"])
    other = factories.activity_volunteer(me["org_v"], "别人")
    db.session.add(Participant(activity_id=a.id, volunteer_id=other.id, signup_status=SignupStatus.ACCEPTED))
    db.session.commit()
    c = as_role("volunteer")
    assert a.title not in c.get("/my/activities").get_data(as_text=True)
    assert "我的报名" not in c.get(f"/recruit/{a.id}").get_data(as_text=True)
    assert c.post(f"/recruit/{a.id}/cancel").status_code == 404  # nothing of theirs to cancel
    assert c.post(f"/recruit/{a.id}/rate", data={"rating": "5"}).status_code == 404


@pytest.mark.parametrize("role", ["org_leader", "district_staff", "city_admin", "leader", "reviewer"])
def test_staff_cannot_use_the_volunteers_actions(as_role, world, role):
    a = _recruiting(world["org_a"])
    c = as_role(role)
    for url in (f"/c/{a.id}", "/my/checkin", "/my/activities", "/my/notices"):
        assert c.get(url).status_code == 403, url
    assert c.post(f"/recruit/{a.id}/signup").status_code == 403


def test_check_in_by_the_qr_url_then_check_out(me, as_role):
    a = _running_now(me["org_v"])
    c = as_role("volunteer")
    c.post(f"/recruit/{a.id}/signup")
    code = _code(a)
    page = c.get(f"/c/{a.id}?c={code}").get_data(as_text=True)
    assert f'value="{code}"' in page and ">签到</button>" in page
    assert c.post(f"/c/{a.id}", data={"code": code}).status_code == 303
    p = db.session.scalar(select(Participant).where(Participant.activity_id == a.id))
    assert p.checkin_at is not None
    resp = c.post(f"/c/{a.id}", data={"code": code})  # the same code again
    assert resp.status_code == 422 and "已用于签到" in resp.get_data(as_text=True)
    p.checkin_at, p.checkin_window = utcnow() - timedelta(minutes=70), checkin.window_of(utcnow()) - 70
    db.session.commit()
    assert ">签退</button>" in c.get(f"/c/{a.id}?c={code}").get_data(as_text=True)
    assert c.post(f"/c/{a.id}", data={"code": _code(a)}).status_code == 303
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.activity_id == a.id))
    assert str(record.hours) == "1.0" and record.source == RecordSource.CHECKIN
    assert "1.0 小时" in c.get(f"/recruit/{a.id}").get_data(as_text=True)


def test_a_foreign_or_bad_code_is_refused_with_a_message_and_logged(me, as_role):
    a = _running_now(me["org_v"])
    b = _running_now(me["org_v"])
    c = as_role("volunteer")
    c.post(f"/recruit/{a.id}/signup")
    resp = c.post(f"/c/{a.id}", data={"code": _code(b)})
    assert resp.status_code == 422 and "签到码无效" in resp.get_data(as_text=True)
    resp = c.post(f"/c/{b.id}", data={"code": _code(b)})
    assert resp.status_code == 422 and "未报名该活动" in resp.get_data(as_text=True)
    resp = c.post("/my/checkin", data={"code": "12ab"})
    assert resp.status_code == 422 and "6 位" in resp.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "checkin_refused")) is not None
    assert len(list(db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == "checkin_refused")))) == 2


def test_a_typed_code_checks_in(me, as_role):
    a = _running_now(me["org_v"])
    c = as_role("volunteer")
    c.post(f"/recruit/{a.id}/signup")
    resp = c.post("/my/checkin", data={"code": _code(a)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/recruit/{a.id}")
    assert db.session.scalar(select(Participant.checkin_at).where(Participant.activity_id == a.id)) is not None


def test_makeup_and_rating_after_the_activity(me, as_role):
    a = _recruiting(me["org_v"], held_on=local_today() - timedelta(days=1))
    p = Participant(activity_id=a.id, volunteer_id=me["person"].id, signup_status=SignupStatus.ACCEPTED,
                    via_portal=True, checkin_at=recruitment.local_to_utc(a.held_on, time(9)))
    db.session.add(p)
    db.session.commit()
    c = as_role("volunteer")
    assert "补签（忘记签退）" in c.get(f"/recruit/{a.id}").get_data(as_text=True)
    resp = c.post(f"/recruit/{a.id}/makeup", data={"left_at": "08:00"})
    assert resp.status_code == 422 and "应晚于签到时间" in resp.get_data(as_text=True)
    assert c.post(f"/recruit/{a.id}/makeup", data={"left_at": "11:30", "note": "忘记签退"}).status_code == 303
    db.session.refresh(p)
    assert p.makeup_status == "requested"
    resp = c.post(f"/recruit/{a.id}/rate", data={"rating": "5"})
    assert resp.status_code == 422 and "参加活动" in resp.get_data(as_text=True)
    p.attended = True
    db.session.commit()
    assert c.post(f"/recruit/{a.id}/rate", data={"rating": "9"}).status_code == 422
    assert c.post(f"/recruit/{a.id}/rate", data={"rating": "4", "comment": "很好"}).status_code == 303
    db.session.refresh(p)
    assert (p.rating, p.rating_comment) == (4, "很好")


def test_messages_tab_shows_the_unread_count_and_marks_read(me, as_role):
    from blueprints.reports.services import notify

    notify([me["volunteer"]], "报名已录用：测试活动", "明天见")
    notify([factories.user("org_leader", orgs=[me["org_a"]])], "别人的消息")
    db.session.commit()
    c = as_role("volunteer")
    body = c.get("/my/notices").get_data(as_text=True)
    assert "报名已录用：测试活动" in body and "别人的消息" not in body and 'class="tab-badge"' in body
    assert c.post("/my/notices/read").status_code == 303
    assert 'class="tab-badge"' not in c.get("/my/notices").get_data(as_text=True)
    assert db.session.scalar(select(Notification.read_at).where(Notification.user_id == me["volunteer"].id))


def test_district_open_activity_accepts_a_resident_who_is_not_a_member(me, as_role, world):
    a = _recruiting(world["org_a"])
    a.recruit_open_to = RecruitScope.DISTRICT
    db.session.add(VolunteerSkill(volunteer_id=me["person"].id, skill="扶老"))
    db.session.commit()
    c = as_role("volunteer")
    assert c.post(f"/recruit/{a.id}/signup").status_code == 303  # lives in district A, serves in org_v


def test_a_member_signed_up_by_the_organizer_checks_in_at_an_unpublished_activity(me, as_role):
    a = _running_now(me["org_v"])
    a.recruiting, a.published_at = False, None
    db.session.add(Participant(activity_id=a.id, volunteer_id=me["person"].id, signup_status=SignupStatus.ACCEPTED))
    db.session.commit()
    c = as_role("volunteer")
    assert c.post(f"/c/{a.id}", data={"code": _code(a)}).status_code == 303
    assert as_role("org_leader").get(f"/recruit/{a.id}").status_code == 404  # not public


def test_the_organizer_signs_up_again_one_who_cancelled_on_the_platform(app, me, as_role):
    a = _recruiting(me["org_v"], capacity=3)
    c = as_role("volunteer")
    c.post(f"/recruit/{a.id}/signup")
    c.post(f"/recruit/{a.id}/cancel")
    factories.user("org_leader", "leader_v", orgs=[me["org_v"]])
    db.session.commit()
    staff = app.test_client()
    staff.login("leader_v")
    assert staff.post(f"/activities/{a.id}/participants", data={"volunteer_id": me["person"].id}).status_code == 303
    p = db.session.scalar(select(Participant).where(Participant.activity_id == a.id))
    db.session.refresh(a)
    assert p.signup_status == SignupStatus.ACCEPTED and a.participant_count == 1


@pytest.mark.parametrize("role", ["volunteer", None])
def test_junk_on_the_volunteers_pages_is_never_a_500(me, as_role, client, role):
    from tests.test_robustness import JUNK_FORM, JUNK_QUERY

    a = _running_now(me["org_v"])
    db.session.add(Participant(activity_id=a.id, volunteer_id=me["person"].id, signup_status=SignupStatus.ACCEPTED,
                               checkin_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    c = as_role(role) if role else client
    junk = JUNK_FORM | {"code": "%00", "rating": "1e309", "comment": "x" * 900, "left_at": "25:99", "note": "\x00",
                        "guardian_present": "<b>"}
    failures = []
    for url in (f"/recruit/{a.id}/signup", f"/recruit/{a.id}/rate", f"/recruit/{a.id}/makeup", f"/c/{a.id}",
                "/my/checkin", f"/recruit/{a.id}/cancel", "/my/notices/read"):
        if c.post(url, data=junk).status_code >= 500:
            failures.append(url)
    for url in ("/recruit/", f"/recruit/{a.id}", f"/c/{a.id}?c=%00", "/my/checkin", "/my/activities", "/my/notices"):
        if c.get(url + ("&" if "?" in url else "?") + JUNK_QUERY[1:]).status_code >= 500:
            failures.append(url)
    assert not failures
