"""The job queue: long work (exports, imports, mail) runs in a worker, never inside a web request.

Huey keeps the queue: SQLite storage in instance/ by default (no extra server), Redis when
`REDIS_URL` is set (every app server and worker share it). The `job` table is what people see: its
owner, a Chinese title, status, rows done / total, stage, the result file and when it expires. The
worker (`make run` starts `huey_consumer worker.huey`, see worker.py) runs each job inside create_app()'s
context; tests set JOBS_IMMEDIATE and jobs run at once, in-process, on Huey's memory storage.

Adopting it — one call in a route:

    # an XLSX export (the builder re-applies core/scope.py for the owner, loaded inside the worker):
    @jobs.exporter("funding.export")                      # registered when the routes module loads
    def build_export(user, args: dict) -> jobs.Sheet:       # runs in the worker, for the owner
        f = services.LedgerFilter.from_args(args)           # the same filters, re-parsed
        rows = services.rows_of(services.ledger_stmt(user, f))  # the same scope (core/scope.py)
        return jobs.Sheet("经费台账", HEADERS, rows, "经费台账.xlsx", widths=[...],
                          audit=("funding_entry", "经费台账", f"导出 {len(rows)} 条"))  # optional log entry

    @bp.get("/export.xlsx")
    @roles_required(*READERS)
    def export():
        return jobs.start_export("funding.export", "导出经费台账", request.args)  # pii=True if it names people

Rows may be a generator (memory stays flat); give Sheet(total=…) then, for the progress bar.
tests/core/test_exports.py walks every export route and fails for one that does not answer with a job.

    # an import's upload step: jobs.import_upload + @jobs.upload_importer (at the end of this module):
    # a small file is previewed in the request, a large one by a preview job.
    # an import's confirm step: written a chunk at a time, each chunk committed (chunked_importer):
    @jobs.chunked_importer("orgs.import", done=lambda user, params, counts: jobs.Done(f"已导入 {counts['n']} 个组织。"))
    def import_chunk(user, params: dict, rows: list, counts: dict) -> None:
        ...  # raise jobs.JobError("中文说明") for a refusal the user should read (earlier chunks stay saved)
        counts["n"] = counts.get("n", 0) + len(rows)

    return jobs.start_import("orgs.import", "导入组织名录", rows, params={}, pii=False)
    # (@jobs.importer: the whole import in one transaction, for an import that must be all or nothing)

    # anything else: @jobs.task_kind("reports.remind") def run(user, params) -> jobs.Done, then
    # jobs.start("reports.remind", "催报邮件", params). A task that makes a file (a large PDF)
    # returns jobs.File("报告.pdf", data): the job offers it for download like an export.

Result files and an import's input rows are stored in the database (`job_file`, in chunks), so any
app server serves what any worker made; each job records the worker's peak memory (peak_memory_kb).

Only values (filters, ids) cross from the request to the worker; the worker loads the owner and
re-applies the scope, so a job can never see more than its owner could. A job's routes answer only
its owner (404 to anyone else). Progress (`progress(done, total, stage)`) is written in its own short
transaction, at most once a second.
"""
from __future__ import annotations

import enum
import json
import logging
import os
import resource
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from flask import current_app, g, has_app_context, has_request_context, redirect, render_template, request, url_for
from huey import RedisHuey, SqliteHuey, crontab
from werkzeug.exceptions import HTTPException
from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, delete, func, insert, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, side_writes, str_enum
from core.timeutil import utcnow

log = logging.getLogger("zhiyuan.jobs")


# ---- the queue ----------------------------------------------------------------------------------

def _make_huey():
    url = os.environ.get("REDIS_URL")
    if url:
        return RedisHuey("zhiyuan", url=url)
    from config import INSTANCE_DIR

    path = os.environ.get("JOBS_QUEUE_FILE") or str(INSTANCE_DIR / "jobs-queue.db")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("zhiyuan", filename=path)


huey = _make_huey()


def init_jobs(app) -> None:
    """Bind the queue to the app's settings (tests: run every job at once, in-process)."""
    # One queue per process. Only ever switched on here: a second app built in the same process
    # (a test building a throw-away app) must not turn the tests' in-process jobs off.
    if app.config.get("JOBS_IMMEDIATE"):
        huey.immediate = True


# ---- the job table ------------------------------------------------------------------------------

class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}[self.value]

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class Job(db.Model):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    params: Mapped[Any] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 16), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))  # Chinese, for the owner; the traceback goes to the log
    message: Mapped[str | None] = mapped_column(String(300))  # what a finished job did ("已导入 12 个组织。")
    result_url: Mapped[str | None] = mapped_column(String(300))  # where to look next (a list page)
    result_file: Mapped[str | None] = mapped_column(String(120))  # set while the result's bytes are in job_file
    result_name: Mapped[str | None] = mapped_column(String(200))  # the download's file name
    pii: Mapped[bool] = mapped_column(default=False)  # the result or the input holds personal data
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    # The worker process's peak resident memory while the job ran (VmHWM, reset when the job starts),
    # and how far above its resident memory at the start that peak was: kB, None outside Linux.
    peak_memory_kb: Mapped[int | None] = mapped_column(Integer)
    memory_growth_kb: Mapped[int | None] = mapped_column(Integer)

    @property
    def seconds_left(self) -> int | None:
        """Estimated from the pace so far; None until there is a pace to go by."""
        if self.status != JobStatus.RUNNING or not self.total or not self.done or not self.started_at:
            return None
        elapsed = (utcnow() - self.started_at).total_seconds()
        return max(0, round(elapsed / self.done * (self.total - self.done)))

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total else 0

    @property
    def has_file(self) -> bool:
        # result_file is cleared in the same transaction that deletes the bytes (cleanup())
        return bool(self.result_file) and self.status == JobStatus.DONE


