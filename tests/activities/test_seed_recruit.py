"""The demo recruitment (issue 17): every new thing shows in the demo, and running the seed twice adds nothing."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from blueprints.activities import checkin, seed_recruit
from blueprints.activities.models import Activity, MakeupStatus, Participant, SignupStatus
from blueprints.volunteers.models import RecordSource, ServiceRecord
from core.extensions import db
from tests import factories


def test_the_demo_has_live_codes_pending_sign_ups_checkins_ratings_and_a_makeup(me):
    world = me
    org = world["org_v"]
    factories.user("org_leader", "leader_v", orgs=[org])
    for i in range(10):
        factories.activity_volunteer(org, f"成员{i}", registered_on=date(2020, 1, 1))
    db.session.commit()
    seed_recruit.seed({"lead_orgs": [org]})
    db.session.commit()
    acts = list(db.session.scalars(select(Activity).where(Activity.organization_id == org.id)))
    assert len(acts) == 4 and all(a.recruiting for a in acts)
    assert any(checkin.codes_active(a) for a in acts)
    count = lambda *w: db.session.scalar(select(func.count(Participant.id)).where(*w))  # noqa: E731
    assert count(Participant.signup_status == SignupStatus.PENDING) == 3
    assert count(Participant.makeup_status == MakeupStatus.REQUESTED) == 1
    assert count(Participant.rating.is_not(None)) >= 5
    assert count(Participant.volunteer_id == world["person"].id) == 2
    assert db.session.scalar(select(func.count(ServiceRecord.id)).where(ServiceRecord.source == RecordSource.CHECKIN)) >= 5
    assert all(a.participant_count == count(Participant.activity_id == a.id,
                                            Participant.signup_status.in_(["pending", "accepted"])) for a in acts)
    seed_recruit.seed({"lead_orgs": [org]})
    assert db.session.scalar(select(func.count(Activity.id))) == 4
