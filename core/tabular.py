"""XLSX/CSV in and out, shared by every import and export.

Imports follow one pattern: parse the upload → validate every row → show a preview with row-level
errors → the user confirms → save all rows in one transaction. The parsed rows wait between preview
and confirmation in a server-side file named by a random token and bound to the user.
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_ROWS = 20000


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, missing columns); message in Chinese."""


@dataclass
class ImportRow:
    line: int  # row number as the user sees it in the spreadsheet
    values: dict
    errors: list[str] = field(default_factory=list)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(filename: str, data: bytes, columns: list[str]) -> list[ImportRow]:
    """Rows of an XLSX or CSV upload as dicts keyed by the expected Chinese column headers."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise TableError("无法读取该 Excel 文件，请使用下载的模板（.xlsx）。") from None
        ws = wb.worksheets[0]
        raw = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    elif name.endswith(".csv"):
        text = None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise TableError("无法识别 CSV 文件的编码（支持 UTF-8 和 GBK）。")
        raw = [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise TableError("只支持 .xlsx 或 .csv 文件。")
    if not raw:
        raise TableError("文件是空的。")
    header = raw[0]
    missing = [c for c in columns if c not in header]
    if missing:
        raise TableError("缺少列：" + "、".join(missing) + "。请使用下载的模板。")
    index = {c: header.index(c) for c in columns}
    rows = []
    for n, cells in enumerate(raw[1:], start=2):
        if not any(cells):
            continue
        values = {c: (cells[i] if i < len(cells) else "") for c, i in index.items()}
        rows.append(ImportRow(line=n, values=values))
    if not rows:
        raise TableError("文件中没有数据行。")
    if len(rows) > MAX_IMPORT_ROWS:
        raise TableError(f"一次最多导入 {MAX_IMPORT_ROWS} 行。")
    return rows


def xlsx_bytes(title: str, headers: list[str], rows: list[list], widths: list[int] | None = None) -> bytes:
    """One sheet with a bold, frozen header row. Written in openpyxl's streaming (write-only) mode:
    a 5,000-row registry export stays well under a second."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, _ in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths[i - 1] if widths else 16)
    ws.freeze_panes = "A2"
    head_font, head_fill, centre = Font(bold=True), PatternFill("solid", fgColor="DDE7F0"), Alignment(horizontal="center")
    head = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill, cell.alignment = head_font, head_fill, centre
        head.append(cell)
    ws.append(head)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- pending imports between preview and confirmation -------------------------------------------

def _pending_dir() -> Path:
    path = Path(current_app.instance_path) / "pending-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stash_rows(user_id: int, kind: str, rows: list[dict]) -> str:
    token = secrets.token_urlsafe(16)
    payload = {"user": user_id, "kind": kind, "at": time.time(), "rows": rows}
    (_pending_dir() / f"{token}.json").write_text(json.dumps(payload, ensure_ascii=False))
    return token


def take_rows(token: str, user_id: int, kind: str, max_age: int = 3600) -> list[dict] | None:
    # A token is what stash_rows made (ASCII letters, digits, - and _): anything else names no file
    # (str.isalnum would let "长" × 500 through to the file system: "File name too long").
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", token):
        return None
    path = _pending_dir() / f"{token}.json"
    if not path.exists():
        return None
    payload = json.loads(path.read_text())
    if payload["user"] != user_id or payload["kind"] != kind or time.time() - payload["at"] > max_age:
        return None
    path.unlink(missing_ok=True)
    return payload["rows"]
