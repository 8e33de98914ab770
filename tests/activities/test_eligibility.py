"""Every path that puts a volunteer on an activity runs the same checks (issue 18: one rule, one home,
blueprints/activities/eligibility.py): the organizer's sign-up, the attendance sheet (one row and all
rows), the volunteer's own sign-up, the organizer's acceptance of a pending sign-up and the QR check-in."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from blueprints.activities import checkin, eligibility, recruitment, services
from blueprints.activities.models import Activity, Participant, SignupStatus
from blueprints.activities.services import ActivityError
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import DismissReason, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today, utcnow
from tests import factories


def _activity(org, risky=False) -> Activity:
    a = factories.activity(org, held_on=local_today(), start_time=time(9, 0), end_time=time(12, 0), risky=risky)
    a.recruiting, a.published_at, a.auto_accept = True, utcnow(), True
    a.recruit_minors = not risky
    a.signup_deadline = utcnow() + timedelta(hours=1)
    db.session.flush()
    return a


def _accepted(a, v) -> Participant:
    p = Participant(activity_id=a.id, volunteer_id=v.id, signup_status=SignupStatus.ACCEPTED)
    db.session.add(p)
    db.session.flush()
    return p


def _organizer_signup(w, a, v, u):
    services.sign_up(w["org_leader"], a, [v.id])


def _attendance_row(w, a, v, u):
    services.record_attendance(w["org_leader"], _accepted(a, v), "2")


def _attendance_all(w, a, v, u):
    _accepted(a, v)
    made, errors = services.record_all(w["org_leader"], a, "2")
    if errors:
        raise ActivityError("；".join(errors.values()))
    assert made == 1


def _accept_pending(w, a, v, u):
    p = Participant(activity_id=a.id, volunteer_id=v.id, signup_status=SignupStatus.PENDING)
    db.session.add(p)
    db.session.flush()
    recruitment.decide(w["org_leader"], p, True)


def _self_signup(w, a, v, u):
    recruitment.sign_up_self(u, a)


def _checkin(w, a, v, u):
    _accepted(a, v)
    t = recruitment.local_to_utc(a.held_on, time(9, 5))
    try:
        checkin.scan(u, a, checkin.code_for(a.id, checkin.window_of(t)), t)
    except checkin.CheckinRefused as e:
        raise ActivityError(e.message) from None


PATHS = {"organizer_signup": _organizer_signup, "attendance_row": _attendance_row,
         "attendance_all": _attendance_all, "self_signup": _self_signup, "accept_pending": _accept_pending,
         "checkin": _checkin}


def _person(w, birth="19900101", consent=False):
    v = factories.activity_volunteer(w["org_a"], birth=birth)
    v.guardian_consent = consent
    return v, factories.volunteer_account(v)


@pytest.mark.parametrize("path", PATHS)
def test_an_adult_in_good_standing_passes_every_path(world, path):
    """The control: the checks below refuse for their reason, not for any."""
    v, u = _person(world)
    PATHS[path](world, _activity(world["org_a"]), v, u)
    assert db.session.scalar(db.select(Participant.id).where(Participant.volunteer_id == v.id)) is not None


@pytest.mark.parametrize("path", PATHS)
def test_a_minor_never_serves_at_a_risky_activity(world, path):
    """001 附件4 第二条: "限制民事行为能力人经其监护人同意或者由其监护人陪同，可以参加与其年龄、智力相适应的志愿服务"
    — a risky activity is not suited to a minor, even with the guardian's consent."""
    v, u = _person(world, birth=f"{local_today().year - 15}0101", consent=True)
    with pytest.raises(ActivityError, match="有风险的志愿服务不得安排未成年人"):
        PATHS[path](world, _activity(world["org_a"], risky=True), v, u)


@pytest.mark.parametrize("path", PATHS)
def test_a_minor_needs_the_guardians_consent_or_presence(world, path):
    """001 附件4 第二条: "限制民事行为能力人经其监护人同意或者由其监护人陪同，可以参加与其年龄、智力相适应的志愿服务"."""
    v, u = _person(world, birth=f"{local_today().year - 15}0101")
    with pytest.raises(ActivityError, match="监护人同意"):
        PATHS[path](world, _activity(world["org_a"]), v, u)
    v.guardian_consent = True
    db.session.flush()
    PATHS[path](world, _activity(world["org_a"], risky=False), v, u)


@pytest.mark.parametrize("path", PATHS)
def test_a_person_dismissed_by_the_organization_is_not_put_on_its_activities(world, path):
    """001 附件4 第五条: "志愿者出现下列情形之一的，本站可以对其劝退" — the organization's 劝退 ends the
    membership: none of its activities takes the person again, by any path."""
    v, u = _person(world)
    vs.dismiss_membership(world["org_leader"], v.memberships[0], DismissReason.VIOLATION, local_today())
    with pytest.raises(ActivityError, match="劝退"):
        PATHS[path](world, _activity(world["org_a"]), v, u)


def test_a_city_wide_dismissal_refuses_every_activity(world):
    """001 附件4 第五条: "行为加重者，报上级志愿服务组织备案" — the city-wide 劝退 the upper level decides refuses
    the person at any organization's activity."""
    v, _ = _person(world)
    v.status = VolunteerStatus.DISMISSED
    other = factories.org(world["community_a"], "赤坎区另一支队")
    assert "全市" in eligibility.refusal(v, _activity(other))
