"""Browser: record income and expense and see the balance, filter the ledger with HTMX, create a
purchased-service project, move it on, pay it and see the provider's balance change, download the
yearly public statement."""
from __future__ import annotations

import re
import subprocess

import pytest

from core.timeutil import local_today
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_ledger_project_payment_and_statement(page, world):
    org = world["org_a"]
    key = f"org-{org.id}"
    today = local_today().isoformat()
    browser_login(page, "district_staff")
    page.click("nav >> text=经费保障")
    page.wait_for_url(re.compile(r".*/funding/$"))

    # Record an income and an expense.
    for kind, amount, source, purpose in (("income", "1234.56", "社会捐赠", "爱心企业捐赠"),
                                          ("expense", "234.5", "社会捐赠", "志愿者保险")):
        page.click("text=记一笔")
        page.select_option("#holder", key)
        page.fill("#entry_date", today)
        page.check(f"input[name=kind][value={kind}]")
        page.fill("#amount", amount)
        page.select_option("#source", source)
        page.fill("#purpose", purpose)
        page.click("button:has-text('保存')")
        page.wait_for_selector(".flash-success")
    # A bad amount is refused next to the field, with what was typed kept.
    page.click("text=记一笔")
    page.fill("#amount", "12.345")
    page.fill("#purpose", "我输入的用途")
    page.click("button:has-text('保存')")
    assert "两位小数" in " ".join(page.locator(".field-error").all_inner_texts())
    assert page.input_value("#purpose") == "我输入的用途"

    # The ledger filtered by holder (HTMX) shows both lines and the balance.
    page.click("text=经费台账")
    page.select_option("select[name=holder]", key)
    page.wait_for_url(re.compile(rf".*holder={key}.*"))
    totals = page.locator("#funding-totals")
    totals.locator("text=¥1,000.06").wait_for()
    assert "¥1,234.56" in totals.inner_text() and "¥234.50" in totals.inner_text()

    # A purchased-service project: 立项 → 招标 → 实施, then a payment.
    page.click("text=政府购买服务")
    page.click("a:has-text('立项')")
    page.fill("#title", "赤坎区敬老助餐志愿服务项目")
    page.select_option("#buyer_region_id", str(world["district_a"].id))
    page.select_option("#provider_org_id", str(org.id))
    page.fill("#amount", "20000")
    page.fill("#start_date", f"{local_today().year}-01-01")
    page.fill("#end_date", f"{local_today().year}-12-31")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已立项")
    page.click("button:has-text('发布招标')")
    page.wait_for_selector(".flash-success")
    page.click("button:has-text('确定承接组织')")
    page.wait_for_selector("text=项目状态：实施")
    page.click("text=登记付款")
    page.fill("#amount", "25000")
    page.click("button:has-text('保存付款')")
    assert "超付原因" in page.locator(".field-error").inner_text()
    page.fill("#amount", "8000")
    page.fill("#voucher_no", "GM-2026-01")
    page.click("button:has-text('保存付款')")
    page.wait_for_selector("text=已登记付款")
    assert page.locator("#project-paid").inner_text() == "¥8,000.00"
    assert "发布招标" in page.locator(".timeline").inner_text()

    # The provider's balance went up by the payment.
    page.click(f"a:has-text('{org.name}')")
    page.wait_for_url(re.compile(rf".*/funding/orgs/{org.id}.*"))
    assert "¥9,000.06" in page.locator("h2").first.inner_text()

    # The yearly public statement.
    with page.expect_download() as dl:
        page.click("text=公开报告（PDF）")
    path = dl.value.path()
    with open(path, "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, check=True).stdout.decode()
    assert "¥9,234.56" in text and "政府购买服务" in text and "赤坎区敬老助餐志愿服务项目" in text
