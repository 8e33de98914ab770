"""Browser: an org leader files last month's report (autosaved draft that survives a reload, a need
row, a photo), submits it; district staff return it with a comment; the leader fixes and resubmits;
staff accept. Then a 催报 round reaches the organization that is late for an earlier month, and a
second tab editing the same draft gets a conflict message."""
from __future__ import annotations

import io
import re

import pytest

from blueprints.reports import services
from core.timeutil import local_today
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def logout(page):
    page.click("header >> text=退出")
    page.wait_for_url("**/login")


def _png(tmp_path):
    from PIL import Image

    path = tmp_path / "活动照片.png"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def test_file_return_resubmit_accept_and_chase(page, world, tmp_path):
    page.on("dialog", lambda d: d.accept())
    today = local_today()
    y, m = services.default_period(today)
    period = f"{y}-{m:02d}"

    # 1. The org leader starts last month's report.
    browser_login(page, "org_leader")
    page.goto("/reports/mine")
    page.click(f"form:has(input[name=period][value='{period}']) >> text=开始填报")
    page.wait_for_url(re.compile(r".*/reports/\d+/edit$"))
    edit_url = page.url

    # 2. Typing autosaves (debounced); a need row is added; everything survives a reload.
    page.fill("#f-summary", "本月开展海滨公园清洁活动两次。")
    page.wait_for_selector("#save-status:has-text('已自动保存')")
    page.click("#add-need")
    with page.expect_response(lambda r: "/autosave" in r.url):
        page.fill("tr.need-row >> nth=0 >> input[name=need_what]", "陪伴独居老人")
        page.fill("tr.need-row >> nth=0 >> input[name=need_place]", "幸福社区")
    page.wait_for_selector("#save-status:has-text('已自动保存')")
    page.reload()
    assert page.input_value("#f-summary") == "本月开展海滨公园清洁活动两次。"
    assert page.input_value("tr.need-row >> nth=0 >> input[name=need_what]") == "陪伴独居老人"

    # 3. A second tab on the same draft: the stale one gets a clear conflict message.
    other = page.context.new_page()
    other.goto(edit_url)
    other.fill("#f-highlights", "第二个窗口写的亮点")
    other.wait_for_selector("#save-status:has-text('已自动保存')")
    page.fill("#f-problems", "第一个窗口写的问题")
    page.wait_for_selector("#save-status:has-text('保存冲突')")
    assert page.input_value("#f-problems") == "第一个窗口写的问题"  # nothing lost in the page
    other.close()
    page.reload()

    # 4. A photo, then submit.
    page.select_option("select[name=kind]", "photo")
    page.set_input_files("#attach-file", str(_png(tmp_path)))
    page.click(".attach-form button[type=submit]")
    page.wait_for_selector(".report-attachments img.thumb")
    page.click("#submit-report")
    page.wait_for_selector(".flash-success:has-text('已提交')")
    detail_url = page.url
    assert "已提交" in page.inner_text("h1")
    logout(page)

    # 5. District staff return it with a comment.
    browser_login(page, "district_staff")
    page.goto(detail_url)
    page.click("#do-return")
    page.wait_for_selector("#transition-error:has-text('退回意见')")
    page.fill("#comment-return", "请补充活动的具体人数。")
    page.click("#do-return")
    page.wait_for_selector(".flash-success")
    assert "已退回" in page.inner_text("h1")
    logout(page)

    # 6. The leader sees the comment, fixes and resubmits.
    browser_login(page, "org_leader")
    page.goto(detail_url)
    page.click("text=修改并重新提交")
    page.wait_for_selector("text=请补充活动的具体人数。")
    page.fill("#f-summary", "本月开展海滨公园清洁活动两次，共 25 人参加。")
    page.click("#submit-report")
    page.wait_for_selector(".flash-success")
    assert "已重新提交" in page.inner_text("h1")
    logout(page)

    # 7. Staff accept; the timeline shows every step. Then 催报 for an earlier month.
    browser_login(page, "district_staff")
    page.goto(detail_url)
    page.click("#do-accept")
    page.wait_for_selector(".flash-success")
    assert "已通过" in page.inner_text("h1")
    steps = page.inner_text(".timeline")
    for label in ("提交", "退回", "重新提交", "审核通过"):
        assert label in steps
    assert "#review" not in page.content() or page.query_selector("#review") is None  # locked

    py, pm = services.shift_month(y, m, -1)  # its deadline has passed whatever today is
    page.goto(f"/reports/matrix?year={py}")
    page.select_option(".remind-card select[name=period]", f"{py}-{pm:02d}")
    page.click("#send-reminders")
    page.wait_for_selector(".flash-success:has-text('催报')")
    assert world["org_a"].name in page.inner_text("table")
    logout(page)

    browser_login(page, "org_leader")
    page.goto("/reports/notifications")
    assert "3 条未读" in page.inner_text("h1")  # returned, accepted, and the 催报
    notes = page.inner_text(".notifications")
    assert f"{py} 年 {pm} 月月报已逾期" in notes and "被退回" in notes and "审核通过" in notes
