"""The duplicate check and the public application reveal no application (pending, draft, returned) to
anonymous visitors or applicants: they hear only, and briefly, of registered organizations; staff keep
the details. The check is throttled per address in the database (429, never 500)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from blueprints.orgs.models import ApplyAttempt, Organization, OrgStatus, RegistrationType
from core.extensions import db
from tests import factories as F
from tests.orgs.test_apply import application

PENDING_NAME = "赤坎区和平社区夕阳红志愿服务队"
BRIEF = "已有同名已登记组织"


def text(resp) -> str:
    return resp.get_data(as_text=True)


def check(c, **args):
    return c.get("/orgs/check-duplicate", query_string=args, headers={"HX-Request": "true"})


@pytest.fixture
def pending(world):
    code = F.credit_code()
    org, _ = F.org_with_leader(world["community_a2"], status=OrgStatus.SUBMITTED, name=PENDING_NAME,
                               username="applicant1", registration_type=RegistrationType.REGISTERED,
                               credit_code=code)
    db.session.commit()
    return org


@pytest.mark.parametrize("status", [OrgStatus.SUBMITTED, OrgStatus.DRAFT, OrgStatus.RETURNED,
                                    OrgStatus.DEREGISTERED])
def test_anonymous_check_reveals_no_application(client, world, pending, status):
    pending.status = status
    db.session.commit()
    for args in ({"name": PENDING_NAME}, {"name": f" {PENDING_NAME} ", "region_id": world["community_a2"].id},
                 {"credit_code": pending.credit_code.lower()}):
        r = check(client, **args)
        assert r.status_code == 200 and r.get_data(as_text=True).strip() == "", args


def test_anonymous_check_names_a_registered_organization_briefly(client, world):
    r = check(client, name=world["org_a"].name, region_id=world["community_a"].id)
    body = text(r)
    assert r.status_code == 200 and re.sub(r"<[^>]+>|\s", "", body) == f"可能重复：{BRIEF}"
    assert "<a" not in body and "href" not in body


def test_a_pending_applicant_hears_nothing_of_other_applications(app, world, pending):
    F.org_with_leader(world["community_b"], name="霞山区待审核志愿服务队", username="applicant2")
    db.session.commit()
    c = app.test_client()
    c.login("applicant2")
    assert text(check(c, name=PENDING_NAME)).strip() == ""
    assert text(check(c, credit_code=pending.credit_code)).strip() == ""
    body = text(check(c, name=world["org_b"].name))
    assert BRIEF in body and "霞山区" not in body


def test_staff_in_scope_keep_the_details(as_role, world, pending):
    body = text(check(as_role("district_staff"), name=PENDING_NAME))
    assert "可能重复" in body and PENDING_NAME in body and "赤坎区" in body and pending.status.label in body
    assert PENDING_NAME in text(check(as_role("city_admin"), credit_code=pending.credit_code))
    # another district's application is not a district officer's business; its registered orgs are
    assert text(check(as_role("district_staff_2"), name=PENDING_NAME)).strip() == ""
    body = text(check(as_role("district_staff_2"), name=world["org_a"].name))
    assert world["org_a"].name in body and "赤坎区" in body


def test_the_check_is_throttled_per_address(app, client, world, as_role):
    app.config["ORG_CHECK_MAX_PER_MINUTE"] = 3
    try:
        for _ in range(3):
            assert check(client, name="全新名称").status_code == 200
        r = check(client, name=world["org_a"].name)
        assert r.status_code == 429 and "查询过于频繁" in text(r) and BRIEF not in text(r)
        other = app.test_client()
        r = other.get("/orgs/check-duplicate", query_string={"name": "x"}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert r.status_code == 200
        staff = as_role("district_staff")  # office staff (often behind one NAT address) are not counted
        for _ in range(5):
            assert check(staff, name=world["org_a"].name).status_code == 200
        # the application form's own budget is separate
        assert client.post("/orgs/apply", data=application(world, username="")).status_code == 422
    finally:
        app.config.pop("ORG_CHECK_MAX_PER_MINUTE")
    assert db.session.query(ApplyAttempt).count() == 5


def test_the_apply_form_reveals_no_application(client, world, pending):
    # same name as an application of the same district: accepted, nothing said about the other one
    r = client.post("/orgs/apply", data=application(world, name=PENDING_NAME))
    assert r.status_code == 303, text(r)
    assert "可能重复" not in text(r)
    # the credit code is unique in the database: refused, but without naming whom it belongs to
    r = client.post("/orgs/apply", data=application(world, username="other2", registration_type="registered",
                                                    credit_code=pending.credit_code, name="另一个名字志愿服务队"))
    assert r.status_code == 422 and "已被其他组织使用" in text(r)
    assert PENDING_NAME not in text(r) and pending.status.label not in text(r)


def test_the_apply_form_warns_briefly_of_a_registered_namesake_elsewhere(client, world):
    r = client.post("/orgs/apply", data=application(world, name=world["org_b"].name))  # org_b: 霞山区
    body = text(r)
    assert r.status_code == 422 and BRIEF in body and "确认不是重复登记" in body
    assert f"可能重复：{BRIEF}" in re.sub(r"<[^>]+>|\s", "", body) and "（霞山区，" not in body
    r = client.post("/orgs/apply", data=application(world, name=world["org_b"].name, confirm_duplicate="y"))
    assert r.status_code == 303


def test_of_two_namesake_applications_only_the_first_is_approved(client, as_role, world, pending):
    assert client.post("/orgs/apply", data=application(world, name=PENDING_NAME)).status_code == 303
    second = db.session.scalar(select(Organization).where(Organization.name == PENDING_NAME,
                                                          Organization.id != pending.id))
    staff = as_role("district_staff")
    assert staff.post(f"/orgs/{pending.id}/transition", data={"action": "approve"}).status_code == 303
    r = staff.post(f"/orgs/{second.id}/transition", data={"action": "approve"}, follow_redirects=True)
    assert "已有同名的已登记组织" in text(r)
    db.session.refresh(second)
    assert second.status == OrgStatus.SUBMITTED
