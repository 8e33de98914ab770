"""Browser: an org leader creates a training session and records its attendance in one batch from the roster;
the volunteer page then shows 岗前培训 done."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from blueprints.training.models import TrainingAttendee
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.conftest import browser_login, htmx_settled


def test_session_with_batch_attendance(page, world):
    factories.training_course(world["city"], "pre_service")
    vols = [factories.activity_volunteer(world["org_a"], name=n) for n in ("林晓红", "林大海", "陈志远")]
    db.session.commit()

    browser_login(page, "org_leader")
    page.click("nav.sidenav >> text=志愿者培训")
    page.click("text=新建培训场次")
    page.select_option("#course_id", label="志愿者岗前培训（岗前培训）")
    page.fill("#held_on", (local_today() - timedelta(days=1)).isoformat())
    page.fill("#hours", "2")
    page.click("main button[type=submit]")  # no place: the form comes back with the message, values kept
    page.wait_for_selector(".field-error")
    assert "请填写培训地点" in page.inner_text("main form") and page.input_value("#hours") == "2"
    page.fill("#place", "幸福社区党群服务中心")
    page.fill("#trainer", "林老师")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/training/sessions/\d+$"))
    assert "已创建培训场次" in page.inner_text("main")

    # the roster: filter by name (htmx), tick two, record them at once
    htmx_settled(page)
    page.fill("#roster input[name=q]", "林")
    page.wait_for_function("() => !document.querySelector('#roster')?.innerText.includes('陈志远')")
    htmx_settled(page)
    page.check("#roster >> text=林晓红")
    page.check("#roster >> text=林大海")
    page.click("#roster >> text=记录为已参训")
    page.wait_for_selector("text=已记录 2 人参加培训")
    assert "参训人员（2 人）" in page.inner_text("#attendance")
    attended = set(db.session.scalars(select(TrainingAttendee.volunteer_id)))
    assert attended == {vols[0].id, vols[1].id}

    page.goto(f"/volunteers/{vols[0].id}")
    assert "已完成" in page.inner_text("[data-pre-service]")
    page.goto(f"/volunteers/{vols[2].id}")
    assert "未完成" in page.inner_text("[data-pre-service]")
