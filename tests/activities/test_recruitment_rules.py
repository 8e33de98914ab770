"""Recruitment, sign-up, check-in codes, hours and ratings (issue 17): the rules, without requests."""
from __future__ import annotations

import threading
from datetime import time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from blueprints.activities import checkin, recruitment
from blueprints.activities.models import Activity, MakeupStatus, Participant, RecruitScope, SignupStatus
from blueprints.activities.services import ActivityError
from blueprints.reports.models import Notification
from blueprints.volunteers import ledger
from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord, VolunteerSkill
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import local_today, utcnow
from tests import factories


def _published(org, leader=None, *, held_on=None, auto=True, capacity=None, **data) -> Activity:
    a = factories.activity(org, held_on=held_on or local_today(), start_time=time(9, 0), end_time=time(12, 0),
                           capacity=capacity, risky=data.pop("risky", False))
    leader = leader or factories.user("org_leader", orgs=[org])
    if a.held_on < local_today():  # publishing needs a future activity: set the columns as it would
        a.recruiting, a.published_at, a.auto_accept = True, utcnow(), auto
        a.recruit_open_to = data.get("open_to", RecruitScope.MEMBERS)
    else:
        recruitment.publish(leader, a, recruitment.RecruitData(auto_accept=auto, **data))
        if a.held_on == local_today():
            a.signup_deadline = utcnow() + timedelta(hours=1)  # still open for the test, whatever the hour
    db.session.flush()
    return a


def _person(org, name="王敏", birth="19900101", **kw):
    v = factories.activity_volunteer(org, name, birth=birth, **kw)
    u = factories.volunteer_account(v)
    return v, u


def _at(activity, hh, mm=0):
    return recruitment.local_to_utc(activity.held_on, time(hh, mm))


# ---- publishing -------------------------------------------------------------------------------------

def test_minors_are_never_recruited_for_risky_service(world):
    """001 附件4 第二条: "未满十八周岁的……经其监护人同意或者由其监护人陪同，可以参加与其年龄、智力相适应的志愿服务" —
    a risky activity is not suited to a minor."""
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    a = factories.activity(world["org_a"], held_on=local_today() + timedelta(days=3), risky=True)
    with pytest.raises(ActivityError, match="不得招募未成年人"):
        recruitment.publish(leader, a, recruitment.RecruitData(minors=True))
    with pytest.raises(ActivityError, match="最低年龄应不低于 18 岁"):
        recruitment.publish(leader, a, recruitment.RecruitData(min_age=16))
    assert not a.recruiting


def test_publish_checks_ages_deadline_and_scope(world):
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    other = factories.user("org_leader", orgs=[world["org_b"]])
    a = factories.activity(world["org_a"], held_on=local_today() + timedelta(days=3), start_time=time(9))
    with pytest.raises(ActivityError, match="最低年龄不能高于最高年龄"):
        recruitment.publish(leader, a, recruitment.RecruitData(min_age=40, max_age=30))
    with pytest.raises(ActivityError, match="勾选"):
        recruitment.publish(leader, a, recruitment.RecruitData(min_age=16))
    with pytest.raises(ActivityError, match="不能晚于活动结束时间"):
        recruitment.publish(leader, a, recruitment.RecruitData(deadline_day=a.held_on + timedelta(days=1)))
    with pytest.raises(ActivityError, match="不能管理"):
        recruitment.publish(other, a, recruitment.RecruitData())
    recruitment.publish(leader, a, recruitment.RecruitData(skills=["扶老"], deadline_day=a.held_on - timedelta(days=1)))
    assert a.recruiting and a.skill_list == ["扶老"] and a.published_at is not None


# ---- conditions ---------------------------------------------------------------------------------------

