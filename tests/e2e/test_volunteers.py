"""Browser: an org leader registers a volunteer, finds them in the list with the HTMX search, opens
their page and reveals the ID number with the audited 显示 action."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_register_find_open_and_reveal(page, world):
    number = factories.id_number(date(1992, 8, 8), sex="女")
    factories.volunteer(world["org_a"], name="其他人")
    db.session.commit()
    browser_login(page, "org_leader")
    page.click("nav >> text=志愿者")
    page.click("text=注册志愿者")
    page.fill("#name", "周晓婷")
    page.fill("#id_number", number)
    page.fill("#phone", "13812345678")
    page.select_option("#political_status", "league_member")
    page.check("input[name=skills][value='助学']")
    page.check("input[name=availability][value='周末']")
    page.click("button:has-text('注册')")
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    assert "已注册志愿者 周晓婷" in page.locator(".flash").first.inner_text()
    main = page.locator("main").inner_text()
    assert "女" in main and number not in main and number[:4] + "*" * 14 in main and "1992 年生" in main

    page.click("text=志愿者名册")
    page.fill("#q", number[-4:])
    expect(page.locator("#volunteer-rows tbody tr")).to_have_count(1)
    row = page.locator("#volunteer-rows tbody tr").first
    assert "周晓婷" in row.inner_text() and "其他人" not in page.locator("#volunteer-rows").inner_text()
    assert number[-4:] in page.url  # the search key (last 4 only) is in the shareable URL
    page.fill("#q", number)  # a full number: refused with a hint, and never pushed into the history
    expect(page.locator("#volunteer-rows")).to_contain_text("请只输入后 4 位")
    assert number not in page.url and number[-4:] in page.url
    page.fill("#q", number[-4:])
    expect(page.locator("#volunteer-rows tbody tr")).to_have_count(1)
    row.locator("a", has_text="周晓婷").click()
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))

    page.locator("#reveal-id_number button", has_text="显示").click()
    page.wait_for_selector(f"#reveal-id_number:has-text('{number}')")
    assert number not in page.url
    db.session.expire_all()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reveal"))
    assert entry is not None and entry.username == "org_leader"
