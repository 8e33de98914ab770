"""A large import file is read and checked by a preview job (issue 16: no request parses tens of
thousands of rows): the upload answers at once with the job, the job links to the preview, the
preview is confirmed as before; small files are previewed in the request as they always were."""
from __future__ import annotations

import re

import pytest

from blueprints.volunteers.services import IMPORT_COLUMNS
from core import jobs
from core.exports import xlsx_bytes
from core.extensions import db
from core.jobs import Job, JobStatus
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(n: int, bad_at: int | None = None) -> list[list]:
    out = []
    for i in range(n):
        number = factories.id_number() if i != bad_at else "123"
        out.append([f"预览{i:03d}", number, "13800000001", "群众", "否", "扶老", "周末", "", "", "", "", ""])
    return out


def _upload(c, world, rows):
    import io

    return c.post("/volunteers/import", data={"organization_id": world["org_a"].id,
                                              "file": (io.BytesIO(xlsx_bytes("志愿者", IMPORT_COLUMNS, rows)), "v.xlsx", XLSX)},
                  content_type="multipart/form-data")


@pytest.fixture
def small_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)  # every file counts as large here


def _job(resp) -> Job:
    assert resp.status_code == 303, resp.status_code
    db.session.expire_all()
    return db.session.get(Job, int(re.search(r"/jobs/(\d+)$", resp.location).group(1)))


def test_a_large_file_is_previewed_by_a_job_then_confirmed(world, as_role, small_inline, monkeypatch):
    monkeypatch.setattr(jobs, "PREVIEW_ROWS", 3)
    c = as_role("district_staff")
    job = _job(_upload(c, world, _rows(5)))
    assert job.status == JobStatus.DONE and job.kind == "volunteers.preview" and job.pii
    assert (job.done, job.total) == (5, 5)
    assert job.result_url == f"/volunteers/import/preview/{job.id}"
    assert jobs.file_size(job.id, jobs.INPUT) is None  # the upload is gone once read
    page = c.get(job.result_url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "共 5 行，全部校验通过" in body and "只列出前 3 行" in body
    assert "预览002" in body and "预览003" not in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    done = _job(c.post("/volunteers/import/confirm", data={"token": token, "org": world["org_a"].id}))
    assert done.status == JobStatus.DONE and "新注册 5 人" in done.message


def test_a_large_file_with_errors_shows_them_and_offers_no_confirmation(world, as_role, small_inline):
    c = as_role("district_staff")
    job = _job(_upload(c, world, _rows(4, bad_at=2)))
    page = c.get(job.result_url)
    body = page.get_data(as_text=True)
    assert page.status_code == 422 and "共 4 行，其中 1 行有错误" in body and 'name="token"' not in body
    assert "预览002" in body and "预览000" not in body  # only the rows with problems


def test_a_large_file_refused_by_its_type_or_size_is_refused_at_once(world, as_role, small_inline):
    import io

    c = as_role("district_staff")
    for name, data, message in (("v.xlsx", b"not a workbook" * 10, "无法读取该 Excel 文件"),
                                ("v.txt", b"a,b\n" * 10, "只支持 .xlsx 或 .csv 文件")):
        resp = c.post("/volunteers/import", data={"organization_id": world["org_a"].id,
                                                  "file": (io.BytesIO(data), name, XLSX)},
                      content_type="multipart/form-data")
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert db.session.query(Job).count() == 0


def test_a_large_file_without_the_columns_fails_its_job_with_a_chinese_message(world, as_role, small_inline):
    import io

    c = as_role("district_staff")
    resp = c.post("/volunteers/import", data={"organization_id": world["org_a"].id,
                                              "file": (io.BytesIO(xlsx_bytes("x", ["名字"], [["张三"]])), "v.xlsx", XLSX)},
                  content_type="multipart/form-data")
    job = _job(resp)
    assert job.status == JobStatus.FAILED and "缺少列" in job.error


def test_a_preview_answers_its_owner_only(world, as_role, small_inline):
    job = _job(_upload(as_role("district_staff"), world, _rows(2)))
    assert as_role("district_staff_2").get(f"/volunteers/import/preview/{job.id}").status_code == 404
    assert as_role("reviewer").get(f"/volunteers/import/preview/{job.id}").status_code == 403
    export = as_role("district_staff").get("/volunteers/export.xlsx")  # a job of another kind
    export_id = re.search(r"/jobs/(\d+)$", export.location).group(1)
    assert as_role("district_staff").get(f"/volunteers/import/preview/{export_id}").status_code == 404


def test_a_small_file_is_still_previewed_at_once(world, as_role):
    resp = _upload(as_role("district_staff"), world, _rows(2))
    assert resp.status_code == 200 and "共 2 行，全部校验通过" in resp.get_data(as_text=True)


def test_a_preview_job_stashes_its_rows_though_someone_wrote_while_it_read(world, as_role, small_inline,
                                                                           monkeypatch):
    """A write committed elsewhere while the job checked the rows: a read transaction turned writer
    would fail at once on SQLite ("database is locked", a stale snapshot)."""
    import sqlite3

    from blueprints.volunteers import services

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the stale snapshot is SQLite's")
    original = services.check_import_rows

    def check_then_someone_writes(*args, **kwargs):
        yield from original(*args, **kwargs)
        other = sqlite3.connect(db.engine.url.database, isolation_level=None)
        other.execute("INSERT INTO setting (key, value, updated_at) VALUES ('preview.write', '1', '2026-01-01 00:00:00')")
        other.close()

    monkeypatch.setattr(services, "check_import_rows", check_then_someone_writes)
    job = _job(_upload(as_role("district_staff"), world, _rows(3)))
    assert job.status == JobStatus.DONE, job.error


def test_a_request_reads_at_most_the_inline_rows_a_job_reads_up_to_the_import_limit(app, monkeypatch):
    import io

    from werkzeug.datastructures import FileStorage

    from core import tabular

    monkeypatch.setitem(app.config, "IMPORT_INLINE_MAX_ROWS", 3)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 5)
    data = xlsx_bytes("x", ["姓名"], [[f"人{i}"] for i in range(4)])
    with pytest.raises(tabular.TableError, match="一次最多导入 3 行"):
        tabular.read_import(FileStorage(io.BytesIO(data), "v.xlsx"), ["姓名"])
    assert len(tabular.read_table("v.xlsx", data, ["姓名"])) == 4  # the worker's reading
    with pytest.raises(tabular.TableError, match="一次最多导入 5 行"):
        tabular.read_table("v.xlsx", xlsx_bytes("x", ["姓名"], [[f"人{i}"] for i in range(6)]), ["姓名"])
