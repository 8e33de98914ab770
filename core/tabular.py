"""Every import reads its upload here: XLSX, CSV (read_table) and JSON (read_json). Writing is core/exports.py.

Imports follow one pattern: parse the upload → validate every row → show a preview with row-level
errors → the user confirms → save the rows, as a job, a chunk of rows per transaction (core/jobs.py
chunked_importer: a failure half-way says exactly which rows were saved, and a retry continues after them). The parsed rows wait between preview
and confirmation in the database (`pending_import`), named by a random token and bound to the user.

An upload must never take a worker down, so each limit is checked before the work it bounds:
the byte size while reading the upload (import_bytes), the uncompressed size of every part of an
XLSX before openpyxl opens it (a "zip bomb": a few kB that inflate to gigabytes of sharedStrings), the
number of rows while streaming them (read-only mode; the sheet's claimed dimension is not trusted), and
the nesting depth of JSON before it is parsed (Python's parser recurses). Every refusal is a
TableError with a Chinese message, which the import pages show next to the file field (422).
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

from flask import current_app, has_app_context
from openpyxl import load_workbook
from sqlalchemy import JSON, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

# Defaults; each can be set in the environment (config.py).
IMPORT_MAX_ROWS = 50000  # data rows of one file (issue 16: a 50,000-row import completes, as a job)
IMPORT_INLINE_MAX_ROWS = 20000  # data rows an import previewed in the request reads (read_import)
IMPORT_MAX_MB = 10  # the uploaded file
IMPORT_MAX_UNZIPPED_MB = 160  # all parts of an XLSX once inflated (50,000 rows × 12 columns ≈ 40 MB)
JSON_MAX_DEPTH = 20
MAX_COLUMNS = 100  # columns read from a sheet; the templates have fewer than 20
PREVIEW_CHARS = 100  # cell text echoed back in a preview


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, missing columns, too big); message in Chinese."""


def preview_text(value, limit: int = PREVIEW_CHARS) -> str:
    """Cell text as a preview echoes it: at most `limit` characters, then "…". Templates: |preview."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class ImportRow:
    line: int  # row number as the user sees it in the spreadsheet
    values: dict
    errors: list[str] = field(default_factory=list)


def _limit(name: str, default: int) -> int:
    if has_app_context():
        try:
            return int(current_app.config.get(name, default))
        except (TypeError, ValueError):
            return default
    return default


def max_rows() -> int:
    return _limit("IMPORT_MAX_ROWS", IMPORT_MAX_ROWS)


def max_bytes() -> int:
    return _limit("IMPORT_MAX_MB", IMPORT_MAX_MB) * 1024 * 1024


def _too_big(limit: int) -> TableError:
    return TableError(f"文件过大（最大 {limit / 1024 / 1024:g} MB）。")


def import_bytes(upload, limit: int | None = None) -> bytes:
    """The bytes of an uploaded file (a FileStorage), refused as soon as it passes the limit: never
    more than limit + 1 bytes are read."""
    limit = max_bytes() if limit is None else limit
    stream = getattr(upload, "stream", upload)
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(1024 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise _too_big(limit)
    return b"".join(chunks)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_zip(data: bytes) -> None:
    """Refuse an XLSX whose parts would inflate beyond the limit, before openpyxl opens it. The sizes
    are the ones the archive declares; zipfile never inflates a member beyond its declared size (it
    stops there and the CRC check fails), so a lying header cannot get past this either."""
    limit = _limit("IMPORT_MAX_UNZIPPED_MB", IMPORT_MAX_UNZIPPED_MB) * 1024 * 1024
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise TableError("无法读取该 Excel 文件，请使用下载的模板（.xlsx）。") from None
    if len(members) > 1000 or sum(m.file_size for m in members) > limit:
        raise TableError(f"Excel 文件解压后过大（最大 {limit // 1024 // 1024} MB），请删除多余的工作表、格式或空行后重试。")


def _xlsx_rows(data: bytes, columns: list[str]):
    _check_zip(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise TableError("无法读取该 Excel 文件，请使用下载的模板（.xlsx）。") from None
    try:
        ws = wb.worksheets[0]
        # The <dimension> a file claims is not trusted: "A1:XFD1048576" would pad every row to
        # 16,384 cells, and a too small one would silently drop rows.
        ws.reset_dimensions()
        header = [_cell(c) for c in next(ws.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())]
        yield header
        # Only as many columns as the last one we need: no cell beyond it is ever built.
        width = max((header.index(c) + 1 for c in columns if c in header), default=1)
        for cells in ws.iter_rows(min_row=2, max_col=width, values_only=True):
            yield [_cell(c) for c in cells]
    except TableError:
        raise
    except Exception:
        raise TableError("无法读取该 Excel 文件，请使用下载的模板（.xlsx）。") from None
    finally:
        wb.close()


def _csv_rows(data: bytes):
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise TableError("无法识别 CSV 文件的编码（支持 UTF-8 和 GBK）。")
    try:
        for cells in csv.reader(io.StringIO(text, newline="")):
            yield [_cell(c) for c in cells[:MAX_COLUMNS]]
    except csv.Error:
        raise TableError("无法读取该 CSV 文件：格式不正确或单元格过长。") from None


def _open_table(filename: str, data: bytes, columns: list[str], limit: int | None):
    """The raw rows of an XLSX or CSV upload (a generator to close) and the row limit that applies."""
    if len(data) > max_bytes():
        raise _too_big(max_bytes())
    name = (filename or "").lower()
    limit = max_rows() if limit is None else min(limit, max_rows())
    if name.endswith(".xlsx"):
        return _xlsx_rows(data, columns), limit
    if name.endswith(".csv"):
        return _csv_rows(data), limit
    raise TableError("只支持 .xlsx 或 .csv 文件。")


def read_table(filename: str, data: bytes, columns: list[str], limit: int | None = None) -> list[ImportRow]:
    """Rows of an XLSX or CSV upload as dicts keyed by the expected Chinese column headers.
    Streams the rows and stops at the row limit (IMPORT_MAX_ROWS unless `limit` is lower); `data`
    is at most import_bytes()'s limit."""
    source, limit = _open_table(filename, data, columns, limit)
    try:
        return _collect(source, columns, limit)
    finally:
        source.close()  # the workbook is closed too, also when a limit stopped the reading