def test_a_minor_needs_consent_or_a_guardian_present(world):
    """001 附件4 第二条: "限制民事行为能力人经其监护人同意或者由其监护人陪同，可以参加"."""
    a = _published(world["org_a"], held_on=local_today() + timedelta(days=2), minors=True)
    minor, _ = _person(world["org_a"], "小明", birth=f"{local_today().year - 15}0101")
    assert any("监护人" in x for x in recruitment.problems(minor, a))
    assert recruitment.problems(minor, a, guardian_present=True) == []
    minor.guardian_consent = True
    assert recruitment.problems(minor, a) == []
    a.recruit_minors = False
    assert recruitment.problems(minor, a, guardian_present=True) == ["该活动不招募未成年人"]
    a.risky = True
    assert recruitment.problems(minor, a, guardian_present=True) == ["有风险的志愿服务不得安排未成年人参加"]


def test_age_range_skills_membership_and_district_are_checked(world):
    a = _published(world["org_a"], held_on=local_today() + timedelta(days=2), min_age=20, max_age=60,
                   skills=["扶老", "助残"])
    v, _ = _person(world["org_a"], birth="19900101")
    assert recruitment.problems(v, a) == ["该活动需要技能：扶老、助残"]
    db.session.add_all([VolunteerSkill(volunteer_id=v.id, skill="扶老"), VolunteerSkill(volunteer_id=v.id, skill="助残")])
    db.session.flush()
    db.session.expire(v, ["skill_rows"])
    assert recruitment.problems(v, a) == []
    old, _ = _person(world["org_a"], birth="19500101")
    assert "该活动要求年龄不超过 60 岁" in recruitment.problems(old, a)
    outsider, _ = _person(world["org_b"])
    assert "该活动仅限本组织成员报名" in recruitment.problems(outsider, a)
    a.recruit_open_to, a.recruit_skills = RecruitScope.DISTRICT, ""
    assert any("居住区域不在该区" in x for x in recruitment.problems(outsider, a))  # org_b is in district B
    neighbour, _ = _person(factories.org(world["community_a"], "赤坎区另一支队"))
    assert recruitment.problems(neighbour, a) == []


# ---- sign-up, places, acceptance ------------------------------------------------------------------------

def test_sign_up_waits_for_the_organization_and_declining_frees_the_place(world):
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    a = _published(world["org_a"], leader, held_on=local_today() + timedelta(days=2), auto=False, capacity=1)
    v1, u1 = _person(world["org_a"], "甲")
    v2, u2 = _person(world["org_a"], "乙")
    p1 = recruitment.sign_up_self(u1, a)
    assert p1.signup_status == SignupStatus.PENDING and a.participant_count == 1
    assert db.session.scalar(select(Notification.title).where(Notification.user_id == leader.id)) \
        == "有 1 条志愿者报名待您审核"
    with pytest.raises(ActivityError, match="名额已满"):
        recruitment.sign_up_self(u2, a)
    recruitment.decide(leader, p1, accept=False)
    assert a.participant_count == 0
    assert db.session.scalar(select(Notification.title).where(Notification.user_id == u1.id)).startswith("报名未录用")
    p2 = recruitment.sign_up_self(u2, a)
    recruitment.decide(leader, p2, accept=True)
    assert p2.signup_status == SignupStatus.ACCEPTED
    assert db.session.scalar(select(Notification.title).where(Notification.user_id == u2.id)).startswith("报名已录用")
    with pytest.raises(ActivityError, match="不能再次报名"):
        recruitment.sign_up_self(u1, a)


def test_cancel_before_the_deadline_only(world):
    a = _published(world["org_a"], held_on=local_today() + timedelta(days=2), capacity=3)
    v, u = _person(world["org_a"])
    p = recruitment.sign_up_self(u, a)
    recruitment.cancel_self(u, p)
    assert p.signup_status == SignupStatus.CANCELLED and a.participant_count == 0
    p = recruitment.sign_up_self(u, a)  # signing up again reuses the row
    assert p.signup_status == SignupStatus.ACCEPTED and a.participant_count == 1
    a.signup_deadline = utcnow() - timedelta(minutes=1)
    with pytest.raises(ActivityError, match="报名已截止"):
        recruitment.cancel_self(u, p)


