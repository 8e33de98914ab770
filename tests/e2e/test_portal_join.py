"""Browser, on a phone (390 × 844): a resident registers → the organization approves in its queue (HTMX)
→ the volunteer logs in with their volunteer number and sees 我的; another run activates an existing
member with the code from the organization's printed sheet. No page scrolls sideways."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.volunteers.models import Volunteer
from core.extensions import db
from tests import factories
from tests.conftest import browser_login, htmx_settled

pytestmark = pytest.mark.e2e
PASSWORD = "Join2026ok"


def _no_sideways_scroll(pg) -> None:
    assert pg.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), pg.url


def test_a_resident_registers_the_organization_approves_and_the_volunteer_sees_my_page(phone, page, world):
    number = factories.id_number()
    phone.goto("/join")
    _no_sideways_scroll(phone)
    phone.select_option("#organization_id", label=world["org_a"].name)
    phone.fill("#name", "林晓雨")
    phone.fill("#id_number", number)
    phone.fill("#phone", "13902581234")
    phone.check("input[name=skills][value='助学']")
    phone.check("input[name=availability][value='周末']")
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.click("button:has-text('提交注册申请')")
    phone.wait_for_url(re.compile(r".*/join/done$"))
    _no_sideways_scroll(phone)

    browser_login(page, "org_leader")
    page.goto("/join/applications")
    row = page.locator("#applications tbody tr", has_text="林晓雨")
    htmx_settled(page)
    row.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator("#applications tbody tr", has_text="林晓雨")).to_contain_text("已通过")
    db.session.commit()  # end the test's read snapshot: the live server committed the approval
    v = db.session.scalar(select(Volunteer).where(Volunteer.name == "林晓雨"))
    assert v is not None and v.number.startswith("440802")

    phone.goto("/login")
    phone.fill("#username", v.number)
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(re.compile(r".*/my/$"))
    expect(phone.locator("main h1")).to_have_text("林晓雨")
    assert "星级" in phone.locator("main").inner_text()
    _no_sideways_scroll(phone)
    assert phone.locator(".portal-tabs a").count() <= 5  # a phone's bottom bar: the daily pages only
    for link in ("服务记录与更正", "证书、培训与表彰", "我的资料与个人信息"):  # the others: links on 我的
        phone.goto("/my/")
        phone.locator("nav.me-links a", has_text=link).click()
        phone.wait_for_load_state()
        _no_sideways_scroll(phone)
    phone.set_viewport_size({"width": 360, "height": 740})  # the narrowest phones of the issue
    for url in ("/my/", "/my/records", "/my/requests", "/my/certificates", "/my/profile"):
        phone.goto(url)
        _no_sideways_scroll(phone)
        small = phone.evaluate("""() => [...document.querySelectorAll('main button, main [role=button], .portal-tabs a')]
            .filter(e => e.offsetParent && e.getBoundingClientRect().height < 44).map(e => e.textContent.trim())""")
        assert not small, f"touch targets under 44 px on {url}: {small}"


def test_an_existing_member_activates_the_account_with_the_printed_code(phone, page, world):
    number = factories.id_number()
    factories.volunteer(world["org_a"], "赵敏", number=number)
    db.session.commit()
    browser_login(page, "org_leader")
    page.goto(f"/join/codes?org={world['org_a'].id}")
    page.check("tr:has-text('赵敏') input[type=checkbox]")
    page.click("button:has-text('生成激活码')")
    code = page.locator(".activation-code").first.inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert page.locator(".code-card img").first.get_attribute("src").startswith("data:image/svg+xml")

    phone.goto(f"/activate?c={code.replace('-', '')}")  # what the QR code opens
    expect(phone.locator("#code")).to_have_value(code)
    phone.fill("#id_text", number[-4:])
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.click("button:has-text('激活并登录')")
    phone.wait_for_url(re.compile(r".*/my/$"))
    expect(phone.locator("main h1")).to_have_text("赵敏")
    _no_sideways_scroll(phone)
