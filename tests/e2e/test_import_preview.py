"""Browser: a district officer uploads a large volunteer file; the page answers at once with the
preview job's progress, then a link to the preview; the preview lists the first rows and the
officer confirms; the import job runs and the people are on the list."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from blueprints.volunteers.services import IMPORT_COLUMNS
from core.exports import xlsx_bytes
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_large_import_is_previewed_by_a_job_then_confirmed(page, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)  # this small file counts as large
    rows = [[f"大文件{i}", factories.id_number(), "13800000001", "群众", "否", "扶老", "周末", "", "", "", "", ""]
            for i in range(3)]
    browser_login(page, "district_staff")
    page.goto("/volunteers/import")
    page.select_option("#organization_id", str(world["org_a"].id))
    page.set_input_files("#file", files=[{"name": "志愿者.xlsx", "mimeType": XLSX,
                                          "buffer": xlsx_bytes("志愿者", IMPORT_COLUMNS, rows)}])
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    status.locator("a:has-text('查看结果')").click()
    page.wait_for_url(re.compile(r".*/volunteers/import/preview/\d+$"))
    expect(page.locator("#import-preview")).to_contain_text("共 3 行，全部校验通过")
    page.click("#import-preview button:has-text('确认导入')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    expect(status).to_contain_text("新注册 3 人")


def test_a_large_org_file_is_previewed_on_the_shared_page_then_confirmed(page, world, app, monkeypatch):
    """Every other import takes the same path (core/jobs.py upload_importer): here the organizations."""
    from blueprints.orgs.importing import IMPORT_COLUMNS as ORG_COLUMNS
    from tests.orgs.test_import import row

    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)
    browser_login(page, "district_staff")
    page.goto("/orgs/import")
    page.set_input_files("#file", files=[{"name": "组织.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(
        "组织", ORG_COLUMNS, [row(name=f"赤坎区大文件服务队{i}") for i in range(2)])}])
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    status.locator("a:has-text('查看结果')").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+/preview$"))
    expect(page.locator("#import-preview")).to_contain_text("共 2 行，全部校验通过")
    page.click("#import-preview button:has-text('确认导入')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    expect(status).to_contain_text("已导入 2 个组织")


def test_an_import_that_fails_half_way_says_what_is_saved_and_a_retry_finishes(page, world, app, monkeypatch):
    """A later chunk fails: the job's page says exactly how many rows are saved; 重试 imports the rest once."""
    from blueprints.orgs.importing import IMPORT_COLUMNS as ORG_COLUMNS
    from core import jobs
    from tests.orgs.test_import import row

    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)
    monkeypatch.setattr(jobs, "IMPORT_CHUNK", 2)
    real = jobs._KINDS["orgs.import"]
    calls = []

    def second_chunk_fails(user, params, rows, counts):
        calls.append(1)
        if len(calls) == 2:
            raise jobs.JobError("数据库暂时不可用")
        real.run.apply(user, params, rows, counts)

    monkeypatch.setitem(jobs._KINDS, "orgs.import",
                        jobs._Kind(jobs._Chunked(second_chunk_fails, real.run.done, real.run.size), "chunked"))
    browser_login(page, "district_staff")
    page.goto("/orgs/import")
    page.set_input_files("#file", files=[{"name": "组织.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(
        "组织", ORG_COLUMNS, [row(name=f"赤坎区分批服务队{i}") for i in range(5)])}])
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    status.locator("a:has-text('查看结果')").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+/preview$"))
    page.click("#import-preview button:has-text('确认导入')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "failed", timeout=30000)
    expect(status.locator(".error")).to_contain_text("数据库暂时不可用")
    expect(status.locator(".error")).to_contain_text("已保存前 2 条（至表格第 3 行），其余 3 条（共 5 条）未导入")
    monkeypatch.setitem(jobs._KINDS, "orgs.import", real)
    status.locator("button:has-text('重试')").click()
    status = page.locator(".job-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30000)
    expect(status).to_contain_text("已导入 5 个组织")
