"""Browser (issue 15, daily-use frictions): district staff registers a volunteer — the ID's sex,
birth date and age appear while typing, an organization must be chosen — then enters a service
record and the page says which organization verifies it; the assessment table shows value · points."""
from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal

import pytest

from blueprints.assessment import services as assessment
from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("E2E_SHOTS")  # a directory: save screenshots of the pages for a human look


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"frictions-{name}.png"), full_page=True, caret="initial",
                        animations="allow")


def test_register_with_live_id_preview_then_record_reaches_its_verifier(page, world):
    second = factories.org(world["community_a"], "赤坎区中华街道党员志愿服务队")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "district_staff")
    page.goto("/volunteers/new")
    # Required fields are marked before anything is submitted.
    assert page.locator("label[for=phone] .req").count() == 1
    assert page.locator("label[for=name] .req").count() == 1
    # No organization is chosen for the user.
    assert page.input_value("#organization_id") == ""
    assert page.locator("#organization_id option").first.inner_text() == "请选择…"

    number = factories.id_number(birth=date(1990, 5, 17), sex="女")
    page.fill("#name", "陈晓梅")
    page.locator("#id_number").press_sequentially(number[:10], delay=20)
    page.wait_for_selector("#id-preview >> text=已输入 10 位")
    page.locator("#id_number").press_sequentially(number[10:], delay=20)
    preview = page.wait_for_selector("#id-preview >> text=周岁")
    text = page.inner_text("#id-preview")
    age = date.today().year - 1990 - ((date.today().month, date.today().day) < (5, 17))
    assert "女" in text and "1990年5月17日" in text and f"{age} 周岁" in text and number not in text
    page.fill("#phone", "13800138123")
    _shot(page, "register-form")

    page.click("main button[type=submit]")  # no organization chosen: refused next to the field
    page.wait_for_selector("#organization_id-err")
    assert "请选择登记组织" in page.inner_text("#organization_id-err")
    assert page.input_value("#name") == "陈晓梅"
    page.select_option("#organization_id", str(world["org_a"].id))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/volunteers/\d+$"))
    assert "已注册志愿者 陈晓梅" in page.inner_text("main")
    vid = int(page.url.rsplit("/", 1)[1])
    assert second.id  # the other organization was offered, not chosen

    # A service record: the page says who verifies it next.
    page.goto(f"/volunteers/{vid}/records/new")
    page.fill("#service_date", date.today().isoformat())
    page.fill("#hours", "2.5")
    page.fill("#content", "社区环境清洁")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf".*/volunteers/{vid}(#records)?$"))
    org_name = world["org_a"].name
    assert f"待{org_name}审核" in page.inner_text(".flash-success")
    assert f"待{org_name}审核" in page.inner_text("#records")
    _shot(page, "volunteer-pending-record")


def test_assessment_table_shows_value_and_points_together(page, world):
    y = date.today().year
    assessment.ensure_year(y)
    survey = next(i for i in assessment.indicators(y) if i.code == "survey")
    assessment.save_value(world["city_admin"], survey, world["district_a"], entered=Decimal("95"), adjusted=None,
                          reason="")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "city_admin")
    page.goto(f"/assessment/?year={y}")
    row = page.locator("table.assessment-table tbody tr", has_text=world["district_a"].name)
    cells = row.locator("td.num")
    assert re.search(r"95%\s·\s[\d.]+ 分", row.inner_text())
    assert cells.count() >= 9
    assert page.eval_on_selector("table.assessment-table thead th", "e => getComputedStyle(e).wordBreak") == "keep-all"
    _shot(page, "assessment-table")


def test_a_long_organization_list_filters_as_one_types(page, world):
    for i in range(301):
        factories.org(world["community_a"], f"赤坎区第{i:03d}志愿服务队")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "district_staff")
    page.goto("/volunteers/new")
    assert page.input_value("#organization_id") == ""
    total = page.locator("#organization_id option").count()
    assert total == 303  # 请选择… + 302 organizations
    page.fill("input[data-filter-select=organization_id]", "第12")
    page.wait_for_function("document.querySelectorAll('#organization_id option').length < 20")
    names = page.locator("#organization_id option").all_inner_texts()
    assert names[0] == "请选择…" and all("第12" in n for n in names[1:]) and len(names) == 11
    assert "找到 10 个" in page.inner_text("#organization_id-count")
    page.select_option("#organization_id", label="赤坎区第123志愿服务队")
    page.fill("input[data-filter-select=organization_id]", "")
    page.wait_for_function("document.querySelectorAll('#organization_id option').length > 300")
    assert page.locator("#organization_id option:checked").inner_text() == "赤坎区第123志愿服务队"
    _shot(page, "long-picker")
