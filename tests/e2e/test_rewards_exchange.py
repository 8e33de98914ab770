"""Browser: publish a 回馈 item → staff record a redemption for a volunteer with enough hours → the
balance falls (also on the volunteer's own page); run the exchange export twice and see the second
skip what was sent."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.timeutil import local_today
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_publish_redeem_and_the_balance_falls(page, me):
    w = me
    leader_v = factories.user("org_leader", "leader_v", orgs=[w["org_v"]])
    for hours in ("8", "8", "4"):
        factories.service_record(w["person"], w["org_v"], day=local_today(), hours=hours, by=leader_v)
    from core.extensions import db

    db.session.commit()
    browser_login(page, "leader_v")
    page.click("nav >> text=嘉许回馈")
    page.wait_for_url(re.compile(r".*/rewards/$"))
    page.click("text=发布回馈项目")
    page.select_option("#provider", f"org-{w['org_v'].id}")
    page.fill("#title", "义剪：免费理发一次")
    page.fill("#cost", "15")
    page.click("button:has-text('发布')")
    page.wait_for_selector(".flash-success")
    assert "15.0 积分" in page.inner_text("#item-conditions")

    page.fill("#volunteer", w["person"].number)
    page.click("button:has-text('登记兑换')")
    page.wait_for_selector(".flash-success")
    page.click(f"table a:has-text('{w['person'].name}')")
    assert page.inner_text("#balance") == "5.0"  # 20 h − 15
    # A second redemption would overdraw: refused next to the field.
    page.go_back()
    page.fill("#volunteer", w["person"].number)
    page.click("button:has-text('登记兑换')")
    assert "可用积分不足" in page.inner_text(".field-error")
    page.click("button:has-text('退出')")

    browser_login(page, "volunteer")
    page.click("nav.me-links >> text=嘉许回馈")
    page.wait_for_url(re.compile(r".*/my/rewards$"))
    assert page.inner_text("#my-balance") == "5.0"
    assert "义剪：免费理发一次" in page.inner_text("main")


def test_exchange_export_twice_skips_what_was_sent(page, world):
    v = factories.activity_volunteer(world["org_a"], name="李娜")
    for d in (1, 2, 3):
        factories.service_record(v, world["org_a"], day=local_today() - timedelta(days=d), hours="2",
                                 by=world["org_leader"])
    from core.extensions import db

    db.session.commit()
    browser_login(page, "district_staff")
    page.click("nav >> text=平台数据对接")
    page.wait_for_url(re.compile(r".*/exchange/$"))
    start = (local_today() - timedelta(days=10)).isoformat()
    for expected in ("3", "0"):
        page.goto("/exchange/")
        page.check("input[name=dataset][value=records]")
        page.fill("#start", start)
        page.click("#export-submit")
        page.wait_for_url(re.compile(r".*/jobs/\d+$"))
        with page.expect_download():
            page.click(".job-download")
        page.goto("/exchange/")
        first = page.locator("#batches tbody tr").first
        assert first.locator("td").nth(5).inner_text() == expected
    assert page.locator("#batches tbody tr").first.locator("td").nth(6).inner_text() == "3"  # skipped: already sent
