"""Navigation is consistent (issue 15): breadcrumbs on every detail page, one tab style, the reviewer's
menu holds only a reviewer's work."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.nav import nav_for
from tests import factories

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Detail pages: one record's own page. Named *detail*.html, plus these (named after their record).
DETAIL_PAGES = sorted({p for p in TEMPLATES.rglob("*detail*.html") if "pdf" not in p.parts}
                      | {TEMPLATES / t for t in ("awards/nomination.html", "assessment/district.html",
                                                "stations/assessment.html", "funding/holder.html",
                                                "insurance/org_coverage.html")})


@pytest.mark.parametrize("path", DETAIL_PAGES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_detail_template_uses_the_breadcrumbs_macro(path):
    text = path.read_text(encoding="utf-8")
    assert '{% from "_macros/nav.html" import breadcrumbs %}' in text and "{{ breadcrumbs(" in text
    assert not re.search(r'<p class="muted"><a href=[^\n]*</a> /', text), "a hand-made breadcrumb line is left"


def test_detail_pages_render_breadcrumbs_with_the_trail(as_role, world):
    v = factories.volunteer(world["org_a"], name="周杰")
    a = factories.activity(world["org_a"], title="敬老院探访")
    p = factories.insurance_policy(world["org_a"], policy_no="PN-CRUMB")
    factories.db.session.commit()
    client = as_role("city_admin")
    for url, trail in ((f"/volunteers/{v.id}", ["首页", "志愿者名册", "周杰"]),
                       (f"/orgs/{world['org_a'].id}", ["首页", "志愿服务组织名录", "赤坎区幸福社区志愿服务队"]),
                       (f"/activities/{a.id}", ["首页", "志愿服务活动", "敬老院探访"]),
                       (f"/insurance/{p.id}", ["首页", "保险保障", "保单 PN-CRUMB"])):
        html = client.get(url).get_data(as_text=True)
        nav = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S)
        assert nav, url
        items = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", nav.group(0), re.S)]
        assert items == trail, url
        assert 'aria-current="page"' in nav.group(0)


def test_org_page_title_is_clean(as_role, world):
    html = as_role("city_admin").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert re.search(r"<title>赤坎区幸福社区志愿服务队 · ", html)


@pytest.mark.parametrize("url", ["/funding/", "/insurance/", "/insurance/risky", "/reports/", "/volunteers/records/"])
def test_tab_bars_share_one_style(as_role, world, url):
    html = as_role("city_admin").get(url).get_data(as_text=True)
    assert '<nav class="tabs' in html
    # No tab-like bar of buttons: the current page is marked inside nav.tabs only.
    for m in re.finditer(r'<a [^>]*aria-current="page"[^>]*>', html):
        before = html[:m.start()]
        assert before.rfind('<nav class="tabs') > before.rfind("</nav>") or before.rfind(
            '<nav class="breadcrumbs') > before.rfind("</nav>"), m.group(0)
    assert not re.search(r'<a role="button"[^>]*aria-current', html)


def test_reviewer_menu_lists_only_reviewing(app, world):
    endpoints = {item.endpoint for _, items in nav_for(world["reviewer"]) for item in items}
    assert endpoints == {"awards.index", "reports.notifications"}
    # Other roles keep their full menus.
    assert "reports.needs" in {item.endpoint for _, items in nav_for(world["district_staff"]) for item in items}


def test_reviewer_page_shows_only_that_menu(as_role):
    html = as_role("reviewer").get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="sidenav".*?</nav>', html, re.S).group(0)
    labels = re.findall(r">([^<>]+)</a>", nav)
    assert labels == ["首页", "消息通知", "评选表彰"]
