"""Rules of activities: who organizes, capacity, attendance through the ledger, the 24-hour rule."""
from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.activities import services
from blueprints.activities.models import ActivityStatus, Category, Participant
from blueprints.volunteers import ledger
from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord, VolunteerStatus
from core import pii
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def _data(org, **kw) -> services.ActivityData:
    base = dict(title="海滨公园清洁行动", organization_id=org.id, held_on=local_today(), place="海滨公园",
                category=Category.NATURE, start_time=time(9), end_time=time(11), capacity=None)
    base.update(kw)
    return services.ActivityData(**base)


def test_org_leader_creates_activity_of_own_org(world):
    a = services.create_activity(world["org_leader"], _data(world["org_a"]))
    assert a.organization_id == world["org_a"].id
    assert a.region_id == world["org_a"].region_id  # defaults to the organization's region
    assert a.status == ActivityStatus.OPEN


def test_org_leader_cannot_organize_for_another_org(world):
    with pytest.raises(services.ActivityError) as e:
        services.create_activity(world["org_leader"], _data(world["org_b"]))
    assert e.value.field == "organization_id"


def test_district_staff_cannot_organize_for_other_district(world):
    with pytest.raises(services.ActivityError):
        services.create_activity(world["district_staff"], _data(world["org_b"]))
    a = services.create_activity(world["district_staff"], _data(world["org_a"]))
    assert a.id


def test_leader_cannot_organize(world):
    with pytest.raises(services.ActivityError):
        services.create_activity(world["leader"], _data(world["org_a"]))


def test_unapproved_org_cannot_organize(world):
    from blueprints.orgs.models import OrgStatus

    draft = factories.org(world["community_a"], "草稿队", status=OrgStatus.SUBMITTED)
    world["org_leader"].organizations.append(draft)
    with pytest.raises(services.ActivityError):
        services.create_activity(world["org_leader"], _data(draft))


def test_region_outside_scope_is_refused(world):
    with pytest.raises(services.ActivityError) as e:
        services.create_activity(world["org_leader"], _data(world["org_a"], region_id=world["community_b"].id))
    assert e.value.field == "region_id"


def test_end_time_before_start_is_refused(world):
    with pytest.raises(services.ActivityError) as e:
        services.create_activity(world["org_leader"], _data(world["org_a"], start_time=time(11), end_time=time(9)))
    assert e.value.field == "end_time"


def test_capacity_is_enforced_at_sign_up(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, capacity=2))
    vs = [factories.activity_volunteer(org) for _ in range(3)]
    services.sign_up(world["org_leader"], a, [vs[0].id, vs[1].id])
    with pytest.raises(services.ActivityError) as e:
        services.sign_up(world["org_leader"], a, [vs[2].id])
    assert "已满" in e.value.message
    assert a.participant_count == 2


def test_capacity_refuses_the_whole_batch(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, capacity=2))
    vs = [factories.activity_volunteer(org) for _ in range(3)]
    with pytest.raises(services.ActivityError):
        services.sign_up(world["org_leader"], a, [v.id for v in vs])
    assert db.session.scalar(select(Participant.id).where(Participant.activity_id == a.id)) is None


def test_capacity_cannot_drop_below_signed_up(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, capacity=5))
    services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id for _ in range(3)])
    with pytest.raises(services.ActivityError) as e:
        services.update_activity(world["org_leader"], a, _data(org, capacity=2))
    assert e.value.field == "capacity"


def test_only_members_of_the_organizing_org_sign_up(world):
    a = services.create_activity(world["org_leader"], _data(world["org_a"]))
    outsider = factories.activity_volunteer(world["org_b"])
    with pytest.raises(services.ActivityError):
        services.sign_up(world["org_leader"], a, [outsider.id])


def test_dismissed_volunteer_cannot_sign_up(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org))
    v = factories.activity_volunteer(org, status=VolunteerStatus.DISMISSED)
    with pytest.raises(services.ActivityError):
        services.sign_up(world["org_leader"], a, [v.id])


def test_double_sign_up_is_refused(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org))
    v = factories.activity_volunteer(org, name="李四")
    services.sign_up(world["org_leader"], a, [v.id])
    with pytest.raises(services.ActivityError) as e:
        services.sign_up(world["org_leader"], a, [v.id])
    assert "李四" in e.value.message


