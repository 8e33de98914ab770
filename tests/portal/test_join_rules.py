"""Self-registration and activation codes (issue 17): the rules, without requests."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.accounts.models import Role, User, VolunteerAccount
from blueprints.accounts.services import authenticate
from blueprints.portal import services_join as sj
from blueprints.portal.models import ActivationCode, JoinApplication, JoinStatus
from blueprints.volunteers.models import Volunteer
from core.extensions import db
from core.timeutil import local_today, utcnow
from tests import factories

PASSWORD = "Join2026ok"


def _data(org, number=None, **kw) -> sj.JoinData:
    base = dict(name="林小雨", id_number=number or factories.id_number(), phone="13912345678",
                organization_id=org.id, password=PASSWORD, skills=["医疗护理"], availability=["周末"])
    base.update(kw)
    return sj.JoinData(**base)


def test_an_approved_application_registers_the_person_and_opens_the_account(world):
    """001: 登记注册时…提供个人基本信息…由社区审核后予以登记在册."""
    application = sj.submit(_data(world["org_a"]))
    assert application.status == JoinStatus.PENDING and application.volunteer_id is None
    assert db.session.scalar(select(db.func.count(Volunteer.id))) == 0  # nothing in the registry yet
    v = sj.approve(world["org_leader"], application)
    db.session.commit()
    assert v.number.startswith("440802") and v.name == "林小雨" and v.skills == ["医疗护理"]
    assert application.status == JoinStatus.APPROVED and application.volunteer_id == v.id
    account = db.session.scalar(select(User).join(VolunteerAccount).where(VolunteerAccount.volunteer_id == v.id))
    assert account.role == Role.VOLUNTEER and account.username == v.number
    assert account.check_password(PASSWORD)


def test_a_person_already_in_the_registry_is_matched_never_duplicated(world):
    """A person already in the registry is matched, never duplicated: the application links to them."""
    number = factories.id_number()
    person = factories.volunteer(world["org_b"], "王芳", number=number)
    application = sj.submit(_data(world["org_a"], number, name="王芳"))
    assert application.volunteer_id == person.id
    v = sj.approve(world["org_leader"], application)
    assert v.id == person.id
    assert db.session.scalar(select(db.func.count(Volunteer.id))) == 1
    assert {m.organization_id for m in person.memberships} == {world["org_a"].id, world["org_b"].id}


def test_a_member_already_in_the_organization_is_sent_to_the_activation_code(world):
    number = factories.id_number()
    factories.volunteer(world["org_a"], "王芳", number=number)
    with pytest.raises(sj.JoinError, match="激活码"):
        sj.submit(_data(world["org_a"], number))


def test_a_person_with_an_account_cannot_apply_again(me):
    from core import pii

    person = me["person"]
    number = pii.decrypt(person.id_number_enc)
    with pytest.raises(sj.JoinError, match="已开通"):
        sj.submit(_data(me["org_a"], number))


def test_minors_need_a_guardian_as_in_staff_registration(world):
    """001 附件4 第二条: 未满十八周岁的，经其监护人同意或者由其监护人陪同."""
    minor = factories.id_number(birth=local_today().replace(year=local_today().year - 15) - timedelta(days=3))
    with pytest.raises(sj.JoinError) as e:
        sj.submit(_data(world["org_a"], minor))
    assert e.value.field == "guardian_name"
    with pytest.raises(sj.JoinError) as e:
        sj.submit(_data(world["org_a"], minor, guardian_name="林大海", guardian_phone="13800000001"))
    assert e.value.field == "guardian_consent"
    application = sj.submit(_data(world["org_a"], minor, guardian_name="林大海", guardian_phone="13800000001",
                                  guardian_relation="父亲", guardian_consent=True))
    v = sj.approve(world["org_leader"], application)
    assert v.guardian_name == "林大海" and v.guardian_consent


def test_a_second_pending_application_to_the_same_organization_is_refused(world):
    number = factories.id_number()
    sj.submit(_data(world["org_a"], number))
    with pytest.raises(sj.JoinError, match="审核中"):
        sj.submit(_data(world["org_a"], number))


def test_a_refusal_needs_a_reason_and_the_applicant_reads_it(world):
    number = factories.id_number()
    application = sj.submit(_data(world["org_a"], number))
    with pytest.raises(sj.JoinError, match="原因"):
        sj.refuse(world["org_leader"], application, "  ")
    sj.refuse(world["org_leader"], application, "本队只招募本社区居民")
    found = sj.find_applications(number, PASSWORD)
    assert [a.refuse_reason for a in found] == ["本队只招募本社区居民"]
    assert sj.find_applications(number, "wrong-password1") == []
    with pytest.raises(sj.JoinError, match="已处理"):
        sj.approve(world["org_leader"], application)


def test_only_approved_organizations_take_applications(world):
    from blueprints.orgs.models import OrgStatus

    draft = factories.org(world["community_a"], status=OrgStatus.DRAFT)
    with pytest.raises(sj.JoinError):
        sj.submit(_data(draft))


# ---- activation codes ------------------------------------------------------------------------------

def _member(world, number=None):
    number = number or factories.id_number()
    return factories.volunteer(world["org_a"], "赵敏", number=number), number


def test_an_activation_code_opens_the_account_once(world):
    v, number = _member(world)
    [issued] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    stored = db.session.scalar(select(ActivationCode))
    assert issued.code not in stored.code_hash and len(stored.code_hash) == 64  # only a hash is kept
    user = sj.activate(issued.display.lower(), number[-4:], PASSWORD)
    assert user.volunteer_id == v.id and user.check_password(PASSWORD)
    with pytest.raises(sj.JoinError, match="已使用"):  # replay
        sj.activate(issued.code, number, PASSWORD)


def test_an_activation_code_needs_the_holders_id_number(world):
    v, number = _member(world)
    [issued] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    other = factories.id_number()
    for wrong in (other, other[-4:], "ABCD"):
        with pytest.raises(sj.JoinError, match="不正确"):
            sj.activate(issued.code, wrong, PASSWORD)
    with pytest.raises(sj.JoinError, match="不正确"):
        sj.activate("ZZZZ-ZZZZ", number, PASSWORD)
    assert sj.activate(issued.code, number, PASSWORD).volunteer_id == v.id


def test_an_activation_code_expires(world):
    v, number = _member(world)
    [issued] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    db.session.scalar(select(ActivationCode)).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(sj.JoinError, match="过期"):
        sj.activate(issued.code, number, PASSWORD)


def test_a_new_code_replaces_the_members_earlier_one(world):
    v, number = _member(world)
    [first] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    [second] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    with pytest.raises(sj.JoinError, match="过期"):
        sj.activate(first.code, number, PASSWORD)
    assert sj.activate(second.code, number, PASSWORD).volunteer_id == v.id


def test_codes_are_issued_only_for_own_members_without_an_account(world, me):
    other_org_member = factories.volunteer(world["org_b"], "钱七")
    with pytest.raises(sj.JoinError):
        sj.issue_codes(world["org_leader"], world["org_a"], [other_org_member.id])
    leader_v = factories.user("org_leader", orgs=[me["org_v"]])
    with pytest.raises(sj.JoinError):  # 陈小青 already has an account
        sj.issue_codes(leader_v, me["org_v"], [me["person"].id])


# ---- login by volunteer number or phone ---------------------------------------------------------------

def test_a_volunteer_logs_in_with_number_or_phone(app, me):
    person = me["person"]
    for name in (person.number, person.phone, "volunteer"):
        result = authenticate(name, factories.PASSWORD, "10.0.0.1")
        assert result.user is not None and result.user.id == me["volunteer"].id, name


def test_unknown_numbers_answer_exactly_like_wrong_passwords(app, me):
    person = me["person"]
    unknown = authenticate("4408029999999", factories.PASSWORD, "10.0.0.2")
    wrong = authenticate(person.number, "Wrong-pass-1", "10.0.0.3")
    assert (unknown.user, unknown.error, unknown.status) == (wrong.user, wrong.error, wrong.status) == \
        (None, "用户名或密码不正确", 401)


def test_a_phone_shared_by_two_accounts_names_neither(app, me):
    twin = factories.volunteer(me["org_v"], "陈小蓝", phone=me["person"].phone)
    factories.volunteer_account(twin, "volunteer_twin")
    assert authenticate(me["person"].phone, factories.PASSWORD, "10.0.0.4").user is None


def test_wrong_passwords_for_a_volunteer_number_lock_it(app, me):
    number = me["person"].number
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert authenticate(number, "Wrong-pass-1", "10.0.0.5").user is None
    assert authenticate(number, factories.PASSWORD, "10.0.0.5").user is None  # locked from that address
    assert authenticate(number, factories.PASSWORD, "10.0.0.6").user is not None


def test_the_tile_counts_self_registrations_within_scope(world):
    a = sj.submit(_data(world["org_a"]))
    sj.approve(world["org_leader"], a)
    sj.submit(_data(world["org_a"]))
    sj.submit(_data(world["org_b"]))
    f = sj.figures(world["district_staff"])
    assert (f.self_registered, f.pending) == (1, 1)
    f2 = sj.figures(world["district_staff_2"])
    assert (f2.self_registered, f2.pending) == (0, 1)
    assert sj.figures(world["city_admin"]).pending == 2


def test_the_operation_log_keeps_no_phone_or_id_number_of_an_applicant(world):
    from core.audit import AuditEntry

    number = factories.id_number()
    sj.submit(_data(world["org_a"], number))
    db.session.commit()
    logged = " ".join(str(e.changes) + e.summary + e.entity_label for e in db.session.scalars(select(AuditEntry)))
    assert "join_application" in {e.entity for e in db.session.scalars(select(AuditEntry))}
    assert number not in logged and "13912345678" not in logged and PASSWORD not in logged


def test_two_leaders_deciding_at_once_cannot_both_act(world):
    from sqlalchemy import update

    application = sj.submit(_data(world["org_a"]))
    db.session.flush()
    # Another leader refused it in the meantime; this session still holds it as pending.
    db.session.execute(update(JoinApplication).where(JoinApplication.id == application.id)
                       .values(status=JoinStatus.REFUSED).execution_options(synchronize_session=False))
    assert application.status == JoinStatus.PENDING
    with pytest.raises(sj.JoinError, match="已处理"):
        sj.approve(world["org_leader"], application)
    assert db.session.scalar(select(db.func.count(Volunteer.id))) == 0


def test_a_dismissed_member_cannot_activate(world):
    from blueprints.volunteers import services as vs

    v, number = _member(world)
    [issued] = sj.issue_codes(world["org_leader"], world["org_a"], [v.id])
    vs.dismiss(world["org_leader"], v, "violation", local_today(), "违反组织章程")
    with pytest.raises(sj.JoinError, match="不正确"):
        sj.activate(issued.code, number, PASSWORD)


def test_the_organization_choice_names_the_station_it_runs(world):
    factories.station(world["community_a"], "幸福社区志愿服务站", organization=world["org_a"])
    factories.station(world["community_a"], "旧站", organization=world["org_a"], active=False)
    labels = dict(sj.org_choices())
    assert labels[world["org_a"].id] == "赤坎区幸福社区志愿服务队（幸福社区志愿服务站）"
    assert labels[world["org_b"].id] == "霞山区幸福社区志愿服务队"
