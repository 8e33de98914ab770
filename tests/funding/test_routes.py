"""HTTP tests of the funding pages: ledger (HTMX filters, export), entry form, reversal, balances,
holder books, statement PDF, projects, payments, audits, settings, dashboard tile, org panel."""
from __future__ import annotations

import io
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from blueprints.funding.models import FundAudit, LedgerEntry, ProjectStatus, ServiceProject
from core.extensions import db
from core.timeutil import local_today
from tests.jobs import export_file
from tests import factories

TODAY = local_today()
LAST_YEAR = TODAY.year - 1


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


def _form(holder_key, **kw):
    data = {"holder": holder_key, "entry_date": TODAY.isoformat(), "kind": "income", "amount": "1234.56",
            "source": "社会捐赠", "purpose": "志愿服务活动", "project": "", "voucher_no": "记-001", "note": ""}
    data.update(kw)
    return data


@pytest.fixture
def books(world):
    a = factories.ledger_entry(world["org_a"], "1000.00", entry_date=date(LAST_YEAR, 3, 1), voucher_no="CK-1")
    b = factories.ledger_entry(world["org_b"], "777.00", entry_date=date(LAST_YEAR, 3, 1), voucher_no="XS-1")
    d = factories.ledger_entry(world["district_a"], "50000.00", entry_date=date(LAST_YEAR, 1, 10), voucher_no="CKQ-1")
    db.session.commit()
    return {"a": a, "b": b, "d": d}


