"""The demo seed: policies for the organizations, renewals linked, one risky activity left uncovered."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.activities.models import Participant
from blueprints.insurance import seed, services
from blueprints.insurance.models import InsurancePolicy
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


def test_seed_builds_policies_and_leaves_a_risky_activity_uncovered(world):
    vols = [f.activity_volunteer(world["org_a"]) for _ in range(8)]
    for _ in range(3):
        f.activity_volunteer(world["org_b"])
    act = f.activity(world["org_a"], title="河道清洁巡护", held_on=local_today() + timedelta(days=6), risky=True)
    for v in vols[:3]:
        db.session.add(Participant(activity_id=act.id, volunteer_id=v.id))
    act.participant_count = 3
    db.session.flush()
    seed.seed({"lead_orgs": [world["org_a"], world["org_b"]]})
    assert db.session.scalar(select(func.count()).select_from(InsurancePolicy)) == 4  # old + renewal, twice
    assert db.session.scalar(select(func.count()).where(InsurancePolicy.renewed_from_id.is_not(None))) == 2
    assert len(services.uncovered_participants(act)) == 1
    assert services.expiry_counts(world["org_leader_2"])["expiring"] == 1
    seed.seed({"lead_orgs": [world["org_a"], world["org_b"]]})  # a second run adds nothing
    assert db.session.scalar(select(func.count()).select_from(InsurancePolicy)) == 4
