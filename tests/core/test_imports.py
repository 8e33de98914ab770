"""No upload can take a worker down or flood a page: every import refuses an oversized file, a zip
bomb, too many rows, or deeply nested JSON with a Chinese message (422), before doing the work the
limit bounds; cell text echoed in a preview is cut.

The XLSX/CSV cases run against every import page of the application (IMPORTERS); a test checks that
the list names every import route of the URL map, so a new import is added here or fails."""
from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import date
from functools import lru_cache

import pytest

from blueprints.exchange.services import import_columns as _exchange_columns
from blueprints.exchange.services import default_mapping as _exchange_mapping
from blueprints.insurance.services import IMPORT_COLUMNS as INSURANCE_COLUMNS
from blueprints.orgs.importing import IMPORT_COLUMNS as ORG_COLUMNS
from blueprints.regions.services import IMPORT_COLUMNS as REGION_COLUMNS
from blueprints.themes.services import IMPORT_COLUMNS as THEME_COLUMNS
from blueprints.volunteers.services import IMPORT_COLUMNS as VOLUNTEER_COLUMNS
from core import tabular
from core.exports import xlsx_bytes
from core.extensions import db
from core.tabular import TableError, json_depth, read_json, read_table
from core.timeutil import local_today
from tests import factories
from tests.themes.builders import theme_plan

LONG = "长" * 5000
EXCHANGE_COLUMNS = _exchange_columns(_exchange_mapping())  # the read-back of the platform of record


def _importers(world) -> dict:
    """endpoint → (url, extra form fields, expected columns) of every XLSX/CSV import page."""
    plan = theme_plan(world["city"], local_today().year, published=False)
    policy = factories.insurance_policy(world["org_a"])
    db.session.commit()
    return {
        "orgs.import_upload": ("/orgs/import", {}, ORG_COLUMNS),
        "regions.import_upload": ("/regions/import", {}, REGION_COLUMNS),
        "themes.import_upload": (f"/themes/{plan.id}/import", {}, THEME_COLUMNS),
        "volunteers.import_upload": ("/volunteers/import", {"organization_id": world["org_a"].id}, VOLUNTEER_COLUMNS),
        "insurance.import_insured": (f"/insurance/{policy.id}/import", {}, INSURANCE_COLUMNS),
        "exchange.import_upload": ("/exchange/import", {}, EXCHANGE_COLUMNS),
    }


ENDPOINTS = ["orgs.import_upload", "regions.import_upload", "themes.import_upload", "volunteers.import_upload",
             "insurance.import_insured", "exchange.import_upload"]


