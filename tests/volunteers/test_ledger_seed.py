"""The ledger's demo seed keeps the rules and an exact cache (at a test's size)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from blueprints.volunteers import ledger, seed_ledger
from blueprints.volunteers.models import RecordStatus, ServiceRecord, Volunteer, VolunteerYearHours
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def test_seed_keeps_the_rules_and_the_cache_exact(world, monkeypatch):
    monkeypatch.setattr(seed_ledger, "TARGET", 3000)
    vols = [factories.activity_volunteer(world["org_a"] if i % 2 else world["org_b"],
                                         registered_on=date(2018, 1, 1)) for i in range(300)]
    db.session.commit()
    seed_ledger.seed({"lead_orgs": [world["org_a"]]})
    db.session.commit()
    n = db.session.scalar(select(func.count()).select_from(ServiceRecord))
    assert n > 300
    # never more than 24 h a day, never before registration or in the future
    over = db.session.scalar(select(func.count()).select_from(
        select(ServiceRecord.volunteer_id).group_by(ServiceRecord.volunteer_id, ServiceRecord.service_date)
        .having(func.sum(ServiceRecord.hours) > 24).subquery()))
    assert over == 0
    assert db.session.scalar(select(func.max(ServiceRecord.service_date))) <= local_today()
    assert db.session.scalar(select(func.min(ServiceRecord.service_date))) >= date(2018, 1, 1)
    statuses = dict(db.session.execute(select(ServiceRecord.status, func.count()).group_by(ServiceRecord.status)).all())
    assert statuses[RecordStatus.VERIFIED] > statuses.get(RecordStatus.PENDING, 0)
    # the cache equals a recomputation from the verified records
    for v in vols[:60]:
        recs = list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)))
        db.session.refresh(v)
        assert v.total_hours == ledger.verified_total(recs)
        years = dict(db.session.execute(select(VolunteerYearHours.year, VolunteerYearHours.hours)
                                        .where(VolunteerYearHours.volunteer_id == v.id)).all())
        assert years == ledger.hours_per_year(recs)
    # idempotent: a second run adds nothing
    seed_ledger.seed({"lead_orgs": [world["org_a"]]})
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)) == n
    assert db.session.scalar(select(func.max(Volunteer.total_hours))) > 0
