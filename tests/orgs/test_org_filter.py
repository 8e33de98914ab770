"""The "组织" filter of the volunteers, activities and ledger lists: a select when organizations are few,
a name search when there are thousands (a 5,000-option select made every list page ~380 KB)."""
from __future__ import annotations

import pytest

from blueprints.orgs import services as org_services
from core.extensions import db
from tests import factories as f


@pytest.fixture
def many(monkeypatch):
    monkeypatch.setattr(org_services, "ORG_SELECT_LIMIT", 1)


def test_few_organizations_are_a_select(world, as_role):
    page = as_role("city_admin").get("/volunteers/").get_data(as_text=True)
    assert f'>{world["org_a"].name}</option>' in page and 'name="orgq"' not in page


@pytest.mark.parametrize("url", ["/volunteers/", "/activities/", "/volunteers/records/", "/insurance/"])
def test_many_organizations_become_a_name_search(world, as_role, many, url):
    page = as_role("city_admin").get(url).get_data(as_text=True)
    assert 'name="orgq"' in page and f'>{world["org_a"].name}</option>' not in page
    # an organization chosen by id (a link from its page) stays chosen and can be cleared
    page = as_role("city_admin").get(f"{url}?org={world['org_a'].id}").get_data(as_text=True)
    assert f'<option value="{world["org_a"].id}" selected>{world["org_a"].name}</option>' in page


def test_name_search_filters_each_list_within_scope(world, as_role, many):
    va = f.activity_volunteer(world["org_a"], name="甲组志愿者")
    vb = f.activity_volunteer(world["org_b"], name="乙组志愿者")
    a_act, b_act = f.activity(world["org_a"], title="甲组活动"), f.activity(world["org_b"], title="乙组活动")
    db.session.commit()
    word = world["org_a"].name[:3]
    assert word not in world["org_b"].name
    admin = as_role("city_admin")
    page = admin.get("/volunteers/", query_string={"orgq": word}).get_data(as_text=True)
    assert va.name in page and vb.name not in page
    page = admin.get("/activities/", query_string={"orgq": word}).get_data(as_text=True)
    assert a_act.title in page and b_act.title not in page
    # another district's user searching for the name finds nothing outside their scope
    page = as_role("district_staff_2").get("/volunteers/", query_string={"orgq": word}).get_data(as_text=True)
    assert va.name not in page