# ---- the files of a job, in the database ----------------------------------------------------------
# A result file (an export, a PDF) and an import's input rows live in `job_file`, cut in chunks of
# FILE_CHUNK bytes (issue 16): any app server serves a file that a worker anywhere wrote, a database
# backup holds them, and neither writing nor serving ever holds more than one chunk in memory.

RESULT, INPUT, PREVIEW = "result", "input", "preview"
IMPORT_FLAVOURS = ("import", "chunked", "preview")  # jobs whose input waits in job_file (INPUT)
ROWS = "rows"  # a preview job's checked rows, waiting for the confirmation (JSON Lines)
FILE_CHUNK = 512 * 1024


class JobFile(db.Model):
    __tablename__ = "job_file"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[str] = mapped_column(String(8), primary_key=True)  # RESULT, INPUT or PREVIEW
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def _chunks_of(fileobj) -> Iterable[bytes]:
    while chunk := fileobj.read(FILE_CHUNK):
        yield chunk


def store_file(job_id: int, part: str, fileobj, conn=None) -> int:
    """Copy a file object into job_file, chunk by chunk; in `conn`'s transaction (the request's
    session for an import's input) or in a short transaction of its own. Returns the size."""
    table, size = JobFile.__table__, 0

    def write(c):
        nonlocal size
        c.execute(delete(table).where(table.c.job_id == job_id, table.c.part == part))
        for seq, chunk in enumerate(_chunks_of(fileobj)):
            c.execute(insert(table).values(job_id=job_id, part=part, seq=seq, data=chunk))
            size += len(chunk)

    if conn is not None:
        write(conn)
    else:
        with db.engine.connect().execution_options(write=True) as c, c.begin():
            write(c)
    return size


def file_size(job_id: int, part: str = RESULT) -> int | None:
    """The stored file's size in bytes, None when there is none."""
    t = JobFile.__table__
    count, size = db.session.execute(select(func.count(), func.sum(func.length(t.c.data)))
                                     .where(t.c.job_id == job_id, t.c.part == part)).one()
    return int(size or 0) if count else None


def iter_file(job_id: int, part: str = RESULT) -> Iterable[bytes]:
    """The stored file's chunks, each read by a query of its own on a connection of its own: a
    download streams without a session, a transaction or more than one chunk held open."""
    engine, t = db.engine, JobFile.__table__  # now: the response is read after the app context ends

    def chunks():
        seq = 0
        while True:
            with engine.connect() as conn:
                chunk = conn.execute(select(t.c.data).where(t.c.job_id == job_id, t.c.part == part,
                                                            t.c.seq == seq)).scalar()
            if chunk is None:
                return
            yield bytes(chunk)
            seq += 1

    return chunks()


def read_file(job_id: int, part: str) -> bytes | None:
    """The whole stored file (an import's input rows), read in the session's transaction."""
    t = JobFile.__table__
    chunks = [bytes(c) for c in db.session.scalars(select(t.c.data).where(t.c.job_id == job_id, t.c.part == part)
                                                   .order_by(t.c.seq))]
    return b"".join(chunks) if chunks else None


class RowsFile:
    """Rows written away one at a time as JSON Lines into a temporary file, then into job_file: a
    job that checks 50,000 rows keeps none of them in memory (issue 16). Read back with iter_rows()."""

    def __init__(self):
        self.fh = tempfile.TemporaryFile()
        self.count = 0

    def add(self, row) -> None:
        self.fh.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        self.count += 1

    def store(self, job_id: int, part: str, conn=None) -> None:
        self.fh.seek(0)
        store_file(job_id, part, self.fh, conn=conn)

    def close(self) -> None:
        self.fh.close()


def iter_rows(job_id: int, part: str = INPUT) -> Iterable:
    """The rows of a stored JSON Lines file, one chunk read (in the session's transaction) at a time.
    A file written before JSON Lines (one JSON array) is read whole."""
    t, seq, rest = JobFile.__table__, 0, b""
    while True:
        chunk = db.session.execute(select(t.c.data).where(t.c.job_id == job_id, t.c.part == part,
                                                          t.c.seq == seq)).scalar()
        if chunk is None:
            break
        chunk = bytes(chunk)
        if seq == 0 and chunk[:1] == b"[":  # one JSON array (an older version's input) or a list row?
            last = bytes(db.session.execute(select(t.c.data).where(t.c.job_id == job_id, t.c.part == part)
                                            .order_by(t.c.seq.desc()).limit(1)).scalar())
            if not last.endswith(b"\n"):  # JSON Lines always end with one
                yield from json.loads(read_file(job_id, part))
                return
        seq += 1
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line:
                yield json.loads(line)
    if rest.strip():
        yield json.loads(rest)


def delete_files(job_id: int, part: str | None = None, session=None) -> None:
    t = JobFile.__table__
    stmt = delete(t).where(t.c.job_id == job_id)
    if part is not None:
        stmt = stmt.where(t.c.part == part)
    (session if session is not None else db.session).execute(stmt)


