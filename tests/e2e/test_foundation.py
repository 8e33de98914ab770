"""Browser: every role logs in and sees its dashboard; the region tree expands with HTMX."""
from __future__ import annotations

import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("role,label", [
    ("city_admin", "市文明办管理员"), ("district_staff", "县区文明办工作人员"), ("org_leader", "组织负责人"),
    ("leader", "领导"), ("reviewer", "评审专家"),
])
def test_each_role_logs_in_and_sees_its_dashboard(page, world, role, label):
    browser_login(page, role)
    assert page.locator("h1").inner_text().endswith("您好")
    assert label in page.locator("main").inner_text()
    page.click("text=退出")
    page.wait_for_url("**/login")
    assert "您已安全退出" in page.content()


def test_wrong_password_shows_a_message(page, world):
    page.goto("/login")
    page.fill("#username", "district_staff")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.locator(".flash-error").inner_text()
    assert page.input_value("#username") == "district_staff"


def test_region_tree_expands_and_collapses(page, world):
    browser_login(page, "district_staff")
    page.click("nav >> text=区域管理")
    # The district's own level is open from the start; streets load on demand.
    page.wait_for_selector("text=中华街道")
    assert not page.is_visible("text=幸福社区")
    page.click(f"button[aria-label='展开 中华街道']")
    page.wait_for_selector("text=幸福社区")
    # Collapsing hides the loaded branch without another request.
    page.click(f"button[aria-label='展开 中华街道']")
    assert not page.is_visible("text=幸福社区")