def iter_table(filename: str, data: bytes, columns: list[str], limit: int | None = None):
    """read_table() as a generator: one ImportRow at a time (a preview job that keeps only counts,
    the rows with problems and the first rows holds no more than that: issue 16). The same checks
    and refusals (TableError), raised when the reading reaches them."""
    source, limit = _open_table(filename, data, columns, limit)
    try:
        yield from _iter_collect(source, columns, limit)
    finally:
        source.close()


def precheck(filename: str, data: bytes) -> None:
    """The checks that cost nothing, before a large file is handed to a preview job (core/jobs.py):
    the type, and for an XLSX its archive's declared sizes (a zip bomb is refused in the request)."""
    name = (filename or "").lower()
    if len(data) > max_bytes():
        raise _too_big(max_bytes())
    if name.endswith(".xlsx"):
        _check_zip(data)
    elif not name.endswith(".csv"):
        raise TableError("只支持 .xlsx 或 .csv 文件。")


def read_import_bytes(filename: str, data: bytes, columns: list[str]) -> list[ImportRow]:
    """read_import() of bytes already read (core/jobs.py import_upload): the inline row limit."""
    return read_table(filename, data, columns, limit=_limit("IMPORT_INLINE_MAX_ROWS", IMPORT_INLINE_MAX_ROWS))


def read_import(upload, columns: list[str]) -> list[ImportRow]:
    """The rows of an uploaded XLSX or CSV file (a FileStorage), read and previewed in the request:
    what the import pages call. At most IMPORT_INLINE_MAX_ROWS rows, so that no request parses more
    than a few seconds' worth; IMPORT_MAX_ROWS (more) is for the imports whose large files are
    previewed by a job (core/jobs.py previewer, read_table in the worker)."""
    return read_table(getattr(upload, "filename", "") or "", import_bytes(upload), columns,
                      limit=_limit("IMPORT_INLINE_MAX_ROWS", IMPORT_INLINE_MAX_ROWS))


def _collect(source, columns: list[str], limit: int) -> list[ImportRow]:
    return list(_iter_collect(source, columns, limit))


def _iter_collect(source, columns: list[str], limit: int):
    header, count = None, 0
    for n, cells in enumerate(source, start=1):
        if n > 2 * limit + 1:  # blank rows included: "row 1,048,576" alone would be a million of them
            raise TableError(f"文件行数过多（含空行最多 {2 * limit + 1} 行），请删除多余的行后重试。")
        if header is None:
            header = cells
            missing = [c for c in columns if c not in header]
            if missing:
                raise TableError("缺少列：" + "、".join(missing) + "。请使用下载的模板。")
            index = {c: header.index(c) for c in columns}
            continue
        if not any(cells):
            continue
        if count >= limit:
            raise TableError(f"一次最多导入 {limit} 行，请拆分文件后分批导入。")
        count += 1
        yield ImportRow(line=n, values={c: (cells[i] if i < len(cells) else "") for c, i in index.items()})
    if header is None:
        raise TableError("文件是空的。")
    if not count:
        raise TableError("文件中没有数据行。")


