"""`make bench`, background jobs (issue 16): a 200,000-row export and a 50,000-row import over HTTP,
against gunicorn and the Huey worker started exactly as `make run` starts them, with each job's time
and the worker's peak memory (recorded by the job itself: core/jobs.py MemoryWatch, `job.peak_memory_kb`).

    .venv/bin/python bench/jobs.py          # (the Makefile's `bench` target runs it after bench/run.py)

The database: the 10× city of bench/run.py (bench/.instance-10x) when it has been built, else the 1×
one (bench/.instance, 200,000 service records), else one of its own (bench/.instance-jobs, seeded
once with 8,000 volunteers and ~200,000 service records — heavy volunteers cap what the seed
makes of the 330,000 asked — and reused). BENCH_JOBS_INSTANCE names another instance folder.
The import file (50,000 new adults with valid ID numbers) is generated here. Figures go into
bench/results.json under "jobs"; the other keys of that file are kept as they are.

Every import kind (h-imports, session 6) is measured too, under "jobs" → "imports": the volunteer
import at each size of BENCH_IMPORT_SIZES (default "10000,50000": peak worker memory should not grow
with the rows), then BENCH_OTHER_IMPORT_ROWS (10,000) rows of each other import — 被保险人 (the
people the first volunteer import registered, onto a named policy of their organization), the
exchange read-back (the same people), organizations, regions (towns and their communities) and a
theme plan — each as its preview job and its import job, with their peak worker memory.
BENCH_JOBS ("export,imports" by default) chooses what runs.

    BENCH_JOBS_INSTANCE=/tmp/x BENCH_JOBS=imports .venv/bin/python bench/jobs.py   # a throw-away instance
"""
from __future__ import annotations

import http.client
import io
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
VENV = ROOT / ".venv" / "bin"
PORT = int(os.environ.get("BENCH_JOBS_PORT", "5097"))
EXPORT_ROWS = 200_000
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
JOB_TIMEOUT = 1800  # seconds a job may take before the benchmark gives up on it


IMPORT_SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_SIZES", f"10000,{IMPORT_ROWS}").split(",") if n.strip()]
OTHER_IMPORT_ROWS = int(os.environ.get("BENCH_OTHER_IMPORT_ROWS", "10000"))
WHAT = set(os.environ.get("BENCH_JOBS", "export,imports").split(","))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _instance() -> tuple[Path, bool]:
    """(instance folder, whether it must be seeded here)."""
    if os.environ.get("BENCH_JOBS_INSTANCE"):
        path = Path(os.environ["BENCH_JOBS_INSTANCE"])
        return path, not (path / "seeded").exists() and not (path / "bench.db").exists()
    for name in (".instance-10x", ".instance"):
        if (HERE / name / "seeded").exists():
            return HERE / name, False
    return HERE / ".instance-jobs", True


INSTANCE, OWN_SEED = _instance()
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{INSTANCE / 'bench.db'}"
ENV = dict(os.environ, INSTANCE_DIR=str(INSTANCE), DATABASE_URL=DATABASE_URL, PYTHONUNBUFFERED="1",
           IMPORT_MAX_ROWS=str(max([IMPORT_ROWS, 50000, OTHER_IMPORT_ROWS, *IMPORT_SIZES])),
           DEMO_VOLUNTEERS=os.environ.get("DEMO_VOLUNTEERS", "8000"),
           DEMO_SERVICE_RECORDS=os.environ.get("DEMO_SERVICE_RECORDS", "330000"))
# Every measured file is previewed by a job (a 10,000-row region file is under the 256 kB of a real setup).
ENV["IMPORT_INLINE_KB"] = os.environ.get("BENCH_IMPORT_INLINE_KB", "32")
ENV.pop("REDIS_URL", None)  # the default queue (SQLite in the instance folder), as `make run` has it
ENV.pop("JOBS_QUEUE_FILE", None)


def log(msg: str) -> None:
    print(msg, flush=True)


