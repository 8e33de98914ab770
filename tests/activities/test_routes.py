"""HTTP: every route of /activities for every role, forms with 422, HTMX partials."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from blueprints.activities.models import Activity, ActivityStatus, Participant
from blueprints.volunteers.models import RecordStatus, ServiceRecord
from core import pii
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def _form(world, **kw) -> dict:
    data = {"title": "海滨公园清洁行动", "organization_id": world["org_a"].id, "held_on": local_today().isoformat(),
            "start_time": "09:00", "end_time": "11:30", "place": "湛江海滨公园", "region_id": "0",
            "category": "nature", "capacity": "30", "person_in_charge": "陈队长", "description": "捡拾垃圾"}
    data.update(kw)
    return data


@pytest.fixture
def act(world):
    a = factories.activity(world["org_a"], held_on=local_today() - timedelta(days=1))
    db.session.commit()
    return a


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 200), ("org_leader", 200),
                                         ("leader", 200), ("district_leader", 200), ("reviewer", 403)])
def test_list_by_role(as_role, act, role, status):
    resp = as_role(role).get("/activities/")
    assert resp.status_code == status
    if status == 200:
        assert "海滨公园清洁行动" in resp.get_data(as_text=True)


def test_list_of_other_district_is_empty(as_role, act):
    body = as_role("district_staff_2").get("/activities/").get_data(as_text=True)
    assert "海滨公园清洁行动" not in body


def test_list_htmx_returns_rows_only(as_role, act):
    resp = as_role("org_leader").htmx_get("/activities/?category=nature&q=海滨")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and "海滨公园清洁行动" in body
    assert "HX-Request" in resp.headers["Vary"]
    body = as_role("org_leader").htmx_get("/activities/?category=others").get_data(as_text=True)
    assert "海滨公园清洁行动" not in body


def test_list_junk_filters_do_not_break(as_role, act):
    resp = as_role("city_admin").get("/activities/?from=2026-13-40&to=x&org=abc&page=-3&status=zzz")
    assert resp.status_code == 200 and "已忽略" in resp.get_data(as_text=True)


def test_list_paginates(as_role, world):
    for i in range(35):
        factories.activity(world["org_a"], title=f"活动{i:02d}")
    db.session.commit()
    c = as_role("org_leader")
    assert "共 35 条" in c.get("/activities/").get_data(as_text=True)
    assert c.get("/activities/?page=2").status_code == 200


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader"])
def test_create_by_editors(as_role, world, role):
    c = as_role(role)
    assert c.get("/activities/new").status_code == 200
    resp = c.post("/activities/new", data=_form(world))
    assert resp.status_code == 303
    a = db.session.scalar(select(Activity))
    assert a.title == "海滨公园清洁行动" and a.capacity == 30 and a.start_time.hour == 9
    assert resp.headers["Location"].endswith(f"/activities/{a.id}")


@pytest.mark.parametrize("role", ["leader", "reviewer"])
def test_create_refused_to_readers(as_role, world, role):
    assert as_role(role).get("/activities/new").status_code == 403
    assert as_role(role).post("/activities/new", data=_form(world)).status_code == 403


def test_create_bad_input_is_422_with_messages_and_typed_values(as_role, world):
    resp = as_role("org_leader").post("/activities/new", data=_form(
        world, title="", held_on="2026-02-30", capacity="-5", end_time="8:00x"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请填写活动名称" in body and "YYYY-MM-DD" in body and "湛江海滨公园" in body
    assert db.session.scalar(select(Activity.id)) is None


def test_create_for_other_org_is_refused(as_role, world):
    resp = as_role("org_leader").post("/activities/new", data=_form(world, organization_id=world["org_b"].id))
    assert resp.status_code == 422
    assert db.session.scalar(select(Activity.id)) is None


def test_end_before_start_shows_next_to_field(as_role, world):
    resp = as_role("org_leader").post("/activities/new", data=_form(world, start_time="11:00", end_time="09:00"))
    assert resp.status_code == 422 and "结束时间应晚于开始时间" in resp.get_data(as_text=True)


def test_edit(as_role, act, world):
    c = as_role("org_leader")
    assert c.get(f"/activities/{act.id}/edit").status_code == 200
    resp = c.post(f"/activities/{act.id}/edit", data=_form(world, title="新名称", held_on=act.held_on.isoformat()))
    assert resp.status_code == 303
    db.session.refresh(act)
    assert act.title == "新名称"
    assert as_role("leader").post(f"/activities/{act.id}/edit", data=_form(world)).status_code == 403


def test_cancel_and_reopen(as_role, act):
    c = as_role("org_leader")
    assert c.get(f"/activities/{act.id}/cancel").status_code == 200
    assert c.post(f"/activities/{act.id}/cancel", data={"reason": ""}).status_code == 422
    assert c.post(f"/activities/{act.id}/cancel", data={"reason": "台风预警"}).status_code == 303
    db.session.refresh(act)
    assert act.status == ActivityStatus.CANCELLED and act.cancel_reason == "台风预警"
    assert "台风预警" in c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert c.post(f"/activities/{act.id}/reopen").status_code == 303
    db.session.refresh(act)
    assert act.status == ActivityStatus.OPEN


def test_post_without_csrf_is_refused(as_role, act):
    resp = as_role("org_leader").post(f"/activities/{act.id}/cancel", data={"reason": "x"}, csrf=False)
    assert resp.status_code in (400, 422)
    db.session.refresh(act)
    assert act.status == ActivityStatus.OPEN


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "district_leader"])
def test_detail_readable_in_scope(as_role, act, role):
    resp = as_role(role).get(f"/activities/{act.id}")
    assert resp.status_code == 200 and "报名与考勤" in resp.get_data(as_text=True)


def test_detail_has_no_edit_for_leader(as_role, act):
    body = as_role("leader").get(f"/activities/{act.id}").get_data(as_text=True)
    assert "编辑" not in body and "全部出勤" not in body and 'id="signup-q"' not in body


def test_sign_up_search_and_add(as_role, act, world):
    v = factories.activity_volunteer(world["org_a"], name="林小红")
    db.session.commit()
    c = as_role("org_leader")
    body = c.htmx_get(f"/activities/{act.id}/candidates?q=林小").get_data(as_text=True)
    assert "林小红" in body and v.id_masked in body
    body = c.htmx_get(f"/activities/{act.id}/candidates?q={pii.decrypt(v.id_number_enc)[-4:]}").get_data(as_text=True)
    assert "林小红" in body
    resp = c.post(f"/activities/{act.id}/participants", data={"volunteer_id": str(v.id)}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "林小红" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Participant.volunteer_id).where(Participant.activity_id == act.id)) == v.id


def test_all_present_defaults_to_the_activity_length(as_role, world):
    # QA: a 09:00–11:30 activity offered "2 小时" for everyone; the default is now its own length.
    from datetime import time

    a = factories.activity(world["org_a"], held_on=local_today() - timedelta(days=1),
                           start_time=time(9, 0), end_time=time(11, 30))
    db.session.add(Participant(activity=a, volunteer=factories.activity_volunteer(world["org_a"])))
    db.session.commit()
    body = as_role("org_leader").get(f"/activities/{a.id}").get_data(as_text=True)
    assert 'id="all-hours" name="hours" inputmode="decimal" value="2.5"' in body


def test_sign_up_full_is_422_in_htmx(as_role, world):
    a = factories.activity(world["org_a"], capacity=1)
    v1, v2 = factories.activity_volunteer(world["org_a"]), factories.activity_volunteer(world["org_a"])
    db.session.commit()
    c = as_role("org_leader")
    c.post(f"/activities/{a.id}/participants", data={"volunteer_id": v1.id})
    resp = c.post(f"/activities/{a.id}/participants", data={"volunteer_id": v2.id}, headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "已满" in resp.get_data(as_text=True)


def test_remove_participant(as_role, act, world):
    v = factories.activity_volunteer(world["org_a"])
    p = Participant(activity=act, volunteer=v)
    act.participant_count = 1
    db.session.add(p)
    db.session.commit()
    resp = as_role("org_leader").post(f"/activities/{act.id}/participants/{p.id}/delete")
    assert resp.status_code == 303
    assert db.session.scalar(select(Participant.id)) is None


def _signed_up(act, world, n=2, names=None):
    out = []
    for i in range(n):
        v = factories.activity_volunteer(world["org_a"], name=(names or [None] * n)[i])
        p = Participant(activity_id=act.id, volunteer=v)
        db.session.add(p)
        out.append(p)
    act.participant_count = n
    db.session.commit()
    return out


def test_all_present_creates_pending_records(as_role, act, world):
    ps = _signed_up(act, world, 3)
    resp = as_role("org_leader").post(f"/activities/{act.id}/attendance", data={"hours": "2"},
                                      headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已为 3 人记录考勤" in body and "待审核" in body
    assert f"/volunteers/records/?activity={act.id}" in body  # on to the ledger to verify them
    recs = db.session.scalars(select(ServiceRecord).where(ServiceRecord.activity_id == act.id)).all()
    assert len(recs) == 3 and all(r.hours == Decimal("2") and r.status == RecordStatus.PENDING for r in recs)
    assert {r.volunteer_id for r in recs} == {p.volunteer_id for p in ps}


def test_cancel_page_says_up_front_that_attended_activity_cannot_be_cancelled(as_role, act, world):
    # QA: the form took a reason and only then answered "已记录考勤的活动不能取消".
    _signed_up(act, world, 2)
    c = as_role("org_leader")
    c.post(f"/activities/{act.id}/attendance", data={"hours": "2"})
    body = c.get(f"/activities/{act.id}/cancel").get_data(as_text=True)
    assert "该活动已为 2 人记录考勤，不能取消" in body and "确认取消活动" not in body
    resp = c.post(f"/activities/{act.id}/cancel", data={"reason": "下雨"})
    assert resp.status_code == 422 and "不能取消" in resp.get_data(as_text=True)
    db.session.refresh(act)
    assert act.status == ActivityStatus.OPEN


def test_all_present_bad_hours_is_422(as_role, act, world):
    _signed_up(act, world, 1)
    resp = as_role("org_leader").post(f"/activities/{act.id}/attendance", data={"hours": "abc"},
                                      headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "请填写时长" in resp.get_data(as_text=True)
    assert db.session.scalar(select(ServiceRecord.id)) is None


def test_row_edit_and_24h_error_in_the_row(as_role, act, world):
    from blueprints.volunteers import ledger

    p1, p2 = _signed_up(act, world, 2, names=["周一", "吴二"])
    ledger.create_record(world["org_leader"], p1.volunteer, world["org_a"], act.held_on, "23", "夜间值守")
    db.session.commit()
    c = as_role("org_leader")
    resp = c.post(f"/activities/{act.id}/attendance/{p1.id}", data={"hours": "3", "quality": "good"},
                  headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "24 小时" in body and f'id="p-{p1.id}"' in body and 'value="3"' in body
    assert body.lstrip().startswith("<tr")
    resp = c.post(f"/activities/{act.id}/attendance/{p2.id}", data={"hours": "1.5", "quality": "excellent"},
                  headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "待审核" in resp.get_data(as_text=True)
    db.session.refresh(p2)
    assert p2.record.hours == Decimal("1.5") and p2.record.quality.value == "excellent"
    resp = c.post(f"/activities/{act.id}/attendance", data={"hours": "2"}, headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "1 人未能记录" in body and "24 小时" in body


def test_attendance_by_leader_forbidden(as_role, act, world):
    [p] = _signed_up(act, world, 1)
    c = as_role("leader")
    assert c.post(f"/activities/{act.id}/attendance", data={"hours": "2"}).status_code == 403
    assert c.post(f"/activities/{act.id}/attendance/{p.id}", data={"hours": "2"}).status_code == 403
    assert db.session.scalar(select(ServiceRecord.id)) is None


def test_participant_of_another_activity_is_404(as_role, act, world):
    other = factories.activity(world["org_a"], title="另一个活动")
    [p] = _signed_up(other, world, 1)
    assert as_role("org_leader").post(f"/activities/{act.id}/attendance/{p.id}", data={"hours": "2"}).status_code == 404


def test_tile_on_home(as_role, act):
    body = as_role("org_leader").get("/").get_data(as_text=True)
    assert "志愿服务活动" in body


def test_list_all_members_for_sign_up(as_role, act, world):
    for name in ("甲一", "乙二", "丙三"):
        factories.activity_volunteer(world["org_a"], name=name)
    factories.activity_volunteer(world["org_b"], name="外组织")
    db.session.commit()
    c = as_role("org_leader")
    body = c.htmx_get(f"/activities/{act.id}/candidates?all=1").get_data(as_text=True)
    assert all(n in body for n in ("甲一", "乙二", "丙三")) and "外组织" not in body and "全选（3 人）" in body
    assert "<html" not in body
    # without HTMX the same list comes as a page of its own (works without JavaScript)
    page = c.get(f"/activities/{act.id}/candidates?all=1").get_data(as_text=True)
    assert "<html" in page and "甲一" in page
    assert 'hx-target="#grid"' not in page and 'hx-target="#grid"' in body  # the page posts normally
    ids = [str(v) for v in db.session.scalars(select(Participant.volunteer_id))]
    assert ids == []


@pytest.mark.parametrize("role", ["leader", "district_leader", "reviewer"])
def test_sign_up_routes_refused_to_read_only_roles(as_role, act, world, role):
    v = factories.activity_volunteer(world["org_a"])
    db.session.commit()
    c = as_role(role)
    assert c.get(f"/activities/{act.id}/candidates?q=志愿者").status_code == 403
    assert c.post(f"/activities/{act.id}/participants", data={"volunteer_id": v.id}).status_code == 403
    assert db.session.scalar(select(Participant.id)) is None


def test_hundred_participants_recorded_in_one_request(as_role, act, world):
    _signed_up(act, world, 100)
    resp = as_role("org_leader").post(f"/activities/{act.id}/attendance", data={"hours": "2"},
                                      headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "已为 100 人记录考勤" in resp.get_data(as_text=True)
    n = db.session.scalar(select(func.count()).where(ServiceRecord.activity_id == act.id,
                                                      ServiceRecord.status == RecordStatus.PENDING))
    assert n == 100


def test_cancelled_activity_is_not_edited(as_role, act, world):
    act.status = ActivityStatus.CANCELLED
    db.session.commit()
    c = as_role("org_leader")
    assert c.get(f"/activities/{act.id}/edit").status_code == 303
    assert c.post(f"/activities/{act.id}/edit", data=_form(world, title="改名")).status_code == 303
    db.session.refresh(act)
    assert act.title == "海滨公园清洁行动"


def test_org_page_lists_its_activities(as_role, act, world):
    body = as_role("district_staff").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "志愿服务活动（1）" in body and "海滨公园清洁行动" in body
    assert f"/activities/new?org={world['org_a'].id}" in body
    body = as_role("leader").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "海滨公园清洁行动" in body and "/activities/new" not in body
    form = as_role("district_staff").get(f"/activities/new?org={world['org_a'].id}").get_data(as_text=True)
    assert f'<option selected value="{world["org_a"].id}">' in form