# ---- JSON ---------------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest, brackets inside strings not counted.
    Linear and without recursion, so it can run before the (recursive) parser does."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH.__getitem__, brackets)), default=0)


def read_json(data: bytes, limit: int | None = None, max_depth: int = JSON_MAX_DEPTH):
    """A JSON upload parsed with its size and nesting checked first; TableError (Chinese) otherwise."""
    limit = max_bytes() if limit is None else limit
    if len(data) > limit:
        raise _too_big(limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("无法读取该文件：不是有效的 JSON 文件（须为 UTF-8 编码）。") from None
    if json_depth(text) > max_depth:
        raise TableError(f"无法读取该文件：JSON 嵌套层数过多（最多 {max_depth} 层）。")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, and integers longer than Python reads
        raise TableError("无法读取该文件：不是有效的 JSON 文件。") from None


# ---- pending imports between preview and confirmation -------------------------------------------
# They hold personal data and wait in the `pending_import` table (issue 16: a preview made on one app
# server is confirmed on another): removed on confirmation and on cancel (core/privacy.py
# `POST /imports/cancel`), refused and removed once older than PENDING_MAX_AGE, and swept at that age
# even when nobody comes back for them (every stash, and every few minutes per process).

PENDING_MAX_AGE = 60 * 60  # seconds: a preview is confirmed within the hour or uploaded again
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class PendingImport(db.Model):
    """Parsed rows between an import's preview and its confirmation, bound to one user and one kind."""
    __tablename__ = "pending_import"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, sent in the preview's form
    user_id: Mapped[int] = mapped_column(Integer)  # no foreign key: a stash outlives nothing, it expires
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def _valid_token(token: str) -> bool:
    return bool(token) and len(token) <= 64 and set(token) <= _TOKEN_CHARS


def sweep_pending(max_age: int = PENDING_MAX_AGE) -> int:
    """Delete pending imports older than max_age (in the current transaction); returns how many went."""
    from core.jobs import ROWS, Job, JobFile

    cutoff = utcnow() - timedelta(seconds=max_age)
    # A preview job's checked rows (core/jobs.py rows_ref) expire with the stash that names them.
    db.session.execute(delete(JobFile).where(JobFile.part == ROWS, JobFile.job_id.in_(
        select(Job.id).where(Job.finished_at < cutoff))))
    return db.session.execute(delete(PendingImport).where(PendingImport.created_at < cutoff)).rowcount or 0


def _drop_job_rows(payload) -> None:
    """The rows a stash names instead of holding them (a preview job's), deleted with the stash."""
    from core.jobs import ROWS, delete_files, rows_ref_of

    ref = rows_ref_of(payload)
    if ref is not None:
        delete_files(ref[0], ROWS)


def stash_rows(user_id: int, kind: str, rows: list[dict]) -> str:
    """Keep the parsed rows until the user confirms; returns the token for the preview's form.
    Commits: a preview changes nothing else, and the rows must outlive this request."""
    sweep_pending()
    token = secrets.token_urlsafe(16)
    db.session.add(PendingImport(token=token, user_id=user_id, kind=kind, payload=rows))
    db.session.commit()
    return token


def take_rows(token: str, user_id: int, kind: str, max_age: int = PENDING_MAX_AGE) -> list[dict] | None:
    """The stashed rows, once (deleted in the confirming request's transaction), or None if the token
    is not this user's for this kind or has expired."""
    row = db.session.get(PendingImport, token) if _valid_token(token) else None
    if row is None or row.user_id != user_id or row.kind != kind:
        return None
    rows, expired = row.payload, row.created_at < utcnow() - timedelta(seconds=max_age)
    db.session.delete(row)  # taken once, expired or not
    if expired:
        _drop_job_rows(rows)
    db.session.flush()
    return None if expired else rows


def drop_rows(token: str, user_id: int) -> bool:
    """Cancel: delete the user's own pending import (someone else's token is left alone)."""
    row = db.session.get(PendingImport, token) if _valid_token(token) else None
    if row is None or row.user_id != user_id:
        return False
    _drop_job_rows(row.payload)
    db.session.delete(row)
    db.session.flush()
    return True
