"""Browser: the header's global search (issue 15) — results in place, the term never in the URL; the
pager's previous/next and jump-to-page; a download link shows its progress state."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tests import factories
from tests.conftest import browser_login

SHOTS = os.environ.get("E2E_SHOTS")  # a directory: save screenshots of the pages for a human look

pytestmark = pytest.mark.e2e


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"search-{name}.png"), full_page=False, caret="initial")


def test_global_search_finds_by_last_four_without_the_digits_in_the_url(page, world):
    mine = factories.volunteer(world["org_a"], name="黄海燕", phone="13712345678")
    factories.volunteer(world["org_b"], name="黄海波", phone="13787655678")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(page, "district_staff")
    page.goto("/orgs/")
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.fill("#header-search-q", "5678")
    page.press("#header-search-q", "Enter")
    page.wait_for_selector("#search-results >> text=黄海燕")
    results = page.inner_text("#search-results")
    assert "黄海波" not in results  # another district's volunteer
    assert "137****5678" in results and "13712345678" not in results
    assert "5678" not in page.url and all("5678" not in url for _, url in requests)
    assert ("POST", page.url.split("/orgs/")[0] + "/search/") in requests
    _shot(page, "results")
    page.click(f"#search-results >> a[href='/volunteers/{mine.id}']")
    page.wait_for_url(f"**/volunteers/{mine.id}")
    assert "黄海燕" in page.inner_text("main h1")

    # organizations by name
    page.fill("#header-search-q", "幸福社区")
    page.press("#header-search-q", "Enter")
    page.wait_for_selector("#search-results >> text=赤坎区幸福社区志愿服务队")
    assert "霞山区幸福社区志愿服务队" not in page.inner_text("#search-results")


def test_pager_previous_next_and_jump(page, world):
    for i in range(70):
        factories.org(world["community_a"], f"翻页志愿服务队{i:03d}")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(page, "city_admin")
    page.goto("/orgs/?sort=name")
    page.click("nav.pager >> a[rel=next]")
    page.wait_for_selector("nav.pager >> text=第 2/3 页")
    page.fill("nav.pager input[name=page]", "3")
    page.click("nav.pager >> text=跳转")
    page.wait_for_selector("nav.pager >> text=第 3/3 页")
    assert "page=3" in page.url and "sort=name" in page.url
    page.click("nav.pager >> a[rel=prev]")
    page.wait_for_selector("nav.pager >> text=第 2/3 页")
    if SHOTS:
        page.locator("nav.pager").scroll_into_view_if_needed()
        _shot(page, "pager")


def test_export_link_shows_progress_and_downloads(page, world):
    factories.activity(world["org_a"], title="海滨净滩")
    db.session.commit()
    browser_login(page, "city_admin")
    page.goto("/activities/")
    page.locator("#activity-export").click()
    # The export runs as a background job: the link leads (once: one job) to the job's page with its
    # progress, then its download link.
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=15000)
    with page.expect_download() as info:
        status.locator("a.job-download").click()
    download = info.value
    assert download.suggested_filename.startswith("志愿服务活动_") and download.suggested_filename.endswith(".xlsx")
    page.goto("/jobs/")
    assert page.locator("table.jobs tbody tr").count() == 1  # one click, one job
