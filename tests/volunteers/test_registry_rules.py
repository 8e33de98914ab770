"""Rules of the volunteers registry, tested on the services without a request."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.orgs.models import OrgStatus
from blueprints.volunteers import services
from blueprints.volunteers.models import (DismissReason, VolunteerCommunityHours, PoliticalStatus, Volunteer, VolunteerStatus,
                                          VolunteerYearHours)
from core import pii
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def _data(**kw):
    base = dict(name="王建华", phone="13812345678", registered_on=date(2026, 1, 10))
    base.update(kw)
    return services.VolunteerData(**base)


def test_id_number_is_validated(world):
    admin = world["city_admin"]
    for bad, msg in (("44080219900101123", "18位"), ("440802199013011234", "出生日期"),
                     ("440802199001011234", "校验位"), ("000802199001011230", "地区码")):
        with pytest.raises(services.VolunteerError) as e:
            services.register(admin, world["org_a"], bad, _data())
        assert msg in e.value.message and e.value.field == "id_number"
    assert db.session.scalar(select(Volunteer)) is None


def test_registration_derives_birth_sex_and_number(world):
    number = factories.id_number(date(1975, 12, 31), sex="男")
    r = services.register(world["city_admin"], world["org_a"], number, _data())
    v = r.volunteer
    assert r.created and v.birth_date == date(1975, 12, 31) and v.sex == "男"
    assert v.age_on(date(2026, 12, 30)) == 50 and v.age_on(date(2026, 12, 31)) == 51
    assert v.number == "440802000001"
    v2 = factories.volunteer(world["org_a"])
    assert v2.number == "440802000002"
    v3 = factories.volunteer(world["org_b"])
    assert v3.number == "440803000001"
    assert pii.decrypt(v.id_number_enc) == number and v.birth_year == 1975 and number[-4:] not in v.id_masked
    assert v.id_last4_hash == pii.last4_key(number, 1975) and number[-4:] not in v.id_last4_hash


def test_one_person_one_record_city_wide(world):
    number = factories.id_number(date(1990, 1, 1))
    while not number.endswith("X"):  # a lower-case x typed later must find the same person
        number = factories.id_number(date(1990, 1, 1))
    first = services.register(world["city_admin"], world["org_a"], number, _data())
    again = services.register(world["city_admin"], world["org_b"], number.lower(), _data(name="另一个名字"))
    assert not again.created and again.volunteer.id == first.volunteer.id
    assert again.elsewhere == ["赤坎区 · 赤坎区幸福社区志愿服务队"]
    assert {m.organization_id for m in first.volunteer.memberships} == {world["org_a"].id, world["org_b"].id}
    assert first.volunteer.name == "王建华"  # the existing record is not overwritten
    with pytest.raises(services.VolunteerError, match="已是本组织成员"):
        services.register(world["city_admin"], world["org_b"], number, _data())


def test_dismissed_person_cannot_join_another_org(world):
    v = factories.volunteer(world["org_a"], registered_on=date(2025, 1, 1))
    services.dismiss(world["city_admin"], v, DismissReason.VIOLATION, date(2026, 2, 1))
    with pytest.raises(services.VolunteerError, match="劝退"):
        services.register(world["city_admin"], world["org_b"], pii.decrypt(v.id_number_enc), _data())


def test_only_registered_orgs_register(world):
    draft = factories.org(world["community_a"], status=OrgStatus.SUBMITTED)
    with pytest.raises(services.VolunteerError, match="审核通过"):
        services.register(world["city_admin"], draft, factories.id_number(), _data())


def test_minor_needs_guardian_name_phone_and_consent(world):
    today = local_today()
    birth = date(today.year - 15, 3, 3)
    number = factories.id_number(birth)
    for kw, field in (({}, "guardian_name"), ({"guardian_name": "李父"}, "guardian_phone"),
                      ({"guardian_name": "李父", "guardian_phone": "13900001111"}, "guardian_consent")):
        with pytest.raises(services.VolunteerError) as e:
            services.register(world["city_admin"], world["org_a"], number, _data(registered_on=today, **kw))
        assert e.value.field == field
    r = services.register(world["city_admin"], world["org_a"], number, _data(
        registered_on=today, guardian_name="李父", guardian_phone="13900001111", guardian_consent=True))
    assert r.created and r.volunteer.guardian_consent


def test_adult_needs_no_guardian_and_child_under_8_is_refused(world):
    today = local_today()
    adult = factories.id_number(date(today.year - 18, 1, 1))
    assert services.register(world["city_admin"], world["org_a"], adult, _data(registered_on=today)).created
    child = factories.id_number(date(today.year - 7, 1, 1))
    with pytest.raises(services.VolunteerError, match="八周岁"):
        services.register(world["city_admin"], world["org_a"], child, _data(
            registered_on=today, guardian_name="李父", guardian_phone="13900001111", guardian_consent=True))


def test_registration_date_rules(world):
    with pytest.raises(services.VolunteerError, match="晚于今天"):
        services.register(world["city_admin"], world["org_a"], factories.id_number(),
                          _data(registered_on=local_today() + timedelta(days=1)))
    with pytest.raises(services.VolunteerError, match="早于出生日期"):
        services.register(world["city_admin"], world["org_a"], factories.id_number(date(1990, 5, 5)),
                          _data(registered_on=date(1980, 1, 1)))


def test_dismiss_needs_a_reason_of_001_and_a_valid_date(world):
    v = factories.volunteer(world["org_a"], registered_on=date(2025, 6, 1))
    db.session.add(VolunteerYearHours(volunteer_id=v.id, year=2025, hours=Decimal("60")))
    v.total_hours = Decimal("60")
    with pytest.raises(services.VolunteerError, match="劝退原因"):
        services.dismiss(world["city_admin"], v, "bad", date(2026, 1, 1))
    with pytest.raises(services.VolunteerError, match="早于注册日期"):
        services.dismiss(world["city_admin"], v, "harm", date(2025, 1, 1))
    with pytest.raises(services.VolunteerError, match="晚于今天"):
        services.dismiss(world["city_admin"], v, "harm", local_today() + timedelta(days=1))
    services.dismiss(world["city_admin"], v, "harm", date(2026, 1, 1), "说明")
    assert v.status == VolunteerStatus.DISMISSED and v.dismiss_reason == DismissReason.HARM
    assert v.total_hours == Decimal("60")  # the record and its hours stay
    assert db.session.get(VolunteerYearHours, (v.id, 2025)).hours == Decimal("60")
    with pytest.raises(services.VolunteerError, match="已是劝退"):
        services.dismiss(world["city_admin"], v, "harm", date(2026, 1, 1))
    assert len(DismissReason) == 4


def test_update_cannot_take_another_persons_id(world):
    a = factories.volunteer(world["org_a"])
    b = factories.volunteer(world["org_a"])
    with pytest.raises(services.VolunteerError, match="另一名志愿者"):
        services.update(world["city_admin"], b, _data(), pii.decrypt(a.id_number_enc))


def _ids(user, **args):
    f = services.ListFilters.from_args(args)
    return {v.id for v in db.session.scalars(services.list_query(user, f))}


def test_list_filters_star_core_official_and_search(world):
    year = local_today().year
    staff = world["district_staff"]
    core = factories.volunteer(world["org_a"], name="骨干甲", political_status=PoliticalStatus.PARTY_MEMBER,
                               registered_on=date(2020, 1, 1))
    casual = factories.volunteer(world["org_a"], name="流动乙", public_servant=True, phone="13700009999")
    core.total_hours = Decimal("320")
    db.session.add_all([VolunteerYearHours(volunteer_id=core.id, year=year, hours=Decimal("50"), days=10),
                        VolunteerYearHours(volunteer_id=casual.id, year=year, hours=Decimal("12"), days=3),
                        VolunteerCommunityHours(volunteer_id=core.id, community_id=world["community_a"].id, year=year,
                                                hours=Decimal("50"))])
    casual.total_hours = Decimal("12")
    db.session.flush()
    assert _ids(staff, star="2") == {core.id}
    assert _ids(staff, star="0") == {casual.id}
    assert _ids(staff, kind="core") == {core.id}
    assert _ids(staff, kind="casual") == {casual.id}
    assert _ids(staff, kind="official_below") == {casual.id}
    assert _ids(staff, q="9999") == {casual.id}
    assert _ids(staff, q=pii.decrypt(core.id_number_enc)[-4:]) >= {core.id}
    assert _ids(staff, q="骨干") == {core.id}
    f = services.ListFilters.from_args({"q": pii.decrypt(core.id_number_enc)})
    assert f.q == "" and f.hint  # a full number is never a search key
    assert _ids(world["district_staff_2"]) == set()


def test_export_rows_are_masked(world):
    number = factories.id_number()
    factories.volunteer(world["org_a"], number=number, phone="13812345678")
    rows = list(services.export_rows(world["district_staff"], services.ListFilters.from_args({})))
    assert rows
    flat = " ".join(str(c) for row in rows for c in row)
    assert number not in flat and "13812345678" not in flat
    assert number[:4] + "*" * 14 in flat and "138****5678" in flat and number[-4:] not in flat
