"""Browser: the password page lists the account's open sessions and ends the other ones."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_user_sees_their_sessions_and_ends_the_others(browser, live_server, page, world):
    other = browser.new_context(base_url=live_server, locale="zh-CN")
    elsewhere = other.new_page()
    try:
        browser_login(elsewhere, "org_leader")
        browser_login(page, "org_leader")
        page.click("text=修改密码")
        page.wait_for_url("**/account/password")
        rows = page.locator("table.sessions tbody tr")
        assert rows.count() == 2
        assert "当前会话" in page.locator("table.sessions").inner_text()
        page.on("dialog", lambda d: d.accept())
        page.click("button:has-text('结束其他会话')")
        page.wait_for_selector("text=已结束其他 1 个会话")
        assert page.locator("table.sessions tbody tr").count() == 1
        # The other browser is logged out on its next request.
        elsewhere.goto("/")
        elsewhere.wait_for_url("**/login**")
        assert "请先登录" in elsewhere.content()
    finally:
        other.close()
