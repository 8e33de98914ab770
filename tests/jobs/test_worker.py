"""The real path, end to end: a request enqueues an export into a SQLite Huey file, a separate
`huey_consumer` process (as `make run` starts it) runs it against the same database, the owner
downloads the file and anyone else gets 404."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huey.storage import SqliteStorage
from openpyxl import load_workbook

from core.extensions import db
from core.jobs import Job, JobStatus, huey
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_file(tmp_path):
    """The app enqueues into a real SQLite queue for this test (and runs nothing itself)."""
    path = tmp_path / "queue.db"
    huey.immediate = False
    huey.storage = SqliteStorage(huey.name, filename=str(path))
    yield path
    huey.immediate = True  # back to in-process jobs on memory storage


def _consumer(app, queue_file: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], JOBS_QUEUE_FILE=str(queue_file),
               SECRET_KEY=app.config["SECRET_KEY"],
               PII_KEY=app.config["PII_KEY"], JOBS_IMMEDIATE="0")
    env.pop("REDIS_URL", None)
    consumer = str(Path(sys.executable).parent / "huey_consumer")
    return subprocess.Popen([sys.executable, consumer, "worker.huey", "-w", "1", "-d", "0.1", "-m", "0.5"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_real_worker_runs_an_export_and_only_its_owner_downloads_it(app, world, as_role, queue_file):
    factories.volunteer(world["org_a"], name="后台导出人")
    db.session.commit()
    owner = as_role("district_staff")
    resp = owner.get("/volunteers/export.xlsx")
    assert resp.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)$", resp.location).group(1))
    assert db.session.get(Job, job_id).status == JobStatus.QUEUED  # nothing ran in the web process
    assert 'hx-trigger="every 1s"' in owner.htmx_get(f"/jobs/{job_id}/status").get_data(as_text=True)

    proc = _consumer(app, queue_file)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            db.session.rollback()  # a fresh snapshot each time
            job = db.session.get(Job, job_id)
            if job.status.finished:
                break
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.3)
        else:
            pytest.fail("the worker did not finish the job in time")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0]
    assert job.status == JobStatus.DONE, (job.error, output[-3000:])
    assert (job.done, job.total) == (1, 1)

    download = owner.get(f"/jobs/{job_id}/download")
    data = download.get_data()
    download.close()
    assert download.status_code == 200
    names = [row[1] for row in load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True)]
    assert names == ["后台导出人"]
    outsider = as_role("district_staff_2")
    other = outsider.get(f"/jobs/{job_id}/download")
    other.close()
    assert other.status_code == 404
