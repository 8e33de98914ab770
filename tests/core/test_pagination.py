"""The one pagination macro: previous/next, page numbers and jump-to-page keep the list's filters."""
from __future__ import annotations

import re

from flask import render_template_string

from core.pagination import Page
from tests import factories

MACRO = "{% from '_macros/tables.html' import pagination %}{{ pagination(page, endpoint, args, target) }}"


def render(app, page, endpoint="orgs.index", args=None, target=None) -> str:
    with app.test_request_context("/"):
        return render_template_string(MACRO, page=page, endpoint=endpoint, args=args or {}, target=target)


def test_middle_page_has_previous_next_and_a_jump_form_keeping_filters(app):
    html = render(app, Page([], 5, 10, 100), args={"q": "海滨", "status": "approved", "page": 5}, target="#org-rows")
    prev = re.search(r'<a href="([^"]+)" rel="prev"', html).group(1)
    nxt = re.search(r'<a href="([^"]+)" rel="next"', html).group(1)
    assert "page=4" in prev and "status=approved" in prev
    assert "page=6" in nxt and "q=%E6%B5%B7%E6%BB%A8" in nxt
    form = re.search(r'<form class="pager-jump"[^>]*>(.*?)</form>', html, re.S)
    assert 'action="/orgs/"' in form.group(0) and 'hx-target="#org-rows"' in form.group(0)
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    assert hidden == {"q": "海滨", "status": "approved"}  # the page itself comes from the number box
    assert 'name="page"' in form.group(1) and 'max="10"' in form.group(1)


def test_first_and_last_pages_disable_the_missing_step(app):
    first = render(app, Page([], 1, 10, 30))
    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert re.search(r'class="pager-step disabled"[^>]*>‹ 上一页', first)
    last = render(app, Page([], 3, 10, 30))
    assert 'rel="next"' not in last and 'rel="prev"' in last


def test_path_parameters_stay_in_the_path(app):
    html = render(app, Page([], 2, 10, 50), endpoint="insurance.detail", args={"policy_id": 7})
    assert 'action="/insurance/7"' in html
    assert 'name="policy_id"' not in html


def test_single_page_has_no_pager_controls(app):
    html = render(app, Page([], 1, 10, 4))
    assert "共 4 条" in html and "上一页" not in html and "pager-jump" not in html


def test_jump_to_page_over_http_lands_on_that_page_or_the_last(as_role, world):
    for i in range(65):
        factories.org(world["community_a"], f"翻页测试志愿服务队{i:03d}")
    factories.db.session.commit()
    client = as_role("city_admin")
    html = client.get("/orgs/?sort=name&page=2").get_data(as_text=True)
    assert "第 2/3 页" in html and 'rel="prev"' in html and 'rel="next"' in html
    assert "第 3/3 页" in client.get("/orgs/?sort=name&page=999").get_data(as_text=True)
    assert "第 1/3 页" in client.get("/orgs/?sort=name&page=abc").get_data(as_text=True)
