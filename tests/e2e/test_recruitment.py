"""Browser, phone-sized (390 × 844) for the volunteer: the organization publishes a recruiting activity →
the volunteer signs up → checks in by opening the QR code's URL → checks out → the organization verifies
the pending 签到 record in the ledger → the volunteer sees the hours on /my/."""
from __future__ import annotations

import os
import re
from datetime import time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from blueprints.activities import checkin
from blueprints.activities.models import Participant
from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord
from core.extensions import db
from core.timeutil import local_today, to_local, utcnow
from tests import factories
from tests.conftest import browser_login, htmx_settled

SHOTS = os.environ.get("E2E_SHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"recruitment-{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def _checkin_url(staff, activity_id: int) -> str:
    """The QR's URL (of PUBLIC_BASE_URL), as the live test server serves it: its path and query."""
    staff.goto(f"/activities/{activity_id}/code")
    staff.wait_for_selector("#checkin-url")
    url = urlsplit(staff.get_attribute("#checkin-url", "href"))
    assert url.scheme.startswith("http") and url.path == f"/c/{activity_id}"
    return f"{url.path}?{url.query}"


def test_publish_sign_up_check_in_out_verify_and_see_the_hours(page, browser, live_server, me):
    world = me
    org = world["org_v"]
    factories.user("org_leader", "leader_v", orgs=[org])
    now = to_local(utcnow())
    start = time(max(0, now.hour - 1), 0)
    end = time(min(23, now.hour + 3), 0) if now.hour < 21 else time(23, 59)
    a = factories.activity(org, "社区文明劝导志愿服务", held_on=local_today(), start_time=start, end_time=end,
                           capacity=10, place="文明实践站门口")
    db.session.commit()

    staff_ctx = browser.new_context(base_url=live_server, locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.set_default_timeout(10000)
    try:
        # the organization publishes it for recruitment
        browser_login(staff, "leader_v")
        staff.goto(f"/activities/{a.id}")
        staff.click(f"a[href='/activities/{a.id}/recruit']")
        staff.check("#auto_accept")
        staff.click("main form button[type=submit]")
        staff.wait_for_url(re.compile(rf".*/activities/{a.id}$"))
        assert "招募中" in staff.inner_text("main")

        # the volunteer, on a phone, finds it and signs up
        page.set_viewport_size({"width": 390, "height": 844})
        browser_login_volunteer(page)
        page.click("nav.portal-tabs >> text=招募")
        page.click(f"text={a.title}")
        page.click("button:has-text('报名')")
        page.wait_for_selector("#signup-status")
        assert page.inner_text("#signup-status") == "已录用"
        assert _no_horizontal_scroll(page)
        _shot(page, "signed-up")

        # checks in by opening the URL the organizer's QR code holds
        url = _checkin_url(staff, a.id)
        _shot(staff, "code")
        assert url.startswith(f"/c/{a.id}?c=")
        page.goto(url)
        page.click("#scan-submit")
        page.wait_for_selector("text=签到成功")
        assert _no_horizontal_scroll(page)

        # two hours of service later (the test moves the check-in back rather than wait)
        db.session.commit()
        p = db.session.scalar(select(Participant).where(Participant.activity_id == a.id))
        p.checkin_at = utcnow() - timedelta(hours=2)
        p.checkin_window = checkin.window_of(p.checkin_at)
        db.session.commit()
        page.goto(_checkin_url(staff, a.id))
        assert page.inner_text("#scan-submit") == "签退"
        page.click("#scan-submit")
        page.wait_for_selector("text=签退成功")
        _shot(page, "checked-out")
        db.session.commit()
        record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.activity_id == a.id))
        assert record.source == RecordSource.CHECKIN and record.status == RecordStatus.PENDING
        hours = str(record.hours)

        # the organization sees the roster and verifies the record in the ledger's batch queue
        staff.on("dialog", lambda d: d.accept())
        staff.goto(f"/activities/{a.id}")
        assert "签到 · 待审核" in staff.inner_text("#roster")
        _shot(staff, "roster")
        staff.goto(f"/volunteers/records/?status=pending&org={org.id}")
        staff.check("input[name=ids]")
        staff.click("#verify-selected")
        staff.wait_for_selector("text=已审核通过 1 条记录")
        htmx_settled(staff)

        # the volunteer sees the hours on 我的
        page.click("nav.portal-tabs >> text=我的")
        page.wait_for_selector("#me-total")
        assert page.inner_text("#me-total") == hours
        assert _no_horizontal_scroll(page)
        _shot(page, "my")
        # and at 360 px, the narrowest phones the issue names
        page.set_viewport_size({"width": 360, "height": 740})
        for path in ("/recruit/", f"/recruit/{a.id}", "/my/activities", "/my/notices", "/my/checkin"):
            page.goto(path)
            assert _no_horizontal_scroll(page), path
            _shot(page, "w360" + path.replace("/", "-"))
    finally:
        staff_ctx.close()


def browser_login_volunteer(page) -> None:
    page.goto("/login")
    page.fill("#username", "volunteer")
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/my/$"))
