"""HTTP: every route of /training for every role; another district's or organization's session by URL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.training.models import TrainingAttendee, TrainingCourse, TrainingSession
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f

READ_ROLES = [("city_admin", 200), ("district_staff", 200), ("org_leader", 200), ("leader", 200),
              ("district_leader", 200), ("reviewer", 403), ("volunteer", 403)]


@pytest.fixture
def w(world):
    w = world
    w["course"] = f.training_course(w["city"], "pre_service")
    w["session"] = f.training_session(w["course"], w["org_a"], held_on=local_today() - timedelta(days=1))
    w["session_b"] = f.training_session(w["course"], w["org_b"], held_on=local_today() - timedelta(days=1),
                                        place="霞山区文化站")
    w["v1"] = f.activity_volunteer(w["org_a"], "李明")
    db.session.commit()
    return w


@pytest.mark.parametrize("role,status", READ_ROLES)
@pytest.mark.parametrize("path", ["/training/", "/training/courses", "/training/coverage"])
def test_read_pages_by_role(as_role, w, role, status, path):
    assert as_role(role).get(path).status_code == status


@pytest.mark.parametrize("role,status", READ_ROLES)
def test_session_detail_by_role(as_role, w, role, status):
    resp = as_role(role).get(f"/training/sessions/{w['session'].id}")
    assert resp.status_code == status
    if status == 200:
        assert "社区活动中心" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_or_org_cannot_open_the_session(as_role, w, role):
    c = as_role(role)
    sid = w["session"].id
    assert c.get(f"/training/sessions/{sid}").status_code == 404
    assert c.get(f"/training/sessions/{sid}/edit").status_code == 404
    assert c.post(f"/training/sessions/{sid}/attendance", data={"volunteer_id": w["v1"].id}).status_code == 404
    assert c.post(f"/training/sessions/{sid}/delete").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 0


def test_list_shows_only_the_scope(as_role, w):
    body = as_role("org_leader").get("/training/").get_data(as_text=True)
    assert f"/training/sessions/{w['session'].id}" in body and f"/training/sessions/{w['session_b'].id}" not in body
    resp = as_role("city_admin").htmx_get("/training/?kind=pre_service")
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert "HX-Request" in resp.headers["Vary"]
    assert as_role("city_admin").get("/training/?kind=zzz&year=abc&page=-1").status_code == 200


def test_org_leader_creates_a_session_and_marks_attendance(as_role, w):
    c = as_role("org_leader")
    assert c.get("/training/sessions/new").status_code == 200
    data = {"course_id": w["course"].id, "organization_id": w["org_a"].id, "held_on": local_today().isoformat(),
            "place": "幸福社区党群服务中心", "hours": "2.5", "trainer": "林老师", "capacity": "", "note": ""}
    resp = c.post("/training/sessions/new", data=data)
    assert resp.status_code == 303
    s = db.session.scalar(select(TrainingSession).where(TrainingSession.place == "幸福社区党群服务中心"))
    body = c.get(f"/training/sessions/{s.id}").get_data(as_text=True)
    assert "李明" in body
    resp = c.post(f"/training/sessions/{s.id}/attendance", data={"volunteer_id": [str(w["v1"].id)]})
    assert resp.status_code == 303
    assert [a.volunteer_id for a in db.session.scalars(select(TrainingAttendee).where(TrainingAttendee.session_id == s.id))] == [w["v1"].id]
    a = db.session.scalar(select(TrainingAttendee).where(TrainingAttendee.session_id == s.id))
    assert c.post(f"/training/sessions/{s.id}/attendees/{a.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 0
    sid = s.id
    assert c.post(f"/training/sessions/{sid}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(TrainingSession).where(TrainingSession.id == sid)) is None


def test_bad_session_form_keeps_what_was_typed(as_role, w):
    c = as_role("org_leader")
    resp = c.post("/training/sessions/new", data={"course_id": w["course"].id, "organization_id": w["org_b"].id,
                                                  "held_on": "2026-02-30", "place": "某地点", "hours": "99"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "某地点" in body
    resp = c.post("/training/sessions/new", data={"course_id": w["course"].id, "organization_id": w["org_a"].id,
                                                  "held_on": local_today().isoformat(), "place": "某地点", "hours": "99"})
    assert resp.status_code == 422 and "学时" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 2


def test_attendance_refusal_is_422_and_saves_nothing(as_role, w):
    other = f.activity_volunteer(w["org_b"], "赵强")
    db.session.commit()
    resp = as_role("org_leader").post(f"/training/sessions/{w['session'].id}/attendance",
                                      data={"volunteer_id": [str(other.id)]})
    assert resp.status_code == 422 and "在册成员" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 0


def test_leader_reads_but_cannot_write(as_role, w):
    c = as_role("leader")
    assert c.get("/training/sessions/new").status_code == 403
    assert c.post(f"/training/sessions/{w['session'].id}/attendance", data={"volunteer_id": w["v1"].id}).status_code == 403


def test_catalogue_kept_by_offices(as_role, w):
    assert as_role("org_leader").get("/training/courses/new").status_code == 403
    c = as_role("district_staff")
    resp = c.post("/training/courses/new", data={"name": "心理疏导技能", "kind": "skill", "default_hours": "3",
                                                 "content": "倾听与陪伴", "active": "y"})
    assert resp.status_code == 303
    course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.name == "心理疏导技能"))
    assert c.get(f"/training/courses/{course.id}/edit").status_code == 200
    assert as_role("district_staff_2").get(f"/training/courses/{course.id}/edit").status_code == 403
    assert c.get(f"/training/courses/{w['course'].id}/edit").status_code == 403  # the city's
    resp = c.post("/training/courses/new", data={"name": "", "kind": "skill", "default_hours": "x"})
    assert resp.status_code == 422


def test_volunteer_page_shows_pre_service_flag(as_role, w):
    c = as_role("org_leader")
    body = c.get(f"/volunteers/{w['v1'].id}").get_data(as_text=True)
    assert 'data-pre-service="missing"' in body
    c.post(f"/training/sessions/{w['session'].id}/attendance", data={"volunteer_id": [str(w["v1"].id)]})
    body = c.get(f"/volunteers/{w['v1'].id}").get_data(as_text=True)
    assert 'data-pre-service="done"' in body and "志愿者岗前培训" in body


def test_coverage_page_total_matches_the_figure(as_role, w):
    year = local_today().year
    v = f.activity_volunteer(w["org_a"], "新人", registered_on=local_today())
    db.session.commit()
    c = as_role("district_staff")
    c.post(f"/training/sessions/{w['session'].id}/attendance", data={"volunteer_id": [str(v.id)]})
    body = c.get(f"/training/coverage?year={year}").get_data(as_text=True)
    assert 'data-total="1"' in body and "100.0%" in body


def test_volunteer_list_filters_by_pre_service_training(as_role, w):
    v2 = f.activity_volunteer(w["org_a"], "王芳")
    db.session.commit()
    c = as_role("org_leader")
    c.post(f"/training/sessions/{w['session'].id}/attendance", data={"volunteer_id": [str(w["v1"].id)]})
    done = c.get("/volunteers/?training=done").get_data(as_text=True)
    missing = c.get("/volunteers/?training=missing").get_data(as_text=True)
    assert "李明" in done and "王芳" not in done
    assert "王芳" in missing and "李明" not in missing
    assert 'option value="done" selected' in done


def test_deleting_the_training_record_withdraws_the_attendance(as_role, w):
    c = as_role("org_leader")
    c.post(f"/training/sessions/{w['session'].id}/attendance", data={"volunteer_id": [str(w["v1"].id)]})
    from blueprints.volunteers.models import TrainingRecord

    rid = db.session.scalar(select(TrainingRecord.id).where(TrainingRecord.volunteer_id == w["v1"].id))
    assert c.post(f"/volunteers/trainings/{rid}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 0
    assert 'data-pre-service="missing"' in c.get(f"/volunteers/{w['v1'].id}").get_data(as_text=True)
