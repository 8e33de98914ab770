"""Background jobs: owned by whoever started them, with progress, a Chinese failure and a retry, and
files of personal data that do not outlive their hours."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import smtplib
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import jobs
from core.extensions import db
from core.jobs import Job, JobStatus
from core.timeutil import utcnow
from tests import factories
from tests.jobs import export_file

# ---- job kinds that exist only for these tests ------------------------------------------------------

SEEN: list[tuple] = []
FAIL_NEXT = {"count": 0}


@jobs.task_kind("tests.steps")
def _steps(user, params):
    for i in range(1, 4):
        jobs.progress(i, 3, f"第 {i} 步")
        with db.engine.connect() as conn:  # what any other process sees while the job runs
            SEEN.append(tuple(conn.execute(select(Job.done, Job.total, Job.stage, Job.status)
                                           .where(Job.id == params["me"])).one()))
    return jobs.Done("三步完成。")


@jobs.task_kind("tests.flaky")
def _flaky(user, params):
    if FAIL_NEXT["count"] > 0:
        FAIL_NEXT["count"] -= 1
        raise RuntimeError("connection reset by peer at /srv/secret/path.py line 42")
    return jobs.Done("这次成功了。")


STAGES: list[tuple] = []


@jobs.importer("tests.import_stage")
def _import_stage(user, params, rows):
    with db.engine.connect() as conn:  # what the owner's status partial reads while the import runs
        STAGES.append(tuple(conn.execute(select(Job.stage, Job.total).where(Job.id == params["me"])).one()))
    return jobs.Done(f"{len(rows)} 行。")


def _start(kind: str, user, params=None) -> int:
    job = jobs.create(kind, "测试任务", params or {}, user=user)
    job_id = job.id
    jobs.submit(job)
    return job_id


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _status(client, url: str) -> int:
    resp = client.get(url)
    resp.close()  # a download streams its file: close it (warnings are errors)
    return resp.status_code


def _export(client, url="/volunteers/export.xlsx") -> int:
    resp = client.get(url)
    assert resp.status_code == 303
    return int(re.search(r"/jobs/(\d+)$", resp.location).group(1))


# ---- answering at once -------------------------------------------------------------------------------

def test_an_export_answers_at_once_with_its_job_page_or_status_partial(world, as_role):
    factories.volunteer(world["org_a"], name="任务人")
    db.session.commit()
    c = as_role("district_staff")
    job_id = _export(c)
    page = c.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "导出志愿者名册" in page and "已完成" in page and f"/jobs/{job_id}/download" in page
    part = c.htmx_get("/volunteers/export.xlsx")
    assert part.status_code == 200 and 'class="job-status"' in part.get_data(as_text=True)
    assert "<html" not in part.get_data(as_text=True) and "HX-Request" in part.headers["Vary"]
    listing = c.get("/jobs/").get_data(as_text=True)
    assert listing.count("导出志愿者名册") == 2
    job = _job(job_id)
    assert job.total == job.done == 1 and job.pii and job.user_id == world["district_staff"].id


def test_the_job_file_is_stored_in_the_database_and_holds_the_export(app, world, as_role, monkeypatch):
    factories.volunteer(world["org_a"], name="文件人", phone="13812345678")
    db.session.commit()
    monkeypatch.setattr(jobs, "FILE_CHUNK", 1000)  # several chunks, served back in order
    c = as_role("district_staff")
    job = _job(_export(c))
    size = jobs.file_size(job.id)
    assert size > 3000 and db.session.scalar(select(func.count()).select_from(jobs.JobFile)
                                             .where(jobs.JobFile.job_id == job.id)) == -(-size // 1000)
    assert job.peak_memory_kb > 0 and job.memory_growth_kb is not None and job.memory_growth_kb <= job.peak_memory_kb
    resp = export_file(c, "/volunteers/export.xlsx")
    assert resp.headers["Cache-Control"] == "no-store" and int(resp.headers["Content-Length"]) == len(resp.data)
    cells = [v for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True) for v in row]
    assert "文件人" in cells and "13812345678" not in cells


# ---- owner only ----------------------------------------------------------------------------------------

def test_another_user_gets_404_for_every_route_of_a_job(world, as_role):
    owner = as_role("district_staff")
    job_id = _export(owner)
    FAIL_NEXT["count"] = 1
    failed_id = _start("tests.flaky", world["district_staff"])
    for role in ("district_staff_2", "city_admin"):  # not even the city administrator
        other = as_role(role)
        for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/status", f"/jobs/{job_id}/download", "/jobs/999999/status"):
            assert _status(other, url) == 404, (role, url)
        assert other.post(f"/jobs/{failed_id}/retry").status_code == 404
        assert "测试任务" not in other.get("/jobs/").get_data(as_text=True)
    assert _job(failed_id).status == JobStatus.FAILED  # the outsider's retry did nothing
    assert _status(owner, f"/jobs/{job_id}/download") == 200


def test_a_job_rebuilds_the_owners_scope_in_the_worker(world, as_role):
    factories.volunteer(world["org_a"], name="赤坎人")
    factories.volunteer(world["org_b"], name="霞山人")
    db.session.commit()
    resp = export_file(as_role("district_staff_2"), "/volunteers/export.xlsx?region=" + str(world["district_a"].id))
    cells = " ".join(str(v) for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)
                     for v in row if v)
    assert "赤坎人" not in cells  # a filter value naming another district cannot widen the scope


# ---- progress ---------------------------------------------------------------------------------------------

def test_progress_is_committed_while_the_job_runs(app, world):
    SEEN.clear()
    app.config["JOB_PROGRESS_SECONDS"] = 0
    try:
        job = jobs.create("tests.steps", "三步任务", {}, user=world["city_admin"])
        job.params = {"me": job.id}
        job_id = job.id
        jobs.submit(job)
    finally:
        app.config.pop("JOB_PROGRESS_SECONDS")
    assert SEEN == [(1, 3, "第 1 步", JobStatus.RUNNING), (2, 3, "第 2 步", JobStatus.RUNNING),
                    (3, 3, "第 3 步", JobStatus.RUNNING)]
    job = _job(job_id)
    assert job.status == JobStatus.DONE and job.message == "三步完成。" and job.finished_at is not None


def test_status_partial_polls_while_running_and_stops_when_finished(world, as_role):
    job = Job(user_id=world["district_staff"].id, kind="tests.steps", title="长任务", params={},
              status=JobStatus.RUNNING, done=500, total=2000, stage="正在生成表格",
              started_at=utcnow() - timedelta(seconds=10))
    db.session.add(job)
    db.session.commit()
    c = as_role("district_staff")
    part = c.htmx_get(f"/jobs/{job.id}/status").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in part and "500 / 2000 行" in part and "正在生成表格" in part
    assert 'value="25"' in part and "预计还需 30 秒" in part
    job.status, job.done, job.stage = JobStatus.DONE, 2000, "已完成"
    db.session.commit()
    part = c.htmx_get(f"/jobs/{job.id}/status").get_data(as_text=True)
    assert "hx-trigger" not in part and 'value="100"' in part


# ---- failure and retry -------------------------------------------------------------------------------------

def test_a_failed_job_shows_a_chinese_message_and_can_be_retried(world, as_role, caplog, monkeypatch):
    # Alembic's fileConfig (tests/test_migrations.py, same process) disables loggers that exist then.
    monkeypatch.setattr(logging.getLogger("zhiyuan.jobs"), "disabled", False)
    FAIL_NEXT["count"] = 1
    job_id = _start("tests.flaky", world["district_staff"])
    job = _job(job_id)
    assert job.status == JobStatus.FAILED and job.error.startswith("任务执行失败")
    assert "RuntimeError" in caplog.text  # the traceback goes to the log …
    c = as_role("district_staff")
    page = c.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "任务执行失败" in page and "重试" in page
    assert "secret" not in page and "Traceback" not in page  # … never to the user
    assert c.post(f"/jobs/{job_id}/retry", csrf=False).status_code == 400  # the button is a CSRF-checked POST
    resp = c.post(f"/jobs/{job_id}/retry")
    assert resp.status_code == 303 and resp.location.endswith(f"/jobs/{job_id}")
    job = _job(job_id)
    assert job.status == JobStatus.DONE and job.message == "这次成功了。" and job.error is None
    assert c.post(f"/jobs/{job_id}/retry", follow_redirects=True).get_data(as_text=True).count("只有失败的任务可以重试") == 1


def test_a_refused_import_names_the_reason_and_saves_nothing(world, as_role):
    from tests.orgs.test_import import count, row, text, upload

    c = as_role("district_staff")
    r = upload(c, [row(name="赤坎区任务测试队")])
    token = re.search(r'name="token" value="([^"]+)"', text(r)).group(1)
    factories.org(world["community_a"], "赤坎区任务测试队")
    db.session.commit()
    before = count()
    r = c.post("/orgs/import/confirm", data={"token": token})
    job_id = int(re.search(r"/jobs/(\d+)$", r.location).group(1))
    job = _job(job_id)
    assert job.status == JobStatus.FAILED and "数据在预览后发生了变化" in job.error and count() == before
    assert "重试" in c.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_an_import_job_reports_its_rows_and_links_to_the_result(world, as_role):
    from tests.orgs.test_import import count, row, text, upload

    c = as_role("district_staff")
    before = count()
    r = upload(c, [row(name="赤坎区任务一队"), row(name="赤坎区任务二队")])
    token = re.search(r'name="token" value="([^"]+)"', text(r)).group(1)
    r = c.post("/orgs/import/confirm", data={"token": token})
    job = _job(int(re.search(r"/jobs/(\d+)$", r.location).group(1)))
    assert job.status == JobStatus.DONE and (job.done, job.total) == (2, 2) and count() == before + 2
    assert job.message == "已导入 2 个组织。" and job.result_url.startswith("/orgs/")
    assert jobs.file_size(job.id, jobs.INPUT) is None  # the uploaded rows are gone once imported


def test_an_import_shows_its_stage_and_total_while_it_writes(world):
    job = jobs.create("tests.import_stage", "测试导入", {}, user=world["district_staff"])
    job.params = {"me": job.id}
    jobs.store_file(job.id, jobs.INPUT, io.BytesIO(json.dumps([{"a": 1}, {"a": 2}]).encode()), conn=db.session)
    job_id = job.id
    STAGES.clear()
    jobs.submit(job)
    assert STAGES == [("正在写入数据", 2)]
    assert _job(job_id).status == JobStatus.DONE and jobs.file_size(job_id, jobs.INPUT) is None


# ---- expiry -------------------------------------------------------------------------------------------------

def test_files_with_personal_data_expire_after_hours_others_after_days(app, world, as_role):
    c = as_role("city_admin")
    pii_job = _job(_export(c, "/volunteers/export.xlsx"))
    plain_job = _job(_export(c, "/funding/export.xlsx"))
    pii_id, plain_id = pii_job.id, plain_job.id
    assert jobs.file_size(pii_id) and jobs.file_size(plain_id)
    hours = app.config["JOB_PII_KEEP_HOURS"]
    jobs.cleanup(now=utcnow() + timedelta(hours=hours + 1))
    assert jobs.file_size(pii_id) is None and jobs.file_size(plain_id)
    assert _status(c, f"/jobs/{pii_id}/download") == 404
    assert "文件已过期删除" in c.get(f"/jobs/{pii_id}").get_data(as_text=True)
    assert _status(c, f"/jobs/{plain_id}/download") == 200
    jobs.cleanup(now=utcnow() + timedelta(days=app.config["JOB_KEEP_DAYS"] + 1))
    assert db.session.scalars(select(jobs.JobFile.job_id)).all() == []
    assert db.session.scalars(select(Job.id)).all() == []  # older than JOB_KEEP_DAYS: the jobs themselves go


def test_opening_my_jobs_sweeps_expired_files(world, as_role):
    c = as_role("city_admin")
    job = _job(_export(c))
    job_id = job.id
    assert jobs.file_size(job_id)
    job.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert c.get("/jobs/").status_code == 200
    assert jobs.file_size(job_id) is None


# ---- 催报 e-mail -------------------------------------------------------------------------------------------------

def test_reminder_mail_is_sent_by_a_job(app, world, as_role, monkeypatch):
    from blueprints.reports import services
    from blueprints.reports.models import ReminderLog
    from tests.reports.test_email import FakeSMTP

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    factories.user("org_leader", "mail_leader2", orgs=[world["org_a"]], email="leader@chikan.gov.cn")
    db.session.commit()
    today = services.local_today()
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    if today <= services.due_date(y, m):
        pytest.skip("last month's deadline has not passed yet")
    app.config["SMTP_HOST"] = "mail.intranet"
    try:
        resp = as_role("district_staff").post("/reports/remind", data={"level": "org", "period": f"{y}-{m:02d}"},
                                              follow_redirects=True)
    finally:
        app.config["SMTP_HOST"] = ""
    assert "1 封邮件正在后台发送" in resp.get_data(as_text=True)
    assert [to for _, to, _, _ in FakeSMTP.sent] == ["leader@chikan.gov.cn"]
    job = db.session.scalar(select(Job).where(Job.kind == "reports.remind_mail"))
    assert job.status == JobStatus.DONE and job.message == "已发送 1 封催报邮件。"
    assert db.session.scalar(select(ReminderLog.emailed)) == 1


def test_a_job_whose_worker_died_is_failed_and_can_be_retried(world, as_role):
    job = Job(user_id=world["district_staff"].id, kind="tests.flaky", title="中断任务", params={},
              status=JobStatus.RUNNING, started_at=utcnow() - timedelta(hours=5))
    db.session.add(job)
    db.session.commit()
    c = as_role("district_staff")
    assert "任务被中断" in c.get("/jobs/").get_data(as_text=True)
    FAIL_NEXT["count"] = 0
    assert c.post(f"/jobs/{job.id}/retry").status_code == 303
    assert _job(job.id).status == JobStatus.DONE