def test_places_are_never_exceeded_under_concurrent_sign_ups(app, world):
    """Twelve volunteers sign up at once (threads, each with its own connection to the SQLite file in WAL
    mode, each a POST as the app runs it) for 4 places: exactly 4 get one, the others hear 名额已满."""
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    a = _published(world["org_a"], held_on=local_today() + timedelta(days=2), capacity=4)
    accounts = [_person(world["org_a"], f"并发{i}")[1].id for i in range(12)]
    activity_id = a.id
    db.session.commit()
    results, barrier = [], threading.Barrier(len(accounts))

    def worker(user_id):
        from blueprints.accounts.models import User

        with app.test_request_context(method="POST"):
            try:
                barrier.wait()
                user = db.session.get(User, user_id)
                recruitment.sign_up_self(user, db.session.get(Activity, activity_id))
                db.session.commit()
                results.append("ok")
            except ActivityError as e:
                db.session.rollback()
                results.append(e.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    assert results.count("ok") == 4 and results.count("名额已满") == 8, results
    held = db.session.scalar(select(func.count(Participant.id)).where(
        Participant.activity_id == activity_id, Participant.signup_status.in_(["pending", "accepted"])))
    assert held == 4 and db.session.get(Activity, activity_id).participant_count == 4


# ---- notifications -------------------------------------------------------------------------------------

def test_changes_cancellation_and_the_day_before_reminder_are_notified(world):
    from blueprints.activities import services

    leader = factories.user("org_leader", orgs=[world["org_a"]])
    a = _published(world["org_a"], leader, held_on=local_today() + timedelta(days=1))
    v, u = _person(world["org_a"])
    recruitment.sign_up_self(u, a)
    assert recruitment.send_reminders() == 1 and recruitment.send_reminders() == 0  # once
    data = services.ActivityData(title=a.title, organization_id=a.organization_id, held_on=a.held_on,
                                 place="新地点", category=a.category, start_time=a.start_time, end_time=a.end_time)
    services.update_activity(leader, a, data)
    services.transition(leader, a, "cancel", "台风")
    titles = list(db.session.scalars(select(Notification.title).where(Notification.user_id == u.id)
                                      .order_by(Notification.id)))
    assert [t.split("：")[0] for t in titles] == ["报名成功", "明天参加活动", "活动有变更", "活动已取消"]


# ---- codes ------------------------------------------------------------------------------------------------

def test_the_code_rotates_and_one_previous_window_is_accepted(app, world):
    a = _published(world["org_a"])
    now = _at(a, 9, 30)
    w = checkin.window_of(now)
    code = checkin.code_for(a.id, w)
    assert len(code) == 6 and code.isdigit()
    assert checkin.code_for(a.id, w + 1) != code  # rotates (the chance of a repeat is 1 in a million)
    assert checkin.matching_window(a.id, code, now) == w
    assert checkin.matching_window(a.id, code, now + timedelta(seconds=checkin.WINDOW_SECONDS)) == w
    assert checkin.matching_window(a.id, code, now + timedelta(seconds=2 * checkin.WINDOW_SECONDS)) is None
    other = _published(world["org_a"])
    assert checkin.matching_window(other.id, code, now) is None  # another activity's code
    with app.test_request_context():
        app.config["SECRET_KEY"], key = "another-key", app.config["SECRET_KEY"]
        try:
            assert checkin.code_for(a.id, w) != code  # keyed with the app's secret
        finally:
            app.config["SECRET_KEY"] = key
    assert checkin.current_code(a, _at(a, 8, 0)) is None and checkin.current_code(a, _at(a, 8, 31)) is not None
    assert checkin.current_code(a, _at(a, 12, 29)) is not None and checkin.current_code(a, _at(a, 12, 31)) is None


def _refusals() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "checkin_refused")
                                   .order_by(AuditEntry.id)))


def test_check_in_and_out_make_a_pending_checkin_record(world):
    """Hours = check-out − check-in, rounded down to 0.5 h: 09:05 → 11:40 is 2 h 35 min → 2.5 h."""
    a = _published(world["org_a"])
    v, u = _person(world["org_a"])
    recruitment.sign_up_self(u, a)
    t_in, t_out = _at(a, 9, 5), _at(a, 11, 40)
    assert checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_in)), t_in)[0] == "checkin"
    action, message = checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_out)), t_out)
    assert action == "checkout" and "2.5 小时" in message
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id))
    assert (record.hours, record.source, record.status, record.activity_id) == (
        Decimal("2.5"), RecordSource.CHECKIN, RecordStatus.PENDING, a.id)
    assert RecordSource.CHECKIN.label == "签到" and RecordSource.MANUAL.label == "手工录入"


