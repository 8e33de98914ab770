"""Every import answers a large file at once with a preview job (issue 16: "imports (volunteers, records,
organizations, regions, insurance, the exchange files) … run as background jobs"; no request parses tens
of thousands of rows). The routes come from tests/core/test_imports.py, whose own test fails when an
import route of the URL map is missing there, so a new import is walked here too."""
from __future__ import annotations

import io
import re

import pytest

from core import jobs, pii, tabular
from core.exports import xlsx_bytes
from core.extensions import db
from core.jobs import Job, JobStatus
from tests import factories as F
from tests.core.test_imports import ENDPOINTS, _importers


@pytest.fixture
def small_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)  # every file counts as large here


def _job(resp) -> Job:
    assert resp.status_code == 303, resp.status_code
    db.session.expire_all()
    return db.session.get(Job, int(re.search(r"/jobs/(\d+)$", resp.location).group(1)))


def _post(client, url, extra, data, name="导入.xlsx"):
    return client.post(url, data={**extra, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_file_over_the_inline_limit_is_answered_with_a_job_and_no_row_is_read(
        endpoint, world, as_role, small_inline, monkeypatch):
    url, extra, columns = _importers(world)[endpoint]
    c = as_role("city_admin")
    queued = []
    monkeypatch.setattr(jobs, "run_job", queued.append)  # the worker does not run: what did the request do?

    def no_rows_in_the_request(*a, **kw):
        raise AssertionError(f"{endpoint} read the rows of a large file inside the request")

    monkeypatch.setattr(tabular, "_iter_collect", no_rows_in_the_request)
    data = xlsx_bytes("导入", columns, [["甲"] * len(columns)] * 3)
    job = _job(_post(c, url, extra, data))
    assert queued == [job.id]
    assert job.status == JobStatus.QUEUED and job.pii
    assert jobs._KINDS[job.kind].flavour == "preview"
    assert jobs.file_size(job.id, jobs.INPUT) == len(data)  # the upload waits for the worker, in the database


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_job_checks_the_file_and_links_to_a_preview_only_its_owner_sees(endpoint, world, as_role, small_inline):
    url, extra, columns = _importers(world)[endpoint]
    c = as_role("city_admin")
    job = _job(_post(c, url, extra, xlsx_bytes("导入", columns, [["甲"] * len(columns)] * 3)))
    assert job.status == JobStatus.DONE, job.error
    assert (job.done, job.total) == (3, 3)
    assert jobs.file_size(job.id, jobs.INPUT) is None  # the upload is gone once read
    page = c.get(job.result_url)
    assert page.status_code in (200, 422) and "共 3 行" in page.get_data(as_text=True)
    other = as_role("district_staff")
    assert other.get(job.result_url).status_code == 404


def test_a_file_that_cannot_be_read_is_refused_at_once_without_a_job(world, as_role, small_inline):
    url, extra, columns = _importers(world)["orgs.import_upload"]
    c = as_role("city_admin")
    before = db.session.query(Job).count()
    resp = _post(c, url, extra, b"not a workbook" * 10)
    assert resp.status_code == 422 and "无法读取该 Excel 文件" in resp.get_data(as_text=True)
    assert db.session.query(Job).count() == before


def test_a_large_org_file_is_previewed_by_a_job_then_confirmed(world, as_role, small_inline, monkeypatch):
    from blueprints.orgs.importing import IMPORT_COLUMNS
    from tests.orgs.test_import import row

    monkeypatch.setattr(jobs, "PREVIEW_ROWS", 2)
    c = as_role("district_staff")
    rows = [row(name=f"赤坎区预览服务队{i}") for i in range(3)]
    job = _job(_post(c, "/orgs/import", {}, xlsx_bytes("组织", IMPORT_COLUMNS, rows)))
    assert job.status == JobStatus.DONE and job.result_url == f"/jobs/{job.id}/preview"
    page = c.get(job.result_url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "全部校验通过" in body and "只列出前 2 行" in body
    assert "赤坎区预览服务队1" in body and "赤坎区预览服务队2" not in body
    assert 'class="breadcrumbs"' in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    assert 'action="/orgs/import/confirm"' in body
    done = _job(c.post("/orgs/import/confirm", data={"token": token}))
    assert done.status == JobStatus.DONE and "已导入 3 个组织" in done.message


def test_a_large_insured_list_keeps_no_full_id_number_and_imports_the_good_rows(world, as_role, small_inline):
    """身份证号 never appear whole: the job's preview keeps only the masked value."""
    from blueprints.insurance.services import IMPORT_COLUMNS

    a = F.activity_volunteer(world["org_a"], name="预览甲")
    p = F.insurance_policy(world["org_a"])
    db.session.commit()
    na = pii.decrypt(a.id_number_enc)
    c = as_role("org_leader")
    data = xlsx_bytes("名单", IMPORT_COLUMNS, [["预览甲", na], ["错名", "440802199001011234"]])
    job = _job(_post(c, f"/insurance/{p.id}/import", {}, data))
    stored = jobs.read_file(job.id, jobs.PREVIEW).decode()
    assert na not in stored
    body = c.get(job.result_url).get_data(as_text=True)
    assert na not in body and "确认导入 1 人" in body and "有问题" in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    done = _job(c.post(f"/insurance/{p.id}/import/confirm", data={"token": token}))
    assert done.status == JobStatus.DONE and "已导入 1 名被保险人" in done.message


def test_the_shared_preview_page_answers_only_its_own_preview_jobs(world, as_role, small_inline):
    from blueprints.volunteers.services import IMPORT_COLUMNS

    c = as_role("city_admin")
    url, extra, _ = _importers(world)["volunteers.import_upload"]
    job = _job(_post(c, url, extra, xlsx_bytes("志愿者", IMPORT_COLUMNS, [["甲"] * len(IMPORT_COLUMNS)])))
    assert job.kind == "volunteers.preview"  # it has a page of its own
    assert c.get(f"/jobs/{job.id}/preview").status_code == 404
    assert c.get("/jobs/999999/preview").status_code == 404
