"""Service rules: credit-code validation and uniqueness, duplicates, derived columns, option lists."""
from __future__ import annotations

import pytest

from blueprints.orgs import services
from blueprints.orgs.models import OrgStatus, RegistrationType
from core.extensions import db
from core.validators import credit_code_check_char
from tests import factories as F

BODY = "91440800MA4UX0AB1"  # 17 characters; the 18th is computed
GOOD = BODY + credit_code_check_char(BODY)


def data(world, **over):
    d = {"name": "规则测试服务队", "kind": "社区志愿服务队", "region_id": world["community_a"].id, "parent_id": None,
         "registration_type": "registered", "credit_code": GOOD, "contact_name": "甲", "contact_phone": "13900001111",
         "address": "", "founded_on": None, "service_fields": [], "description": "", "is_demo_site": False,
         "demo_site_year": None, "is_incubated": False, "incubated_year": None}
    d.update(over)
    return services.clean(d)


def test_valid_credit_code_passes_and_is_upper_cased(world):
    d = data(world, credit_code=" " + GOOD.lower() + " ")
    assert services.validate(world["district_staff"], d) == {}
    assert d["credit_code"] == GOOD


@pytest.mark.parametrize("code,msg", [
    (BODY + ("0" if GOOD[-1] != "0" else "1"), "校验"),   # wrong check character
    (GOOD[:-1], "18"),                                     # too short
    (GOOD[:-1] + "I", ""),                                 # I is never used
    ("", "依法登记的组织须填写统一社会信用代码"),
])
def test_invalid_credit_code_is_refused(world, code, msg):
    errors = services.validate(world["district_staff"], data(world, credit_code=code))
    assert "credit_code" in errors and msg in errors["credit_code"]


def test_filed_org_has_no_credit_code(world):
    errors = services.validate(world["district_staff"], data(world, registration_type="filed"))
    assert "备案的组织不填" in errors["credit_code"]
    assert services.validate(world["district_staff"], data(world, registration_type="filed", credit_code="")) == {}


def test_credit_code_is_unique_but_an_org_keeps_its_own(world):
    org = F.org(world["community_b"], registration_type=RegistrationType.REGISTERED, credit_code=GOOD)
    assert "已被其他组织使用" in services.validate(world["city_admin"], data(world))["credit_code"]
    assert "credit_code" not in services.validate(world["city_admin"], data(world, name=org.name,
                                                                              region_id=world["community_b"].id), org)


def test_switching_to_filed_drops_the_code(world):
    staff = world["district_staff"]
    org = services.create_org(staff, data(world))
    assert org.credit_code == GOOD and org.status == OrgStatus.DRAFT
    services.update_org(staff, org, data(world, registration_type="filed", credit_code=""))
    assert org.credit_code is None


def test_name_key_folds_spaces_and_width():
    assert services.name_key(" 赤坎区 ＡＢＣ 服务队 ") == services.name_key("赤坎区abc服务队")


def test_find_duplicates_by_name_and_code(world):
    F.org(world["community_b"], "蓝海 志愿服务队", registration_type=RegistrationType.REGISTERED, credit_code=GOOD)
    dups = services.find_duplicates("蓝海志愿服务队", None, world["community_a"].id)
    assert [(d.reason, d.same_district, d.district) for d in dups] == [("name", False, "霞山区")]
    dups = services.find_duplicates("别的名字", GOOD.lower(), world["community_b"].id)
    assert [d.reason for d in dups] == ["credit_code"]
    assert services.find_duplicates("", "", None) == []


def test_district_is_derived_from_the_region(world):
    org = F.org(world["community_b"])
    assert org.district_id == world["district_b"].id
    org.region = world["community_a"]
    db.session.flush()
    assert org.district_id == world["district_a"].id


def test_flags_need_a_year(world):
    errors = services.validate(world["district_staff"], data(world, is_demo_site=True, demo_site_year=None))
    assert errors["demo_site_year"] == "请填写年度"


def test_option_lists_are_configurable(world):
    assert "社区志愿服务队" in services.kinds()
    services.save_options(world["city_admin"], "巾帼志愿服务队\n巾帼志愿服务队\n党员志愿服务队", "扶老")
    assert services.kinds() == ["巾帼志愿服务队", "党员志愿服务队"]
    assert services.service_field_options() == ["扶老"]
    with pytest.raises(services.OrgError):
        services.save_options(world["city_admin"], "x" * 40, "扶老")
