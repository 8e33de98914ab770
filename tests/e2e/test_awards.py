"""Browser: an org leader nominates and submits, the district recommends, two reviewers score (HTMX),
the city admin closes scoring and publishes the 公示, the public sees it without login and raises an
objection, the admin resolves it, decides, and downloads the certificate."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blueprints.accounts.models import Role
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def logout(page):
    page.click("header >> text=退出")
    page.wait_for_url(re.compile(r".*/login.*"))


def test_nominate_recommend_score_publish_decide(page, world):
    confirms: list[str] = []  # irreversible steps ask first (issue 15); the test says yes
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    second = f.user(Role.REVIEWER, "reviewer_two", display_name="林慧")
    camp = f.award_campaign(panel=[world["reviewer"], second])
    today = local_today()
    # Everything happens today: window, district review, panel and a one-day 公示.
    camp.nomination_start = today - timedelta(days=5)
    camp.nomination_end = camp.district_deadline = camp.review_deadline = today
    camp.notice_start = camp.notice_end = today
    kind = f.award_kind(camp)
    kind.min_star = kind.min_years = 0
    v = f.activity_volunteer(world["org_a"], name="陈晓红")
    db.session.commit()

    # Org leader: nominate a volunteer of their organization and submit.
    browser_login(page, "org_leader")
    page.goto(f"/awards/{camp.id}")
    page.click("a:has-text('推荐申报')")
    page.select_option("#kind_id", str(kind.id))
    page.select_option("#volunteer_id", str(v.id))
    page.fill("#summary", "坚持社区助老服务八年，累计服务千余小时。")
    page.fill("#deeds", "x" * 2001)  # over the limit: refused next to the field, input kept
    page.click("button:has-text('保存草稿')")
    assert "事迹材料不超过 2000 字" in page.locator(".field-error").inner_text()
    assert page.input_value("#summary") == "坚持社区助老服务八年，累计服务千余小时。"
    page.fill("#deeds", "八年来组织助老服务数百场。")
    page.click("button:has-text('保存草稿')")
    page.wait_for_selector("#eligibility.flash-success")
    page.click("button:has-text('提交推荐')")
    page.wait_for_selector(".flash-success >> text=已提交推荐")
    assert "提交推荐" in page.locator(".timeline").inner_text()
    logout(page)

    # District staff (赤坎区): recommend.
    browser_login(page, "district_staff")
    page.goto(f"/awards/{camp.id}/nominations")
    page.select_option("select[name=status]", "submitted")  # HTMX filter
    page.wait_for_url(re.compile(r".*status=submitted.*"))
    page.click("#award-rows >> text=陈晓红")
    page.click("button:has-text('区级推荐')")
    page.wait_for_selector(".flash-success >> text=已区级推荐")
    logout(page)

    # City admin: start scoring.
    browser_login(page, "city_admin")
    page.goto(f"/awards/{camp.id}")
    page.click("button:has-text('开始评审打分')")
    page.wait_for_selector(".flash-success")
    logout(page)

    # Two reviewers score through the HTMX form; a bad value is refused in place.
    for username, points in (("reviewer", ("25", "35", "18", "9")), ("reviewer_two", ("27", "33", "16", "8"))):
        browser_login(page, username)
        page.goto(f"/awards/{camp.id}/review")
        page.click("text=陈晓红")
        page.fill("#p0", "31")
        page.fill("#p1", points[1])
        page.fill("#p2", points[2])
        page.fill("#p3", points[3])
        page.click("button:has-text('提交评分')")
        page.wait_for_selector("#p0-err >> text=应在 0–30 分之间")
        page.fill("#p0", points[0])
        page.click("button:has-text('提交评分')")
        page.wait_for_selector("#score-box .flash-success")
        logout(page)

    # City admin: progress, close scoring, publish.
    browser_login(page, "city_admin")
    page.goto(f"/awards/{camp.id}/progress")
    assert page.locator(".award-progress .badge-green").count() == 2
    page.goto(f"/awards/{camp.id}")
    page.click("button:has-text('结束评审并排名')")
    page.wait_for_selector(".flash-success")
    page.click("button:has-text('发布公示')")
    page.wait_for_selector(".flash-success")
    logout(page)

    # The public page, no login: the nominee is listed; an objection can be raised.
    page.goto(f"/awards/public/{camp.id}")
    assert "陈晓红" in page.locator("table").inner_text()
    assert "坚持社区助老服务八年" in page.content()
    page.fill("#name", "王先生")
    page.fill("#contact", "13900001111")
    page.fill("#content", "请核实服务时长。")
    page.click("button:has-text('提交异议')")
    page.wait_for_selector(".flash-success")

    # City admin resolves the objection, decides, downloads the certificate.
    browser_login(page, "city_admin")
    page.goto(f"/awards/{camp.id}/objections")
    page.fill("textarea[name=outcome]", "经核实，服务记录真实有效。")
    page.click("button:has-text('记录处理结果')")
    page.wait_for_selector(".flash-success")
    page.goto(f"/awards/{camp.id}")
    page.click("button:has-text('作出表彰决定')")
    page.wait_for_selector(".flash-success")
    assert any("表彰决定" in m and "不能撤回" in m for m in confirms), confirms
    with page.expect_download() as dl:
        page.click("text=下载荣誉证书（PDF）")
    assert dl.value.suggested_filename.endswith(".pdf")
