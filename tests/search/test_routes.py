"""Global search from the header (issue 15): both kinds, within the scope, the term never in a URL."""
from __future__ import annotations

import re

import pytest

from core import pii

from tests import factories


@pytest.fixture
def people(world):
    a = factories.volunteer(world["org_a"], name="陈小明", phone="13911112222")
    b = factories.volunteer(world["org_b"], name="陈大明", phone="13933334444")
    world["org_a"].credit_code = factories.credit_code(11)
    world["org_b"].credit_code = factories.credit_code(22)
    factories.db.session.commit()
    return {"a": a, "b": b}


def post(client, term, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/search/", data={"q": term}, headers=headers)


def test_city_admin_finds_volunteers_by_name_and_organizations_by_name(as_role, people):
    html = post(as_role("city_admin"), "陈").get_data(as_text=True)
    assert "陈小明" in html and "陈大明" in html
    html = post(as_role("city_admin"), "幸福社区").get_data(as_text=True)
    assert "赤坎区幸福社区志愿服务队" in html and "霞山区幸福社区志愿服务队" in html
    assert f'/volunteers/{people["a"].id}' in post(as_role("city_admin"), "陈小明").get_data(as_text=True)


def test_district_staff_cannot_find_other_districts_volunteers_or_orgs(as_role, world, people):
    client = as_role("district_staff")
    html = post(client, "陈").get_data(as_text=True)
    assert "陈小明" in html and "陈大明" not in html
    html = post(client, "幸福社区").get_data(as_text=True)
    assert "赤坎区幸福社区志愿服务队" in html and "霞山区幸福社区志愿服务队" not in html
    assert "霞山区幸福社区志愿服务队" not in post(client, world["org_b"].credit_code).get_data(as_text=True)
    assert "陈大明" not in post(client, people["b"].number).get_data(as_text=True)
    assert "陈大明" not in post(client, "4444").get_data(as_text=True)


def test_org_leader_finds_only_own_organizations_people(as_role, people):
    html = post(as_role("org_leader_2"), "陈").get_data(as_text=True)
    assert "陈大明" in html and "陈小明" not in html


def test_last_four_of_phone_or_id_and_the_number_find_the_volunteer(as_role, people):
    client = as_role("city_admin")
    a = people["a"]
    html = post(client, "2222").get_data(as_text=True)
    assert "陈小明" in html and "陈大明" not in html
    assert "陈小明" in post(client, pii.decrypt(a.id_number_enc)[-4:]).get_data(as_text=True)
    assert "陈小明" in post(client, a.number).get_data(as_text=True)
    # Masked in the results: the full phone and ID never appear.
    assert "13911112222" not in html and a.id_masked in html


def test_credit_code_finds_the_organization(as_role, world, people):
    html = post(as_role("city_admin"), world["org_a"].credit_code).get_data(as_text=True)
    assert "赤坎区幸福社区志愿服务队" in html and "霞山区幸福社区志愿服务队" not in html


def test_the_term_is_never_in_a_url_and_results_are_not_cached(as_role, people):
    client = as_role("city_admin")
    resp = post(client, "2222")
    assert "HX-Push-Url" not in resp.headers and resp.headers["Cache-Control"] == "no-store"
    assert not re.search(r'href="[^"]*2222', resp.get_data(as_text=True))
    page = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="header-search"[^>]*>', page).group(0)
    assert 'method="post"' in form and 'hx-post="/search/"' in form and 'hx-push-url="false"' in form
    # Without JavaScript the same POST answers with the whole page.
    full = post(client, "2222", htmx=False).get_data(as_text=True)
    assert "<html" in full and "陈小明" in full


def test_reviewer_has_no_search(as_role, people):
    client = as_role("reviewer")
    assert post(client, "陈").status_code == 403
    assert client.get("/search/").status_code == 403
    assert "header-search" not in client.get("/").get_data(as_text=True)


def test_search_needs_csrf_and_a_login(client, as_role, people):
    assert client.post("/search/", data={"q": "陈"}).status_code in (302, 303, 401)
    resp = as_role("city_admin").post("/search/", data={"q": "陈"}, csrf=False)
    assert resp.status_code == 400


def test_empty_and_odd_terms_answer_calmly(as_role, people):
    client = as_role("city_admin")
    assert "请输入" in post(client, "   ").get_data(as_text=True)
    for term in ("%", "_", "'; drop table volunteer; --", "x" * 500, "陈\u202e"):
        assert post(client, term).status_code == 200
    assert post(client, "\x00").status_code == 400  # the app-wide guard refuses NUL bytes
    assert "陈小明" not in post(client, "%").get_data(as_text=True)