# ---- the worker's memory --------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class MemoryWatch:
    """The process's peak resident memory over a piece of work: Linux's VmHWM, reset at the start
    (/proc/self/clear_refs "5"); where that cannot be reset, getrusage's lifetime maximum. Jobs that
    overlap in one worker process (its threads) share one peak, and each one's start resets it: their
    figures are then approximate (run one at a time, as bench/jobs.py does, for exact ones)."""

    def __init__(self):
        self.start_kb = _status_kb("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass

    def peak(self) -> tuple[int | None, int | None]:
        """(peak kB, growth above the start in kB)."""
        peak = _status_kb("VmHWM")
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        growth = max(0, peak - self.start_kb) if peak is not None and self.start_kb is not None else None
        return peak, growth


# ---- what a job kind does -------------------------------------------------------------------------

class JobError(Exception):
    """A refusal the owner should read (Chinese); any other exception shows a generic message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    """An export's content: rows may be any iterable (a generator keeps memory flat)."""
    title: str
    headers: list[str]
    rows: Iterable[list]
    filename: str
    widths: list[int] | None = None
    total: int | None = None  # row count when known up front (a list's length is used otherwise)
    # (entity, label, summary) of the operation log's export event; summary may be a callable given the
    # number of rows written (a generator's length is known only at the end)
    audit: tuple[str, str, Any] | None = None


@dataclass
class Done:
    message: str
    url: str | None = None


@dataclass(frozen=True)
class _Kind:
    run: Callable
    flavour: str  # "export" | "import" | "preview" | "task"
    page: str | None = None  # a preview's page (an endpoint taking job_id)


_KINDS: dict[str, _Kind] = {}


def _register(kind: str, flavour: str, page: str | None = None):
    def deco(fn):
        _KINDS[kind] = _Kind(fn, flavour, page)
        return fn
    return deco


def exporter(kind: str):
    """build(user, args: dict) -> Sheet. Registered at import, so the worker (create_app) knows it."""
    return _register(kind, "export")


def list_exporter(kind: str, rows: Callable[[Any, dict], list], *, sheet: str, file_stem: str,
                  headers: list[str], widths: list[int] | None, entity: str, summary: str):
    """The export of a filtered list: `rows(user, args)` re-applies the list's filters and scope for the
    job's owner; the file is "<file_stem>_<date>.xlsx"; `summary` ("导出保单 {n} 份") goes to the log."""
    from core.timeutil import local_today

    @exporter(kind)
    def build(user, args: dict) -> Sheet:
        data = rows(user, args)  # a list, or a generator reading the database in batches
        return Sheet(sheet, headers, data, f"{file_stem}_{local_today().isoformat()}.xlsx", widths=widths,
                     audit=(entity, file_stem, lambda n: summary.format(n=n)))

    return build


def importer(kind: str):
    """apply(user, params: dict, rows) -> Done; runs in one transaction, committed at the end (rows are
    read from the job's file as they are walked through). For an import that must be all or nothing
    (a theme plan replaced as a whole); every other import is a chunked_importer."""
    return _register(kind, "import")


# An import's confirm step writes its rows a chunk at a time (issue 16: memory stays flat): each chunk in
# a transaction of its own, committed, then the session is cleared before the next one is read.
IMPORT_CHUNK = 1000


@dataclass(frozen=True)
class _Chunked:
    apply: Callable  # apply(user, params, rows: list, counts: dict) -> None, one chunk
    done: Callable  # done(user, params, counts: dict) -> Done, once every chunk is in
    size: int | None = None  # rows per chunk (IMPORT_CHUNK unless set)


def chunked_importer(kind: str, *, done: Callable, size: int | None = None):
    """An import's confirm step, written a chunk at a time:

        @jobs.chunked_importer("orgs.import", done=lambda user, params, counts: jobs.Done(...))
        def import_chunk(user, params: dict, rows: list, counts: dict) -> None:
            ...  # add counts[...]; raise jobs.JobError("第 12 行：…") to stop

    Each chunk (`size` rows, IMPORT_CHUNK by default) is applied and committed in a transaction of its
    own, then the session is cleared (expunge_all: nothing of a chunk stays in memory) and the job's
    progress written ("已保存 3000 / 50000 行"). Objects loaded by one chunk are not valid in the
    next: `user` is loaded again for each one, and so must be whatever the chunk needs (its
    organization, its policy) — from `params` (ids), re-applying the scope as usual.

    A failure half-way (a refused row, the database gone) rolls back only the chunk it happened in.
    The chunks before it stay committed, and the job's Chinese message says exactly how many rows
    were saved and from which row on nothing was ("已保存前 2000 行…"). The job remembers that point
    (params["_resume"]: rows committed and the counts so far): 重试 continues after the rows already
    imported instead of importing them twice, and the final message counts both runs."""

    def deco(apply):
        _KINDS[kind] = _Kind(_Chunked(apply, done, size), "chunked")
        return apply

    return deco


def task_kind(kind: str):
    """run(user, params: dict) -> Done."""
    return _register(kind, "task")


def previewer(kind: str, endpoint: str):
    """run(user, params: dict, filename: str, data: bytes) -> dict: an import's preview of a large file,
    read and checked in the worker (issue 16: no request parses 50,000 rows). The dict (JSON) is what
    the preview page `endpoint` (a route taking job_id) shows, read back with preview_of(); the job
    links to that page when it is done. Raise JobError for a file that cannot be read."""
    return _register(kind, "preview", endpoint)


# ---- starting a job (in the request) ------------------------------------------------------------

def _args_dict(args) -> dict:
    if hasattr(args, "to_dict"):
        return {k: v for k, v in args.to_dict(flat=True).items()}
    return dict(args or {})


def create(kind: str, title: str, params: dict | None = None, *, pii: bool = False, user=None) -> Job:
    from flask_login import current_user

    if kind not in _KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    owner = user if user is not None else current_user
    if not (has_request_context() and request.method in ("GET", "HEAD")):
        job = Job(user_id=owner.id, kind=kind, title=title[:200], params=params or {}, pii=pii,
                  stage="等待开始", status=JobStatus.QUEUED)
        db.session.add(job)
        db.session.flush()
        return job
    # An export starts from a GET, whose own transaction stays read-only (on SQLite a reader turned
    # writer fails at once when another write committed meanwhile): the row in a short transaction
    # of its own, then the read transaction ends so that the session sees it.
    row = dict(user_id=owner.id, kind=kind, title=title[:200], params=params or {}, pii=pii, done=0,
               stage="等待开始", status=JobStatus.QUEUED, created_at=utcnow())
    with db.engine.connect().execution_options(write=True) as conn, conn.begin():
        job_id = conn.execute(insert(Job.__table__).values(**row)).inserted_primary_key[0]
    db.session.commit()
    return db.session.get(Job, job_id)


def submit(job: Job) -> None:
    """Commit the job row, then hand its id to the worker (the row must exist before it runs)."""
    job_id = job.id
    db.session.commit()
    # Nothing of the request's session may be touched before the job runs: reloading the job would
    # open a transaction (on SQLite, for a POST, one that holds the write lock the job needs).
    run_job(job_id)


def start(kind: str, title: str, params: dict | None = None, *, pii: bool = False):
    """Create and enqueue a job; answer with its status partial (HTMX) or a redirect to its page."""
    job = create(kind, title, params, pii=pii)
    submit(job)
    return respond(job)


def start_export(kind: str, title: str, args=None, *, pii: bool = False):
    """The one call of an export route: `return jobs.start_export("volunteers.export", "志愿者名册导出",
    request.args, pii=True)`. Only the filter values are kept; the worker rebuilds the query."""
    return start(kind, title, {"args": _args_dict(args)}, pii=pii)


def start_import(kind: str, title: str, rows: list, params: dict | None = None, *, pii: bool = False):
    """The one call of an import's confirm step: the previewed rows go to a private input file that
    the worker reads (kept for a retry until the job succeeds or expires)."""
    job = create(kind, title, params, pii=pii)
    ref = rows_ref_of(rows)
    if ref is not None:  # a preview job's checked rows: copied inside the database, never parsed here
        t = JobFile.__table__
        copied = db.session.execute(insert(t).from_select(
            ["job_id", "part", "seq", "data"],
            select(literal(job.id), literal(INPUT), t.c.seq, t.c.data).where(t.c.job_id == ref[0], t.c.part == ROWS))).rowcount
        delete_files(ref[0], ROWS)  # taken once
        job.total = ref[1] if copied else 0  # none: the job fails with "导入的数据已过期删除…"
    else:
        out = RowsFile()  # the rows as JSON Lines, into job_file in the request's transaction
        try:
            for row in rows:
                out.add(row)
            out.store(job.id, INPUT, conn=db.session)
        finally:
            out.close()
        job.total = len(rows)
    submit(job)
    return respond(job)


_ROWS_REF = "_job_rows"


def rows_ref(job_id: int, total: int, **meta) -> list:
    """What a preview job stashes (core/tabular.stash_rows) instead of its rows, which wait in its own
    job_file (ROWS): the confirm route hands it to start_import() as if it were the rows. `meta`: what
    the stash carries besides the rows (see unstash())."""
    return [{**meta, _ROWS_REF: job_id, "total": total}]


def unstash(stash: list) -> tuple[dict, list]:
    """(meta, rows) of a stash made by upload_importer with Checked.meta: rows is the list of items
    (a file previewed in the request) or a rows_ref (a preview job's), either handed to start_import()."""
    if rows_ref_of(stash) is not None:
        return {k: v for k, v in stash[0].items() if k not in (_ROWS_REF, "total")}, stash
    head = stash[0] if stash and isinstance(stash[0], dict) else {}
    return {k: v for k, v in head.items() if k != "rows"}, list(head.get("rows", []))


def rows_ref_of(payload) -> tuple[int, int] | None:
    """(preview job id, row count) of a rows_ref() payload, None for rows."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict) and _ROWS_REF in payload[0]:
        return int(payload[0][_ROWS_REF]), int(payload[0].get("total") or 0)
    return None


def current_job_id() -> int | None:
    """The id of the job running in this context (inside a job's work), else None."""
    return g.get("job_id") if has_app_context() else None


# An upload up to this size is previewed in the request as before (a few thousand rows at most: the
# answer is immediate); a larger one is read and checked by a preview job (IMPORT_INLINE_KB).
PREVIEW_INLINE_KB = 256


def preview_in_job(data: bytes) -> bool:
    return len(data) > int(current_app.config.get("IMPORT_INLINE_KB", PREVIEW_INLINE_KB)) * 1024


def start_preview(kind: str, title: str, filename: str, data: bytes, params: dict | None = None):
    """An import's upload step for a large file: the bytes go to job_file (in this request's
    transaction), the worker reads and checks them; the answer is the job's progress."""
    import io

    job = create(kind, title, {**(params or {}), "filename": (filename or "")[:200]}, pii=True)
    store_file(job.id, INPUT, io.BytesIO(data), conn=db.session)
    submit(job)
    return respond(job)


def preview_of(job: Job, kind: str) -> dict | None:
    """The preview a finished preview job of `kind` stored (the caller checked the owner); None when
    it has expired. 404 for a job of another kind or one not finished."""
    from flask import abort

    if job.kind != kind or job.status != JobStatus.DONE:
        abort(404)
    data = read_file(job.id, PREVIEW)
    return json.loads(data) if data is not None else None


def respond(job: Job):
    from core.templating import is_htmx

    if is_htmx():
        resp = current_app.make_response(render_template("jobs/_status.html", job=job))
    else:
        resp = redirect(url_for("jobs.detail", job_id=job.id), 303)
    resp.headers["Vary"] = "HX-Request"
    return resp


def retry(job: Job) -> None:
    """Put a failed job back in the queue, as it was first asked for (a chunked import continues after
    the rows it already saved: its params keep the resume point)."""
    if job.status != JobStatus.FAILED:
        raise JobError("只有失败的任务可以重试。")
    if _KINDS.get(job.kind) and _KINDS[job.kind].flavour in IMPORT_FLAVOURS and file_size(job.id, INPUT) is None:
        raise JobError("导入的数据已过期删除，请重新上传文件。")
    job.status, job.error, job.done, job.stage = JobStatus.QUEUED, None, 0, "等待开始"
    job.started_at = job.finished_at = job.expires_at = None
    job.peak_memory_kb = job.memory_growth_kb = None
    submit(job)


# ---- running a job (in the worker) ---------------------------------------------------------------

_worker_app = None
_worker_app_lock = threading.Lock()
_app_factory: Callable[[], Any] | None = None


def set_app_factory(factory: Callable[[], Any]) -> None:
    """The worker's entry point (worker.py) hands over the app factory: core never imports app.py."""
    global _app_factory
    _app_factory = factory


def _app():
    """The worker's Flask app (one per consumer process); in-process (tests) the current one."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    with _worker_app_lock:  # consumer threads start together: one app for all of them
        if _worker_app is None:
            if _app_factory is None:
                raise RuntimeError("start the worker as `huey_consumer worker.huey` (worker.py sets the app factory)")
            _worker_app = _app_factory()
    return _worker_app


def progress(done: int, total: int | None = None, stage: str | None = None) -> None:
    """Report the running job's progress from inside its work (exports and imports report by row
    themselves); outside a job it does nothing."""
    reporter = g.get("job_progress") if has_app_context() else None
    if reporter is not None:
        reporter(done, total, stage)


class Progress:
    """progress(done, total=None, stage=None): written in its own short transaction, throttled."""

    def __init__(self, job_id: int, interval: float = 1.0):
        self.job_id, self.interval, self._last = job_id, interval, 0.0
        self.done, self.total, self.stage = 0, None, None

    def __call__(self, done: int, total: int | None = None, stage: str | None = None, force: bool = False) -> None:
        self.done = done
        if total is not None:
            self.total = total
        changed = stage is not None and stage != self.stage
        if stage is not None:
            self.stage = stage
        now = time.monotonic()
        if not (force or changed or now - self._last >= self.interval):
            return
        if _holds_sqlite_write_lock():
            return  # an import's own transaction holds SQLite's lock: the final state is written at the end
        self._last = now
        values = {"done": self.done}
        if self.total is not None:
            values["total"] = self.total
        if self.stage is not None:
            values["stage"] = self.stage[:100]
        _write(self.job_id, **values)

    def counted(self, rows: Iterable, total: int | None) -> Iterable:
        for i, row in enumerate(rows, start=1):
            yield row
            self(i, total)


def _write(job_id: int, **values) -> None:
    """One short transaction of its own, apart from the job's work."""
    with db.engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(update(Job.__table__).where(Job.__table__.c.id == job_id).values(**values))


def _holds_sqlite_write_lock() -> bool:
    # A job that writes takes SQLite's lock up front (core/extensions.py): a second connection
    # would wait for it, so its progress is written when its own transaction ends.
    return db.engine.dialect.name == "sqlite" and g.get("write_transactions", False) and db.session().in_transaction()


@huey.task()
def run_job(job_id: int) -> None:
    app = _app()
    # A fresh context of its own: its own database session, apart from any request that enqueued
    # the job, and url_for() building local links (PUBLIC_BASE_URL, never a request's Host).
    # (A request context reuses the app context it finds, so the app context comes first.)
    with app.app_context(), app.test_request_context("/", base_url=app.config.get("PUBLIC_BASE_URL") or None):
        g.in_job_worker = True  # not a web request: its writes are the job's work
        try:
            _run(job_id)
        finally:
            db.session.remove()


def _run(job_id: int) -> None:
    from core.auth import ACCOUNTS

    User = ACCOUNTS.user
    job = db.session.get(Job, job_id)
    if job is None or job.status != JobStatus.QUEUED:
        return  # deleted, or already taken by another worker
    claimed = db.session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED).values(
        status=JobStatus.RUNNING, started_at=utcnow(), stage="开始处理")).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(Job, job_id)
    # Read now: after a commit or rollback the row is expired, and reloading it would open a transaction.
    kind_name, pii, params = job.kind, job.pii, dict(job.params or {})
    kind = _KINDS.get(kind_name)
    user = db.session.get(User, job.user_id)
    progress = Progress(job_id, interval=current_app.config.get("JOB_PROGRESS_SECONDS", 1.0))
    db.session().info["actor"] = (user.id, user.username) if user else None
    usable = kind is not None and user is not None and user.is_active
    # An import writes thousands of rows: on SQLite its transaction starts IMMEDIATE (no stale
    # snapshot to upgrade); exports only read and must not hold the lock while they build the file.
    g.write_transactions = kind is not None and kind.flavour in ("import", "chunked")
    g.job_progress = progress
    g.job_id = job_id
    db.session.commit()  # end the reads above: the work starts its own transaction
    memory = MemoryWatch()
    try:
        if not usable:
            raise JobError("该任务已无法执行（账号已停用或任务类型不存在）。")
        result = _dispatch(job_id, params, kind, user, progress)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        g.write_transactions = False
        if isinstance(exc, JobError):
            message = exc.message
        elif isinstance(exc, HTTPException):  # the scope gate (get_scoped_or_404) said no
            message = "找不到要处理的记录，或您已无权查看。"
            log.info("job %s (%s) refused: %s", job_id, kind_name, message)
        else:
            message = "任务执行失败，请稍后重试；如仍失败请联系管理员。"
            log.error("job %s (%s) failed:\n%s", job_id, kind_name, traceback.format_exc())
        peak, growth = memory.peak()
        _write(job_id, status=JobStatus.FAILED, error=message[:500], finished_at=utcnow(), stage="失败",
               expires_at=_expiry(pii), peak_memory_kb=peak, memory_growth_kb=growth)
        return
    g.write_transactions = False
    peak, growth = memory.peak()
    values = dict(status=JobStatus.DONE, finished_at=utcnow(), stage="已完成", done=progress.done,
                  peak_memory_kb=peak, memory_growth_kb=growth,
                  message=(result.message or "")[:300] if result else None,
                  result_url=result.url if result else None, expires_at=_expiry(pii))
    if progress.total is not None:
        values["total"] = progress.total
    if isinstance(result, _FileResult):
        values.update(result_file=result.file, result_name=result.name[:200])
    _write(job_id, **values)
    if kind.flavour in IMPORT_FLAVOURS:
        with db.engine.connect().execution_options(write=True) as conn, conn.begin():
            delete_files(job_id, INPUT, session=conn)