def test_replayed_expired_foreign_and_outsiders_codes_are_refused_and_logged(world):
    a = _published(world["org_a"])
    b = _published(world["org_a"])
    v, u = _person(world["org_a"])
    recruitment.sign_up_self(u, a)
    stranger, su = _person(world["org_a"], "路人")
    t = _at(a, 9, 10)
    code = checkin.code_for(a.id, checkin.window_of(t))
    with pytest.raises(checkin.CheckinRefused, match="未报名"):
        checkin.scan(su, a, code, t)  # a valid code, but not signed up
    with pytest.raises(checkin.CheckinRefused, match="无效"):
        checkin.scan(u, b, code, t)  # a's code used for b
    with pytest.raises(checkin.CheckinRefused, match="已过期"):
        checkin.scan(u, a, code, t + timedelta(minutes=5))
    with pytest.raises(checkin.CheckinRefused, match="不在该活动的签到时间内"):
        late = _at(a, 13, 0)
        checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(late)), late)
    checkin.scan(u, a, code, t)
    with pytest.raises(checkin.CheckinRefused, match="已用于签到"):
        checkin.scan(u, a, code, t + timedelta(seconds=30))  # the same code again: replay
    assert _refusals() == ["未报名或未录用者签到", "签到码无效（非本活动）", "签到码已过期", "不在签到时间内",
                           "签到码重复使用"]
    assert code not in " ".join(_refusals())


def test_a_typed_code_finds_the_volunteers_activity(world):
    a = _published(world["org_a"])
    v, u = _person(world["org_a"])
    recruitment.sign_up_self(u, a)
    t = _at(a, 9, 10)
    found, action, _ = checkin.scan_typed(u, checkin.code_for(a.id, checkin.window_of(t)), t)
    assert found.id == a.id and action == "checkin"
    with pytest.raises(checkin.CheckinRefused):
        checkin.scan_typed(u, "000000" if checkin.code_for(a.id, checkin.window_of(t)) != "000000" else "111111", t)


# ---- hours ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("minutes, expected", [(29, "0"), (30, "0.5"), (59, "0.5"), (61, "1.0"), (179, "2.5"),
                                               (180, "3.0"), (400, "3.0")])
def test_hours_round_down_to_the_half_hour_and_are_capped_at_the_activitys_length(world, minutes, expected):
    a = factories.activity(world["org_a"], start_time=time(9), end_time=time(12))  # 3 hours
    t = _at(a, 9)
    assert checkin.hours_between(a, t, t + timedelta(minutes=minutes)) == Decimal(expected)


def test_hours_are_capped_by_the_24_hours_a_day_rule(world):
    """004 / DOMAIN: hours are at most 24 a day per volunteer, across all records."""
    a = _published(world["org_a"])
    v, u = _person(world["org_a"])
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    ledger.create_record(leader, v, world["org_a"], a.held_on, "22.5", "夜间值守")
    recruitment.sign_up_self(u, a)
    t_in, t_out = _at(a, 9), _at(a, 12)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_in)), t_in)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_out)), t_out)
    assert db.session.scalar(select(ServiceRecord.hours).where(ServiceRecord.source == RecordSource.CHECKIN)) \
        == Decimal("1.5")