@pytest.fixture(params=ENDPOINTS)
def importer(request, world, as_role):
    url, extra, columns = _importers(world)[request.param]
    client = as_role("city_admin")

    def post(data: bytes, name: str = "导入.xlsx"):
        return client.post(url, data={**extra, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    post.columns = columns
    return post


def test_every_import_route_is_covered(app):
    """Each upload-taking import page of the URL map is in ENDPOINTS (the JSON transfer has its own tests)."""
    found = {r.endpoint for r in app.url_map.iter_rules()
             if "import" in r.endpoint and "POST" in r.methods and "confirm" not in r.endpoint
             and "template" not in r.endpoint and "cancel" not in r.endpoint}
    assert found - {"volunteers.transfer_import"} == set(ENDPOINTS)


def _text(resp) -> str:
    return resp.get_data(as_text=True)


# ---- XLSX and CSV, on every import page ------------------------------------------------------------

def test_more_rows_than_the_limit_are_refused_while_counting(app, importer, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    rows = [["甲"] * len(importer.columns) for _ in range(4)]
    resp = importer(xlsx_bytes("导入", importer.columns, rows))
    assert resp.status_code == 422 and "一次最多导入 3 行" in _text(resp)
    csv_data = "\n".join([",".join(importer.columns)] + [",".join(r) for r in rows]).encode()
    resp = importer(csv_data, "导入.csv")
    assert resp.status_code == 422 and "一次最多导入 3 行" in _text(resp)


def test_file_over_the_size_limit_is_refused_before_it_is_read(importer, monkeypatch):
    # The limit is lowered so that the test request stays small; the rule is the same at IMPORT_MAX_MB.
    monkeypatch.setattr(tabular, "max_bytes", lambda: 2000)
    resp = importer(b"x" * 2001, "导入.csv")
    assert resp.status_code == 422 and "文件过大" in _text(resp)


def test_import_bytes_reads_no_more_than_the_limit_plus_one():
    stream = io.BytesIO(b"x" * 10_000)
    with pytest.raises(TableError, match="文件过大"):
        tabular.import_bytes(stream, 100)
    assert stream.tell() == 101
    assert tabular.import_bytes(io.BytesIO(b"abc"), 3) == b"abc"


@lru_cache(maxsize=1)
def _zip_bomb() -> bytes:
    """A valid workbook plus a sharedStrings part that inflates to ~170 MB (over the 160 MB limit) from well under 1 MB."""
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes("导入", ["姓名"], [["张三"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in base.namelist():
            zf.writestr(name, base.read(name))
        with zf.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            chunk = b"<si><t>a</t></si>" * 65536
            for _ in range(152):
                fh.write(chunk)
            fh.write(b"</sst>")
    return out.getvalue()


def test_zip_bomb_is_refused_before_openpyxl_opens_it(importer, monkeypatch):
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024

    def must_not_run(*a, **kw):
        raise AssertionError("openpyxl was handed a zip bomb")

    monkeypatch.setattr(tabular, "load_workbook", must_not_run)
    resp = importer(bomb)
    assert resp.status_code == 422 and "Excel 文件解压后过大" in _text(resp)


def test_long_cell_text_is_cut_in_the_preview(importer):
    resp = importer(xlsx_bytes("导入", importer.columns, [[LONG] * len(importer.columns)]))
    body = _text(resp)
    assert resp.status_code in (200, 422)
    assert "长" * 100 + "…" in body  # shown, cut at 100 characters
    assert "长" * 161 not in body  # neither a cell nor a message quoting it echoes more


def test_unreadable_csv_is_a_message_not_a_500(importer):
    # A field longer than Python's csv limit (131,072 characters) makes csv.reader raise.
    huge_field = ",".join(importer.columns).encode() + b'\n"' + b"x" * 200_000 + b'"\n'
    resp = importer(huge_field, "导入.csv")
    assert resp.status_code == 422 and "无法读取该 CSV 文件" in _text(resp)


# ---- the reader itself ---------------------------------------------------------------------------

def _with_sheet_xml(data: bytes, transform) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            body = src.read(name)
            zf.writestr(name, transform(body.decode()).encode() if name == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_a_sheet_claiming_the_whole_grid_is_read_without_padding_a_million_rows(app):
    """<dimension ref="A1:XFD1048576"> and one cell in the grid's last row: openpyxl, trusting the
    claim, would build 16,384 cells per row. The reader ignores the claim and stops at the row limit."""
    data = xlsx_bytes("导入", ["名称", "类型"], [["甲", "乙"], ["丙", "丁"]])
    data = _with_sheet_xml(data, lambda x: x.replace("<sheetViews>", '<dimension ref="A1:XFD1048576"/><sheetViews>', 1)
                           .replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                                    "</c></row></sheetData>"))
    started = time.monotonic()
    with app.app_context():
        with pytest.raises(TableError, match="文件行数过多"):
            read_table("导入.xlsx", data, ["名称", "类型"])
    assert time.monotonic() - started < 5


def test_a_sheet_claiming_too_small_a_dimension_loses_no_rows(app):
    data = xlsx_bytes("导入", ["名称"], [["甲"], ["乙"], ["丙"]])
    data = _with_sheet_xml(data, lambda x: x.replace("<sheetViews>", '<dimension ref="A1:A2"/><sheetViews>', 1))
    with app.app_context():
        assert [r.values["名称"] for r in read_table("导入.xlsx", data, ["名称"])] == ["甲", "乙", "丙"]


def test_a_member_lying_about_its_size_is_refused(app):
    """A part that declares a small size passes the unzipped-size check, but zipfile never inflates
    beyond the declared size (the CRC check then fails): a clean message, not a 500."""
    data = bytearray(xlsx_bytes("导入", ["名称"], [["甲" * 2000]]))
    name = b"xl/worksheets/sheet1.xml"
    pos = data.find(b"PK\x01\x02")  # central directory entries
    while pos != -1 and data[pos + 46:pos + 46 + len(name)] != name:
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert pos != -1
    data[pos + 24:pos + 28] = (10).to_bytes(4, "little")  # declared uncompressed size
    with app.app_context():
        with pytest.raises(TableError, match="无法读取该 Excel 文件"):
            read_table("导入.xlsx", bytes(data), ["名称"])


def test_entity_expansion_in_shared_strings_is_refused(app):
    """"Billion laughs" in sharedStrings.xml: a few hundred bytes that expand to gigabytes. The XML
    parser's amplification limit stops it and the reader answers with its message."""
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes("导入", ["名称"], [["甲"]])))
    entities = '<!ENTITY a0 "' + "x" * 100 + '">' + "".join(
        f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    sst = (f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst xmlns="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main"><si><t>&a9;</t></si></sst>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in base.namelist():
            body = base.read(name)
            if name == "[Content_Types].xml":
                body = body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif name == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.'
                                    b'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            zf.writestr(name, body)
        zf.writestr("xl/sharedStrings.xml", sst)
    started = time.monotonic()
    with app.app_context():
        with pytest.raises(TableError, match="无法读取该 Excel 文件"):
            read_table("导入.xlsx", out.getvalue(), ["名称"])
    assert time.monotonic() - started < 5


def test_json_depth_counts_brackets_outside_strings_only():
    assert json_depth('{"a": [1, {"b": "[[[[[[{{{{"}]}') == 3
    assert json_depth(r'{"a": "\"[[[[", "b": []}') == 2
    assert json_depth("[" * 100_000) == 100_000
    assert json_depth("1") == 0


@pytest.mark.parametrize("raw, message", [
    (b"[" * 200_000 + b"]" * 200_000, "嵌套层数过多"),
    (b'{"a": ' * 50 + b"1" + b"}" * 50, "嵌套层数过多"),
    (b'{"n": ' + b"9" * 5000 + b"}", "不是有效的 JSON"),  # Python refuses ints over 4,300 digits
    (b"\xff\xfe{}", "UTF-8"),
    (b"[" * 10, "不是有效的 JSON"),  # shallow but unfinished: the parser says so
    (b"{", "不是有效的 JSON"),
])
def test_read_json_refuses_with_a_chinese_message(raw, message):
    with pytest.raises(TableError, match=message):
        read_json(raw, limit=5 * 1024 * 1024)


def test_read_json_checks_the_size_first():
    with pytest.raises(TableError, match="文件过大"):
        read_json(b" " * 101, limit=100)
    assert read_json(b'{"a": [1, 2]}', limit=100) == {"a": [1, 2]}


# ---- the transfer file (JSON) --------------------------------------------------------------------

def _transfer(as_role, world, raw: bytes):
    number = factories.id_number(date(1990, 5, 17), sex="男", area="440103")
    return as_role("org_leader").post("/volunteers/transfer/import", data={
        "organization_id": world["org_a"].id, "id_number": number, "phone": "",
        "file": (io.BytesIO(raw), "transfer.json")}, content_type="multipart/form-data")


def _doc(**over) -> dict:
    doc = {"format": "zhiyuan.volunteer-record", "version": 1,
           "volunteer": {"name": "陈晓明", "sex": "男", "birth_date": "1990-05-17",
                         "id_number_masked": "4401**********0000", "registered_on": "2021-03-05"},
           "service_records": [], "trainings": [], "awards": []}
    doc.update(over)
    return doc


@pytest.mark.parametrize("raw, message", [
    (b"[" * 100_000 + b"]" * 100_000, "嵌套层数过多"),
    (json.dumps(_doc(service_records=[{"content": [[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]}])).encode(),
     "嵌套层数过多"),
    (b'{"format": ' + b"1" * 10_000 + b"}", "不是有效的 JSON"),
    (json.dumps(_doc(service_records=[{}] * 50_001)).encode(), "记录过多"),  # IMPORT_MAX_ROWS + 1
])
def test_hostile_transfer_file_gets_a_422_with_a_chinese_message(as_role, world, raw, message):
    resp = _transfer(as_role, world, raw)
    assert resp.status_code == 422 and message in _text(resp)


def test_oversized_transfer_file_is_refused(as_role, world, monkeypatch):
    from blueprints.volunteers import transfer

    monkeypatch.setattr(transfer, "MAX_BYTES", 2000)  # a small request; the rule is the same at 5 MB
    resp = _transfer(as_role, world, b" " * 2001)
    assert resp.status_code == 422 and "文件过大" in _text(resp)


def test_transfer_preview_cuts_long_names(as_role, world):
    doc = _doc(volunteer={"name": LONG, "sex": "男", "birth_date": "1990-05-17",
                          "id_number_masked": LONG, "registered_on": "2021-03-05"},
               service_records=[{"uid": "x/s/1", "date": "2025-06-01", "hours": "2", "content": LONG,
                                 "recording_unit": LONG}])
    resp = _transfer(as_role, world, json.dumps(doc, ensure_ascii=False).encode())
    body = _text(resp)
    assert resp.status_code == 422 and "长" * 100 + "…" in body and "长" * 161 not in body
