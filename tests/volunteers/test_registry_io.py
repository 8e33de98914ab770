"""Export (masked), import (template, preview, row errors, confirm) and no full ID number anywhere."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from blueprints.volunteers import services
from blueprints.volunteers.models import Membership, Volunteer
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import local_today
from tests.jobs import export_file
from tests import factories


def _xlsx(rows, headers=services.IMPORT_COLUMNS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(name, number, **kw):
    values = {"姓名": name, "身份证号": number, "手机号": "13812345678", "政治面貌": "群众", "公职人员": "否",
              "服务技能": "扶老、助学", "服务时间": "周末", "注册日期": "2026-02-01", "居住地区划代码": "",
              "监护人姓名": "", "监护人电话": "", "监护人已同意": ""}
    values.update(kw)
    return [values[c] for c in services.IMPORT_COLUMNS]


def _all_text(resp) -> str:
    return resp.get_data(as_text=True)


def test_export_is_masked_and_logged(world, as_role):
    number = factories.id_number()
    factories.volunteer(world["org_a"], number=number, name="导出人", phone="13812345678")
    db.session.commit()
    resp = export_file(as_role("district_staff"), "/volunteers/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    cells = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    assert "导出人" in cells and number not in cells and "13812345678" not in cells
    assert number[:4] + "*" * 14 in cells and number[-4:] not in cells
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export")) is not None


def test_export_respects_scope(world, as_role):
    factories.volunteer(world["org_a"], name="赤坎人")
    db.session.commit()
    resp = export_file(as_role("district_staff_2"), "/volunteers/export.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert "赤坎人" not in " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c)


def test_import_template_downloads(world, as_role):
    resp = as_role("org_leader").get("/volunteers/import/template")
    assert resp.status_code == 200
    header = next(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert list(header) == services.IMPORT_COLUMNS


def test_import_shows_row_errors_and_saves_nothing(world, as_role):
    good = factories.id_number()
    minor = factories.id_number(date(local_today().year - 14, 2, 2))
    data = _xlsx([
        _row("好人", good),
        _row("坏号", "440802199001011234"),
        _row("重复", good),
        _row("少年", minor),
        _row("", factories.id_number(), 政治面貌="外星人", 手机号="123"),
    ])
    resp = as_role("org_leader").post("/volunteers/import", data={
        "organization_id": world["org_a"].id, "file": (io.BytesIO(data), "v.xlsx")},
        content_type="multipart/form-data")
    assert resp.status_code == 422
    body = _all_text(resp)
    for msg in ("校验位", "与第 2 行的身份证号重复", "监护人", "姓名不能为空", "政治面貌应为", "手机号"):
        assert msg in body, msg
    assert good not in body and "确认导入" not in body
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_import_preview_then_confirm(world, as_role):
    existing = factories.volunteer(world["org_b"], name="老队员")
    db.session.commit()
    from core import pii
    old_number = pii.decrypt(existing.id_number_enc)
    new_number = factories.id_number()
    minor = factories.id_number(date(local_today().year - 14, 2, 2))
    data = _xlsx([_row("新队员", new_number), _row("老队员", old_number),
                  _row("少年", minor, 监护人姓名="少父", 监护人电话="13900001111", 监护人已同意="是")])
    c = as_role("org_leader")
    resp = c.post("/volunteers/import", data={"organization_id": world["org_a"].id, "file": (io.BytesIO(data), "v.xlsx")},
                  content_type="multipart/form-data")
    body = _all_text(resp)
    assert resp.status_code == 200, body
    assert "确认导入 3 行" in body and "已在 霞山区" in body
    assert new_number not in body and old_number not in body
    token = body.split('name="token" value="')[1].split('"')[0]
    resp = c.post("/volunteers/import/confirm", data={"token": token, "org": world["org_a"].id})
    assert resp.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 3
    assert db.session.scalar(select(func.count()).select_from(Membership)
                             .where(Membership.organization_id == world["org_a"].id)) == 3
    # the token is single use
    assert c.post("/volunteers/import/confirm", data={"token": token, "org": world["org_a"].id}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 3


def test_import_of_another_org_is_refused(world, as_role):
    data = _xlsx([_row("某人", factories.id_number())])
    resp = as_role("org_leader").post("/volunteers/import", data={
        "organization_id": world["org_b"].id, "file": (io.BytesIO(data), "v.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_no_full_id_number_in_pages_or_log(world, as_role, caplog):
    number = factories.id_number()
    c = as_role("org_leader")
    resp = c.post("/volunteers/new", data={
        "organization_id": world["org_a"].id, "name": "隐私人", "id_number": number, "phone": "13812345678",
        "political_status": "masses", "registered_on": "2026-03-01", "region_id": "0"})
    assert resp.status_code == 303 and number not in resp.headers["Location"]
    v = db.session.scalar(select(Volunteer))
    new_number = factories.id_number()
    resp = c.post(f"/volunteers/{v.id}/edit", data={
        "name": "隐私人", "id_number": new_number, "phone": "", "political_status": "masses",
        "registered_on": "2026-03-01", "region_id": "0"})
    assert resp.status_code == 303
    db.session.refresh(v)
    assert v.phone == "13812345678"  # an empty phone field keeps the stored number
    for url in ("/volunteers/", f"/volunteers/{v.id}", f"/volunteers/{v.id}/edit", "/volunteers/?q=隐私",
                "/audit/", "/"):
        resp = c.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert number not in body and new_number not in body and "13812345678" not in body, url
    logged = " ".join(f"{e.entity_label} {e.summary} {e.changes}" for e in db.session.scalars(select(AuditEntry)))
    assert number not in logged and new_number not in logged and "13812345678" not in logged
    assert number not in caplog.text and new_number not in caplog.text
    resp = c.post(f"/volunteers/{v.id}/reveal/id_number")
    assert new_number in resp.get_data(as_text=True)  # only here, after 显示


def test_bad_id_on_the_form_is_not_echoed_in_full_for_valid_numbers(world, as_role):
    """A registration refused for another reason re-shows the form; the number typed may be re-shown
    to the person typing it, but never in a URL."""
    resp = as_role("org_leader").post("/volunteers/new?x=1", data={
        "organization_id": world["org_a"].id, "name": "", "id_number": factories.id_number(),
        "registered_on": "2026-03-01", "region_id": "0"})
    assert resp.status_code == 422 and "请填写姓名" in resp.get_data(as_text=True)


def test_import_reads_csv_too(world, as_role):
    number = factories.id_number()
    lines = [",".join(services.IMPORT_COLUMNS), ",".join(_row("表格人", number, 服务技能="扶老"))]
    data = ("\n".join(lines) + "\n").encode("gb18030")
    resp = as_role("org_leader").post("/volunteers/import", data={
        "organization_id": world["org_a"].id, "file": (io.BytesIO(data), "v.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 200 and "确认导入 1 行" in resp.get_data(as_text=True)


def test_import_of_a_wrong_file_says_so(world, as_role):
    resp = as_role("org_leader").post("/volunteers/import", data={
        "organization_id": world["org_a"].id, "file": (io.BytesIO(b"not a spreadsheet"), "v.xlsx")},
        content_type="multipart/form-data")
    assert resp.status_code == 422 and "无法读取" in resp.get_data(as_text=True)
