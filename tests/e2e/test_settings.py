"""Browser: the city admin opens the one policy settings page, is told next to the field that star
thresholds must increase, saves a county target, and sees the coverage board measure the 县 by it."""
from __future__ import annotations

import re

import pytest

from core import settings
from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_city_admin_edits_policy_numbers_and_the_board_follows(page, world):
    county = factories.region(world["city"], "遂溪县", "440823")
    town = factories.region(county, "遂城镇", "440823100")
    for i, name in enumerate(("城东社区", "城西社区", "城南社区", "城北社区")):
        c = factories.region(town, name, f"4408231000{i + 1:02d}")
        factories.station_assessment(factories.station(c, name=f"{name}志愿服务站"), met=True)
    db.session.commit()

    browser_login(page, "city_admin")
    page.click("nav >> text=政策参数设置")
    page.wait_for_url(re.compile(r".*/settings/policy$"))
    assert "凡每年在本社区服务时长达48小时以上" in page.content()  # the seed sentence next to the number

    # 二星 not above 一星: refused next to the field, what was typed stays, nothing is saved.
    page.fill("#volunteers__star_hours__1", "100")
    page.fill("#volunteers__core_hours", "50")
    page.click("button:has-text('保存')")
    assert "二星应大于一星" in page.locator("#volunteers__star_hours__1-err").inner_text()
    assert page.input_value("#volunteers__core_hours") == "50"
    assert settings.get_value("volunteers.core_hours") is None

    page.fill("#volunteers__star_hours__1", "300")
    page.fill("#stations__county_min", "4")
    page.click("button:has-text('保存')")
    page.wait_for_url(re.compile(r".*/settings/policy$"))
    assert "已保存 2 项政策参数" in page.locator(".flash-success").inner_text()
    assert page.input_value("#stations__county_min") == "4"

    page.goto("/stations/coverage")
    row = page.locator("tr", has_text="遂溪县")
    assert "标准化站点（县：不少于 4 个）" in row.inner_text()
    assert "tone-green" in row.locator("td[data-kind=county]").get_attribute("class")
    assert "公共场所站点（区：5–8 个）" in page.locator("tr", has_text="赤坎区").inner_text()


def test_the_rewards_rate_is_edited_on_the_policy_page(page, world):
    """The old 回馈 settings page sends the city admin to the one policy page, where the rate is refused next to
    its field when it has two decimals, then saved, and the 嘉许回馈 page states the new rate."""
    browser_login(page, "city_admin")
    page.goto("/rewards/settings")
    page.wait_for_url(re.compile(r".*/settings/policy#policy-rewards__points_per_hour$"))
    assert "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务" in page.content()
    page.fill("#rewards__points_per_hour", "1.25")
    page.click("button:has-text('保存')")
    assert "最多 1 位小数" in page.locator("#rewards__points_per_hour-err").inner_text()
    assert page.input_value("#rewards__points_per_hour") == "1.25"
    page.fill("#rewards__points_per_hour", "2")
    page.fill("#activities__checkin_margin", "45")
    page.click("button:has-text('保存')")
    # the redirect keeps the fragment of the page it came from
    assert "已保存 2 项政策参数" in page.locator(".flash-success").inner_text()
    page.goto("/rewards/")
    assert "每 1 小时已审核服务时长 = 2 积分" in page.content()