def prepare() -> None:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    flask = [str(VENV / "flask"), "--app", "app"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    marker = INSTANCE / "seeded"
    if OWN_SEED and not marker.exists():
        log(f"building the jobs benchmark's database (once) in {INSTANCE} …")
        t0 = time.perf_counter()
        subprocess.run(flask + ["seed-demo", "--if-empty"], cwd=ROOT, env=ENV, check=True)
        marker.write_text(f"{time.perf_counter() - t0:.0f}\n")


# ---- the servers, as `make run` starts them ---------------------------------------------------------

class Processes:
    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def _worker(self) -> subprocess.Popen:
        logfile = open(INSTANCE / "bench-jobs.log", "ab")
        return subprocess.Popen([str(VENV / "huey_consumer"), "worker.huey", "--workers", "2"],
                                cwd=ROOT, env=ENV, stdout=logfile, stderr=logfile)

    def restart_worker(self) -> None:
        """A fresh worker process: the next job's peak memory is its own, not what earlier jobs left
        allocated (a process's memory rarely goes back to the system)."""
        old = self.procs[0]
        old.send_signal(signal.SIGTERM)
        try:
            old.wait(60)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait()
        self.procs[0] = self._worker()

    def start(self) -> None:
        logfile = open(INSTANCE / "bench-jobs.log", "ab")
        self.procs.append(self._worker())
        self.procs.append(subprocess.Popen(
            [str(VENV / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{PORT}",
             "--access-logfile", "-", "app:create_app()"], cwd=ROOT, env=ENV, stdout=logfile, stderr=logfile))
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if request("GET", "/login")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not start: see {INSTANCE}/bench-jobs.log")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---- HTTP ---------------------------------------------------------------------------------------------

JAR: dict[str, str] = {}
CSRF = {"token": ""}


def request(method: str, path: str, body: bytes | None = None, content_type: str = "",
            headers: dict | None = None) -> tuple[int, dict, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
    head = {"Cookie": "; ".join(f"{k}={v}" for k, v in JAR.items()), **(headers or {})}
    if content_type:
        head["Content-Type"] = content_type
    if method == "POST" and CSRF["token"]:
        head["X-CSRFToken"] = CSRF["token"]
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=head)
    resp = conn.getresponse()
    data = resp.read()
    seconds = time.perf_counter() - t0
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            JAR[key] = rest.split(";", 1)[0]
    conn.close()
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', data) or re.search(rb'"X-CSRFToken": "([^"]+)"', data)
    if m:
        CSRF["token"] = m.group(1).decode()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, seconds


