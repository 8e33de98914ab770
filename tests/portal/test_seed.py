"""The portal's demo data: applications in every state, unused activation codes (one known: README)."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.portal import seed
from blueprints.portal import services_join as sj
from blueprints.portal.models import ActivationCode, JoinApplication, JoinStatus
from core.extensions import db
from tests import factories as f


def test_seed_adds_applications_and_codes_once(world):
    for _ in range(5):
        f.volunteer(world["org_a"])
    ctx = {"lead_orgs": [world["org_a"], world["org_b"]]}
    seed.seed(ctx)
    counts = dict(db.session.execute(select(JoinApplication.status, func.count()).group_by(JoinApplication.status)).all())
    assert counts == {JoinStatus.PENDING: 3, JoinStatus.REFUSED: 1, JoinStatus.APPROVED: 1}
    assert db.session.scalar(select(func.count(ActivationCode.id)).where(ActivationCode.used_at.is_(None))) == 4
    code = db.session.scalar(select(ActivationCode).where(ActivationCode.code_hash == sj.code_hash(seed.DEMO_CODE)))
    assert code is not None and code.organization_id == world["org_a"].id
    seed.seed(ctx)  # a second run adds nothing
    assert db.session.scalar(select(func.count(JoinApplication.id))) == 5
    assert db.session.scalar(select(func.count(ActivationCode.id))) == 4


def test_the_demo_volunteer_has_a_certificate_and_a_training_once(me):
    """The demo `volunteer`'s 证书 tab shows a certificate of last year (issued by org_leader through the
    certificate rules) and a training attended; a second run adds neither again."""
    from datetime import date, timedelta

    from blueprints.training.models import TrainingAttendee
    from blueprints.volunteers.models import Certificate, TrainingRecord
    from core.timeutil import local_today

    w, person = me, me["person"]
    last_year = local_today().year - 1
    person.registered_on = date(last_year, 3, 1)
    f.service_record(person, w["org_v"], day=date(last_year, 6, 1), hours="3.5",
                     by=f.user("org_leader", "leader_v", orgs=[w["org_v"]]))
    course = f.training_course(w["city"], kind="skill")
    f.training_session(course, w["org_v"], held_on=local_today() - timedelta(days=20))
    db.session.commit()
    ctx = {"lead_orgs": [w["org_v"], w["org_b"]]}
    for _ in range(2):
        seed.seed(ctx)
        certs = list(db.session.scalars(select(Certificate).where(Certificate.volunteer_id == person.id)))
        assert [(c.period_start, c.period_end, str(c.total_hours)) for c in certs] == [
            (date(last_year, 3, 1), date(last_year, 12, 31), "3.5")]
        assert db.session.scalar(select(func.count(TrainingAttendee.id)).where(
            TrainingAttendee.volunteer_id == person.id)) == 1
        assert db.session.scalar(select(TrainingRecord.name).where(TrainingRecord.volunteer_id == person.id)) == course.name


def test_the_demo_volunteers_have_the_messages_of_their_sign_ups_once(me):
    """消息 of the demo volunteer shows the 报名成功 message of each accepted platform sign-up, once."""
    from blueprints.activities.models import Participant, SignupStatus
    from blueprints.reports.models import Notification
    from core.timeutil import local_today

    w = me
    a = f.activity(w["org_v"], "社区文明劝导志愿服务", held_on=local_today())
    b = f.activity(w["org_v"], "图书馆阅读推广", held_on=local_today())
    db.session.add_all([Participant(activity_id=a.id, volunteer_id=w["person"].id, via_portal=True,
                                    signup_status=SignupStatus.ACCEPTED),
                        Participant(activity_id=b.id, volunteer_id=w["person"].id, via_portal=True,
                                    signup_status=SignupStatus.CANCELLED)])
    db.session.commit()
    for _ in range(2):
        seed.seed({"lead_orgs": [w["org_v"], w["org_b"]]})
        titles = list(db.session.scalars(select(Notification.title).where(Notification.user_id == w["volunteer"].id)))
        assert titles == ["报名成功：社区文明劝导志愿服务"]
