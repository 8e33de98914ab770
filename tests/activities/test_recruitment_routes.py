"""HTTP: the staff pages of recruitment (issue 17) for every role — publish, the check-in code, the roster
with its accept/decline and 补签 buttons, the queue, the district's figures and its home tile."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from blueprints.activities import checkin, recruitment
from blueprints.activities.models import Activity, MakeupStatus, Participant, SignupStatus
from blueprints.volunteers.models import RecordSource, ServiceRecord
from core.extensions import db
from core.timeutil import local_today, utcnow
from tests import factories


@pytest.fixture
def act(world):
    a = factories.activity(world["org_a"], held_on=local_today() + timedelta(days=5), start_time=time(9),
                           end_time=time(12), capacity=10)
    db.session.commit()
    return a


def _pending(world, a, status=SignupStatus.PENDING, **kw):
    v = factories.activity_volunteer(world["org_a"], "报名人")
    p = Participant(activity_id=a.id, volunteer_id=v.id, signup_status=status, via_portal=True, **kw)
    db.session.add(p)
    a.recruiting, a.published_at = True, utcnow()
    a.participant_count = 1
    db.session.commit()
    return p


@pytest.mark.parametrize("role,status", [("org_leader", 200), ("district_staff", 200), ("city_admin", 200),
                                         ("org_leader_2", 404), ("district_staff_2", 404), ("leader", 403),
                                         ("reviewer", 403), ("volunteer", 403)])
def test_the_recruit_form_by_role(as_role, act, role, status):
    assert as_role(role).get(f"/activities/{act.id}/recruit").status_code == status
    assert as_role(role).get(f"/activities/{act.id}/code").status_code == status


def test_publishing_by_form(as_role, act):
    c = as_role("org_leader")
    resp = c.post(f"/activities/{act.id}/recruit", data={"open_to": "district", "min_age": "18", "max_age": "65",
                                                         "skills": ["扶老"], "auto_accept": "y"})
    assert resp.status_code == 303
    db.session.refresh(act)
    assert act.recruiting and act.recruit_open_to == "district" and act.skill_list == ["扶老"] and act.auto_accept
    body = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "平台招募与签到" in body and "招募中" in body and "面向本区志愿者" in body


def test_a_bad_recruit_form_is_422_with_the_message_and_what_was_typed(as_role, act):
    resp = as_role("org_leader").post(f"/activities/{act.id}/recruit",
                                      data={"open_to": "members", "min_age": "40", "max_age": "30"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "最低年龄不能高于最高年龄" in body and 'value="40"' in body
    act.risky = True
    db.session.commit()
    resp = as_role("org_leader").post(f"/activities/{act.id}/recruit", data={"open_to": "members", "minors": "y"})
    assert resp.status_code == 422 and "不得招募未成年人" in resp.get_data(as_text=True)
    db.session.refresh(act)
    assert not act.recruiting


def test_stop_recruiting(as_role, act):
    act.recruiting, act.published_at = True, utcnow()
    db.session.commit()
    assert as_role("org_leader_2").post(f"/activities/{act.id}/recruit/stop").status_code == 404
    assert as_role("org_leader").post(f"/activities/{act.id}/recruit/stop").status_code == 303
    db.session.refresh(act)
    assert not act.recruiting


def test_the_code_widget_shows_a_qr_of_this_platform_during_the_activity_and_refreshes_itself(as_role, world):
    now = checkin.to_local(utcnow())
    start = max(time(0, 0), (now - timedelta(hours=1)).time()) if now.hour >= 1 else time(0, 0)
    end = min(time(23, 59), (now + timedelta(hours=1)).time()) if now.hour < 22 else time(23, 59)
    a = factories.activity(world["org_a"], held_on=local_today(), start_time=start.replace(second=0, microsecond=0),
                           end_time=end.replace(second=0, microsecond=0))
    db.session.commit()
    resp = as_role("org_leader").htmx_get(f"/activities/{a.id}/code")
    body = resp.get_data(as_text=True)
    code = checkin.current_code(a)[0]
    assert resp.status_code == 200 and "<html" not in body and "HX-Request" in resp.headers["Vary"]
    assert 'hx-trigger="every 10s"' in body and "data:image/svg+xml" in body
    assert code in body or checkin.code_for(a.id, checkin.window_of(utcnow()) - 1) in body
    assert f"/c/{a.id}?c=" in body
    future = factories.activity(world["org_a"], held_on=local_today() + timedelta(days=3), start_time=time(9))
    db.session.commit()
    body = as_role("org_leader").get(f"/activities/{future.id}/code").get_data(as_text=True)
    assert "签到码在活动时间前后可用" in body and "data:image/svg+xml" not in body


@pytest.mark.parametrize("role,status", [("org_leader", 303), ("org_leader_2", 404), ("district_staff_2", 404),
                                         ("leader", 403), ("volunteer", 403)])
def test_accepting_a_sign_up_by_role(as_role, world, act, role, status):
    p = _pending(world, act)
    assert as_role(role).post(f"/activities/{act.id}/signups/{p.id}/accept").status_code == status
    db.session.refresh(p)
    assert p.signup_status == (SignupStatus.ACCEPTED if status == 303 else SignupStatus.PENDING)


def test_declining_from_the_queue_frees_the_place(as_role, world, act):
    p = _pending(world, act)
    c = as_role("org_leader")
    body = c.get("/activities/signups").get_data(as_text=True)
    assert "报名人" in body and "报名待审核" in body
    assert "报名人" not in as_role("org_leader_2").get("/activities/signups").get_data(as_text=True)
    resp = c.post(f"/activities/{act.id}/signups/{p.id}/decline", data={"back": "queue"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/activities/signups")
    db.session.refresh(p)
    db.session.refresh(act)
    assert p.signup_status == SignupStatus.DECLINED and act.participant_count == 0
    assert c.post(f"/activities/{act.id}/signups/{p.id}/accept").status_code == 303  # flashed: already decided
    db.session.refresh(p)
    assert p.signup_status == SignupStatus.DECLINED


def test_a_makeup_request_is_confirmed_in_the_roster(as_role, world):
    a = factories.activity(world["org_a"], held_on=local_today() - timedelta(days=1), start_time=time(9),
                           end_time=time(12))
    p = _pending(world, a, status=SignupStatus.ACCEPTED, checkin_at=recruitment.local_to_utc(a.held_on, time(9)),
                 makeup_status=MakeupStatus.REQUESTED,
                 makeup_checkout_at=recruitment.local_to_utc(a.held_on, time(11, 10)))
    body = as_role("org_leader").get(f"/activities/{a.id}").get_data(as_text=True)
    assert "补签待确认" in body and "09:00" in body and "确认补签" in body
    assert as_role("org_leader_2").post(f"/activities/{a.id}/signups/{p.id}/makeup/confirm").status_code == 404
    assert as_role("org_leader").post(f"/activities/{a.id}/signups/{p.id}/makeup/confirm").status_code == 303
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.activity_id == a.id))
    assert str(record.hours) == "2.0" and record.source == RecordSource.CHECKIN
    body = as_role("org_leader").get(f"/activities/{a.id}").get_data(as_text=True)
    assert "2.0 小时 · 签到 · 待审核" in body


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 200), ("leader", 200),
                                         ("org_leader", 200), ("reviewer", 403), ("volunteer", 403)])
def test_the_district_figures_by_role(as_role, world, act, role, status):
    _pending(world, act)
    resp = as_role(role).get("/activities/recruitment")
    assert resp.status_code == status
    if status == 200:
        assert world["org_a"].name in resp.get_data(as_text=True)


def test_another_districts_figures_are_not_shown(as_role, world, act):
    _pending(world, act)
    assert world["org_a"].name not in as_role("district_staff_2").get("/activities/recruitment").get_data(as_text=True)
    assert as_role("district_staff").get("/activities/recruitment?year=abc").status_code == 200


def test_the_home_tile_for_the_district_office(as_role, world, act):
    _pending(world, act)
    body = as_role("district_staff").get("/").get_data(as_text=True)
    assert "平台招募与签到" in body and "平台报名" in body
    assert "平台招募与签到" not in as_role("org_leader").get("/").get_data(as_text=True)


def test_ratings_show_in_aggregate_on_the_activity_page(as_role, world, act):
    p = _pending(world, act, status=SignupStatus.ACCEPTED, rating=4, rating_comment="很有意义", rated_at=utcnow())
    body = as_role("district_staff").get(f"/activities/{act.id}").get_data(as_text=True)
    assert "平均 <strong>4.0</strong> 分（1 人评价）" in body and "很有意义" in body
    assert p.volunteer.name in body
    assert as_role("district_staff_2").get(f"/activities/{act.id}").status_code == 404
    assert db.session.get(Activity, act.id) is not None


def test_the_ledger_queue_marks_checkin_and_hand_entries(as_role, world):
    """Hand entries stay possible and are marked 手工录入; check-ins are 签到 (issue 17)."""
    from blueprints.volunteers import ledger

    v = factories.activity_volunteer(world["org_a"], "标记测试")
    ledger.create_record(world["city_admin"], v, world["org_a"], local_today(), "2", "手工录入的服务")
    ledger.create_record(world["city_admin"], v, world["org_a"], local_today(), "1.5", "扫码签到的服务",
                         source=RecordSource.CHECKIN)
    db.session.commit()
    body = as_role("org_leader").get("/volunteers/records/?status=pending").get_data(as_text=True)
    assert "手工录入 ·" in body and "签到 ·" in body


EXPECTED = {"city_admin": 303, "district_staff": 303, "org_leader": 303, "district_staff_2": 404,
            "org_leader_2": 404, "leader": 403, "district_leader": 403, "reviewer": 403, "volunteer": 403}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_staff_action_by_role(as_role, world, act, role):
    """Each POST of the roster and the queue: allowed in scope (303), another district's or organization's
    activity is 404, read-only and volunteer accounts 403; the queue page likewise."""
    p = _pending(world, act)
    c = as_role(role)
    for action in ("recruit/stop", f"signups/{p.id}/makeup/refuse", f"signups/{p.id}/makeup/confirm",
                   f"signups/{p.id}/accept", f"signups/{p.id}/decline"):
        assert c.post(f"/activities/{act.id}/{action}").status_code == EXPECTED[role], action
    queue = c.get("/activities/signups")
    assert queue.status_code == {303: 200, 404: 200}.get(EXPECTED[role], 403)
    if queue.status_code == 200 and EXPECTED[role] == 404:
        assert "报名人" not in queue.get_data(as_text=True)
    db.session.refresh(p)
    assert p.signup_status == (SignupStatus.ACCEPTED if EXPECTED[role] == 303 else SignupStatus.PENDING)
