"""Browser: the city admin sets next year's targets, sees this year's results and downloads the city
report; a leader sees the assessment on the home page and the dashboard with its charts."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from blueprints.assessment import services
from core.extensions import db
from tests.conftest import browser_login, htmx_settled

pytestmark = pytest.mark.e2e
Y = 2026


@pytest.fixture
def assessed(world):
    services.ensure_year(Y)
    survey = next(i for i in services.indicators(Y) if i.code == "survey")
    services.save_value(world["city_admin"], survey, world["district_a"], entered=Decimal("95"), adjusted=None, reason="")
    db.session.commit()
    return world


def test_city_admin_sets_targets_sees_results_and_downloads_the_report(page, assessed):
    browser_login(page, "city_admin")
    page.goto(f"/assessment/indicators?year={Y + 1}")
    page.click(f"button:has-text('生成 {Y + 1} 年度考核指标')")
    assert "已设置" in page.locator(".flash-success").inner_text()
    row = page.locator("tr", has_text="注册志愿者占城市建成区常住人口比例")
    row.locator("a:has-text('修改')").click()

    page.fill("#target", "-5")  # refused next to the field, the typed value kept
    page.click("button:has-text('保存')")
    assert "不能为负数" in page.locator("#target-err").inner_text()
    assert page.input_value("#target") == "-5"
    page.fill("#target", "22.5")
    page.select_option("#method", "pass_fail")
    page.click("button:has-text('保存')")
    page.wait_for_url(re.compile(rf".*/assessment/indicators\?year={Y + 1}$"))
    row = page.locator("tr", has_text="注册志愿者占城市建成区常住人口比例")
    assert "22.5%" in row.inner_text() and "达标得分" in row.inner_text()

    page.goto(f"/assessment/?year={Y}")
    table = page.locator("table.assessment-table")
    assert "赤坎区" in table.inner_text() and "霞山区" in table.inner_text()
    page.click("table.assessment-table >> text=赤坎区")
    assert "赤坎区 2026 年度考核" in page.locator("h1").inner_text()
    assert page.locator("a:has-text('查看记录')").count() >= 5
    page.go_back()
    page.click("text=下载考核报告（PDF）")  # built by a job: its progress, then the download link
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    with page.expect_download() as dl:
        status.locator("a.job-download").click()
    assert dl.value.suggested_filename == f"{Y}年度志愿服务工作考核报告.pdf"
    with open(dl.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"


def test_leader_sees_the_dashboard(page, assessed):
    browser_login(page, "leader")
    tile = page.locator("section.tile", has_text="年度考核")
    assert "赤坎区" in tile.inner_text() and tile.locator("svg.chart").count() == 1
    page.click("nav >> text=年度考核")
    page.wait_for_url(re.compile(r".*/assessment/$"))
    page.wait_for_load_state("load")  # htmx has bound the year switch
    assert "2026 年度志愿服务工作考核" in page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() == 2
    htmx_settled(page)
    page.select_option("#year", "2025")  # the year switch swaps the body (HTMX) and keeps a shareable URL
    page.wait_for_url(re.compile(r".*/assessment/\?year=2025$"))
    assert "2025 年度志愿服务工作考核" in page.locator("h1").inner_text()
    assert "尚未设置考核指标" in page.content()
    htmx_settled(page)  # the switch itself was swapped in with the body: bound only once htmx settles
    page.select_option("#year", "2026")
    page.wait_for_url(re.compile(r".*/assessment/\?year=2026$"))
    assert page.locator("svg.chart").count() == 2
    assert page.locator("text=定稿本年度结果").count() == 0  # leaders change nothing


def test_leader_downloads_the_brief_of_a_chosen_month(page, assessed):
    from core.timeutil import local_today

    y, m = services.last_complete_month(local_today())
    browser_login(page, "leader")
    tile = page.locator("section.tile", has_text="年度考核")
    assert tile.locator("#brief-month").input_value() == f"{y}-{m:02d}"  # default: the last complete month
    page.goto(f"/assessment/?year={Y}")
    page.fill("#brief-month", f"{Y}-03")
    with page.expect_download() as dl:
        page.click("button:has-text('下载月度简报（PDF）')")
    assert dl.value.suggested_filename == f"志愿服务月度简报_{Y}年3月.pdf"
    with open(dl.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
