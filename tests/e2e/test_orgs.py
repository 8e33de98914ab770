"""Browser: a person applies for their organization, district staff return it, the applicant fixes it
and resubmits, staff approve, and the leader logs in to a working account. Plus the registry's live
filters."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories as F

pytestmark = pytest.mark.e2e


def login(page, username, password=F.PASSWORD, next_url=None):
    # Straight to the page under test (the dashboard belongs to every feature).
    page.goto("/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def logout(page):
    page.click("header >> text=退出")
    page.wait_for_url("**/login")


def test_apply_return_resubmit_approve_login(page, world):
    page.on("dialog", lambda d: d.accept())
    # 1. A person applies without an account (the login page links to the application).
    page.goto("/login")
    page.click("text=在线申请登记")
    page.wait_for_url("**/orgs/apply")
    page.fill("#name", "赤坎区和平社区银龄志愿服务队")
    page.select_option("#kind", "社区志愿服务队")
    page.select_option("#region_id", str(world["community_a2"].id))
    page.fill("#contact_name", "陈秀英")
    page.fill("#contact_phone", "13922223333")
    page.fill("#address", "和平路 12 号")
    page.get_by_label("扶老").check()
    page.get_by_label("社区服务").check()
    page.fill("#display_name", "陈秀英")
    page.fill("#username", "chenxy")
    page.fill("#password", "Yinling2026")
    page.fill("#confirm", "Yinling2026")
    page.click("text=提交申请")
    page.wait_for_url("**/orgs/apply/done*")
    assert "chenxy" in page.inner_text("main")

    # 2. The applicant logs in and sees the application waiting.
    login(page, "chenxy", "Yinling2026")
    page.wait_for_url("**/orgs/application")
    assert "待审核" in page.inner_text("main")
    assert "志愿服务组织" not in page.inner_text("nav.sidenav")  # a pending account has no menu
    logout(page)

    # 3. District staff return it with a reason.
    login(page, "district_staff", next_url="/orgs/queue")
    page.wait_for_url("**/orgs/queue")
    page.click("text=赤坎区和平社区银龄志愿服务队")
    page.click("summary:has-text('退回修改')")
    page.click("button:has-text('确认退回修改')")  # without a reason first
    assert "请填写退回原因" in page.inner_text("main")
    page.fill("#comment-return", "请补充组织简介和成立日期。")
    page.click("button:has-text('确认退回修改')")
    assert "已退回" in page.inner_text("main")
    logout(page)

    # 4. The applicant sees the reason, fixes the application and resubmits.
    login(page, "chenxy", "Yinling2026")
    page.wait_for_url("**/orgs/application")
    assert "请补充组织简介和成立日期。" in page.inner_text("main")
    page.click("main a[href$='/edit']")
    page.fill("#founded_on", "2024-06-01")
    page.fill("#description", "组织退休党员和社区老人互助，开展探访、陪诊服务。")
    page.click("button:has-text('保存')")
    page.wait_for_url("**/orgs/application")
    page.click("button:has-text('重新提交')")
    page.wait_for_url("**/orgs/application")
    assert "待审核" in page.inner_text("main")
    logout(page)

    # 5. Staff approve; the history shows every step.
    login(page, "district_staff", next_url="/orgs/queue")
    page.click("text=赤坎区和平社区银龄志愿服务队")
    page.click("button:has-text('审核通过')")
    main = page.inner_text("main")
    assert "负责人账户已激活" in main and "已登记" in main
    for step in ("提交审核", "退回", "修改后重新提交", "审核通过"):
        assert step in page.inner_text(".timeline")
    logout(page)

    # 6. The leader logs in to a working account.
    login(page, "chenxy", "Yinling2026", next_url="/orgs/application")
    page.wait_for_url("**/orgs/application")
    assert "志愿服务组织" in page.inner_text("nav.sidenav")
    page.click("nav >> text=志愿服务组织")
    page.wait_for_url("**/orgs/")
    assert "赤坎区和平社区银龄志愿服务队" in page.inner_text("main")


def test_registry_filters_live(page, world):
    F.org(world["community_a"], "赤坎区示范点应急队", is_demo_site=True, demo_site_year=2025, kind="专业志愿服务队")
    from core.extensions import db

    db.session.commit()
    login(page, "city_admin", next_url="/orgs/")
    page.wait_for_url("**/orgs/")
    assert world["org_b"].name in page.inner_text("#org-rows")
    page.select_option("select[name=flag]", "demo")
    page.wait_for_url("**/orgs/?flag=demo&sort=name")  # only the filters that are set
    expect(page.locator("#org-rows")).not_to_contain_text("霞山区幸福社区志愿服务队")
    assert "赤坎区示范点应急队" in page.inner_text("#org-rows")
    page.select_option("select[name=flag]", "")
    page.fill("#q", "霞山")
    page.wait_for_url("**/orgs/?q=%E9%9C%9E%E5%B1%B1&sort=name")
    expect(page.locator("#org-rows")).not_to_contain_text("赤坎区示范点应急队")
    assert world["org_b"].name in page.inner_text("#org-rows")
    assert "q=" in page.get_attribute("#org-export", "href")
