"""Browser: a district officer exports the volunteer list; the page answers at once with the job's
progress bar, then its download link; the file downloads and holds the list; 我的任务 lists it."""
from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_export_runs_as_a_job_with_progress_and_a_download(page, world):
    factories.volunteer(world["org_a"], name="浏览器导出人")
    db.session.commit()
    browser_login(page, "district_staff")
    page.click("nav >> text=志愿者")
    page.click("#volunteer-export")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status.locator("progress")).to_be_visible()
    expect(status).to_have_attribute("data-status", "done", timeout=15000)  # the widget polls until then
    expect(status.locator("progress")).to_have_attribute("value", "100")
    assert "1 / 1 行" in status.inner_text()
    link = status.locator("a.job-download")
    expect(link).to_be_visible()
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename.startswith("志愿者名册_") and dl.value.suggested_filename.endswith(".xlsx")
    with open(dl.value.path(), "rb") as fh:
        ws = load_workbook(fh).active
    assert "浏览器导出人" in [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]

    page.click("nav >> text=我的任务")
    expect(page.locator("table.jobs")).to_contain_text("导出志愿者名册")
    expect(page.locator("table.jobs")).to_contain_text("已完成")
