"""Scope by URL: a 霞山区 user can neither read nor change a 赤坎区 activity."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.activities.models import Activity, ActivityStatus, Participant
from blueprints.volunteers.models import ServiceRecord
from core.extensions import db
from core.timeutil import local_today
from tests import factories


@pytest.fixture
def chikan(world):
    a = factories.activity(world["org_a"], title="赤坎区敬老探访", held_on=local_today() - timedelta(days=1))
    v = factories.activity_volunteer(world["org_a"], name="赤坎志愿者")
    p = Participant(activity=a, volunteer=v)
    a.participant_count = 1
    db.session.add(p)
    db.session.commit()
    return a, p


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_read(as_role, chikan, role):
    a, p = chikan
    c = as_role(role)
    for url in (f"/activities/{a.id}", f"/activities/{a.id}/edit", f"/activities/{a.id}/cancel",
                f"/activities/{a.id}/candidates?q=赤坎"):
        assert c.get(url).status_code == 404, url


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_change(as_role, chikan, world, role):
    a, p = chikan
    c = as_role(role)
    outsider = factories.activity_volunteer(world["org_b"])
    db.session.commit()
    posts = [
        (f"/activities/{a.id}/edit", {"title": "改名", "organization_id": world["org_b"].id}),
        (f"/activities/{a.id}/cancel", {"reason": "x"}),
        (f"/activities/{a.id}/reopen", {}),
        (f"/activities/{a.id}/participants", {"volunteer_id": outsider.id}),
        (f"/activities/{a.id}/participants/{p.id}/delete", {}),
        (f"/activities/{a.id}/attendance/{p.id}", {"hours": "2"}),
        (f"/activities/{a.id}/attendance", {"hours": "2"}),
    ]
    for url, data in posts:
        assert c.post(url, data=data).status_code == 404, url
    db.session.refresh(a)
    assert a.title == "赤坎区敬老探访" and a.status == ActivityStatus.OPEN and a.participant_count == 1
    assert db.session.scalar(select(ServiceRecord.id)) is None


def test_district_leader_reads_but_cannot_change(as_role, chikan):
    a, p = chikan
    c = as_role("district_leader")
    assert c.get(f"/activities/{a.id}").status_code == 200
    assert c.post(f"/activities/{a.id}/attendance", data={"hours": "2"}).status_code == 403
    assert c.post(f"/activities/{a.id}/cancel", data={"reason": "x"}).status_code == 403


def test_org_leader_cannot_sign_up_volunteer_of_other_org(as_role, chikan, world):
    a, _ = chikan
    outsider = factories.activity_volunteer(world["org_b"], name="霞山志愿者")
    db.session.commit()
    c = as_role("org_leader")
    assert "霞山志愿者" not in c.htmx_get(f"/activities/{a.id}/candidates?q=霞山").get_data(as_text=True)
    c.post(f"/activities/{a.id}/participants", data={"volunteer_id": outsider.id})
    assert db.session.scalar(select(Participant.id).where(Participant.volunteer_id == outsider.id)) is None


def test_city_admin_sees_both_districts(as_role, chikan, world):
    factories.activity(world["org_b"], title="霞山区河道清洁")
    db.session.commit()
    body = as_role("city_admin").get("/activities/").get_data(as_text=True)
    assert "赤坎区敬老探访" in body and "霞山区河道清洁" in body
    body = as_role("district_staff_2").get("/activities/").get_data(as_text=True)
    assert "赤坎区敬老探访" not in body and "霞山区河道清洁" in body