@dataclass
class _FileResult(Done):
    file: str = ""
    name: str = ""


@dataclass
class File:
    """What a task kind returns when it makes a file (a PDF): its bytes and the download's name."""
    name: str
    data: bytes
    message: str = ""


def _dispatch(job_id: int, params: dict, kind: _Kind, user, progress: Progress) -> Done | None:
    if kind.flavour == "export":
        from core.exports import xlsx_write

        progress(0, None, "正在查询数据", force=True)
        sheet: Sheet = kind.run(user, params.get("args", {}))
        total = sheet.total if sheet.total is not None else (len(sheet.rows) if hasattr(sheet.rows, "__len__") else None)
        progress(0, total, "正在生成表格", force=True)
        name = f"job-{job_id}.xlsx"
        # openpyxl's write-only mode streams the rows to a temporary file; the file then goes to the
        # database chunk by chunk: memory stays flat however many rows there are.
        with tempfile.TemporaryFile() as fh:
            xlsx_write(fh, sheet.title, sheet.headers, progress.counted(sheet.rows, total), widths=sheet.widths)
            db.session.commit()  # the reading transaction ends before the file is written
            if progress.total is None:  # streamed rows: their number is known now
                progress.total = progress.done
            progress(progress.done, progress.total, "正在保存文件", force=True)
            fh.seek(0)
            store_file(job_id, RESULT, fh)
        if sheet.audit:
            from core.audit import record_event

            # The reading transaction ends first: the log entry is a short write of its own, so a
            # long export never holds SQLite's write lock (and never upgrades a stale snapshot).
            db.session.commit()
            entity, label, summary = sheet.audit
            if callable(summary):  # a streamed export knows its row count only now
                summary = summary(progress.done)
            record_event("export", entity, None, label, summary, user=user, region_id=user.region_id)
        return _FileResult(f"共 {progress.done} 行。", None, file=name, name=sheet.filename)
    if kind.flavour == "import":
        if file_size(job_id, INPUT) is None:
            raise JobError("导入的数据已过期删除，请重新上传文件。")
        total = db.session.scalar(select(Job.total).where(Job.id == job_id))
        if total is None:  # an input stored without its count (start_import stores it): count the rows
            total = sum(1 for _ in iter_rows(job_id, INPUT))
        db.session.commit()  # the reading ends: the stage below is written before the import's own transaction
        progress(0, total, "正在写入数据", force=True)
        # The rows are read from the database a chunk at a time as the import walks through them.
        done = kind.run(user, params, _StreamedRows(job_id, total, progress))
        progress(total, total, "正在保存")
        return done
    if kind.flavour == "chunked":
        return _run_chunked(job_id, params, kind.run, user, progress)
    if kind.flavour == "preview":
        import io

        from core.tabular import TableError

        data = read_file(job_id, INPUT)
        if data is None:
            raise JobError("上传的文件已过期删除，请重新上传。")
        db.session.commit()
        progress(0, None, "正在读取并校验文件", force=True)
        try:
            preview = kind.run(user, params, params.get("filename", ""), data)
        except TableError as e:
            raise JobError(str(e)) from None
        del data
        db.session.commit()
        if isinstance(preview.get("total"), int):  # the rows read and checked
            progress(preview["total"], preview["total"], "正在保存预览", force=True)
        store_file(job_id, PREVIEW, io.BytesIO(json.dumps(preview, ensure_ascii=False).encode()))
        return Done(preview.get("message") or "文件已校验，请查看预览并确认导入。",
                    url_for(kind.page, job_id=job_id))
    result = kind.run(user, params)
    if isinstance(result, File):
        import io

        db.session.commit()  # the reading transaction ends before the file is written
        store_file(job_id, RESULT, io.BytesIO(result.data))
        suffix = Path(result.name).suffix.lower()[:10]
        return _FileResult(result.message or "文件已生成。", None, file=f"job-{job_id}{suffix}", name=result.name)
    return result


