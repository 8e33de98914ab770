"""XLSX import: template, preview with row-level errors, nothing saved until every row is valid."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from blueprints.orgs.importing import IMPORT_COLUMNS
from blueprints.orgs.models import Organization, OrgStatus, RegistrationType
from core.extensions import db
from core.exports import xlsx_bytes
from tests import factories as F


def text(resp) -> str:
    return resp.get_data(as_text=True)


def upload(client, rows, name="orgs.xlsx"):
    data = xlsx_bytes("组织", IMPORT_COLUMNS, rows)
    return client.post("/orgs/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organization))


def row(name="赤坎区导入测试服务队", kind="社区志愿服务队", region="440802001001", reg="备案", code="", person="张三",
        phone="13800138000", address="幸福路 1 号", founded="2021-03-05", fields="扶老、助残", parent=""):
    return [name, kind, region, reg, code, person, phone, address, founded, fields, parent]


def test_template_downloads_and_imports_as_is(as_role, world):
    c = as_role("district_staff")
    r = c.get("/orgs/import/template")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    header = [cell.value for cell in next(load_workbook(io.BytesIO(r.data)).active.iter_rows())]
    assert header == IMPORT_COLUMNS
    r = c.post("/orgs/import", data={"file": (io.BytesIO(r.data), "模板.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 200 and "全部校验通过" in text(r), text(r)


def test_row_level_errors_and_nothing_saved(as_role, world):
    code = F.credit_code()
    F.org(world["community_b"], "霞山区已登记协会", registration_type=RegistrationType.REGISTERED, credit_code=code)
    before = count()
    rows = [
        row(),                                                                  # 2: fine
        row(name="坏代码服务队", reg="依法登记", code="91440800MA4UTEST1X"),       # 3: invalid credit code
        row(name="无区域服务队", region="火星区"),                                 # 4: unknown region
        row(name=world["org_a"].name),                                           # 5: same name, same district (db)
        row(),                                                                  # 6: same name as row 2
        row(name="重复代码协会", reg="依法登记", code=code),                        # 7: credit code taken
        row(name="越界服务队", region="440803001001"),                            # 8: 霞山区, outside scope
        row(name="坏类型服务队", kind="黑客组织", fields="炒股", phone="123", founded="明天"),  # 9: several
    ]
    r = upload(as_role("district_staff"), rows)
    body = text(r)
    assert r.status_code == 422
    assert "共 8 行，其中 7 行有错误" in body
    assert "统一社会信用代码无效" in body
    assert "找不到区域“火星区”" in body
    assert "本县(市、区)已有同名组织" in body
    assert "与第 2 行同名" in body
    assert f"统一社会信用代码 {code} 已被其他组织使用" in body
    assert "找不到区域“440803001001”" in body
    assert "类型“黑客组织”不在组织类型列表中" in body and "未知的服务领域：炒股" in body
    assert "成立日期格式" in body and "手机号" in body
    assert "确认导入" not in body
    assert count() == before


def test_valid_file_is_imported_after_confirmation(as_role, world):
    c = as_role("district_staff")
    code = F.credit_code()
    rows = [row(name="赤坎区导入总队", reg="依法登记", code=code.lower()),
            row(name="赤坎区导入大队", region="中华街道/和平社区", parent="赤坎区导入总队", phone="0759-3334444")]
    before = count()
    r = upload(c, rows)
    assert r.status_code == 200 and "全部校验通过" in text(r)
    assert count() == before  # nothing saved by the preview
    token = re.search(r'name="token" value="([^"]+)"', text(r)).group(1)
    r = c.post("/orgs/import/confirm", data={"token": token})
    assert r.status_code == 303
    assert count() == before + 2
    hq = db.session.scalar(select(Organization).where(Organization.name == "赤坎区导入总队"))
    child = db.session.scalar(select(Organization).where(Organization.name == "赤坎区导入大队"))
    assert hq.status == OrgStatus.APPROVED and hq.credit_code == code
    assert sorted(hq.service_fields) == sorted(["扶老", "助残"])
    assert child.parent_id == hq.id and child.region_id == world["community_a2"].id
    assert [s.action for s in hq.steps] == ["import"]
    # the token is used up
    assert c.post("/orgs/import/confirm", data={"token": token}).status_code == 303
    assert count() == before + 2


def test_confirm_rechecks_the_database(as_role, world):
    c = as_role("district_staff")
    r = upload(c, [row(name="赤坎区并发服务队")])
    token = re.search(r'name="token" value="([^"]+)"', text(r)).group(1)
    F.org(world["community_a"], "赤坎区并发服务队")  # someone registered it in between
    db.session.commit()
    before = count()
    r = c.post("/orgs/import/confirm", data={"token": token}, follow_redirects=True)
    assert "数据在预览后发生了变化" in text(r)
    assert count() == before


def test_other_users_token_is_useless(as_role, world):
    r = upload(as_role("district_staff"), [row()])
    token = re.search(r'name="token" value="([^"]+)"', text(r)).group(1)
    before = count()
    as_role("city_admin").post("/orgs/import/confirm", data={"token": token})
    assert count() == before


def test_unreadable_file_and_missing_columns(as_role, world):
    c = as_role("district_staff")
    r = c.post("/orgs/import", data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "无法读取" in text(r)
    data = xlsx_bytes("组织", ["名称"], [["甲"]])
    r = c.post("/orgs/import", data={"file": (io.BytesIO(data), "x.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422
    r = c.post("/orgs/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择要导入的文件" in text(r)
