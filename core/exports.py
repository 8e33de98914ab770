"""Every XLSX the platform writes goes through xlsx_bytes(): the one writer, safe for what is stored.

Two things in stored text must never reach a spreadsheet as they are:
- Formula injection (CWE-1236). A name typed into the public application form as
  `=HYPERLINK("http://x","y")` would become a live formula in a district officer's export: openpyxl
  turns every string that starts with "=" into a formula. Cells starting with = + - @ tab or CR are
  written as explicit strings (an inline string, never an <f> element) and carry Excel's quotePrefix
  style, so that editing the cell in Excel keeps it text. The value itself is unchanged: re-importing
  an export gives back exactly what was exported.
- Characters XML 1.0 cannot hold (control characters other than tab, newline, CR; U+FFFE/U+FFFF; lone
  surrogates). openpyxl refuses them (IllegalCharacterError) and the export would answer 500; they
  are dropped here, from whatever is already stored.
Numbers, dates and booleans stay typed; timezone-aware datetimes are written in local time.
"""
from __future__ import annotations

import io
import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.timeutil import to_local

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32767  # Excel's limit for one cell: a longer text makes Excel call the file damaged
ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def clean_text(value: str) -> str:
    """Text as a spreadsheet can hold it: no XML-illegal characters, at most one cell's length."""
    return ILLEGAL_XML_CHARS.sub("", value)[:MAX_CELL_CHARS]


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def safe_cell(ws, value):
    """One value of a write-only sheet's row: strings that could be evaluated become an explicit
    string cell; other types stay typed. Plain values are returned as they are (openpyxl's own fast
    path), so a 5,000-row export costs no more than before."""
    if isinstance(value, str):
        text = clean_text(value)
        if not is_formula_like(text):
            return text or None
        cell = WriteOnlyCell(ws, value=text)
        # openpyxl took "=…" for a formula: force an inline string (<is><t>…</t></is>, never <f>).
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    if value is None or (isinstance(value, (bool, int, date, time)) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # Excel has no NaN/Infinity: a blank, not a damaged file
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return safe_cell(ws, str(value))  # an enum or any other object: its text


def sheet_title(title: str) -> str:
    """A valid worksheet name: no []:*?/\\ or control characters, 1–31 characters."""
    text = _SHEET_TITLE_FORBIDDEN.sub("", clean_text(title or "")).strip().strip("'")
    return text[:31] or "Sheet1"


def xlsx_bytes(title: str, headers: list[str], rows, widths: list[int] | None = None) -> bytes:
    """One sheet with a bold, frozen header row, in memory (small files: import templates)."""
    buf = io.BytesIO()
    xlsx_write(buf, title, headers, rows, widths)
    return buf.getvalue()


def xlsx_write(fileobj, title: str, headers: list[str], rows, widths: list[int] | None = None) -> None:
    """One sheet with a bold, frozen header row, written to a file. openpyxl's streaming (write-only)
    mode: rows may be any iterable (a generator keeps memory flat however long the list is); the
    background export jobs (core/jobs.py) write here."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(title))
    for i, _ in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths[i - 1] if widths and i <= len(widths) else 16)
    ws.freeze_panes = "A2"
    head_font, head_fill, centre = Font(bold=True), PatternFill("solid", fgColor="DDE7F0"), Alignment(horizontal="center")
    head = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=clean_text(str(text)))
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment = head_font, head_fill, centre
        head.append(cell)
    ws.append(head)
    for row in rows:
        ws.append([safe_cell(ws, value) for value in row])
    wb.save(fileobj)


def xlsx_response(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype=XLSX_MIME)
    name = _CONTROL.sub("", filename)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


EXPORT_ROW_LIMIT = 1_000_000  # a list export beyond this asks the user to narrow the filters (Excel: 1,048,576)
EXPORT_BATCH = 2000  # rows read from the database at a time (yield_per) by a streamed export


def capped_rows(rows, limit: int = EXPORT_ROW_LIMIT):
    """The rows of a list export, lazily (the export job writes each row as it is read: memory stays
    flat), at most `limit`; a last line says so when the filters matched more (an export is what the
    current filters show, never silently less)."""
    n = 0
    for row in rows:
        if n == limit:
            yield [f"（仅导出前 {limit} 条，请缩小筛选范围后再导出）"]
            return
        n += 1
        yield row
