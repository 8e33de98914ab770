"""Browser: load the 2015 example, copy this year's plan to next year, edit a row inline (a wrong
month is refused next to the field), publish, see it on the calendar, tie an activity as the
district's concentrated one, and see the board turn green."""
from __future__ import annotations

import os
import re

from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.conftest import browser_login
from tests.themes.builders import theme_plan

SHOTS = os.environ.get("E2E_SHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"themes-{name}.png"), full_page=True)


def test_plan_calendar_activity_and_board(page, world):
    confirms: list[str] = []  # irreversible steps ask first (issue 15); the test says yes
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    today = local_today()
    this_year = theme_plan(world["city"], today.year, title=f"湛江市{today.year}年月主题活动安排表")
    activity = factories.activity(world["org_a"], "学雷锋便民服务", held_on=today)
    db.session.commit()

    browser_login(page, "city_admin")
    page.click("nav.sidenav >> text=每月一主题")
    page.click("text=载入示例计划")
    page.wait_for_url(re.compile(r".*/themes/\d+$"))
    assert "“感恩奋进·广安志愿2015月主题活动”安排表" in page.inner_text("h1")
    assert page.locator("#plan-rows tbody tr").count() == 12

    # Copy this year's plan to next year.
    page.goto(f"/themes/{this_year.id}")
    page.click("summary:has-text('复制为新年度计划')")
    page.fill("#year", str(today.year + 1))
    page.click("button:has-text('复制全部')")
    page.wait_for_url(re.compile(r".*/themes/\d+$"))
    assert "已复制为" in page.inner_text("main")
    db.session.commit()  # end the test's transaction: see what the server committed
    copy = db.session.query(ThemePlan).filter_by(year=today.year + 1).one()
    row = next(r for r in copy.rows if r.month_start == 3)

    # Inline edit: a backwards range is refused beside the field, then a good edit is saved.
    page.click(f"#row-{row.id} button:has-text('编辑')")
    page.wait_for_selector(f"#row{row.id}-month")
    page.fill(f"#row{row.id}-month", "3－1")
    page.fill(f"#row{row.id}-name", "学雷锋·文明湛江主题志愿服务月")
    page.click(f"#row-{row.id} button:has-text('保存')")
    page.wait_for_selector(f"#row-{row.id} .field-error")
    assert "不能倒置" in page.inner_text(f"#row-{row.id}")
    assert page.input_value(f"#row{row.id}-name") == "学雷锋·文明湛江主题志愿服务月"  # what was typed is kept
    page.fill(f"#row{row.id}-month", "3")
    page.click(f"#row-{row.id} button:has-text('保存')")
    page.wait_for_selector(f"#row-{row.id}:not(.editing)")
    assert "学雷锋·文明湛江主题志愿服务月" in page.inner_text(f"#row-{row.id}")
    _shot(page, "plan")

    page.click("button:has-text('发布计划')")
    page.wait_for_selector("text=计划已发布")
    db.session.commit()
    assert db.session.get(ThemePlan, copy.id).status == PlanStatus.PUBLISHED

    # Calendar: next year's March shows the edited theme; HTMX navigation to April keeps a shareable URL.
    page.click("a:has-text('查看日历')")
    page.wait_for_url(re.compile(rf".*/themes/calendar/{today.year + 1}$"))
    page.click("#calendar a:has-text('3 月')")
    page.wait_for_url(re.compile(rf".*/themes/calendar/{today.year + 1}/3$"))
    assert "学雷锋·文明湛江主题志愿服务月" in page.inner_text("#calendar")
    assert "学雷锋纪念日" in page.inner_text("#calendar")
    page.click("#calendar a[aria-label='下个月']")
    page.wait_for_url(re.compile(rf".*/themes/calendar/{today.year + 1}/4$"))
    assert "文明交通主题志愿服务月" in page.inner_text("#calendar")
    _shot(page, "calendar")

    # Tie today's activity to this month's theme as 赤坎区's concentrated activity.
    page.goto(f"/activities/{activity.id}")
    page.check("#concentrated")
    page.click("#theme-panel button:has-text('保存')")
    page.wait_for_selector("#theme-panel >> text=已保存主题关联")
    assert "集中活动" in page.inner_text("#theme-panel")
    db.session.commit()
    assert db.session.query(ThemeActivity).one().is_concentrated

    # The board: 赤坎区 this month is held (green) and drills down to the activity.
    page.click("nav.sidenav >> text=每月一主题")
    page.click("text=集中活动看板")
    cell = page.locator(f"tr:has(th:has-text('赤坎区')) td[data-month='{today.month}']")
    assert "tone-green" in cell.get_attribute("class") and "已举办" in cell.inner_text()
    cell.locator("a").click()
    page.wait_for_selector("#drill >> text=学雷锋便民服务")
    _shot(page, "board")