def test_a_missing_check_out_becomes_a_makeup_request_the_organization_decides(world):
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    a = _published(world["org_a"], leader)
    v, u = _person(world["org_a"])
    p = recruitment.sign_up_self(u, a)
    t_in = _at(a, 9)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_in)), t_in)
    assert checkin.flag_missing_checkouts(_at(a, 12, 10)) == 0  # still within the margin
    assert checkin.flag_missing_checkouts(_at(a, 13, 0)) == 1
    assert p.makeup_status == MakeupStatus.REQUESTED and p.makeup_checkout_at == _at(a, 12)
    checkin.decide_makeup(leader, p, confirm=True)
    assert p.makeup_status == MakeupStatus.CONFIRMED and p.record.hours == Decimal("3.0")
    assert p.record.source == RecordSource.CHECKIN and p.record.status == RecordStatus.PENDING
    ledger.verify_records(leader, [p.record])
    assert p.record.status == RecordStatus.VERIFIED
    with pytest.raises(ActivityError, match="已处理"):
        checkin.decide_makeup(leader, p, confirm=False)


def test_the_volunteer_files_a_makeup_and_the_organization_may_refuse_it(world):
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    a = _published(world["org_a"], leader, held_on=local_today() - timedelta(days=1))
    v, u = _person(world["org_a"])
    p = Participant(activity_id=a.id, volunteer_id=v.id, signup_status=SignupStatus.ACCEPTED, via_portal=True,
                    checkin_at=_at(a, 9))
    db.session.add(p)
    db.session.flush()
    with pytest.raises(ActivityError, match="应晚于签到时间"):
        checkin.request_makeup(u, p, time(8, 0))
    checkin.request_makeup(u, p, time(11, 0), "手机没电")
    assert p.makeup_status == MakeupStatus.REQUESTED
    other = factories.user("org_leader", orgs=[world["org_b"]])
    with pytest.raises(ActivityError, match="不能处理"):
        checkin.decide_makeup(other, p, confirm=True)
    checkin.decide_makeup(leader, p, confirm=False)
    assert p.makeup_status == MakeupStatus.REFUSED and p.record is None


# ---- rating and the district's figures -----------------------------------------------------------------

def test_only_attendees_rate_and_the_organization_sees_the_average(world):
    a = _published(world["org_a"])
    v1, u1 = _person(world["org_a"], "甲")
    v2, u2 = _person(world["org_a"], "乙")
    p1, p2 = recruitment.sign_up_self(u1, a), recruitment.sign_up_self(u2, a)
    with pytest.raises(ActivityError, match="参加活动"):
        recruitment.rate(u1, p1, 5)
    p1.checkout_at, p2.attended = utcnow(), True
    recruitment.rate(u1, p1, 5, "组织有序")
    recruitment.rate(u2, p2, 4)
    with pytest.raises(ActivityError, match="1 到 5"):
        recruitment.rate(u2, p2, 6)
    s = recruitment.rating_summary(a)
    assert s.count == 2 and s.average == Decimal("4.5")


def test_district_figures_per_organization_are_scoped(world):
    a = _published(world["org_a"])
    v, u = _person(world["org_a"])
    recruitment.sign_up_self(u, a)
    t_in, t_out = _at(a, 9), _at(a, 11)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_in)), t_in)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t_out)), t_out)
    leader = factories.user("org_leader", orgs=[world["org_a"]])
    ledger.create_record(leader, v, world["org_a"], a.held_on, "6", "手工录入的服务")
    b = _published(world["org_b"])
    year = local_today().year
    rows = {r.org.id: r for r in recruitment.district_figures(world["district_staff"], year)}
    assert set(rows) == {world["org_a"].id}  # org_b is in district B
    r = rows[world["org_a"].id]
    assert (r.recruited, r.signups, r.checkin_hours, r.hand_hours, r.checkin_share) == (
        1, 1, Decimal("2.0"), Decimal("6.0"), 25)
    assert {r.org.id for r in recruitment.district_figures(world["city_admin"], year)} == {
        world["org_a"].id, b.organization_id}


def test_a_second_scan_right_after_checking_in_does_not_end_the_service(world):
    a = _published(world["org_a"])
    v, u = _person(world["org_a"])
    p = recruitment.sign_up_self(u, a)
    t = _at(a, 9, 0)
    checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t)), t)
    soon = t + timedelta(minutes=2)
    with pytest.raises(checkin.CheckinRefused, match="刚签到"):
        checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(soon)), soon)
    assert p.checkout_at is None and p.record is None