def test_org_leader_records_income_and_expense_and_sees_the_balance(as_role, world):
    c = as_role("org_leader")
    key = f"org-{world['org_a'].id}"
    form_page = c.get(f"/funding/entries/new?holder={key}").get_data(as_text=True)
    assert "记一笔" in form_page and world["org_a"].name in form_page and world["org_b"].name not in form_page
    resp = c.post("/funding/entries/new", data=_form(key))
    assert resp.status_code == 303
    resp = c.post("/funding/entries/new", data=_form(key, kind="expense", amount="234.5", purpose="志愿者保险"))
    assert resp.status_code == 303
    html = c.get(f"/funding/?holder={key}").get_data(as_text=True)
    assert "¥1,234.56" in html and "¥234.50" in html and "¥1,000.06" in html
    html = c.get(f"/funding/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "¥1,000.06" in html and "社会捐赠" in html


@pytest.mark.parametrize("amount,message", [
    ("0", "金额必须大于 0"), ("-10", "金额必须大于 0"), ("12.345", "两位小数"), ("十块", "金额格式不正确"), ("", "请填写金额"),
    ("9" * 40, "金额过大"), ("1" * 30 + ".123", "金额过大"), ("1000000000000", "金额过大"),
])
def test_bad_amount_is_refused_with_the_form_kept(as_role, world, amount, message):
    c = as_role("org_leader")
    resp = c.post("/funding/entries/new", data=_form(f"org-{world['org_a'].id}", amount=amount, purpose="我输入的用途"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html and "我输入的用途" in html
    assert db.session.scalar(select(LedgerEntry.id)) is None


def test_bad_date_and_source_are_refused(as_role, world):
    c = as_role("org_leader")
    key = f"org-{world['org_a'].id}"
    resp = c.post("/funding/entries/new", data=_form(key, entry_date="2026-02-30"))
    assert resp.status_code == 422 and "日期格式" in resp.get_data(as_text=True)
    resp = c.post("/funding/entries/new", data=_form(key, entry_date=(TODAY + timedelta(days=3)).isoformat()))
    assert resp.status_code == 422 and "不能晚于今天" in resp.get_data(as_text=True)
    resp = c.post("/funding/entries/new", data=_form(key, source="天上掉的", kind="both"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请从列表中选择" in html and "Not a valid choice" not in html
    resp = c.post("/funding/entries/new", data=_form(f"org-{world['org_b'].id}"))
    assert resp.status_code == 422 and "请从列表中选择" in resp.get_data(as_text=True)
    assert db.session.scalar(select(LedgerEntry.id)) is None


def test_attachment_is_checked_and_served(as_role, world, client):
    c = as_role("org_leader")
    key = f"org-{world['org_a'].id}"
    resp = c.post("/funding/entries/new", data=dict(_form(key), attachment=(io.BytesIO(b"MZ not a pdf"), "x.pdf")),
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件类型不支持" in resp.get_data(as_text=True)
    resp = c.post("/funding/entries/new", data=dict(_form(key), attachment=(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "凭证.pdf")),
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    entry = db.session.scalar(select(LedgerEntry))
    assert entry.attachment and entry.attachment_name == "凭证.pdf"
    got = c.get(f"/funding/entries/{entry.id}/attachment")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    got.close()
    got = as_role("district_staff").get(f"/funding/entries/{entry.id}/attachment")
    assert got.status_code == 200
    got.close()
    assert as_role("district_staff_2").get(f"/funding/entries/{entry.id}/attachment").status_code == 404
    assert as_role("org_leader_2").get(f"/funding/entries/{entry.id}/attachment").status_code == 404


def test_ledger_filters_with_htmx_and_exports(as_role, world, books):
    c = as_role("city_admin")
    html = c.get("/funding/").get_data(as_text=True)
    assert "CK-1" in html and "XS-1" in html and 'hx-get="/funding/"' in html
    resp = c.htmx_get(f"/funding/?holder=region-{world['district_a'].id}")
    part = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in part and "HX-Request" in resp.headers["Vary"]
    assert "CKQ-1" in part and "CK-1</td>" not in part and "¥50,000.00" in part
    part = c.htmx_get(f"/funding/?q=XS&year={LAST_YEAR}").get_data(as_text=True)
    assert "XS-1" in part and "CKQ-1" not in part
    part = c.htmx_get(f"/funding/?year={LAST_YEAR}&month=1").get_data(as_text=True)
    assert "CKQ-1" in part and "CK-1</td>" not in part
    part = c.htmx_get("/funding/?month=3&kind=income").get_data(as_text=True)
    assert "CK-1</td>" in part and "XS-1" in part and "CKQ-1" not in part
    part = c.htmx_get("/funding/?kind=expense").get_data(as_text=True)
    assert "没有符合条件的记录" in part
    xlsx = export_file(c, f"/funding/export.xlsx?holder=org-{world['org_a'].id}")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "日期" and len(rows) == 2 and rows[1][7] == "CK-1"
    assert Decimal(str(rows[1][3])) == Decimal("1000")


def test_pagination(as_role, world):
    for i in range(35):
        factories.ledger_entry(world["org_a"], f"{i + 1}.00", entry_date=date(LAST_YEAR, 1, 1), voucher_no=f"V{i:03d}")
    db.session.commit()
    c = as_role("org_leader")
    html = c.get("/funding/").get_data(as_text=True)
    assert "共 35 条" in html and "第 1/2 页" in html
    assert "第 2/2 页" in c.get("/funding/?page=2").get_data(as_text=True)


def test_locked_entry_cannot_be_edited_or_deleted_but_can_be_reversed(as_role, world, books):
    e = books["a"]
    factories.fund_audit(world["org_a"], date(LAST_YEAR, 1, 1), date(LAST_YEAR, 12, 31), date(TODAY.year, 1, 1)
                         if TODAY > date(TODAY.year, 1, 1) else TODAY)
    db.session.commit()
    c = as_role("org_leader")
    html = c.get(f"/funding/entries/{e.id}").get_data(as_text=True)
    assert "账目已锁定" in html and "冲销更正" in html and f"/funding/entries/{e.id}/edit" not in html
    resp = c.get(f"/funding/entries/{e.id}/edit")
    assert resp.status_code == 303
    follow = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已锁定" in follow
    resp = c.post(f"/funding/entries/{e.id}/edit", data=_form(f"org-{world['org_a'].id}", amount="1.00",
                                                              entry_date=f"{LAST_YEAR}-03-01"))
    assert resp.status_code == 303
    resp = c.post(f"/funding/entries/{e.id}/delete")
    assert resp.status_code == 303
    db.session.refresh(e)
    assert e.amount == Decimal("1000.00")
    # Reverse without a reason: refused; with one: a new linked entry, and on to re-entering.
    resp = c.post(f"/funding/entries/{e.id}/reverse", data={"reason": ""})
    assert resp.status_code == 422 and "请填写冲销原因" in resp.get_data(as_text=True)
    resp = c.post(f"/funding/entries/{e.id}/reverse", data={"reason": "金额录入错误", "reenter": "1"})
    assert resp.status_code == 303 and f"copy={e.id}" in resp.headers["Location"]
    prefilled = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'value="1000.00"' in prefilled
    rev = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == e.id))
    assert rev.amount == Decimal("-1000.00") and rev.reason == "金额录入错误"
    html = c.get(f"/funding/entries/{rev.id}").get_data(as_text=True)
    assert "金额录入错误" in html and "冲销的原记录" in html


def test_unlocked_entry_can_be_edited_and_deleted(as_role, world, books):
    e = books["a"]
    c = as_role("org_leader")
    assert c.get(f"/funding/entries/{e.id}/edit").status_code == 200
    resp = c.post(f"/funding/entries/{e.id}/edit", data=_form("", amount="999.99", entry_date=f"{LAST_YEAR}-03-02"))
    assert resp.status_code == 303
    db.session.refresh(e)
    assert e.amount == Decimal("999.99") and e.entry_date == date(LAST_YEAR, 3, 2)
    resp = c.post(f"/funding/entries/{e.id}/edit", data=_form("", amount="abc"))
    assert resp.status_code == 422
    entry_id = e.id
    assert c.post(f"/funding/entries/{entry_id}/delete").status_code == 303
    assert db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.id == entry_id)) is None


def test_leader_reads_but_cannot_write(as_role, world, books):
    c = as_role("leader")
    assert c.get("/funding/").status_code == 200
    assert c.get(f"/funding/entries/{books['a'].id}").status_code == 200
    assert c.get("/funding/entries/new").status_code == 403
    assert c.post(f"/funding/entries/{books['a'].id}/delete").status_code == 403
    assert c.post(f"/funding/entries/{books['a'].id}/reverse", data={"reason": "x"}).status_code == 403
    assert c.get("/funding/projects/new").status_code == 403
    assert c.get("/funding/audits/new").status_code == 403


def test_reviewer_has_no_funding_pages(as_role, books):
    c = as_role("reviewer")
    for url in ("/funding/", "/funding/balances", "/funding/projects/", "/funding/audits/", "/funding/export.xlsx"):
        assert c.get(url).status_code == 403


def test_balances_page(as_role, world, books):
    factories.ledger_entry(world["org_a"], "0.10", kind="expense", entry_date=date(LAST_YEAR, 3, 9), source="自筹")
    db.session.commit()
    html = as_role("district_staff").get(f"/funding/balances?year={LAST_YEAR}").get_data(as_text=True)
    assert world["org_a"].name in html and "赤坎区" in html and "¥50,999.90" in html
    assert world["org_b"].name not in html and "¥777.00" not in html
    # Per source and per month over the whole scope.
    assert "¥51,000.00" in html and "-¥0.10" in html
    assert "¥1,000.00" in html  # March income of org_a


def test_statement_pdf_contains_the_figures(as_role, world):
    org = world["org_a"]
    factories.ledger_entry(org, "2000.00", entry_date=date(LAST_YEAR, 1, 5), source="财政拨款")
    factories.ledger_entry(org, "1234.56", entry_date=date(LAST_YEAR, 2, 5), source="社会捐赠")
    factories.ledger_entry(org, "800.00", kind="expense", entry_date=date(LAST_YEAR, 3, 5), purpose="志愿者培训")
    factories.fund_audit(org, date(LAST_YEAR, 1, 1), date(LAST_YEAR, 6, 30), date(LAST_YEAR, 7, 15),
                         auditor="湛江市审计局", findings="部分支出凭证不全")
    db.session.commit()
    resp = as_role("org_leader").get(f"/funding/orgs/{org.id}/statement.pdf?year={LAST_YEAR}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=resp.data, capture_output=True, check=True).stdout.decode()
    for needle in ("经费收支公开报告", "¥3,234.56", "¥2,000.00", "¥1,234.56", "志愿者培训", "¥800.00", "¥2,434.56",
                   "湛江市审计局", "部分支出凭证不全", "社会捐赠"):
        assert needle in text, needle


def test_project_flow_over_http(as_role, world):
    c = as_role("district_staff")
    data = {"title": "赤坎区关爱留守儿童服务项目", "buyer_region_id": world["district_a"].id, "buyer_name": "",
            "provider_org_id": world["org_a"].id, "amount": "30000", "start_date": f"{TODAY.year}-01-01",
            "end_date": f"{TODAY.year}-12-31", "description": ""}
    resp = c.post("/funding/projects/new", data=dict(data, buyer_region_id="abc", provider_org_id=world["org_b"].id))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请选择购买方" in html and "请从列表中选择" in html and "choice" not in html.lower()
    resp = c.post("/funding/projects/new", data=dict(data, amount="3万"))
    assert resp.status_code == 422 and "金额格式不正确" in resp.get_data(as_text=True)
    resp = c.post("/funding/projects/new", data=dict(data, end_date=f"{TODAY.year - 1}-01-01"))
    assert resp.status_code == 422 and "结束日期不能早于开始日期" in resp.get_data(as_text=True)
    resp = c.post("/funding/projects/new", data=data)
    assert resp.status_code == 303
    p = db.session.scalar(select(ServiceProject))
    url = f"/funding/projects/{p.id}"
    # Illegal move: close from 立项.
    resp = c.post(f"{url}/transition", data={"action": "close", "comment": ""})
    assert resp.status_code == 422 and "不能执行" in resp.get_data(as_text=True)
    for action in ("tender", "award"):
        assert c.post(f"{url}/transition", data={"action": action, "comment": "按期"}).status_code == 303
    db.session.refresh(p)
    assert p.status is ProjectStatus.IN_PROGRESS
    resp = c.post(f"{url}/pay", data={"paid_on": TODAY.isoformat(), "amount": "30000.01", "voucher_no": "", "over_reason": ""})
    assert resp.status_code == 422 and "超付原因" in resp.get_data(as_text=True)
    assert "累计付款 ¥30,000.01 将超过项目金额 ¥30,000.00" in resp.get_data(as_text=True)  # money as ¥1,234.56
    resp = c.post(f"{url}/pay", data={"paid_on": TODAY.isoformat(), "amount": "12000", "voucher_no": "GM-1", "over_reason": ""})
    assert resp.status_code == 303
    html = c.get(url).get_data(as_text=True)
    assert "¥12,000.00" in html and "发布招标" in html and "按期" in html
    org_html = as_role("org_leader").get(f"/funding/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "¥12,000.00" in org_html and "政府购买服务" in org_html and "赤坎区关爱留守儿童服务项目" in org_html
    district_html = c.get(f"/funding/regions/{world['district_a'].id}").get_data(as_text=True)
    assert "赤坎区关爱留守儿童服务项目" in district_html and "-¥12,000.00" in district_html
    # The provider's leader reads the project but cannot move or pay it.
    ol = as_role("org_leader")
    assert ol.get(url).status_code == 200
    assert ol.post(f"{url}/transition", data={"action": "submit"}).status_code == 403
    assert ol.get(f"{url}/pay").status_code == 403
    assert c.get(f"{url}/edit").status_code == 200
    resp = c.post(f"{url}/edit", data=dict(data, amount="1000"))
    assert resp.status_code == 422 and "不能低于已付款" in resp.get_data(as_text=True)
    # A wrong payment is reversed from the project page, with a reason.
    payment = p.payments[0]
    assert ol.post(f"/funding/payments/{payment.id}/reverse", data={"reason": "x"}).status_code == 403
    resp = c.post(f"/funding/payments/{payment.id}/reverse", data={"reason": ""})
    assert resp.status_code == 303 and not db.session.get(type(payment), payment.id).is_reversed
    resp = c.post(f"/funding/payments/{payment.id}/reverse", data={"reason": "付款金额录错"})
    assert resp.status_code == 303
    html = c.get(url).get_data(as_text=True)
    assert "已冲销" in html and "付款金额录错" in html
    assert "¥0.00" in as_role("org_leader").get(f"/funding/orgs/{world['org_a'].id}").get_data(as_text=True)


def test_project_list_filters(as_role, world):
    factories.service_project(world["district_a"], world["org_a"], title="项目甲", status="closed")
    factories.service_project(world["district_a"], world["org_a"], title="项目乙", status="tendering")
    db.session.commit()
    c = as_role("district_staff")
    html = c.get("/funding/projects/").get_data(as_text=True)
    assert "项目甲" in html and "项目乙" in html
    part = c.htmx_get("/funding/projects/?status=closed").get_data(as_text=True)
    assert "项目甲" in part and "项目乙" not in part and "<html" not in part


def test_audit_flow_over_http(as_role, world, books):
    c = as_role("district_staff")
    key = f"org-{world['org_a'].id}"
    data = {"holder": key, "audit_date": f"{TODAY.year}-01-01" if TODAY.month > 1 or TODAY.day > 1 else TODAY.isoformat(),
            "auditor": "湛江市审计局", "period_start": f"{LAST_YEAR}-01-01", "period_end": f"{LAST_YEAR}-12-31",
            "findings": "个别支出缺少签收单", "items": "补齐签收单\n建立经费台账月度核对制度"}
    resp = c.post("/funding/audits/new", data=dict(data, period_end=f"{LAST_YEAR - 1}-01-01"))
    assert resp.status_code == 422 and "不能早于开始日期" in resp.get_data(as_text=True)
    resp = c.post("/funding/audits/new", data=dict(data, report=(io.BytesIO(PNG), "报告.png")),
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    audit = db.session.scalar(select(FundAudit))
    assert len(audit.items) == 2 and audit.report
    html = c.get(f"/funding/audits/{audit.id}").get_data(as_text=True)
    assert "补齐签收单" in html and "账目已锁定" in html
    got = c.get(f"/funding/audits/{audit.id}/report")
    assert got.status_code == 200 and got.data == PNG
    got.close()
    # The report can be replaced later; a file of the wrong type is refused.
    resp = c.post(f"/funding/audits/{audit.id}/report", data={"report": (io.BytesIO(b"junk"), "r.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件类型不支持" in resp.get_data(as_text=True)
    resp = c.post(f"/funding/audits/{audit.id}/report", data={"report": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "审计报告.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    db.session.refresh(audit)
    assert audit.report_name == "审计报告.pdf" and audit.report.endswith(".pdf")
    assert as_role("org_leader").post(f"/funding/audits/{audit.id}/report", data={}).status_code == 403
    # The audited org's leader reports progress on an item.
    ol = as_role("org_leader")
    item = audit.items[0]
    resp = ol.post(f"/funding/audits/items/{item.id}", data={"status": "done", "result": "已补齐"})
    assert resp.status_code == 303
    db.session.refresh(item)
    assert item.status.value == "done" and item.result == "已补齐"
    resp = c.post(f"/funding/audits/{audit.id}/items", data={"description": "", "due_date": ""})
    assert resp.status_code == 422
    assert c.post(f"/funding/audits/{audit.id}/items", data={"description": "新增事项", "due_date": ""}).status_code == 303
    assert ol.post(f"/funding/audits/{audit.id}/items", data={"description": "x"}).status_code == 403
    # The entry in the period is now locked.
    resp = c.post(f"/funding/entries/{books['a'].id}/delete")
    assert resp.status_code == 303 and db.session.get(LedgerEntry, books["a"].id) is not None


def test_sources_setting(as_role):
    c = as_role("city_admin")
    assert "志愿服务基金" in c.get("/funding/settings").get_data(as_text=True)
    assert c.post("/funding/settings", data={"sources": "  \n "}).status_code == 422
    assert c.post("/funding/settings", data={"sources": "财政拨款\n福彩公益金\n财政拨款"}).status_code == 303
    html = c.get("/funding/entries/new").get_data(as_text=True)
    assert "福彩公益金" in html and "志愿服务基金" not in html
    assert as_role("district_staff").get("/funding/settings").status_code == 403


def test_dashboard_tile_shows_this_years_figures_in_scope(app, world):
    from blueprints.funding.routes import funding_tile

    factories.ledger_entry(world["org_a"], "1500.00")
    factories.ledger_entry(world["org_a"], "500.25", kind="expense")
    factories.ledger_entry(world["org_b"], "9999.00")
    factories.ledger_entry(world["org_a"], "7777.00", entry_date=date(LAST_YEAR, 5, 1))
    db.session.commit()
    from core.figures import figure

    with app.test_request_context("/"):
        assert funding_tile(world["district_staff"]).title == "经费"  # each figure names its year itself
        ds = {k: figure(f"funding.{k}", world["district_staff"]) for k in ("year_income", "year_expense", "year_net", "balance")}
        assert [ds[k].text for k in ("year_income", "year_expense", "year_net")] == ["¥1,500.00", "¥500.25", "¥999.75"]
        assert ds["year_net"].label == f"{TODAY.year} 年收支差额" and ds["balance"].label == "当前余额"
        assert ds["balance"].value == Decimal("8776.75")  # last year's 7,777.00 carried over
        assert figure("funding.year_net", world["city_admin"]).value == Decimal("10998.75")
        assert funding_tile(world["reviewer"]) is None


def test_org_page_has_a_funding_panel(as_role, world, app):
    if "orgs.detail" not in app.view_functions:
        pytest.skip("organization page not present")
    factories.ledger_entry(world["org_a"], "321.00")
    db.session.commit()
    html = as_role("district_staff").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "经费收支" in html and "¥321.00" in html


def test_ledger_filter_offers_organizations_that_keep_entries_and_one_chosen_by_link(world, as_role):
    from tests import factories as fx
    fx.ledger_entry(world["org_a"])
    db.session.commit()
    admin = as_role("city_admin")
    page = admin.get("/funding/").get_data(as_text=True)
    assert f'value="org-{world["org_a"].id}"' in page and f'value="org-{world["org_b"].id}"' not in page
    page = admin.get(f"/funding/?holder=org-{world['org_b'].id}").get_data(as_text=True)
    assert f'value="org-{world["org_b"].id}" selected' in page
