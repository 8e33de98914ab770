"""Issue 17 "Done when", in one browser run each. On a phone (390 × 844) a resident registers at /join → the
organization's leader (desktop, a second browser context) approves and the volunteer number is assigned → the
leader publishes a recruiting activity → the volunteer logs in by that number and signs up → checks in by
opening the URL of the organizer's QR code → checks out → the leader verifies the pending 签到 record in the
ledger's queue → the volunteer sees the hours and the star progress on 我的 → asks for a certificate, the
leader issues it, the volunteer downloads the PDF and /verify/<the PDF's code> confirms it. The second run
activates an existing member with a code from the printable sheet and logs in by phone."""
from __future__ import annotations

import re
import subprocess
from datetime import time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.activities import checkin
from blueprints.activities.models import Participant
from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord, Volunteer
from core.extensions import db
from core.timeutil import local_today, to_local, utcnow
from tests import factories
from tests.conftest import browser_login, htmx_settled

pytestmark = pytest.mark.e2e
PASSWORD = "Loop2026ok"


@pytest.fixture
def staff(browser, live_server):
    """The organization's leader at a desktop."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10000)
    pg.on("dialog", lambda d: d.accept())
    yield pg
    context.close()


def _fits(pg) -> None:
    assert pg.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), pg.url


def _checkin_path(staff, activity_id: int) -> str:
    """What the phone camera reads from the organizer's QR code: a URL of this platform."""
    staff.goto(f"/activities/{activity_id}/code")
    staff.wait_for_selector("#checkin-url")
    url = urlsplit(staff.get_attribute("#checkin-url", "href"))
    assert url.path == f"/c/{activity_id}" and url.query.startswith("c=")
    return f"{url.path}?{url.query}"


