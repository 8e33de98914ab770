"""A large import holds no file's worth of rows in memory (issue 16: "imports read in read-only mode in
chunks, so memory stays flat"): the preview job reads, checks and writes the rows away one at a time
(they wait in its own job_file, the stash names them), the confirmation copies them inside the
database, and the import job reads them back a chunk at a time."""
from __future__ import annotations

import io
import json
import re

import pytest

from core import jobs, tabular
from core.exports import xlsx_bytes
from core.extensions import db
from core.jobs import Job, JobStatus
from core.tabular import PendingImport
from tests.jobs.test_import_preview import _rows, _upload


@pytest.fixture
def small_inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_KB", 0)


def _job(resp) -> Job:
    assert resp.status_code == 303, resp.status_code
    db.session.expire_all()
    return db.session.get(Job, int(re.search(r"/jobs/(\d+)$", resp.location).group(1)))


def _token(c, job) -> str:
    return re.search(r'name="token" value="([^"]+)"', c.get(job.result_url).get_data(as_text=True)).group(1)


def test_iter_rows_reads_json_lines_across_chunk_boundaries(world, monkeypatch):
    monkeypatch.setattr(jobs, "FILE_CHUNK", 7)  # every row, and some characters, cut between chunks
    job = jobs.create("volunteers.import", "测试", {}, user=world["district_staff"])
    rows = [{"line": i, "values": {"姓名": f"张{i}三", "备注": "一\n二"}} for i in range(20)]
    out = jobs.RowsFile()
    for r in rows:
        out.add(r)
    out.store(job.id, jobs.INPUT, conn=db.session)
    out.close()
    assert list(jobs.iter_rows(job.id, jobs.INPUT)) == rows
    listed = jobs.RowsFile()  # rows that are lists are lines too, not an older version's array
    for r in ([1, "甲"], [2, "乙"]):
        listed.add(r)
    listed.store(job.id, jobs.RESULT, conn=db.session)
    listed.close()
    assert list(jobs.iter_rows(job.id, jobs.RESULT)) == [[1, "甲"], [2, "乙"]]
    # an input stored by an older version (one JSON array) still reads
    jobs.store_file(job.id, jobs.PREVIEW, io.BytesIO(json.dumps(rows, ensure_ascii=False).encode()), conn=db.session)
    assert list(jobs.iter_rows(job.id, jobs.PREVIEW)) == rows


def test_iter_table_is_a_generator_with_the_same_refusals(app, monkeypatch):
    data = xlsx_bytes("x", ["姓名"], [[f"人{i}"] for i in range(4)])
    rows = tabular.iter_table("v.xlsx", data, ["姓名"])
    assert next(rows).values == {"姓名": "人0"}  # one row at a time
    rows.close()
    assert [r.values["姓名"] for r in tabular.iter_table("v.xlsx", data, ["姓名"])] == [f"人{i}" for i in range(4)]
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    with pytest.raises(tabular.TableError, match="一次最多导入 3 行"):
        list(tabular.iter_table("v.xlsx", data, ["姓名"]))
    with pytest.raises(tabular.TableError, match="缺少列"):
        list(tabular.iter_table("v.xlsx", data, ["身份证号"]))


def test_the_preview_job_keeps_its_rows_in_its_own_file_and_the_stash_only_names_them(world, as_role, small_inline):
    c = as_role("district_staff")
    rows = _rows(5)
    job = _job(_upload(c, world, rows))
    assert job.status == JobStatus.DONE
    assert jobs.file_size(job.id, jobs.ROWS) > 0
    stash = db.session.scalars(db.select(PendingImport)).one()
    assert jobs.rows_ref_of(stash.payload) == (job.id, 5)  # no row in the stash
    stored = b"".join(jobs.iter_file(job.id, jobs.ROWS)).decode()
    assert stored.count("\n") == 5 and "_id_enc" in stored
    assert not any(r[1] in stored for r in rows)  # the ID numbers only encrypted
    done = _job(c.post("/volunteers/import/confirm", data={"token": _token(c, job), "org": world["org_a"].id}))
    assert done.status == JobStatus.DONE and (done.done, done.total) == (5, 5) and "新注册 5 人" in done.message
    assert jobs.file_size(job.id, jobs.ROWS) is None  # taken once
    assert jobs.file_size(done.id, jobs.INPUT) is None


def test_a_preview_with_a_problem_keeps_no_rows(world, as_role, small_inline):
    job = _job(_upload(as_role("district_staff"), world, _rows(4, bad_at=1)))
    assert job.status == JobStatus.DONE and jobs.file_size(job.id, jobs.ROWS) is None
    assert db.session.scalars(db.select(PendingImport)).first() is None


def test_cancelling_or_letting_the_preview_expire_deletes_its_rows(world, as_role, small_inline):
    from datetime import timedelta

    from core.timeutil import utcnow

    c = as_role("district_staff")
    job = _job(_upload(c, world, _rows(2)))
    assert c.post("/imports/cancel", data={"token": _token(c, job), "next": "/"}).status_code == 303
    assert jobs.file_size(job.id, jobs.ROWS) is None
    job = _job(_upload(c, world, _rows(2)))
    token = _token(c, job)
    db.session.get(Job, job.id).finished_at = utcnow() - timedelta(hours=2)
    db.session.get(PendingImport, token).created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert tabular.sweep_pending() == 1
    db.session.commit()
    assert jobs.file_size(job.id, jobs.ROWS) is None


def test_a_confirmation_whose_rows_are_gone_fails_with_a_chinese_message(world, as_role, small_inline):
    c = as_role("district_staff")
    job = _job(_upload(c, world, _rows(2)))
    token = _token(c, job)
    jobs.delete_files(job.id, jobs.ROWS)
    db.session.commit()
    done = _job(c.post("/volunteers/import/confirm", data={"token": token, "org": world["org_a"].id}))
    assert done.status == JobStatus.FAILED and "导入的数据已过期删除" in done.error