class _PartialImport(JobError):
    pass


def _run_chunked(job_id: int, params: dict, spec: _Chunked, user, progress: Progress) -> Done:
    """A chunked import (chunked_importer): read IMPORT_CHUNK rows, apply, commit, clear the session,
    report; resume after the rows a failed run already committed."""
    from itertools import islice

    from core.auth import ACCOUNTS

    if file_size(job_id, INPUT) is None:
        raise JobError("导入的数据已过期删除，请重新上传文件。")
    total = db.session.scalar(select(Job.total).where(Job.id == job_id))
    if total is None:
        total = sum(1 for _ in iter_rows(job_id, INPUT))
    resume = params.pop("_resume", None) or {}
    committed, counts = int(resume.get("rows", 0)), dict(resume.get("counts", {}))
    last_line = resume.get("line")  # the file's row number of the last row saved, when the rows carry one
    user_id, size = user.id, max(1, int(spec.size or IMPORT_CHUNK))
    db.session.commit()
    progress(committed, total, _saved_stage(committed, total), force=True)
    rows = islice(iter_rows(job_id, INPUT), committed, None)  # a retry skips what is already in
    while True:
        # Reading the chunk opens its transaction (on SQLite IMMEDIATE: the write lock, held for one chunk only).
        chunk = list(islice(rows, size))
        if not chunk:
            break
        owner = db.session.get(ACCOUNTS.user, user_id)
        got = dict(counts)
        line = chunk[-1].get("line") if isinstance(chunk[-1], dict) else None
        line = line if isinstance(line, int) else last_line
        try:
            spec.apply(owner, dict(params), chunk, got)
            # Where a retry starts, with the counts so far: in the chunk's own transaction, so that the
            # resume point is exactly what is committed (a worker killed in between loses neither).
            db.session.execute(update(Job).where(Job.id == job_id).values(
                done=committed + len(chunk),
                params={**params, "_resume": {"rows": committed + len(chunk), "counts": got, "line": line}}))
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            db.session.expunge_all()
            raise _PartialImport(_partial_message(exc, committed, total, last_line)) from exc
        committed, counts, last_line = committed + len(chunk), got, line
        del chunk
        db.session.expunge_all()  # nothing of this chunk stays in the session (nor in memory)
        progress(committed, total, _saved_stage(committed, total), force=True)
    owner = db.session.get(ACCOUNTS.user, user_id)
    result = spec.done(owner, dict(params), counts)
    db.session.commit()
    progress(committed, total, "正在保存", force=True)
    return result


