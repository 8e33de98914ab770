"""Background jobs (core/jobs.py). `export_file` follows an export's job to its file, for the tests
of every feature that check an export's content."""
from __future__ import annotations

import re

JOB_PAGE = re.compile(r"/jobs/(\d+)$")
DOWNLOAD = re.compile(r'href="(/jobs/\d+/download)"')


def follow_job(client, resp):
    """(the job's file, True) when `resp` is an export answering with its job; (resp, False) otherwise."""
    if resp.status_code != 303 or not JOB_PAGE.search(resp.location or ""):
        return resp, False
    page = client.get(resp.location)
    assert page.status_code == 200, page.status_code
    link = DOWNLOAD.search(page.get_data(as_text=True))
    assert link, "the finished job shows no download link:\n" + page.get_data(as_text=True)[-1500:]
    download = client.get(link.group(1))
    download.get_data()  # read the streamed file, then close it (no open file left behind)
    download.close()
    return download, True


def export_file(client, url: str):
    """GET an export URL and, when it answers with a job, the job's file (tests run jobs at once)."""
    return follow_job(client, client.get(url))[0]
