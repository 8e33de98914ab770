"""The demo seeds of training and the project library: every new thing shows, and a second run adds nothing."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from blueprints.projects import seed as projects_seed
from blueprints.projects.models import ProjectEvaluation, ProjectStatus, VolunteerProject
from blueprints.training import seed as training_seed
from blueprints.training import services
from blueprints.training.models import CourseKind, TrainingAttendee, TrainingCourse, TrainingSession
from blueprints.volunteers.models import TrainingRecord
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_training_seed_shows_every_kind_and_is_idempotent(world):
    today = local_today()
    for i in range(6):
        f.activity_volunteer(world["org_a"], f"新人{i}", registered_on=date(today.year, 1, 1))
    for i in range(4):
        f.activity_volunteer(world["org_a"], f"老队员{i}")
    db.session.commit()
    ctx = {"city": world["city"], "districts": {"赤坎区": world["district_a"]}, "lead_orgs": [world["org_a"]]}
    training_seed.seed(ctx)
    db.session.commit()
    assert {c.kind for c in db.session.scalars(select(TrainingCourse))} == set(CourseKind)
    assert _count(TrainingAttendee) == _count(TrainingRecord) > 0
    waiting = db.session.scalars(select(TrainingSession).where(TrainingSession.organization_id == world["org_a"].id,
                                                               TrainingSession.held_on == today - timedelta(days=1)))
    assert all(not s.attendees for s in waiting)
    if today > date(today.year, 1, 1):
        assert services.trained_new_count(world["city_admin"], today.year) > 0
    before = (_count(TrainingCourse), _count(TrainingSession), _count(TrainingAttendee))
    training_seed.seed(ctx)
    assert (_count(TrainingCourse), _count(TrainingSession), _count(TrainingAttendee)) == before


def test_projects_seed_has_every_stage_with_activities_and_is_idempotent(world):
    for back in (5, 20):
        f.activity(world["org_a"], f"活动{back}", held_on=local_today() - timedelta(days=back))
    db.session.commit()
    ctx = {"lead_orgs": [world["org_a"], world["org_b"]], "users": {"org_leader": world["org_leader"],
                                                                  "district_staff": world["district_staff"]}}
    projects_seed.seed(ctx)
    db.session.commit()
    assert {p.status for p in db.session.scalars(select(VolunteerProject))} == set(ProjectStatus)
    closed = db.session.scalars(select(VolunteerProject).where(VolunteerProject.status == ProjectStatus.CLOSED)).all()
    assert all(p.evaluation is not None and [s.to_status for s in p.steps][-1] == "closed" for p in closed)
    assert _count(ProjectEvaluation) == len(closed)
    from blueprints.activities.models import Activity

    assert db.session.scalar(select(func.count()).where(Activity.project_id.is_not(None))) > 0
    n = _count(VolunteerProject)
    projects_seed.seed(ctx)
    assert _count(VolunteerProject) == n
