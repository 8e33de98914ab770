"""The demo seed: activities over two years, participants linked to the ledger's records where they exist."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.activities import seed
from blueprints.activities.models import Activity, ActivityStatus, Participant
from blueprints.volunteers import ledger
from blueprints.volunteers.models import ServiceRecord
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def test_seed_links_records_and_is_idempotent(world, monkeypatch):
    monkeypatch.setattr(seed, "TARGET", 200)  # the demo's 1,500 at a test's size
    monkeypatch.setattr(seed, "UPCOMING", 20)
    org = world["org_a"]
    day = local_today() - timedelta(days=40)
    vols = [factories.activity_volunteer(org) for _ in range(30)]
    recs = [ledger.create_record(world["org_leader"], v, org, day, "3", "社区服务") for v in vols[:4]]
    db.session.commit()
    seed.seed({"lead_orgs": [org]})
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(Activity))
    assert seed.TARGET <= total <= seed.TARGET + 10
    # the ledger's day of service became an activity whose participants link to the records
    linked = db.session.scalars(select(Participant).where(Participant.record_id.in_([r.id for r in recs]))).all()
    assert len(linked) == 4 and len({p.activity_id for p in linked}) == 1
    a = db.session.get(Activity, linked[0].activity_id)
    assert a.held_on == day and a.participant_count == 4 and all(p.hours == 3 for p in linked)
    assert db.session.scalar(select(func.count()).where(ServiceRecord.activity_id == a.id)) == 4
    # counts agree, some are cancelled, some upcoming, the demo org has activities waiting for attendance
    mismatched = db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.participant_count != select(func.count()).where(Participant.activity_id == Activity.id)
        .scalar_subquery()))
    assert mismatched == 0
    assert db.session.scalar(select(func.count()).where(Activity.status == ActivityStatus.CANCELLED)) > 0
    assert db.session.scalar(select(func.count()).where(Activity.held_on > local_today())) >= seed.UPCOMING
    assert db.session.scalar(select(func.min(Activity.held_on))) >= local_today() - timedelta(days=731)
    seed.seed({"lead_orgs": [org]})
    assert db.session.scalar(select(func.count()).select_from(Activity)) == total