def _saved_stage(done: int, total: int) -> str:
    return f"正在写入数据（已保存 {done} / {total} 行）"


def _partial_message(exc: Exception, committed: int, total: int, last_line: int | None = None) -> str:
    """The Chinese message of a chunked import that stopped: why, and exactly what is saved."""
    if isinstance(exc, JobError):
        why = exc.message.rstrip("。")
    elif isinstance(exc, HTTPException):
        why = "找不到要处理的记录，或您已无权查看"
    else:
        log.error("chunked import %s failed:\n%s", current_job_id(), traceback.format_exc())
        why = "导入中途出错"
    if not committed:
        return f"{why}。未导入任何数据。"
    where = f"（至表格第 {last_line} 行）" if last_line else ""
    return (f"{why}。已保存前 {committed} 条{where}，其余 {total - committed} 条（共 {total} 条）未导入；"
            f"点“重试”将从第 {committed + 1} 条继续，已保存的不会重复导入。")


class _StreamedRows:
    """An import's input rows, read from job_file as they are walked through (reporting progress);
    len() is the count stored when the job started. An importer that needs a list calls list()."""

    def __init__(self, job_id: int, total: int, progress: Progress):
        self._job_id, self._total, self._progress = job_id, total, progress

    def __len__(self) -> int:
        return self._total

    def __iter__(self):
        for i, row in enumerate(iter_rows(self._job_id, INPUT), start=1):
            yield row
            self._progress(i, self._total)


