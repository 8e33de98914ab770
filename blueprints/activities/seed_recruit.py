"""Demo recruitment (issue 17), run by the portal's seed once the demo volunteer accounts exist: for each
of the two demo organizations (org_leader's and org_leader_2's)
- an activity running today (its check-in code is live on the activity page), the demo volunteer
  signed up and checked in, another member checked in and out (a pending 签到 record);
- one in three days accepted by the organization, with sign-ups waiting in 报名审核;
- a risky one next week (adults only, skills required);
- one held two days ago: check-in records (pending), ratings, a 补签 request.
Idempotent: an organization that already has a recruiting activity is skipped."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from blueprints.accounts.models import Role, User, VolunteerAccount
from blueprints.activities.checkin import WINDOW_SECONDS, window_of
from blueprints.activities.models import (Activity, ActivityStatus, Category, MakeupStatus, Participant, RecruitScope,
                                          SignupStatus)
from blueprints.activities.recruitment import local_to_utc
from blueprints.activities.services import record_content
from blueprints.volunteers import ledger
from blueprints.volunteers.models import Membership, RecordSource, Volunteer, VolunteerStatus
from core.extensions import db
from core.timeutil import local_now, local_today, utcnow

COMMENTS = ["组织有序，收获很大", "时间安排合理", "希望多办这样的活动", "", "现场指引清楚"]


def _activity(org, title, day, start, end, category, **kw) -> Activity:
    a = Activity(title=title, organization_id=org.id, region_id=org.region_id, held_on=day, start_time=start,
                 end_time=end, place=kw.pop("place", "社区党群服务中心"), category=category, participant_count=0,
                 status=ActivityStatus.OPEN, person_in_charge="陈队长", recruiting=True, published_at=utcnow(),
                 description=kw.pop("description", "欢迎志愿者报名参加。"), **kw)
    db.session.add(a)
    db.session.flush()
    return a


def _join(a: Activity, v: Volunteer, status=SignupStatus.ACCEPTED, **kw) -> Participant:
    p = Participant(activity_id=a.id, volunteer_id=v.id, signup_status=status, via_portal=True,
                    signed_up_at=utcnow() - timedelta(days=2), **kw)
    db.session.add(p)
    if status in (SignupStatus.ACCEPTED, SignupStatus.PENDING):
        a.participant_count += 1
    db.session.flush()
    return p


def _checked_out(leader, a: Activity, p: Participant, t_in: datetime, t_out: datetime) -> None:
    from blueprints.activities.checkin import hours_between

    p.checkin_at, p.checkout_at = t_in, t_out
    p.checkin_window, p.checkout_window = window_of(t_in), window_of(t_out)
    hours = hours_between(a, t_in, t_out)
    v = db.session.get(Volunteer, p.volunteer_id)
    try:
        record = ledger.create_record(leader, v, a.organization, a.held_on, hours, record_content(a), activity=a,
                                      source=RecordSource.CHECKIN, require_member=False)
    except ledger.LedgerError:
        return  # the demo ledger already holds 24 hours that day for this person
    p.record_id, p.attended, p.hours = record.id, True, record.hours


def seed(ctx: dict) -> None:
    today, now = local_today(), local_now()
    # Today's activity runs around now (its code is live for the demo), within the day.
    start_h = min(max(now.hour - 1, 0), 20)
    for org, username in zip(ctx.get("lead_orgs", [])[:2], ("volunteer", "volunteer_2")):
        if db.session.scalar(select(Activity.id).where(Activity.organization_id == org.id,
                                                       Activity.published_at.is_not(None)).limit(1)):
            continue
        leader = db.session.scalar(select(User).where(User.role == Role.ORG_LEADER, User.organizations.any(id=org.id))
                                   .order_by(User.id).limit(1))
        me = db.session.scalar(select(Volunteer).join(VolunteerAccount, VolunteerAccount.volunteer_id == Volunteer.id)
                               .join(User, User.id == VolunteerAccount.user_id).where(User.username == username))
        members = list(db.session.scalars(
            select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == org.id, Volunteer.status == VolunteerStatus.ACTIVE,
                   Volunteer.birth_year <= today.year - 18, Volunteer.registered_on <= today - timedelta(days=3))
            .order_by(Volunteer.id).limit(12)))
        others = [v for v in members if me is None or v.id != me.id]
        if leader is None or len(others) < 8:
            continue
        live = _activity(org, "社区文明劝导志愿服务（今日招募）", today, time(start_h, 0), time(start_h + 3, 0),
                         Category.SOCIETY, capacity=20, auto_accept=True, place="社区文明实践站门口",
                         signup_deadline=local_to_utc(today, time(start_h, 0)))
        if me is not None:
            _join(live, me, checkin_at=utcnow() - timedelta(minutes=20),
                  checkin_window=window_of(utcnow()) - 20 * 60 // WINDOW_SECONDS)
        early = local_to_utc(today, time(start_h, 0))
        _checked_out(leader, live, _join(live, others[0]), early, min(utcnow(), early + timedelta(minutes=50)))
        _join(live, others[1])

        soon = _activity(org, "重阳敬老入户探访", today + timedelta(days=3), time(9, 0), time(11, 30), Category.OTHERS,
                         capacity=12, auto_accept=False, recruit_open_to=RecruitScope.DISTRICT, recruit_skills="扶老",
                         recruit_minors=True, place="辖区独居老人家中")
        for v in others[2:5]:
            _join(soon, v, status=SignupStatus.PENDING)
        _join(soon, others[5])

        _activity(org, "河道清洁巡护（有风险）", today + timedelta(days=7), time(8, 0), time(11, 0), Category.NATURE,
                  capacity=10, auto_accept=True, risky=True, recruit_min_age=18, recruit_max_age=60,
                  recruit_skills="环境保护", place="南桥河沿岸")

        past = _activity(org, "海滨公园净滩行动", today - timedelta(days=2), time(8, 30), time(11, 30),
                         Category.NATURE, capacity=15, auto_accept=True, place="湛江海滨公园")
        for i, v in enumerate(others[2:8]):
            p = _join(past, v)
            t_in = local_to_utc(past.held_on, time(8, 25 + i))
            if i == 5:  # forgot to check out: a 补签 request
                p.checkin_at, p.checkin_window = t_in, window_of(t_in)
                p.makeup_status, p.makeup_checkout_at = MakeupStatus.REQUESTED, local_to_utc(past.held_on, time(11, 30))
                p.makeup_note = "手机没电，未能签退"
                continue
            _checked_out(leader, past, p, t_in, local_to_utc(past.held_on, time(10 + i % 2, 40)))
            p.rating, p.rating_comment, p.rated_at = 5 - i % 2, COMMENTS[i % len(COMMENTS)], utcnow()
        if me is not None:
            p = _join(past, me)
            _checked_out(leader, past, p, local_to_utc(past.held_on, time(8, 30)),
                         local_to_utc(past.held_on, time(11, 10)))
            p.rating, p.rating_comment, p.rated_at = 5, "第一次扫码签到，很方便", utcnow()
    db.session.flush()
