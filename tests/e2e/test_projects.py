"""Browser: an org leader enters a project (立项), starts it, links an activity and asks for evaluation; the
district office evaluates it and the project is closed (结项) with its weighted total."""
from __future__ import annotations

import re

from sqlalchemy import select

from blueprints.activities.models import Activity
from blueprints.projects.models import ProjectStatus, VolunteerProject
from core.extensions import db
from tests import factories
from tests.conftest import browser_login


def logout(page):
    page.click("header >> text=退出")
    page.wait_for_url(re.compile(r".*/login.*"))


def test_create_link_and_evaluate_a_project(page, world):
    page.on("dialog", lambda d: d.accept())
    act = factories.activity(world["org_a"], "重阳敬老院探访")
    db.session.commit()

    browser_login(page, "org_leader")
    page.click("nav.sidenav >> text=志愿服务项目库")
    page.click("text=项目立项")
    page.fill("#title", "银龄关爱·邻里守望")
    page.select_option("#field", "扶老")
    page.select_option("#target_group", "空巢老人")
    page.fill("#start_date", "2026-01-01")
    page.fill("#end_date", "2026-12-31")
    page.fill("#budget", "abc")
    page.fill("#goals", "每月上门探访两次")
    page.click("main button[type=submit]")
    page.wait_for_selector(".field-error")
    assert "项目预算" in page.inner_text("main form") and page.input_value("#title") == "银龄关爱·邻里守望"
    page.fill("#budget", "12000")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/projects/\d+$"))
    assert "已立项" in page.inner_text("main")

    page.click("main button:has-text('开始实施')")
    page.wait_for_selector("text=已开始实施")
    page.select_option("#activity_id", label=f"{act.held_on:%Y-%m-%d} 重阳敬老院探访")
    page.click("main button:has-text('关联活动')")
    page.wait_for_selector("#activities >> text=重阳敬老院探访")
    page.click("main button:has-text('提交评估')")
    page.wait_for_selector("text=已提交评估")
    url = page.url
    logout(page)

    browser_login(page, "district_staff")
    page.goto(url)
    page.click("text=项目评估")
    for key, score in (("goals", "90"), ("effect", "80"), ("satisfaction", "95"), ("management", "70"), ("funds", "100")):
        page.fill(f"#score_{key}", score)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=评估已完成")
    assert "86.50" in page.inner_text("#evaluation") and "良好" in page.inner_text("#evaluation")
    db.session.rollback()  # end the test's read transaction: see what the server committed
    p = db.session.scalar(select(VolunteerProject))
    assert p.status == ProjectStatus.CLOSED
    assert db.session.get(Activity, act.id).project_id == p.id
