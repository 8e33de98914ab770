"""Browser: create an activity, sign volunteers up, record "全部出勤 2 小时", see the pending records."""
from __future__ import annotations

import os
import re

from sqlalchemy import select

from blueprints.activities.models import Activity
from blueprints.volunteers.models import RecordStatus, ServiceRecord
from core import pii
from core.extensions import db
from tests import factories
from tests.conftest import browser_login, htmx_settled

SHOTS = os.environ.get("E2E_SHOTS")  # a directory: save screenshots of the pages for a human look


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"activities-{name}.png"), full_page=True, caret="initial", animations="allow")


def test_create_sign_up_and_record_attendance(page, world):
    confirms: list[str] = []  # irreversible steps ask first (issue 15); the test says yes
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    org = world["org_a"]
    vols = [factories.activity_volunteer(org, name=n) for n in ("林晓红", "林大海", "陈志远")]
    db.session.commit()

    browser_login(page, "org_leader")
    page.click("nav.sidenav >> text=志愿服务活动")
    page.click("text=新建活动")
    page.fill("#place", "湛江海滨公园东门")
    page.select_option("#category", "nature")
    page.fill("#start_time", "09:00")
    page.fill("#end_time", "11:00")
    page.fill("#capacity", "20")
    page.click("main button[type=submit]")  # no title: the form comes back with the message, values kept
    page.wait_for_selector(".field-error")
    assert "请填写活动名称" in page.inner_text("main form")
    assert page.input_value("#place") == "湛江海滨公园东门"
    page.fill("#title", "海滨公园净滩行动")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/activities/\d+$"))
    assert "已创建活动" in page.inner_text("main")
    _shot(page, "detail-empty")

    # sign up: search by name, tick two, then by the last four of an ID number
    page.fill("#signup-q", "林")
    page.wait_for_selector("#candidates >> text=林晓红")
    page.check("#candidates >> text=林晓红")
    page.check("#candidates >> text=林大海")
    page.click("#candidates >> text=报名所选")
    page.wait_for_selector("table.attendance >> text=林大海")
    htmx_settled(page)  # the grid (with a new search box) was just swapped in
    page.fill("#signup-q", pii.decrypt(vols[2].id_number_enc)[-4:])
    page.wait_for_selector("#candidates >> text=陈志远")
    page.check("#candidates >> text=陈志远")
    page.click("#candidates >> text=报名所选")
    page.wait_for_selector("table.attendance >> text=陈志远")
    assert "报名 3 人" in page.inner_text("#grid")

    # a bad hours value in one row: the message appears in that row
    row = page.locator("tr", has_text="陈志远")
    row.locator("input[name=hours]").fill("30")
    row.locator("text=保存").click()
    page.wait_for_selector("tr.row-error >> text=24 小时")

    # all present for 2 hours
    page.fill("#all-hours", "2")
    page.click("#grid button:has-text('全部出勤')")
    page.wait_for_selector("#grid >> text=已为 3 人记录考勤")
    assert page.locator("table.attendance >> text=待审核").count() == 3
    _shot(page, "detail-attendance")

    db.session.rollback()
    activity = db.session.scalar(select(Activity).where(Activity.title == "海滨公园净滩行动"))
    records = db.session.scalars(select(ServiceRecord).where(ServiceRecord.activity_id == activity.id)).all()
    assert len(records) == 3 and {str(r.hours) for r in records} == {"2.0"}
    assert all(r.status == RecordStatus.PENDING for r in records)

    # the list finds it with the HTMX filters
    page.goto("/activities/")
    page.select_option("select[name=category]", "others")
    page.wait_for_selector("#rows >> text=没有符合条件的记录")
    page.select_option("select[name=category]", "nature")
    page.wait_for_selector("#rows >> text=海滨公园净滩行动")
    _shot(page, "list")


    # the volunteer's page shows the record as pending; the organizer verifies it in the ledger
    page.click("text=海滨公园净滩行动")
    page.click("table.attendance >> text=林晓红")
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    records = page.locator("#records")
    assert "活动：海滨公园净滩行动" in records.inner_text() and "待审核" in records.inner_text()
    _shot(page, "volunteer")
    page.click("#records >> text=审核待审核记录")
    page.wait_for_selector("#ledger-rows >> text=海滨公园净滩行动")
    page.check("#ledger-rows input[name=ids]")
    page.click("#verify-selected")
    page.wait_for_selector("#ledger-rows >> text=已审核通过 1 条记录")

    # back on the activity, the row is verified and no longer editable; then the certificate
    page.goto(f"/activities/{activity.id}")
    row = page.locator("tr", has_text="林晓红")
    assert "已审核" in row.inner_text() and row.locator("input[name=hours]").count() == 0
    row.locator("a", has_text="林晓红").click()
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    page.click("text=出具记录证明")
    page.fill("#person_in_charge", "陈队长")
    page.click("main button:has-text('出具证明')")
    page.wait_for_selector("#certificates >> text=下载 PDF")
    with page.expect_download() as download:
        page.click("#certificates >> text=下载 PDF")
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
