"""The demo seed of the rules about people shows every new thing (issue 18), once."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from blueprints.volunteers import seed_people, services
from blueprints.volunteers.models import (DismissalEvent, DismissalLevel, DismissReason, ReportStatus, Volunteer,
                                          VolunteerStatus)
from core.extensions import db
from tests import factories


def test_seed_shows_reports_history_and_work_units(world):
    vols = []
    for i in range(12):
        v = factories.volunteer(world["org_b"], name=f"成员{i}", political_status="party_member",
                                registered_on=date(2024, 1, 1))
        services.add_membership(world["city_admin"], v, world["org_a"])
        vols.append(v)
    gone = factories.volunteer(world["org_b"], name="已劝退", registered_on=date(2024, 1, 1))
    gone.status, gone.dismiss_reason, gone.dismissed_on = VolunteerStatus.DISMISSED, DismissReason.HARM, date(2025, 3, 1)
    db.session.commit()
    seed_people.seed({"lead_orgs": [world["org_a"]]})
    db.session.commit()
    city = db.session.scalars(select(DismissalEvent).where(DismissalEvent.volunteer_id == gone.id)).all()
    assert [(e.level, e.effective_on) for e in city] == [(DismissalLevel.CITY, date(2025, 3, 1))]
    assert services.report_queue(world["district_staff"])  # the demo district office has reports waiting
    statuses = set(db.session.scalars(select(DismissalEvent.report_status)))
    assert {ReportStatus.PENDING, ReportStatus.FILED} <= statuses
    assert db.session.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.work_unit != "")) >= 4
    n = db.session.scalar(select(func.count()).select_from(DismissalEvent))
    seed_people.seed({"lead_orgs": [world["org_a"]]})
    assert db.session.scalar(select(func.count()).select_from(DismissalEvent)) == n
