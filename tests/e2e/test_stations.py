"""Browser: district staff register a station, record a 五有 assessment with a photo, and see it
on the coverage board, drilling down to the community that still has none."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from blueprints.stations.models import Station
from core.extensions import db
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (190, 20, 40)).save(buf, "PNG")
    return buf.getvalue()


def test_register_station_assess_and_see_it_on_the_board(page, world):
    browser_login(page, "district_staff")
    page.click("nav >> text=志愿服务站")
    page.click("text=新增站点")

    # A first try without a name is refused next to the field, what was typed is kept.
    page.fill("#address", "赤坎区中华街道和平路 8 号")
    page.click("button:has-text('保存')")
    assert "请填写站点名称" in page.locator("#name-err").inner_text()
    assert page.input_value("#address") == "赤坎区中华街道和平路 8 号"

    page.fill("#name", "和平社区志愿服务站")
    page.select_option("#region_id", label="中华街道 / 和平社区")
    # the managing organizations of the chosen district arrive by HTMX
    page.wait_for_selector("#organization_id option:has-text('赤坎区幸福社区志愿服务队')", state="attached")
    page.select_option("#organization_id", label="赤坎区幸福社区志愿服务队")
    page.fill("#opening_hours", "周一至周五 08:30–11:30、15:00–18:00")
    page.fill("#contact_name", "陈芳")
    page.fill("#contact_phone", "13800138001")
    page.click("button:has-text('保存')")
    page.wait_for_url(re.compile(r".*/stations/\d+$"))
    assert "已新增站点" in page.locator(".flash-success").inner_text()
    assert "138****8001" in page.content() and "13800138001" not in page.content()
    assert "未评估" in page.locator("h1").inner_text()

    page.click("text=五有评估")
    page.fill("#assessed_on", "2026-05-01")
    for key in ("place", "sign", "team", "rules", "ledger"):
        page.check(f"#{key}_ok-0")
    page.fill("#place_note", "依托社区党群服务中心设立服务台")
    page.set_input_files("#place_photo", files=[{"name": "服务台.png", "mimeType": "image/png", "buffer": _png()}])
    page.click("button:has-text('保存评估')")
    page.wait_for_url(re.compile(r".*/stations/\d+$"))
    assert "五有达标" in page.locator("h1").inner_text()
    assert "评估人 测试用户" in page.content()  # the form suggested the signed-in user
    img = page.locator("img.thumb")
    assert img.count() == 1
    assert page.evaluate("el => el.naturalWidth", img.element_handle()) == 40  # the photo really loads

    page.click("nav >> text=站点覆盖看板")
    row = page.locator("table.board tbody tr", has_text="赤坎区")
    assert "1/2" in row.inner_text()  # one of the two communities has a station
    assert "1/1" in row.inner_text()  # and it meets 五有
    row.locator("text=无站点社区").click()
    page.wait_for_selector("#drill h2")
    assert "幸福社区" in page.locator("#drill").inner_text()
    assert "和平社区" not in page.locator("#drill").inner_text()
    assert db.session.query(Station).filter_by(name="和平社区志愿服务站").one().latest.all_met
