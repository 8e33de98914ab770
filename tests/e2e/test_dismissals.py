"""Browser: an org leader dismisses a member of their organization (本站劝退) and reports it upward; the
district office finds it in its queue and decides a city-wide 劝退; the volunteer page keeps the history
(001 附件4 第五条 "本站可以对其劝退，行为加重者，报上级志愿服务组织备案")."""
from __future__ import annotations

import re
from datetime import date

import pytest

from blueprints.volunteers.models import ReportStatus, VolunteerStatus
from blueprints.volunteers.services import dismissal_history
from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_station_dismissal_reported_and_decided_city_wide(page, world):
    v = factories.volunteer(world["org_a"], name="林推销", registered_on=date(2025, 1, 1))
    db.session.commit()
    browser_login(page, "org_leader")
    page.goto(f"/volunteers/{v.id}")
    page.locator("td a", has_text="劝退").click()
    page.wait_for_url(re.compile(r".*/memberships/\d+/dismiss$"))
    page.check("input[name=reason][value=profit]")
    page.fill("#note", "以志愿者名义向老人推销保健品，屡劝不改。")
    page.check("#report")
    page.click("button:has-text('确认劝退')")
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    assert "已报区县文明办备案" in page.locator(".flash").first.inner_text()
    history = page.locator("section", has_text="劝退与恢复记录").inner_text()
    assert "本组织劝退" in history and "待区县处理" in history
    page.click("button:has-text('退出')")

    browser_login(page, "district_staff")
    page.goto("/volunteers/")
    page.click("text=劝退报备")
    row = page.locator("#pending-reports tbody tr", has_text="林推销")
    assert "屡劝不改" in row.inner_text()
    row.locator("a", has_text="处理").click()
    page.check("input[name=decision][value=city]")
    page.fill("#note", "情节严重，全市劝退。")
    page.click("button:has-text('确认')")
    page.wait_for_url(re.compile(r".*/volunteers/dismissals$"))
    assert "已决定全市劝退" in page.locator("main").inner_text()
    page.locator("main a", has_text="林推销").first.click()
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    main = page.locator("main").inner_text()
    assert "全市劝退：利用志愿者的名义" in main and "恢复在册" in main and "情节严重" in main
    db.session.rollback()  # end the test's read transaction: see what the server committed
    assert v.status == VolunteerStatus.DISMISSED
    assert [e.report_status for e in dismissal_history(v) if e.report_status] == [ReportStatus.ESCALATED]