def test_the_whole_volunteer_loop_on_a_phone(phone, staff, world, tmp_path):
    org = world["org_a"]
    # 1. a resident registers
    number = factories.id_number()
    phone.goto("/join")
    _fits(phone)
    phone.select_option("#organization_id", label=org.name)
    phone.fill("#name", "周晓岚")
    phone.fill("#id_number", number)
    phone.fill("#phone", "13902587788")
    phone.check("input[name=skills][value='助学']")
    phone.check("input[name=availability][value='周末']")
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.click("button:has-text('提交注册申请')")
    phone.wait_for_url(re.compile(r".*/join/done$"))
    _fits(phone)

    # 2. the organization's leader approves: the volunteer number is assigned
    browser_login(staff, "org_leader")
    staff.goto("/join/applications")
    htmx_settled(staff)
    staff.locator("#applications tbody tr", has_text="周晓岚").get_by_role("button", name="通过", exact=True).click()
    expect(staff.locator("#applications tbody tr", has_text="周晓岚")).to_contain_text("已通过")
    db.session.commit()  # end the test's read snapshot: the live server committed the approval
    v = db.session.scalar(select(Volunteer).where(Volunteer.name == "周晓岚"))
    assert v is not None and re.fullmatch(r"440802\d+", v.number)
    vid, vnumber = v.id, v.number

    # 3. the leader publishes a recruiting activity (today, around now, so that its code is live)
    now = to_local(utcnow())
    start = time(max(0, now.hour - 1), 0)
    end = time(min(23, now.hour + 3), 0) if now.hour < 21 else time(23, 59)
    a = factories.activity(org, "文明交通劝导志愿服务", held_on=local_today(), start_time=start, end_time=end,
                           capacity=5, place="人民路口")
    db.session.commit()
    aid = a.id
    staff.goto(f"/activities/{aid}")
    staff.click(f"a[href='/activities/{aid}/recruit']")
    staff.check("#auto_accept")
    staff.click("main form button[type=submit]")
    staff.wait_for_url(re.compile(rf".*/activities/{aid}$"))
    assert "招募中" in staff.inner_text("main")

    # 4. the volunteer logs in by volunteer number, finds the activity and signs up
    phone.goto("/login")
    phone.fill("#username", vnumber)
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(re.compile(r".*/my/$"))
    expect(phone.locator("main h1")).to_have_text("周晓岚")
    expect(phone).to_have_title(re.compile(r"^我的"))
    assert phone.inner_text("#me-total") == "0.0"
    phone.click("nav.portal-tabs >> text=招募")
    _fits(phone)
    phone.click("text=文明交通劝导志愿服务")
    phone.click("button:has-text('报名')")
    expect(phone.locator("#signup-status")).to_have_text("已录用")
    _fits(phone)

    # 5. checks in by opening the QR code's URL, as the phone camera would
    phone.goto(_checkin_path(staff, aid))
    expect(phone.locator("#scan-submit")).to_have_text("签到")
    phone.click("#scan-submit")
    expect(phone.locator("main")).to_contain_text("签到成功")
    _fits(phone)
    staff.goto(f"/activities/{aid}")
    expect(staff.locator("#roster")).to_contain_text("周晓岚")

    # 6. two hours of service later (the test moves the check-in back rather than wait), checks out
    db.session.commit()
    p = db.session.scalar(select(Participant).where(Participant.activity_id == aid, Participant.volunteer_id == vid))
    assert p.checkin_at is not None and p.checkout_at is None
    p.checkin_at = utcnow() - timedelta(hours=2)
    p.checkin_window = checkin.window_of(p.checkin_at)
    db.session.commit()
    phone.goto(_checkin_path(staff, aid))
    expect(phone.locator("#scan-submit")).to_have_text("签退")
    phone.click("#scan-submit")
    expect(phone.locator("main")).to_contain_text("签退成功")
    db.session.commit()
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.activity_id == aid,
                                                           ServiceRecord.volunteer_id == vid))
    assert record.source == RecordSource.CHECKIN and record.status == RecordStatus.PENDING
    hours = record.hours
    assert Decimal("0.5") <= hours <= Decimal(2) and hours % Decimal("0.5") == 0
    phone.goto("/my/")
    assert phone.inner_text("#me-pending") == str(hours)
    assert phone.inner_text("#me-total") == "0.0"

    # 7. the leader sees the roster and verifies the record in the ledger's batch queue
    staff.goto(f"/activities/{aid}")
    expect(staff.locator("#roster")).to_contain_text("签到 · 待审核")
    staff.goto(f"/volunteers/records/?status=pending&org={org.id}")
    staff.check(f"input[name=ids][value='{record.id}']")
    staff.click("#verify-selected")
    expect(staff.locator("main")).to_contain_text("已审核通过 1 条记录")
    htmx_settled(staff)

    # 8. the volunteer sees the hours and the star progress on 我的
    phone.click("nav.portal-tabs >> text=我的")
    phone.wait_for_url(re.compile(r".*/my/$"))
    assert phone.inner_text("#me-total") == str(hours)
    assert phone.inner_text("#me-year") == str(hours)
    assert phone.inner_text("#me-pending") == "0.0"
    assert phone.inner_text("#me-star") == "未评星"
    assert f"再服务 {Decimal(100) - hours} 小时升至下一星级" in phone.inner_text("main")
    _fits(phone)
    phone.goto("/my/records")
    expect(phone.locator("main")).to_contain_text("已审核")

    # 9. asks the organization for a certificate; the leader issues it from the queue
    phone.goto("/my/certificates")
    expect(phone.locator("#my-certificates")).to_contain_text("还没有记录证明")
    phone.select_option("#organization_id", label=org.name)
    phone.click("button:has-text('提交申请')")
    phone.wait_for_url(re.compile(r".*/my/requests$"))
    expect(phone.locator("main")).to_contain_text(org.name)
    staff.goto("/join/applications")
    staff.locator("tr", has_text="周晓岚").get_by_role("link", name=re.compile("出具证明")).click()
    staff.fill("#person_in_charge", "王主任")
    staff.click("main form button[type=submit]")
    flash = staff.locator(".flash-success", has_text="已出具志愿服务记录证明")
    expect(flash).to_be_visible()
    serial = re.search(r"编号 (\S+?)。", flash.inner_text()).group(1)

    # 10. the volunteer downloads it; /verify with the code printed in the PDF confirms it
    phone.goto("/my/certificates")
    item = phone.locator("#my-certificates li", has_text=serial)
    expect(item).to_contain_text(f"{hours} 小时")
    href = item.get_by_role("button", name="下载 PDF").get_attribute("href")
    pdf = phone.request.get(href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    (tmp_path / "c.pdf").write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert serial in text and "周晓岚" in text
    code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b", text).group(0)
    phone.goto(f"/verify/{code}")
    ok = phone.locator(".flash-success")
    expect(ok).to_contain_text("该证明真实有效")
    expect(ok).to_contain_text(org.name)
    main = phone.inner_text("main")
    assert serial in main and f"{hours} 小时" in main
    _fits(phone)


def test_an_existing_member_activates_by_a_printed_code_and_logs_in_by_phone(phone, staff, world):
    number = factories.id_number()
    factories.volunteer(world["org_a"], "孙立群", number=number, phone="13800138123")
    db.session.commit()
    browser_login(staff, "org_leader")
    staff.goto(f"/join/codes?org={world['org_a'].id}")
    staff.check("tr:has-text('孙立群') input[type=checkbox]")
    staff.click("button:has-text('生成激活码')")
    card = staff.locator(".code-card", has_text="孙立群")
    code = card.locator(".activation-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    qr = card.locator("img").get_attribute("src")
    assert qr.startswith("data:image/svg+xml")
    assert staff.evaluate("() => [...document.querySelectorAll('.code-card')].every(c => c.scrollWidth <= c.clientWidth)"), \
        "the activation URL or code runs out of its printed card"

    phone.goto(f"/activate?c={code.replace('-', '')}")  # what the QR code opens
    expect(phone.locator("#code")).to_have_value(code)
    phone.fill("#id_text", number[-4:])
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.click("button:has-text('激活并登录')")
    phone.wait_for_url(re.compile(r".*/my/$"))
    expect(phone.locator("main h1")).to_have_text("孙立群")
    _fits(phone)

    # the code is single-use: a second activation is refused
    phone.context.clear_cookies()
    phone.goto(f"/activate?c={code.replace('-', '')}")
    phone.fill("#id_text", number[-4:])
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.click("button:has-text('激活并登录')")
    assert "/my/" not in phone.url
    expect(phone.locator("main")).to_contain_text("激活码")

    # the new account logs in by phone number and lands on 我的
    phone.goto("/login")
    phone.fill("#username", "13800138123")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(re.compile(r".*/my/$"))
    expect(phone.locator("main h1")).to_have_text("孙立群")
