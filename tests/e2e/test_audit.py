"""Browser: district staff approve an organization's registration and accept a monthly report; the city
admin opens the operation log and reads both in Chinese — what was done (审核通过), to which record
(the organization's name, "2026 年 11 月月报（…）"), and the changed fields by their Chinese names."""
from __future__ import annotations

import re

import pytest

from blueprints.reports import services as report_services
from core.extensions import db
from core.timeutil import local_today
from tests import factories as F
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/zhiyuan-audit-log.png"


def logout(page):
    page.click("header >> text=退出")
    page.wait_for_url("**/login")


def test_city_admin_reads_the_log_in_chinese(page, world):
    page.on("dialog", lambda d: d.accept())
    page.set_viewport_size({"width": 1280, "height": 900})
    F.org_with_leader(world["town_a"], name="赤坎区海湾社区志愿服务队")
    y, m = report_services.default_period(local_today())
    report = F.monthly_report(world["org_leader"], world["org_a"], y, m)
    report_services.transition(report, "submit", world["org_leader"])
    db.session.commit()

    # District staff approve the registration and accept the report.
    browser_login(page, "district_staff")
    page.goto("/orgs/queue")
    page.click("text=赤坎区海湾社区志愿服务队")
    page.click("button:has-text('审核通过')")
    assert "已登记" in page.inner_text("main")
    page.goto(f"/reports/{report.id}")
    page.click("#do-accept")
    page.wait_for_selector(".flash-success")
    logout(page)

    # The city admin reads the log.
    browser_login(page, "city_admin")
    page.goto("/audit/")
    label = f"{y} 年 {m} 月月报（{world['org_a'].name}）"
    rows = page.inner_text("#rows")
    assert label in rows and "赤坎区海湾社区志愿服务队" in rows
    assert page.get_by_text(label).first.is_visible()
    # The change detail names fields and values in Chinese.
    accepted = page.locator("#rows tbody tr", has_text=label).filter(has_text="审核通过").first
    accepted.locator("details summary").click()
    detail = accepted.locator("table.changes").inner_text()
    assert "状态" in detail and "已提交" in detail and "已通过" in detail
    main = page.inner_text("main")
    assert not re.search(r"[a-z]+_[a-z]+#\d+", main) and not re.search(r"<[A-Z][a-zA-Z]+ ", main)
    assert "submitted" not in main and "monthly_report" not in main
    page.screenshot(path=SCREENSHOT, full_page=True)