def _expiry(pii: bool) -> datetime:
    cfg = current_app.config
    if pii:
        return utcnow() + timedelta(hours=cfg.get("JOB_PII_KEEP_HOURS", 24))
    return utcnow() + timedelta(days=cfg.get("JOB_KEEP_DAYS", 7))


# ---- keeping it tidy ------------------------------------------------------------------------------

def cleanup(now: datetime | None = None, session=None) -> int:
    """Delete expired files (personal data after JOB_PII_KEEP_HOURS) and jobs older than
    JOB_KEEP_DAYS. Runs hourly in the worker and whenever someone opens 我的任务."""
    now = now or utcnow()
    session = session if session is not None else db.session
    removed = 0
    # A worker that died mid-job (killed, machine restarted) leaves it "running": after a few hours
    # it is failed, so that its owner sees it and can retry. (The first statement writes: see above.)
    stale = now - timedelta(hours=current_app.config.get("JOB_STALE_HOURS", 3))
    session.execute(update(Job).where(Job.status == JobStatus.RUNNING, Job.started_at < stale).values(
        status=JobStatus.FAILED, error="任务被中断（服务器重启或超时），请重试。", finished_at=now, stage="失败",
        expires_at=now + timedelta(days=current_app.config.get("JOB_KEEP_DAYS", 7))))
    expired = list(session.scalars(select(Job).where(Job.expires_at.is_not(None), Job.expires_at <= now,
                                                   (Job.result_file.is_not(None)) | (Job.pii.is_(True)))))
    for job in expired:
        delete_files(job.id, session=session)  # the result and any input rows
        if job.result_file:
            removed += 1
            job.result_file = None
            job.stage = "文件已过期删除"
    cutoff = now - timedelta(days=current_app.config.get("JOB_KEEP_DAYS", 7))
    from core import cache

    cache.sweep(session, now)  # the lists' shared totals of earlier days
    for job in list(session.scalars(select(Job).where(Job.created_at < cutoff))):
        delete_files(job.id, session=session)
        session.delete(job)
    session.commit()
    return removed


def sweep_on_access() -> None:
    """cleanup() from a page view: its own transaction, starting with a write (SQLite takes the lock
    then, waiting politely), and never an error page if the database is busy (the worker sweeps hourly)."""
    try:
        with side_writes() as session:
            cleanup(session=session)
        db.session.commit()  # end the page's read transaction: what it reads next sees the cleanup
    except OperationalError:
        db.session.rollback()
        log.warning("job cleanup skipped: database busy")


@huey.periodic_task(crontab(minute="7"))
def hourly_cleanup() -> None:
    with _app().app_context():
        try:
            cleanup()
        finally:
            db.session.remove()


def owned_or_404(job_id: int, user) -> Job:
    """A job answers its owner only: anyone else gets the same 404 as for a job that does not exist."""
    from flask import abort

    job = db.session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        abort(404)
    return job


def jobs_of(user, limit: int = 100) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.user_id == user.id)
                                   .order_by(Job.id.desc()).limit(limit)))



# ---- an import's upload step, the same for every import (issue 16) --------------------------------
# One call in a route, one check per import, used both in the request (a small file) and in the
# worker (a file over IMPORT_INLINE_KB, previewed by a job on the shared page /jobs/<id>/preview):
#
#     @jobs.upload_importer("orgs.preview", back="orgs.import_upload")
#     def check_orgs(user, params, read) -> jobs.Checked:      # read(columns) gives the file's rows
#         rows = importing.check_rows(user, read(importing.IMPORT_COLUMNS))   # a generator: row by row
#         return jobs.Checked(rows, "orgs", lambda r: {"line": r.line, "values": r.values},
#                             {"heading": "导入组织", "columns": [...], "confirm": url_for("orgs.import_confirm")})
#
#     got = jobs.import_upload("orgs.preview", "预览导入组织名录", form.file.data)   # TableError as before
#     if got.response is not None:
#         return got.response                                 # a large file: the job's progress
#     rows, token = got.rows, got.token                       # a small file: previewed here, as before
#
# In a job the rows are read, checked and written away one at a time (read() is a generator there):
# the job keeps counts, the first PREVIEW_ROWS rows and the first PREVIEW_BAD_ROWS rows with problems,
# never the file's rows; what waits for the confirmation is in its own job_file (ROWS), the stash only
# names it (rows_ref). A check must therefore consume its rows lazily (a generator, cross-row state in
# sets and dicts of keys only) and never hold on to the rows it has yielded.

