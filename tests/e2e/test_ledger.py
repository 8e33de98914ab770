"""Browser: record hours for a volunteer, verify them in the ledger (HTMX batch), issue and download
the 志愿服务记录证明, and check it on the public /verify page without logging in."""
from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta

from sqlalchemy import select

from blueprints.volunteers.models import Certificate, RecordStatus, ServiceRecord, Volunteer
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.conftest import browser_login

SHOTS = os.environ.get("E2E_SHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"ledger-{name}.png"), full_page=True)


def test_record_verify_certify_and_check(page, world, live_server):
    confirms: list[str] = []  # irreversible steps ask first (issue 15); the test says yes
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    v = factories.activity_volunteer(world["org_a"], name="林晓红", registered_on=date(2023, 3, 1))
    db.session.commit()
    day = (local_today() - timedelta(days=2)).isoformat()

    browser_login(page, "org_leader")
    page.goto(f"/volunteers/{v.id}")
    page.click("text=录入服务记录")
    page.fill("#service_date", day)
    page.fill("#hours", "30")
    page.fill("#content", "社区长者探访")
    page.click("main form button[type=submit] >> text=保存")
    page.wait_for_selector(".field-error")
    assert "24 小时" in page.inner_text("main form") and page.input_value("#content") == "社区长者探访"
    page.fill("#hours", "3.5")
    page.click("main form button[type=submit] >> text=保存")
    page.wait_for_url(re.compile(rf".*/volunteers/{v.id}(#records)?$"))
    assert "待审核" in page.inner_text("#records") and "社区长者探访" in page.inner_text("#records")
    _shot(page, "volunteer-pending")

    # the pending queue: tick the record and verify it without leaving the page (HTMX)
    page.click("text=审核待审核记录")
    page.check("input[name=ids]")
    page.click("#verify-selected")
    page.wait_for_selector("text=已审核通过 1 条记录")
    assert any("计入服务时长" in m for m in confirms), confirms
    assert page.locator("input[name=ids]").count() == 0
    _shot(page, "ledger-verified")
    db.session.commit()  # end the test's own transaction: see what the server committed
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id))
    assert record.status == RecordStatus.VERIFIED
    assert str(db.session.get(Volunteer, v.id).total_hours) == "3.5"

    # issue the certificate and download its PDF
    page.goto(f"/volunteers/{v.id}")
    page.click("text=出具记录证明")
    page.fill("#person_in_charge", "王芳")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=已出具志愿服务记录证明")
    with page.expect_download() as dl:
        page.click("#certificates >> text=下载 PDF")
    assert dl.value.suggested_filename.endswith(".pdf")
    with open(dl.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    _shot(page, "certificates")
    with page.expect_download() as dl:  # the transfer file (a logged POST)
        page.click("#certificates >> text=导出转移接续文件")
    assert dl.value.suggested_filename.endswith(".json")
    with open(dl.value.path(), encoding="utf-8") as fh:
        exported = json.load(fh)
    assert exported["format"] == "zhiyuan.volunteer-record" and exported["totals"]["verified_hours"] == "3.5"

    # anyone can check it, without logging in
    db.session.commit()
    cert = db.session.scalar(select(Certificate))
    other = page.context.browser.new_context(base_url=live_server, locale="zh-CN")
    public = other.new_page()
    public.goto("/verify/")
    public.fill("#code", cert.code.lower())
    public.click("main form button[type=submit]")
    public.wait_for_selector("text=真实有效")
    body = public.inner_text("main")
    assert "3.5 小时" in body and "林**" in body and v.id_masked in body and "林晓红" not in body
    if SHOTS:
        public.screenshot(path=os.path.join(SHOTS, "ledger-verify.png"), full_page=True)
    other.close()


def test_ledger_filter_checkboxes_are_visible_and_dates_do_not_wrap(page, world, live_server):
    """The '仅补录' / '仅已更正' checkboxes of the filter bar are real boxes (they had collapsed to a 2 px
    dot), and a service date stays on one line at 1280 px."""
    v = factories.activity_volunteer(world["org_a"], name="林晓红", registered_on=date(2023, 3, 1))
    factories.service_record(v, world["org_a"], local_today() - timedelta(days=2), "2", content="社区长者探访" * 3,
                             verified=False, by=world["org_leader"])
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "org_leader")
    page.goto("/volunteers/records/")
    for name in ("late", "corrected"):
        box = page.locator(f"input[name={name}]").bounding_box()
        assert box["width"] >= 12 and box["height"] >= 12, (name, box)
    # The date itself (the row may be taller: a pending record says who verifies it, issue 15)
    cell = page.locator(".ledger-table td.date a").first.bounding_box()
    assert cell["height"] < 30, cell  # one line, not '2026-11-' / '23'
    page.check("input[name=late]")
    assert page.is_checked("input[name=late]")
