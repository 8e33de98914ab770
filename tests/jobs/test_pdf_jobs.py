"""The large PDFs run as jobs (issue 16): the annual report, the quarterly bulletin and the themes
board answer at once with their job; the PDF is built by the worker, offered in 我的任务, and a PDF
already in the cache is served at once."""
from __future__ import annotations

import re

import pytest

from core import jobs
from core.extensions import db
from core.jobs import Job, JobStatus
from tests.jobs import follow_job

HX = {"HX-Request": "true"}
PDFS = {  # url → a role that may read it
    "/themes/board.pdf?year=2026": "city_admin",
    "/reports/bulletin.pdf?year=2026&quarter=2": "district_staff",
}


def _job_of(resp) -> Job:
    db.session.expire_all()
    return db.session.get(Job, int(re.search(r"/jobs/(\d+)$", resp.location).group(1)))


@pytest.mark.parametrize("url,role", PDFS.items())
def test_a_large_pdf_answers_with_its_job_then_a_download_in_my_jobs(world, as_role, url, role):
    c = as_role(role)
    resp = c.get(url)
    assert resp.status_code == 303 and "/jobs/" in resp.location
    job = _job_of(resp)
    assert job.status == JobStatus.DONE and job.result_name.endswith(".pdf") and not job.pii
    assert job.peak_memory_kb and jobs.file_size(job.id) > 1000
    listing = c.get("/jobs/").get_data(as_text=True)
    assert job.title in listing and f"/jobs/{job.id}/download" in listing
    download, followed = follow_job(c, resp)
    assert followed and download.mimetype == "application/pdf" and download.data.startswith(b"%PDF")


def test_from_htmx_the_board_pdf_answers_with_the_status_partial(world, as_role):
    part = as_role("leader").get("/themes/board.pdf?year=2026", headers=HX)
    body = part.get_data(as_text=True)
    assert part.status_code == 200 and 'class="job-status"' in body and "<html" not in body
    assert "HX-Request" in part.headers["Vary"] and "/download" in body


def test_a_pdf_job_answers_its_owner_only(world, as_role):
    job = _job_of(as_role("city_admin").get("/themes/board.pdf?year=2026"))
    other = as_role("district_staff")
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/status", f"/jobs/{job.id}/download"):
        resp = other.get(path)
        resp.close()
        assert resp.status_code == 404, path


@pytest.mark.parametrize("url", ["/themes/board.pdf?year=2026", "/reports/bulletin.pdf?year=2026&quarter=2"])
@pytest.mark.parametrize("role", ["org_leader", "reviewer"])
def test_roles_without_the_pdf_start_no_job(world, as_role, url, role):
    before = db.session.query(Job).count()
    assert as_role(role).get(url).status_code == 403
    assert db.session.query(Job).count() == before


def test_the_board_pdf_job_sees_the_owners_scope_only(world, as_role):
    from tests.themes.test_routes import _board_world
    import subprocess

    _board_world(world)
    mine = follow_job(as_role("district_staff_2"), as_role("district_staff_2").get("/themes/board.pdf?year=2026"))[0]
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=mine.data, capture_output=True,
                          check=True).stdout.decode()
    assert "霞山区" in text and "三月集中学雷锋" not in text


def test_a_cached_bulletin_is_served_at_once_without_a_job(world, as_role):
    c = as_role("city_admin")
    url = "/reports/bulletin.pdf?year=2026&quarter=2"
    first = c.get(url)
    assert first.status_code == 303  # built by a job (into the PDF cache, as before)
    before = db.session.query(Job).count()
    again = c.get(url)
    assert again.status_code == 200 and again.mimetype == "application/pdf" and again.data.startswith(b"%PDF")
    assert db.session.query(Job).count() == before
