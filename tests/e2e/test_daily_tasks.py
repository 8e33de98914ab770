"""Browser: the four daily tasks of issue 15, one after another as their people do them, at 1280 px,
with a screenshot of each outcome (saved under E2E_SHOTS when set, else the test's own folder):

1. an org leader files last month's report;
2. a district officer registers a volunteer and enters a service record, which names its verifier;
3. the city admin opens a commendation campaign;
4. a leader downloads the annual assessment report and the 月度简报 of a chosen month.
"""
from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from blueprints.assessment import services as assessment
from blueprints.reports import services as reports
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e
Y = 2026


def test_the_four_daily_tasks(page, world, tmp_path):
    shots = os.environ.get("E2E_SHOTS") or str(tmp_path)
    confirms: list[str] = []  # irreversible steps ask first; the people here say yes
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    page.set_viewport_size({"width": 1280, "height": 900})
    assessment.ensure_year(Y)
    survey = next(i for i in assessment.indicators(Y) if i.code == "survey")
    assessment.save_value(world["city_admin"], survey, world["district_a"], entered=Decimal("95"), adjusted=None,
                          reason="")
    db.session.commit()
    saved: list[str] = []

    def shot(name: str) -> None:
        path = os.path.join(shots, f"daily-{name}.png")
        page.screenshot(path=path, full_page=True)
        saved.append(path)

    def logout() -> None:
        page.click("header >> text=退出")
        page.wait_for_url("**/login")

    # 1. The org leader files last month's report.
    y, m = reports.default_period(local_today())
    browser_login(page, "org_leader")
    page.goto("/reports/mine")
    page.click(f"form:has(input[name=period][value='{y}-{m:02d}']) >> text=开始填报")
    page.wait_for_url(re.compile(r".*/reports/\d+/edit$"))
    page.fill("#f-summary", "本月开展海滨公园清洁活动两次，共 25 人参加。")
    page.wait_for_selector("#save-status:has-text('已自动保存')")
    page.click("#submit-report")
    page.wait_for_selector(".flash-success:has-text('已提交')")
    assert any("冻结" in c or "确定" in c for c in confirms)  # the submission asked first
    shot("1-report-submitted")
    logout()

    # 2. The district officer registers a volunteer; the record names who verifies it.
    browser_login(page, "district_staff")
    page.goto("/volunteers/new")
    number = factories.id_number(birth=date(1988, 3, 9), sex="男")
    page.fill("#name", "郑海涛")
    page.fill("#id_number", number)
    page.fill("#phone", "13800138456")
    page.select_option("#organization_id", str(world["org_a"].id))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    vid = int(page.url.rsplit("/", 1)[1])
    page.goto(f"/volunteers/{vid}/records/new")
    page.fill("#service_date", local_today().isoformat())
    page.fill("#hours", "3")
    page.fill("#content", "敬老院陪伴服务")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf".*/volunteers/{vid}(#records)?$"))
    assert f"待{world['org_a'].name}审核" in page.inner_text("#records")
    assert number not in page.content()  # the full ID number is never on the page
    shot("2-record-awaits-its-verifier")
    logout()

    # 3. The city admin opens a commendation campaign (defaults proposed, nothing copied from another).
    browser_login(page, "city_admin")
    page.goto("/awards/new")
    assert page.input_value("#title")  # a proposed title for a year that has no campaign yet
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/awards/\d+$"))
    assert "已发起评选" in page.inner_text(".flash-success")
    shot("3-campaign-opened")
    logout()

    # 4. A leader downloads the annual report and the brief of a chosen month.
    browser_login(page, "leader")
    page.goto(f"/assessment/?year={Y}")
    page.click("text=下载考核报告")  # built by a job (issue 16): its progress, then the download link
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    with page.expect_download() as report:
        status.locator("a.job-download").click()
    with open(report.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    page.goto(f"/assessment/?year={Y}")
    page.fill("#brief-month", f"{Y}-03")
    with page.expect_download() as brief:
        page.click("button:has-text('下载月度简报（PDF）')")
    assert brief.value.suggested_filename == f"志愿服务月度简报_{Y}年3月.pdf"
    shot("4-leader-assessment")

    assert all(os.path.getsize(p) > 10_000 for p in saved) and len(saved) == 4
