"""HTTP: every route of /projects for every role; another district's or organization's project by URL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.activities.models import Activity
from blueprints.projects.models import ProjectStatus, VolunteerProject
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f

READ_ROLES = [("city_admin", 200), ("district_staff", 200), ("org_leader", 200), ("leader", 200),
              ("district_leader", 200), ("reviewer", 403), ("volunteer", 403)]
SCORES = {"score_goals": "90", "score_effect": "80", "score_satisfaction": "95", "score_management": "70",
          "score_funds": "100"}


@pytest.fixture
def w(world):
    world["project"] = f.volunteer_project(world["org_a"])
    world["project_b"] = f.volunteer_project(world["org_b"], "霞山助残行动")
    db.session.commit()
    return world


def _form(w, **kw):
    d = {"title": "留守儿童四点半课堂", "organization_id": w["org_a"].id, "field": "助学", "target_group": "留守儿童",
         "start_date": "2026-03-01", "end_date": "2026-12-31", "budget": "12,000.50", "goals": "每周三次课后辅导"}
    d.update(kw)
    return d


@pytest.mark.parametrize("role,status", READ_ROLES)
def test_list_and_detail_by_role(as_role, w, role, status):
    c = as_role(role)
    assert c.get("/projects/").status_code == status
    resp = c.get(f"/projects/{w['project'].id}")
    assert resp.status_code == status
    if status == 200:
        assert "银龄关爱行动" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_or_org_gets_404(as_role, w, role):
    c = as_role(role)
    pid = w["project"].id
    assert "银龄关爱行动" not in c.get("/projects/").get_data(as_text=True)
    assert c.get(f"/projects/{pid}").status_code == 404
    assert c.get(f"/projects/{pid}/edit").status_code == 404
    # the evaluation is the offices' page: an org leader is refused by role, another district by scope
    assert c.get(f"/projects/{pid}/evaluate").status_code == (403 if role == "org_leader_2" else 404)
    assert c.post(f"/projects/{pid}/start").status_code == 404
    assert c.post(f"/projects/{pid}/activities", data={"activity_id": "1"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(VolunteerProject, pid).status == ProjectStatus.INITIATED


def test_create_edit_and_move_through_the_stages(as_role, w):
    c = as_role("org_leader")
    assert c.get("/projects/new").status_code == 200
    resp = c.post("/projects/new", data=_form(w))
    assert resp.status_code == 303
    p = db.session.scalar(select(VolunteerProject).where(VolunteerProject.title == "留守儿童四点半课堂"))
    assert str(p.budget) == "12000.50"
    assert c.get(f"/projects/{p.id}/edit").status_code == 200
    assert c.post(f"/projects/{p.id}/edit", data=_form(w, goals="每周五次")).status_code == 303
    assert c.post(f"/projects/{p.id}/start").status_code == 303
    assert c.post(f"/projects/{p.id}/review").status_code == 303
    assert c.get(f"/projects/{p.id}/evaluate").status_code == 403  # the organization does not evaluate itself
    assert c.post(f"/projects/{p.id}/return", data={"comment": "x"}).status_code == 422
    s = as_role("district_staff")
    assert s.post(f"/projects/{p.id}/return", data={"comment": ""}).status_code == 422
    assert s.post(f"/projects/{p.id}/return", data={"comment": "请补充台账"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(VolunteerProject, p.id).status == ProjectStatus.IMPLEMENTING
    assert c.post(f"/projects/{p.id}/start").status_code == 422  # already implementing
    assert "请补充台账" in c.get(f"/projects/{p.id}").get_data(as_text=True)


def test_bad_form_is_422_with_what_was_typed(as_role, w):
    resp = as_role("org_leader").post("/projects/new", data=_form(w, end_date="2026-01-01", title="我的项目", budget="abc"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "我的项目" in body and "项目预算" in body
    assert db.session.scalar(select(VolunteerProject).where(VolunteerProject.title == "我的项目")) is None


def test_link_an_activity_and_evaluate(as_role, w):
    p = w["project"]
    a = f.activity(w["org_a"], "敬老院探访")
    db.session.commit()
    c = as_role("org_leader")
    assert "敬老院探访" in c.get(f"/projects/{p.id}").get_data(as_text=True)
    assert c.post(f"/projects/{p.id}/activities", data={"activity_id": str(a.id)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Activity, a.id).project_id == p.id
    assert "银龄关爱行动" in c.get(f"/activities/{a.id}").get_data(as_text=True)  # the panel on the activity
    assert c.post(f"/projects/{p.id}/activities", data={"activity_id": "abc"}).status_code == 422
    c.post(f"/projects/{p.id}/start")
    c.post(f"/projects/{p.id}/review")
    s = as_role("district_staff")
    assert s.get(f"/projects/{p.id}/evaluate").status_code == 200
    bad = s.post(f"/projects/{p.id}/evaluate", data={**SCORES, "score_goals": "120", "evaluator": "赤坎区文明办",
                                                      "evaluated_on": local_today().isoformat()})
    assert bad.status_code == 422 and "目标达成度" in bad.get_data(as_text=True)
    ok = s.post(f"/projects/{p.id}/evaluate", data={**SCORES, "evaluator": "赤坎区文明办",
                                                     "evaluated_on": local_today().isoformat(), "conclusion": "良好"})
    assert ok.status_code == 303
    body = s.get(f"/projects/{p.id}").get_data(as_text=True)
    assert 'data-eval-total="86.50"' in body and "结项" in body
    assert c.post(f"/projects/{p.id}/activities/{a.id}/unlink").status_code == 422  # closed


def test_leader_reads_only(as_role, w):
    c = as_role("leader")
    assert c.get("/projects/new").status_code == 403
    assert c.post(f"/projects/{w['project'].id}/start").status_code == 403


def test_list_filters_and_htmx(as_role, w):
    c = as_role("city_admin")
    resp = c.htmx_get("/projects/?status=initiated&q=银龄")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and "银龄关爱行动" in body and "霞山助残行动" not in body
    assert "HX-Request" in resp.headers["Vary"]
    assert c.get("/projects/?status=zzz&page=abc").status_code == 200


def test_activity_form_puts_the_activity_in_a_project(as_role, w):
    c = as_role("org_leader")
    body = c.get("/activities/new").get_data(as_text=True)
    assert "银龄关爱行动" in body and "霞山助残行动" not in body
    data = {"title": "重阳敬老", "organization_id": w["org_a"].id, "held_on": local_today().isoformat(),
            "place": "幸福社区", "region_id": "0", "category": "others", "project_id": str(w["project"].id)}
    assert c.post("/activities/new", data=data).status_code == 303
    a = db.session.scalar(select(Activity).where(Activity.title == "重阳敬老"))
    assert a.project_id == w["project"].id
    resp = as_role("city_admin").post("/activities/new", data={**data, "title": "错配", "project_id": str(w["project_b"].id)})
    assert resp.status_code == 422 and "不是本活动组织单位实施的项目" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Activity).where(Activity.title == "错配")) is None


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 403), ("org_leader", 403),
                                         ("leader", 403), ("volunteer", 403)])
def test_target_groups_page_by_role(as_role, w, role, status):
    assert as_role(role).get("/projects/options").status_code == status


def test_city_admin_edits_the_target_groups(as_role, w):
    c = as_role("city_admin")
    assert "留守儿童" in c.get("/projects/options").get_data(as_text=True)
    assert c.post("/projects/options", data={"target_groups": "空巢老人\n新就业群体\n空巢老人"}).status_code == 303
    form = as_role("org_leader").get("/projects/new").get_data(as_text=True)
    assert "新就业群体" in form and "留守儿童" not in form
    resp = c.post("/projects/options", data={"target_groups": "长" * 40})
    assert resp.status_code == 422 and "过长" in resp.get_data(as_text=True)