PREVIEW_ROWS = 200  # a job's preview shows the first rows of a clean file …
PREVIEW_BAD_ROWS = 200  # … or the first rows with problems (the page counts them all)


@dataclass
class Checked:
    """An import's check of the rows read from a file. rows: ImportRow with their problems (a list in the
    request, a generator in a job); item(row): what one good row waits for the confirmation as, under
    stash_kind; meta: what the stash carries besides the rows (the policy, the system: unstash()).
    page: how a job's preview shows them — heading, columns (as _macros/imports.html takes them),
    confirm (url), and optionally hidden, all_or_nothing (True: nothing is stashed once a row has a
    problem; False: the good rows are), unit ("行"), done_text."""
    rows: Iterable
    stash_kind: str
    item: Callable[[Any], Any]
    page: dict
    meta: dict | None = None


@dataclass
class Upload:
    rows: list | None = None
    token: str | None = None
    response: Any = None


def _stash_inline(user, checked: Checked) -> tuple[list, str | None]:
    """A small file checked in the request: (its rows, the stash's token or None)."""
    from core.tabular import stash_rows

    rows = list(checked.rows)
    good = [r for r in rows if not r.errors]
    if not good or (checked.page.get("all_or_nothing", True) and len(good) < len(rows)):
        return rows, None
    items = [checked.item(r) for r in good]
    payload = items if checked.meta is None else [{**checked.meta, "rows": items}]
    return rows, stash_rows(user.id, checked.stash_kind, payload)


def upload_importer(kind: str, back: str):
    """check(user, params, read) -> Checked, where read(columns) returns the file's ImportRows. Runs in
    the request for a small file and in the worker for a large one (for the owner, re-applying the
    scope from `params`: ids only). `back` is the upload page's endpoint (taking params)."""

    def deco(check):
        def run(user, params: dict, filename: str, data: bytes) -> dict:
            from core.tabular import iter_table, stash_rows

            args = {k: v for k, v in params.items() if k != "filename"}
            checked = check(user, args, lambda columns: iter_table(filename, data, columns))
            page = dict(checked.page)
            keys = [c if isinstance(c, str) else c[1] for c in page["columns"]]
            all_or_nothing = page.get("all_or_nothing", True)
            total = bad = kept = 0
            first, bad_rows, out = [], [], RowsFile()
            try:
                for r in checked.rows:
                    total += 1
                    if r.errors:
                        bad += 1
                        if len(bad_rows) < PREVIEW_BAD_ROWS:
                            bad_rows.append(_shown(r, keys))
                    else:
                        if len(first) < PREVIEW_ROWS:
                            first.append(_shown(r, keys))
                        if not (all_or_nothing and bad):
                            out.add(checked.item(r))
                            kept += 1
                    if total % IMPORT_CHUNK == 0:
                        db.session.expire_all()  # what the checks looked up is not kept
                        progress(total)
                # End the reading transaction first: on SQLite a reader turned writer (the stash) fails
                # at once when another job or request committed meanwhile.
                db.session.commit()
                token = None
                if kept and not (all_or_nothing and bad):
                    job_id = current_job_id()
                    out.store(job_id, ROWS)
                    token = stash_rows(user.id, checked.stash_kind, rows_ref(job_id, kept, **(checked.meta or {})))
            finally:
                out.close()
            return {**page, "back": url_for(back, **args), "token": token, "total": total, "bad": bad,
                    "all_or_nothing": all_or_nothing, "rows": bad_rows if bad else first,
                    "message": (f"共 {total} 行，其中 {bad} 行有问题，请查看。" if bad
                                else f"共 {total} 行，全部校验通过，请查看预览并确认导入。")}

        _KINDS[kind] = _Kind(run, "preview", "jobs.preview")
        _CHECKS[kind] = check
        return check

    return deco


_CHECKS: dict[str, Callable] = {}


def _shown(r, keys: list[str]) -> dict:
    """A row as a job's preview keeps it: only the values the page shows (masked, never a raw ID number)."""
    return {"line": r.line, "values": {k: r.values.get(k, "") for k in keys}, "errors": list(r.errors)}


def import_upload(kind: str, title: str, upload, params: dict | None = None) -> Upload:
    """An import's upload step (see above): a file over IMPORT_INLINE_KB goes to a preview job at once
    (only the free checks run here: type, size, an XLSX's declared sizes); a smaller one is read with
    the inline row limit, checked and stashed in the request. Raises TableError (Chinese)."""
    from flask_login import current_user

    from core.tabular import import_bytes, precheck, read_import_bytes

    params = params or {}
    filename = getattr(upload, "filename", "") or ""
    data = import_bytes(upload)
    if preview_in_job(data):
        precheck(filename, data)
        return Upload(response=start_preview(kind, title, filename, data, params))
    checked = _CHECKS[kind](current_user, params, lambda columns: read_import_bytes(filename, data, columns))
    rows, token = _stash_inline(current_user, checked)
    return Upload(rows=rows, token=token)


def kind_page(kind: str) -> str | None:
    """The page a preview kind's job links to (None for an unknown kind or another flavour)."""
    k = _KINDS.get(kind)
    return k.page if k is not None and k.flavour == "preview" else None