def login(username: str) -> None:
    from core.cli import DEMO_PASSWORD

    request("GET", "/login")
    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD, "csrf_token": CSRF["token"]})
    status = request("POST", "/login", form.encode(), "application/x-www-form-urlencoded")[0]
    if status not in (302, 303):
        raise RuntimeError(f"login {username}: HTTP {status}")


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (filename, content, mime) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                  f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def follow(job_id: str) -> tuple[bytes, float]:
    """Poll the job's status partial (as the page does) until it has finished; (last partial, seconds)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < JOB_TIMEOUT:
        status, _, part, _ = request("GET", f"/jobs/{job_id}/status", headers={"HX-Request": "true"})
        if status != 200:
            raise RuntimeError(f"job {job_id} status: HTTP {status}")
        if b'data-status="done"' in part or b'data-status="failed"' in part:
            return part, time.perf_counter() - t0
        time.sleep(1)
    raise RuntimeError(f"job {job_id} did not finish within {JOB_TIMEOUT} s")


def job_row(job_id: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, done, total, error, peak_memory_kb, memory_growth_kb, started_at, "
                                "finished_at FROM job WHERE id = :id"), {"id": int(job_id)}).mappings().one()
    engine.dispose()
    return dict(row)


def _mb(kb) -> float | None:
    return round(kb / 1024, 1) if kb is not None else None


def _job_figures(job_id: str, waited: float) -> dict:
    row = job_row(job_id)
    ran = None
    if row["started_at"] and row["finished_at"]:
        fmt = lambda v: v if not isinstance(v, str) else __import__("datetime").datetime.fromisoformat(v)  # noqa: E731
        ran = round((fmt(row["finished_at"]) - fmt(row["started_at"])).total_seconds(), 1)
    return {"status": row["status"], "rows": row["done"], "error": row["error"], "job_seconds": ran,
            "seconds_until_done_seen": round(waited, 1), "peak_worker_memory_mb": _mb(row["peak_memory_kb"]),
            "worker_memory_growth_mb": _mb(row["memory_growth_kb"])}


# ---- the two jobs ------------------------------------------------------------------------------------

def bench_export() -> dict:
    log("export: the ledger list as the city administrator (every record) …")
    status, headers, _, start_s = request("GET", "/volunteers/records/export.xlsx")
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    if status != 303 or not job:
        raise RuntimeError(f"the export did not answer with its job (HTTP {status})")
    part, waited = follow(job.group(1))
    out = {"what": "ledger export (/volunteers/records/export.xlsx, city_admin, no filter)",
           "request_seconds": round(start_s, 3), **_job_figures(job.group(1), waited)}
    link = re.search(rb'href="(/jobs/\d+/download)"', part)
    if link:
        status, _, data, dl_s = request("GET", link.group(1).decode())
        out.update(download_status=status, file_mb=round(len(data) / 1024 / 1024, 1), download_seconds=round(dl_s, 2))
    log(f"  {out}")
    return out


def _people(n: int) -> list[list]:
    """n new adults with valid, distinct ID numbers (rows of the volunteer import's template)."""
    from core.validators import id_check_char

    # 400 people per birth date: 125 days of births, placed at random in 1960-1999 so that a
    # second run imports new people rather than members already on record
    first = date(1960, 1, 1) + timedelta(days=random.randrange(0, 14_400))
    out = []
    for i in range(n):
        birth = first + timedelta(days=i // 400)
        seq = (i % 400) * 2 + 101  # odd: men; distinct per birth date
        body = f"440899{birth:%Y%m%d}{seq:03d}"  # an area code no demo person has: never someone on record
        out.append([f"测试{i:05d}", body + id_check_char(body), f"17{i:09d}", "群众", "否", "扶老", "周末", "", "", "",
                    "", ""])
    return out


def _import_file(n: int, people: list[list] | None = None) -> bytes:
    from blueprints.volunteers.services import IMPORT_COLUMNS
    from core.exports import xlsx_bytes

    return xlsx_bytes("志愿者", IMPORT_COLUMNS, people if people is not None else _people(n))


def bench_import() -> dict:
    log(f"import: {IMPORT_ROWS} new volunteers into one organization as the city administrator …")
    data = _import_file(IMPORT_ROWS)
    status, _, page, _ = request("GET", "/volunteers/import")
    orgs = re.findall(rb'<option value="(\d+)"', page)
    if status != 200 or not orgs:
        raise RuntimeError(f"no organization to import into (HTTP {status})")
    org = orgs[0].decode()
    body, ctype = multipart({"csrf_token": CSRF["token"], "organization_id": org},
                            {"file": ("志愿者.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    status, headers, page, preview_s = request("POST", "/volunteers/import", body, ctype)
    out = {"what": f"volunteer import (/volunteers/import, {IMPORT_ROWS} rows, XLSX "
                   f"{len(data) / 1024 / 1024:.1f} MB)", "upload_status": status,
           "upload_request_seconds": round(preview_s, 2)}
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    if status == 303 and job:  # a large file: read and checked by a preview job, then its page
        part, waited = follow(job.group(1))
        out["preview_job"] = _job_figures(job.group(1), waited)
        link = re.search(rb'href="(/volunteers/import/preview/\d+)"', part)
        if not link:
            raise RuntimeError("the preview job did not link to its preview: " + part.decode()[-300:])
        status, _, page, page_s = request("GET", link.group(1).decode())
        out.update(preview_page_status=status, preview_page_seconds=round(page_s, 2))
    token = re.search(rb'name="token" value="([^"]+)"', page)
    if not token:
        errors = re.findall(r'class="error"[^>]*>([^<]+)', page.decode(errors="replace"))[:3]
        out.update(status="preview refused", error="; ".join(errors))
        log(f"  {out}")
        return out
    form = urllib.parse.urlencode({"csrf_token": CSRF["token"], "token": token.group(1).decode(), "org": org})
    status, headers, _, confirm_s = request("POST", "/volunteers/import/confirm", form.encode(),
                                            "application/x-www-form-urlencoded")
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    if status != 303 or not job:
        raise RuntimeError(f"the confirmation did not answer with its job (HTTP {status})")
    _, waited = follow(job.group(1))
    out.update(confirm_request_seconds=round(confirm_s, 2), import_job=_job_figures(job.group(1), waited))
    out["status"] = out["import_job"]["status"]
    log(f"  {out}")
    return out


# ---- every import kind (session 6) -------------------------------------------------------------------

def _query(sql: str, **params) -> list:
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return rows


FRESH_WORKER = {"restart": None}  # set by main(): each job of bench_imports starts in a fresh worker process


def _fresh_worker() -> None:
    if FRESH_WORKER["restart"] is not None:
        FRESH_WORKER["restart"]()


def run_import(what: str, url: str, fields: dict, data: bytes, confirm_extra: dict | None = None) -> dict:
    """Upload → preview job → its preview page → confirm → import job, as a user does; the figures.
    Each of the two jobs runs in a fresh worker process (its peak is its own)."""
    _fresh_worker()
    request("GET", url)  # the upload page, as a user opens it (and its form's CSRF token)
    body, ctype = multipart({"csrf_token": CSRF["token"], **fields}, {"file": ("导入.xlsx", data, XLSX)})
    status, headers, page, upload_s = request("POST", url, body, ctype)
    out = {"what": what, "file_mb": round(len(data) / 1024 / 1024, 2), "upload_status": status,
           "upload_request_seconds": round(upload_s, 2)}
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    if status == 303 and job:
        part, waited = follow(job.group(1))
        out["preview_job"] = _job_figures(job.group(1), waited)
        link = re.search(rb'href="(/volunteers/import/preview/\d+|/jobs/\d+/preview)"', part)
        if not link:
            out["status"] = "preview failed"
            log(f"  {out}")
            return out
        status, _, page, page_s = request("GET", link.group(1).decode())
        out.update(preview_page_status=status, preview_page_seconds=round(page_s, 2))
    token = re.search(rb'name="token" value="([^"]+)"', page)
    action = re.search(rb'action="([^"]*/confirm)"', page)
    if not token or not action:
        errors = re.findall(r'class="error"[^>]*>([^<]+)', page.decode(errors="replace"))[:3]
        out.update(status="preview refused", error="; ".join(errors))
        log(f"  {out}")
        return out
    form = urllib.parse.urlencode({"csrf_token": CSRF["token"], "token": token.group(1).decode(), **(confirm_extra or {})})
    _fresh_worker()
    status, headers, _, confirm_s = request("POST", action.group(1).decode(), form.encode(),
                                            "application/x-www-form-urlencoded")
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    if not job:
        out.update(status=f"confirmation answered HTTP {status}")
        log(f"  {out}")
        return out
    _, waited = follow(job.group(1))
    out.update(confirm_request_seconds=round(confirm_s, 2), import_job=_job_figures(job.group(1), waited))
    out["status"] = out["import_job"]["status"]
    log(f"  {out}")
    return out


def bench_imports() -> dict:
    from blueprints.exchange.services import default_mapping, import_columns
    from blueprints.insurance.services import IMPORT_COLUMNS as INSURED_COLUMNS
    from blueprints.orgs.importing import IMPORT_COLUMNS as ORG_COLUMNS
    from blueprints.regions.services import IMPORT_COLUMNS as REGION_COLUMNS
    from blueprints.themes.services import IMPORT_COLUMNS as THEME_COLUMNS
    from core.exports import xlsx_bytes

    out: dict = {}
    n = OTHER_IMPORT_ROWS
    policy, org = _query("SELECT p.id, p.organization_id FROM insurance_policy p JOIN organization o "
                         "ON o.id = p.organization_id WHERE p.mode = 'named' AND o.status = 'approved' "
                         "ORDER BY p.id LIMIT 1")[0]
    people = None
    for size in IMPORT_SIZES:
        for attempt in range(3):  # the random births may hit a person on record: then new people
            log(f"import: {size} new volunteers into organization {org} …")
            rows = _people(size)
            got = run_import(f"volunteer import, {size} rows", "/volunteers/import", {"organization_id": org},
                             _import_file(size, rows), {"org": org})
            if got.get("status") != "preview refused":
                break
        if people is None and got.get("status") == "done":
            people = rows[:n]  # insured and read back below
        out[f"volunteers_{size}"] = got
    if people and len(people) >= n:
        log(f"import: {n} insured people onto policy {policy} …")
        data = xlsx_bytes("被保险人名单", INSURED_COLUMNS, [[p[0], p[1]] for p in people])
        out[f"insurance_{n}"] = run_import(f"被保险人 import, {n} rows", f"/insurance/{policy}/import", {}, data)
        log(f"import: the exchange read-back of {n} people …")
        data = xlsx_bytes("志愿者", import_columns(default_mapping()), [[p[1], f"ZY{i:08d}"] for i, p in enumerate(people)])
        out[f"exchange_{n}"] = run_import(f"exchange read-back, {n} rows", "/exchange/import", {}, data)
    tag = secrets.token_hex(2)
    community = _query("SELECT code FROM region WHERE level = 'community' AND code IS NOT NULL ORDER BY id LIMIT 1")[0][0]
    log(f"import: {n} organizations …")
    data = xlsx_bytes("组织", ORG_COLUMNS, [[f"基准{tag}志愿服务队{i:05d}", "社区志愿服务队", community, "备案", "", "张三",
                                             "13800138000", "幸福路 1 号", "2021-03-05", "扶老、助残", ""] for i in range(n)])
    out[f"orgs_{n}"] = run_import(f"organization import, {n} rows", "/orgs/import", {}, data)
    district = _query("SELECT code FROM region WHERE level = 'district' AND code IS NOT NULL ORDER BY id LIMIT 1")[0][0]
    used = {c for (c,) in _query("SELECT code FROM region WHERE code LIKE :p", p=district + "___")}
    towns = [t for t in (f"{district}{k:03d}" for k in range(999, 100, -1)) if t not in used]
    per_town = 499
    rows = []
    for town in towns:
        if len(rows) >= n:
            break
        rows.append([f"基准街道{town[-3:]}", "乡镇(街道)", town, district])
        rows += [[f"基准社区{town[-3:]}{k:03d}", "村(社区)", f"{town}{k:03d}", town] for k in range(1, per_town + 1)]
    rows = rows[:n]
    log(f"import: {len(rows)} regions …")
    out[f"regions_{len(rows)}"] = run_import(f"region import, {len(rows)} rows (towns and communities)", "/regions/import",
                                             {}, xlsx_bytes("区域", REGION_COLUMNS, rows))
    plan = _query("SELECT id FROM theme_plan ORDER BY id LIMIT 1")[0][0]
    log(f"import: {n} theme rows into plan {plan} …")
    data = xlsx_bytes("主题", THEME_COLUMNS, [[str(i % 12 + 1), f"基准主题{i}", "内容", "文明办", "各区"] for i in range(n)])
    out[f"themes_{n}"] = run_import(f"theme plan import, {n} rows (one transaction by design)",
                                    f"/themes/{plan}/import", {}, data)
    return out


def save(figures: dict) -> None:
    path = HERE / "results.json"
    try:
        results = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        results = {}
    before = results.get("jobs") if isinstance(results.get("jobs"), dict) else {}
    if "export" not in figures and "export" in before:  # not measured this time: the last figures stay
        figures["export"] = {**before["export"], "measured_at": before["export"].get("measured_at") or before.get("measured_at")}
    kept = {k: v for k, v in before.items() if k.startswith("imports_")}  # labelled runs (BENCH_JOBS_LABEL)
    results["jobs"] = {**figures, **kept}  # only this key: bench/run.py's figures stay as they are
    tmp = path.with_suffix(".jobs.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1))  # as bench/run.py writes it
    tmp.replace(path)


def main() -> int:
    prepare()
    procs = Processes()
    procs.start()
    load = os.getloadavg()[0]
    try:
        login("city_admin")
        figures = {"database": DATABASE_URL.split(":", 1)[0], "instance": INSTANCE.name,
                   "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "load_average_at_start": round(load, 2)}
        if "export" in WHAT:
            figures["export"] = bench_export()
        if "imports" in WHAT:
            FRESH_WORKER["restart"] = procs.restart_worker
            figures["imports"] = bench_imports()
            largest = figures["imports"].get(f"volunteers_{max(IMPORT_SIZES)}") if IMPORT_SIZES else None
            if largest:
                figures["import"] = largest  # the key earlier rounds wrote: the largest volunteer import
        elif "import" in WHAT:
            figures["import"] = bench_import()
    finally:
        procs.stop()
    figures["load_average_at_end"] = round(os.getloadavg()[0], 2)
    figures["note"] = ("peak_worker_memory_mb: the worker process's peak resident memory while the job ran "
                       "(VmHWM, reset when the job starts); growth: above its resident memory at the start")
    if os.environ.get("BENCH_JOBS_LABEL"):  # a before/after comparison: kept side by side under "jobs"
        label = os.environ["BENCH_JOBS_LABEL"]
        save_labelled(label, figures)
    else:
        save(figures)
    log(f"written: {HERE / 'results.json'} (\"jobs\")")
    ok = all(v.get("status") == "done" for k, v in figures.items() if k in ("export", "import"))
    ok = ok and all(v.get("status") == "done" for v in figures.get("imports", {}).values())
    return 0 if ok else 1


def save_labelled(label: str, figures: dict) -> None:
    """Keep `figures` under results.json → "jobs" → "imports_<label>" (the other keys stay as they are)."""
    path = HERE / "results.json"
    try:
        results = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        results = {}
    results.setdefault("jobs", {})[f"imports_{label}"] = figures
    tmp = path.with_suffix(".jobs.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