def test_candidates_by_name_and_last4_only_members_not_signed_up(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org))
    zhang = factories.activity_volunteer(org, name="张三丰")
    wang = factories.activity_volunteer(org, name="王五")
    factories.activity_volunteer(world["org_b"], name="张三")
    found, _ = services.candidates(a, "张三")
    assert [v.id for v in found] == [zhang.id]
    found, _ = services.candidates(a, pii.decrypt(wang.id_number_enc)[-4:])
    assert wang.id in [v.id for v in found]
    found, hint = services.candidates(a, "44080219900101")
    assert found == [] and "后 4 位" in hint
    services.sign_up(world["org_leader"], a, [zhang.id])
    assert services.candidates(a, "张三")[0] == []


def test_attendance_creates_pending_service_record(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    v = factories.activity_volunteer(org)
    [p] = services.sign_up(world["org_leader"], a, [v.id])
    services.record_attendance(world["org_leader"], p, "2.5", "excellent")
    r = p.record
    assert r is not None and r.status == RecordStatus.PENDING
    assert r.hours == Decimal("2.5") and r.activity_id == a.id and r.source == RecordSource.ATTENDANCE
    assert r.service_date == a.held_on and r.organization_id == org.id
    assert p.attended is True and p.hours == Decimal("2.5")
    # editing updates the same record, not a second one
    services.record_attendance(world["org_leader"], p, "3", "good")
    assert db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)).all() == [r]
    assert r.hours == Decimal("3")
    # blank: absent, the pending record goes
    services.record_attendance(world["org_leader"], p, "", "good")
    assert p.record_id is None and p.attended is False
    assert db.session.scalar(select(ServiceRecord.id).where(ServiceRecord.volunteer_id == v.id)) is None


def test_attendance_in_the_future_is_refused(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() + timedelta(days=3)))
    [p] = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    with pytest.raises(services.ActivityError):
        services.record_attendance(world["org_leader"], p, "2")
    assert p.record_id is None


def test_24_hour_rule_is_reported_per_row_and_nothing_half_saved(world):
    org = world["org_a"]
    day = local_today() - timedelta(days=2)
    a = services.create_activity(world["org_leader"], _data(org, held_on=day))
    busy = factories.activity_volunteer(org, name="赵忙忙")
    free = factories.activity_volunteer(org, name="钱闲闲")
    ledger.create_record(world["org_leader"], busy, org, day, "20", "社区巡逻")
    ps = services.sign_up(world["org_leader"], a, [busy.id, free.id])
    saved, errors = services.record_all(world["org_leader"], a, "5")
    assert saved == 1
    assert list(errors) == [ps[0].id] and "24 小时" in errors[ps[0].id]
    assert ps[0].record_id is None and ps[0].attended is None  # the refused row is untouched
    assert ps[1].record is not None and ps[1].record.hours == Decimal("5")


