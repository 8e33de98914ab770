"""The demo seed: twelve months of reports in every state, steps that match, a 催报 round."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.reports import seed, services
from blueprints.reports.models import MonthlyReport, Notification, ReminderLog, ReportStatus, ReportStep
from core.extensions import db


def test_seed_builds_a_year_of_reports_and_chases_the_demo_org(world):
    seed.seed({"lead_orgs": [world["org_a"], world["org_b"]]})
    reports = list(db.session.scalars(select(MonthlyReport)))
    assert reports and {r.unit_key for r in reports} <= {f"org-{world['org_a'].id}", f"org-{world['org_b'].id}",
                                                         f"district-{world['district_a'].id}",
                                                         f"district-{world['district_b'].id}"}
    assert ReportStatus.ACCEPTED in {r.status for r in reports}
    for r in reports:  # every submitted report has its submit step; drafts have none
        steps = [s.action for s in r.steps]
        assert (steps[:1] == ["submit"]) == (r.first_submitted_at is not None)
        if r.status == ReportStatus.ACCEPTED:
            assert steps[-1] == "accept"
    # the demo leader's organization missed the last overdue month and was chased
    y, m = seed._chase_period(services.local_today())
    assert services.find_report(services.ReportLevel.ORG, world["org_a"].id, y, m) is None
    assert db.session.scalar(select(func.count()).select_from(ReminderLog)) >= 1
    assert db.session.scalar(select(func.count()).where(Notification.user_id == world["org_leader"].id)) == 1
    n = db.session.scalar(select(func.count()).select_from(ReportStep))
    seed.seed({"lead_orgs": [world["org_a"], world["org_b"]]})  # a second run adds nothing
    assert db.session.scalar(select(func.count()).select_from(ReportStep)) == n