def test_verified_record_is_not_changed_by_the_grid(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    [p] = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    services.record_attendance(world["org_leader"], p, "2")
    ledger.verify_records(world["org_leader"], [p.record])
    with pytest.raises(services.ActivityError):
        services.record_attendance(world["org_leader"], p, "4")
    saved, errors = services.record_all(world["org_leader"], a, "4")
    assert saved == 0 and not errors and p.record.hours == Decimal("2")


def test_bad_hours_refused_before_anything(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    for bad in ("-1", "abc", "25", "NaN", "1.25"):
        with pytest.raises(services.ActivityError):
            services.record_all(world["org_leader"], a, bad)
    assert db.session.scalar(select(ServiceRecord.id)) is None


def test_participant_with_record_cannot_be_removed(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    [p] = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    services.record_attendance(world["org_leader"], p, "2")
    with pytest.raises(services.ActivityError):
        services.remove_participant(world["org_leader"], p)
    services.record_attendance(world["org_leader"], p, "")
    services.remove_participant(world["org_leader"], p)
    assert a.participant_count == 0


def test_cancel_needs_reason_and_no_records_then_reopen(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    with pytest.raises(services.ActivityError):
        services.transition(world["org_leader"], a, "cancel", "")
    [p] = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    services.record_attendance(world["org_leader"], p, "2")
    with pytest.raises(services.ActivityError):
        services.transition(world["org_leader"], a, "cancel", "台风")
    services.record_attendance(world["org_leader"], p, "")
    services.transition(world["org_leader"], a, "cancel", "台风")
    assert a.status == ActivityStatus.CANCELLED
    with pytest.raises(services.ActivityError):
        services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    services.transition(world["org_leader"], a, "reopen")
    assert a.status == ActivityStatus.OPEN and a.cancel_reason == ""


def test_date_cannot_change_once_attendance_recorded(world):
    org = world["org_a"]
    day = local_today() - timedelta(days=1)
    a = services.create_activity(world["org_leader"], _data(org, held_on=day))
    [p] = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id])
    services.record_attendance(world["org_leader"], p, "2")
    with pytest.raises(services.ActivityError) as e:
        services.update_activity(world["org_leader"], a, _data(org, held_on=day - timedelta(days=1)))
    assert e.value.field == "held_on"


def test_hundred_participants_in_one_call(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    ids = [factories.activity_volunteer(org).id for _ in range(100)]
    services.sign_up(world["org_leader"], a, ids)
    saved, errors = services.record_all(world["org_leader"], a, "2")
    assert saved == 100 and not errors
    assert db.session.scalar(select(ServiceRecord.id).where(ServiceRecord.activity_id == a.id).limit(1))
    assert len(db.session.scalars(select(ServiceRecord).where(ServiceRecord.activity_id == a.id)).all()) == 100


def test_list_filters(world):
    org = world["org_a"]
    services.create_activity(world["org_leader"], _data(org, title="敬老院探访", category=Category.OTHERS,
                                                         held_on=date(2026, 3, 5)))
    services.create_activity(world["org_leader"], _data(org, title="河道清洁", held_on=date(2026, 4, 1)))
    f = services.ListFilters.from_args({"category": "others"})
    assert [a.title for a in db.session.scalars(services.list_query(world["org_leader"], f))] == ["敬老院探访"]
    f = services.ListFilters.from_args({"from": "2026-03-10", "to": "2026-04-30"})
    assert [a.title for a in db.session.scalars(services.list_query(world["org_leader"], f))] == ["河道清洁"]
    f = services.ListFilters.from_args({"from": "2026-99-99", "status": "zzz", "org": "x"})
    assert f.errors and f.status == "" and f.org is None
    # another district sees none of them
    assert db.session.scalars(services.list_query(world["district_staff_2"], services.ListFilters())).all() == []


def test_sign_up_and_cancel_are_in_the_audit_log(world):
    from core.audit import AuditEntry

    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org))
    v = factories.activity_volunteer(org, name="孙审计")
    services.sign_up(world["org_leader"], a, [v.id])
    services.transition(world["org_leader"], a, "cancel", "暴雨")
    summaries = list(db.session.scalars(select(AuditEntry.summary).where(AuditEntry.entity_id == a.id)))
    assert any("报名 1 人：孙审计" in s for s in summaries) and any("暴雨" in s for s in summaries)
    from core import pii

    full = pii.decrypt(v.id_number_enc)
    assert not any(full in s or full[-4:] in s for s in summaries)  # no ID number in the log


def test_all_present_keeps_rows_already_recorded_or_absent(world):
    org = world["org_a"]
    a = services.create_activity(world["org_leader"], _data(org, held_on=local_today() - timedelta(days=1)))
    ps = services.sign_up(world["org_leader"], a, [factories.activity_volunteer(org).id for _ in range(3)])
    services.record_attendance(world["org_leader"], ps[0], "3.5")
    services.record_attendance(world["org_leader"], ps[1], "")  # absent
    saved, errors = services.record_all(world["org_leader"], a, "2")
    assert saved == 1 and not errors
    assert ps[0].record.hours == Decimal("3.5") and ps[1].record_id is None and ps[1].attended is False
    assert ps[2].record.hours == Decimal("2")
    assert services.record_all(world["org_leader"], a, "2") == (0, {})


def test_planned_hours_rounds_to_the_half_hour():
    from datetime import time

    from blueprints.activities.models import Activity

    assert Activity(start_time=time(9, 0), end_time=time(11, 30)).planned_hours == Decimal("2.5")
    assert Activity(start_time=time(14, 0), end_time=time(16, 10)).planned_hours == Decimal("2")
    assert Activity(start_time=time(9, 0), end_time=time(9, 5)).planned_hours == Decimal("0.5")
    assert Activity(start_time=time(9, 0), end_time=None).planned_hours is None
    assert Activity(start_time=time(11, 0), end_time=time(9, 0)).planned_hours is None
