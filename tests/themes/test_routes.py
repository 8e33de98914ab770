"""HTTP behaviour of /themes for every role: plans, inline rows, copy, import/export, PDF,
calendar, board, the activity panel and the dashboard tile; scope by URL."""
from __future__ import annotations

import io
import subprocess
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from blueprints.themes import services
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan, ThemePlanRow
from core.extensions import db
from core.timeutil import local_today
from tests.jobs import export_file
from tests import factories
from tests.themes.builders import row_of, theme_link, theme_plan

HX = {"HX-Request": "true"}


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("role,status", [
    ("city_admin", 200), ("district_staff", 200), ("leader", 200), ("district_leader", 200),
    ("org_leader", 200), ("reviewer", 403),
])
def test_plan_list_by_role(as_role, role, status):
    assert as_role(role).get("/themes/").status_code == status


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/themes/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_city_admin_loads_the_example_and_sees_every_row(as_role, world):
    c = as_role("city_admin")
    assert "载入示例计划" in c.get("/themes/").get_data(as_text=True)
    resp = c.post("/themes/example")
    assert resp.status_code == 303
    plan = db.session.query(ThemePlan).one()
    body = c.get(resp.headers["Location"]).get_data(as_text=True)
    for month, name, content, lead, resp_units in services.EXAMPLE_ROWS:
        assert name in body and content in body and lead in body
    assert "1－2" in body
    assert c.post("/themes/example").headers["Location"].endswith(f"/themes/{plan.id}")  # loaded once


def test_only_city_admin_loads_the_example(as_role):
    assert as_role("district_staff").post("/themes/example").status_code == 403
    assert as_role("leader").post("/themes/example").status_code == 403


def test_example_pdf_is_landscape_with_every_row_in_order(as_role, world):
    c = as_role("city_admin")
    c.post("/themes/example")
    plan = db.session.query(ThemePlan).one()
    resp = c.get(f"/themes/{plan.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _pdf_text(resp.data)
    # Raw order = the order cells are drawn: every row's cells, in order, with nothing in between;
    # May's second row shares the merged 月份 cell of the first, as in the 附件.
    raw = subprocess.run(["pdftotext", "-raw", "-", "-"], input=resp.data, capture_output=True,
                         check=True).stdout.decode()
    flat = "".join(raw.split())
    cells = ["“感恩奋进·广安志愿2015月主题活动”安排表", "月份", "活动名称", "活动内容", "牵头单位", "责任单位"]
    previous = None
    for month, name, content, lead, resp_units in services.EXAMPLE_ROWS:
        cells += ([] if month == previous else [month]) + [name, content, lead, resp_units]
        previous = month
    assert "".join("".join(c.split()) for c in cells) in flat
    assert "第 1 页" in text
    info = subprocess.run(["pdfinfo", "-"], input=resp.data, capture_output=True, check=True).stdout.decode()
    width, height = [float(x) for x in info.split("Page size:")[1].split("pts")[0].split("x")]
    assert width > height  # landscape


def test_create_plan_and_add_rows_inline(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/themes/new", data={"region_id": world["city"].id, "year": 2027, "title": ""})
    assert resp.status_code == 303
    plan = db.session.query(ThemePlan).one()
    assert plan.title == "湛江市2027年“每月一主题”志愿服务活动安排表" and plan.status == PlanStatus.DRAFT
    resp = c.post(f"/themes/{plan.id}/rows", headers=HX, data={
        "month": "1－2", "name": "暖冬行", "content": "关爱困难群众", "lead_unit": "市文明办", "responsible_units": "各地"})
    assert resp.status_code == 200 and 'id="plan-rows"' in resp.get_data(as_text=True)
    assert [r.month_label for r in plan.rows] == ["1－2"]


@pytest.mark.parametrize("month, name, message", [
    ("13", "x", "月份应在 1–12 之间"), ("2-1", "x", "不能倒置"), ("5", "", "请填写活动名称"), ("", "x", "请填写月份"),
])
def test_bad_rows_are_refused_next_to_the_field(as_role, world, month, name, message):
    plan = theme_plan(world["city"], 2027, rows=[], published=False)
    db.session.commit()
    resp = as_role("city_admin").post(f"/themes/{plan.id}/rows", headers=HX, data={
        "month": month, "name": name, "content": "保留的内容"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body and "field-error" in body
    assert "保留的内容" in body  # what was typed is kept
    assert db.session.query(ThemePlanRow).count() == 0


def test_bad_row_without_htmx_rerenders_the_page(as_role, world):
    plan = theme_plan(world["city"], 2027, rows=[], published=False)
    db.session.commit()
    resp = as_role("city_admin").post(f"/themes/{plan.id}/rows", data={"month": "0", "name": "x"})
    assert resp.status_code == 422 and "月份应在 1–12 之间" in resp.get_data(as_text=True)


def test_inline_edit_of_a_row(as_role, world):
    plan = theme_plan(world["city"], 2026)
    db.session.commit()
    row = plan.rows[0]
    c = as_role("city_admin")
    form = c.get(f"/themes/rows/{row.id}/edit", headers=HX).get_data(as_text=True)
    assert f'name="row{row.id}-month"' in form and "暖冬行主题志愿服务月" in form
    p = f"row{row.id}-"
    bad = c.post(f"/themes/rows/{row.id}/edit", headers=HX, data={p + "month": "3－1", p + "name": "改后的名称"})
    assert bad.status_code == 422 and "不能倒置" in bad.get_data(as_text=True)
    db.session.refresh(row)
    assert row.name == "暖冬行主题志愿服务月"
    ok = c.post(f"/themes/rows/{row.id}/edit", headers=HX, data={
        p + "month": "1-2", p + "name": "暖冬行·爱传递", p + "content": "新内容", p + "lead_unit": "市文明办",
        p + "responsible_units": "各地各单位"})
    assert ok.status_code == 200 and "<tr" in ok.get_data(as_text=True) and "暖冬行·爱传递" in ok.get_data(as_text=True)
    db.session.refresh(row)
    assert row.name == "暖冬行·爱传递" and row.month_label == "1－2"
    assert c.get(f"/themes/rows/{row.id}", headers=HX).status_code == 200


def test_reorder_and_delete_rows(as_role, world):
    plan = theme_plan(world["city"], 2026, published=False)
    db.session.commit()
    first, second = plan.rows[0].id, plan.rows[1].id
    c = as_role("city_admin")
    assert c.post(f"/themes/rows/{second}/move", headers=HX, data={"direction": "up"}).status_code == 200
    db.session.expire_all()
    assert [r.id for r in db.session.get(ThemePlan, plan.id).rows][:2] == [second, first]
    assert c.post(f"/themes/rows/{first}/delete", headers=HX).status_code == 200
    assert db.session.get(ThemePlanRow, first) is None


def test_publish_withdraw_and_delete(as_role, world):
    plan = theme_plan(world["city"], 2026, published=False)
    db.session.commit()
    pid = plan.id
    c = as_role("city_admin")
    assert c.post(f"/themes/{pid}/publish").status_code == 303
    assert db.session.get(ThemePlan, pid).status == PlanStatus.PUBLISHED
    c.post(f"/themes/{pid}/delete")
    assert db.session.get(ThemePlan, pid) is not None  # published: not deleted
    c.post(f"/themes/{pid}/withdraw")
    c.post(f"/themes/{pid}/delete")
    db.session.expunge_all()
    assert db.session.get(ThemePlan, pid) is None


def test_copy_to_next_year(as_role, world):
    plan = theme_plan(world["city"], 2026)
    db.session.commit()
    c = as_role("city_admin")
    resp = c.post(f"/themes/{plan.id}/copy", data={"year": 2027, "region_id": world["city"].id})
    assert resp.status_code == 303
    copy = db.session.query(ThemePlan).filter_by(year=2027).one()
    assert len(copy.rows) == len(plan.rows) and copy.title == "湛江市2027年月主题活动安排表"
    again = c.post(f"/themes/{plan.id}/copy", data={"year": 2027, "region_id": world["city"].id})
    assert again.status_code == 422 and "已经存在" in again.get_data(as_text=True)
    bad = c.post(f"/themes/{plan.id}/copy", data={"year": "明年", "region_id": world["city"].id})
    assert bad.status_code == 422 and "请填写整数" in bad.get_data(as_text=True)


def test_xlsx_export_and_import_round_trip(as_role, world):
    plan = theme_plan(world["city"], 2026, published=False)
    db.session.commit()
    c = as_role("city_admin")
    data = export_file(c, f"/themes/{plan.id}.xlsx").data
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == services.IMPORT_COLUMNS and ws.cell(2, 1).value == "1－2"
    target = theme_plan(world["district_a"], 2026, rows=[], published=False)
    db.session.commit()
    resp = c.post(f"/themes/{target.id}/import", data={"file": (io.BytesIO(data), "plan.xlsx")},
                  content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "全部校验通过" in body
    token = body.split('name="token" value="')[1].split('"')[0]
    assert c.post(f"/themes/{target.id}/import/confirm", data={"token": token}).status_code == 303
    db.session.expire_all()
    assert [(r.month_label, r.name) for r in db.session.get(ThemePlan, target.id).rows] == [
        (r.month_label, r.name) for r in plan.rows]


def test_import_with_bad_lines_saves_nothing(as_role, world):
    plan = theme_plan(world["city"], 2026, rows=[], published=False)
    db.session.commit()
    wb = Workbook()
    ws = wb.active
    ws.append(services.IMPORT_COLUMNS)
    ws.append(["14", "不存在的月份", "", "", ""])
    ws.append(["2-1", "倒置", "", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    resp = as_role("city_admin").post(f"/themes/{plan.id}/import", data={"file": (io.BytesIO(buf.getvalue()), "x.xlsx")},
                                      content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "1–12" in body and "不能倒置" in body and "确认导入" not in body


# ---- scope ----------------------------------------------------------------------------------------

def test_district_staff_cannot_edit_another_districts_plan_rows(as_role, world):
    plan_a = theme_plan(world["district_a"], 2026, rows=[("3", "赤坎区学雷锋", "", "", "")])
    db.session.commit()
    row = plan_a.rows[0]
    c = as_role("district_staff_2")  # 霞山区
    assert c.get(f"/themes/{plan_a.id}").status_code == 404
    assert c.get(f"/themes/rows/{row.id}/edit").status_code == 404
    assert c.post(f"/themes/rows/{row.id}/edit", data={f"row{row.id}-month": "4", f"row{row.id}-name": "改"}).status_code == 404
    assert c.post(f"/themes/rows/{row.id}/delete").status_code == 404
    assert c.post(f"/themes/{plan_a.id}/rows", data={"month": "4", "name": "x"}).status_code == 404
    assert c.post(f"/themes/{plan_a.id}/publish").status_code == 404
    assert c.get(f"/themes/{plan_a.id}.pdf").status_code == 404
    db.session.refresh(row)
    assert row.name == "赤坎区学雷锋"
    # Their own staff may.
    assert as_role("district_staff").post(f"/themes/{plan_a.id}/rows", data={"month": "4", "name": "x"}).status_code == 303


def test_district_staff_read_but_cannot_change_the_city_plan(as_role, world):
    plan = theme_plan(world["city"], 2026)
    db.session.commit()
    c = as_role("district_staff")
    body = c.get(f"/themes/{plan.id}").get_data(as_text=True)
    assert "暖冬行主题志愿服务月" in body and "编辑标题" not in body
    assert c.post(f"/themes/rows/{plan.rows[0].id}/edit", data={}).status_code == 403
    assert c.post(f"/themes/{plan.id}/withdraw").status_code == 403
    assert as_role("leader").post(f"/themes/{plan.id}/withdraw").status_code == 403
    assert as_role("org_leader").get(f"/themes/{plan.id}").status_code == 200


def test_plan_list_is_scoped(as_role, world):
    theme_plan(world["district_a"], 2026, title="赤坎区自定主题表")
    theme_plan(world["district_b"], 2026, title="霞山区自定主题表")
    theme_plan(world["city"], 2026, title="湛江市主题表")
    db.session.commit()
    body = as_role("district_staff").get("/themes/").get_data(as_text=True)
    assert "赤坎区自定主题表" in body and "湛江市主题表" in body and "霞山区自定主题表" not in body
    body = as_role("city_admin").get("/themes/?year=2026", headers=HX).get_data(as_text=True)
    assert "霞山区自定主题表" in body and "<html" not in body


def test_district_staff_cannot_mark_another_districts_activity(as_role, world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    db.session.commit()
    row = row_of(plan, 6)
    c = as_role("district_staff_2")
    assert c.post(f"/themes/activity/{act.id}/link", data={"theme_row_id": row.id, "concentrated": "y"}).status_code == 404
    assert as_role("org_leader_2").post(f"/themes/activity/{act.id}/link", data={"theme_row_id": row.id}).status_code == 404
    assert as_role("leader").post(f"/themes/activity/{act.id}/link", data={"theme_row_id": row.id}).status_code == 403
    assert db.session.query(ThemeActivity).count() == 0


# ---- activity panel -------------------------------------------------------------------------------

def test_activity_page_has_the_theme_box_and_district_marks_it(as_role, world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    db.session.commit()
    row = row_of(plan, 6)
    c = as_role("district_staff")
    page = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "每月一主题" in page and "环保主题志愿服务月" in page and "集中活动" in page
    resp = c.post(f"/themes/activity/{act.id}/link", headers=HX, data={"theme_row_id": row.id, "concentrated": "y"})
    assert resp.status_code == 200 and "已保存主题关联" in resp.get_data(as_text=True)
    link = db.session.query(ThemeActivity).one()
    assert link.is_concentrated and link.unit_region_id == world["district_a"].id
    other = factories.activity(world["org_a"], "第二场", held_on=date(2026, 6, 27))
    db.session.commit()
    resp = c.post(f"/themes/activity/{other.id}/link", headers=HX, data={"theme_row_id": row.id, "concentrated": "y"})
    assert resp.status_code == 422 and "已有集中活动" in resp.get_data(as_text=True)


def test_org_leader_ties_their_activity_without_the_concentrated_box(as_role, world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    db.session.commit()
    c = as_role("org_leader")
    page = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "环保主题志愿服务月" in page and 'name="concentrated"' not in page
    resp = c.post(f"/themes/activity/{act.id}/link", data={"theme_row_id": row_of(plan, 6).id})
    assert resp.status_code == 303
    assert db.session.query(ThemeActivity).one().is_concentrated is False
    junk = c.post(f"/themes/activity/{act.id}/link", headers=HX, data={"theme_row_id": "abc"})
    assert junk.status_code == 422 and "请从列表中选择" in junk.get_data(as_text=True)


# ---- calendar -------------------------------------------------------------------------------------

def test_calendar_year_and_month_views(as_role, world):
    plan = theme_plan(world["city"], 2026)
    theme_plan(world["district_a"], 2026, rows=[("10", "赤坎区重阳敬老", "", "赤坎区文明办", "")])
    act = factories.activity(world["org_a"], "重阳节敬老服务", held_on=date(2026, 10, 18))
    theme_link(act, row_of(plan, 10), world["district_a"], concentrated=True)
    db.session.commit()
    c = as_role("district_staff")
    year = c.get("/themes/calendar/2026").get_data(as_text=True)
    assert "敬老主题志愿服务月" in year and "赤坎区重阳敬老" in year and "10月18日 重阳节" in year
    assert "1 项活动 · 1 项主题活动" in year and year.count("0 项活动") == 11
    month = c.get("/themes/calendar/2026/10")
    body = month.get_data(as_text=True)
    assert month.status_code == 200 and "HX-Request" in month.headers["Vary"]
    assert "重阳节" in body and "党员学雷锋星期六" in body and f"/activities/{act.id}" in body and "【集中】" in body
    part = c.get("/themes/calendar/2026/11", headers=HX).get_data(as_text=True)
    assert "<html" not in part and "社区主题志愿服务月" in part and "2026 年 11 月" in part
    assert c.get("/themes/calendar/2026/13").status_code == 404
    assert c.get("/themes/calendar/99999").status_code == 404


def test_calendar_shows_only_activities_in_scope(as_role, world):
    theme_plan(world["city"], 2026)
    mine = factories.activity(world["org_a"], "赤坎区的活动", held_on=date(2026, 3, 5))
    theirs = factories.activity(world["org_b"], "霞山区的活动", held_on=date(2026, 3, 5))
    db.session.commit()
    body = as_role("district_staff").get("/themes/calendar/2026/3").get_data(as_text=True)
    assert "赤坎区的活动" in body and "霞山区的活动" not in body and "学雷锋纪念日" in body
    # Asking for another district's calendar by URL falls back to one's own.
    body = as_role("district_staff").get(f"/themes/calendar/2026/3?region={world['district_b'].id}").get_data(as_text=True)
    assert "霞山区的活动" not in body
    body = as_role("city_admin").get(f"/themes/calendar/2026/3?region={world['district_b'].id}").get_data(as_text=True)
    assert "霞山区的活动" in body and "赤坎区的活动" not in body
    assert mine.id and theirs.id


# ---- board ----------------------------------------------------------------------------------------

def _board_world(world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], "三月集中学雷锋", held_on=date(2026, 3, 5))
    theme_link(act, row_of(plan, 3), world["district_a"], concentrated=True)
    db.session.commit()
    return act


@pytest.mark.parametrize("role,status", [
    ("city_admin", 200), ("district_staff", 200), ("leader", 200), ("org_leader", 403), ("reviewer", 403)])
def test_board_by_role(as_role, world, role, status):
    assert as_role(role).get("/themes/board?year=2026").status_code == status


def test_board_shows_held_and_drills_down_in_scope(as_role, world):
    act = _board_world(world)
    c = as_role("city_admin")
    body = c.get("/themes/board?year=2026").get_data(as_text=True)
    assert "三月集中学雷锋" in body and "已举办" in body
    cell = c.get(f"/themes/board/cell?region={world['district_a'].id}&year=2026&month=3", headers=HX)
    assert cell.status_code == 200 and f"/activities/{act.id}" in cell.get_data(as_text=True)
    other = as_role("district_staff_2")
    body = other.get("/themes/board?year=2026").get_data(as_text=True)
    assert "已举办" in body and "三月集中学雷锋" not in body
    assert "霞山区 2026 年已举办集中活动 <strong>0</strong> 次" in body and "排第 <strong>2</strong> 位" in body
    assert other.get(f"/themes/board/cell?region={world['district_a'].id}&year=2026&month=3").status_code == 404
    assert c.get(f"/themes/board/cell?region={world['district_a'].id}&year=2026&month=13").status_code == 404


def test_board_exports(as_role, world):
    _board_world(world)
    c = as_role("city_admin")
    ws = load_workbook(io.BytesIO(export_file(c, "/themes/board.xlsx?year=2026").data)).active
    assert ws.cell(1, 1).value == "单位" and ws.cell(1, 4).value == "3月"
    names = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    assert names[:3] == ["湛江市", "赤坎区", "霞山区"]
    assert ws.cell(3, 4).value.startswith("已举办：三月集中学雷锋")
    text = _pdf_text(export_file(c, "/themes/board.pdf?year=2026").data)
    assert "赤坎区" in text and "已举办" in text


# ---- dashboard ------------------------------------------------------------------------------------

def test_dashboard_tile_shows_this_and_next_month(as_role, world):
    today = local_today()
    theme_plan(world["city"], today.year)
    if today.month == 12:
        theme_plan(world["city"], today.year + 1)
    db.session.commit()
    body = as_role("org_leader").get("/").get_data(as_text=True)
    assert "每月一主题" in body and f"{today.month} 月主题" in body and "本月还剩" in body
    assert "本月尚未安排主题活动" in body


def test_city_admin_chooses_which_saturdays_are_marked(as_role, world):
    c = as_role("city_admin")
    tag = 'daytag sat">党员学雷锋星期六'
    before = c.get("/themes/calendar/2026/8").get_data(as_text=True)
    assert "日历设置" in before and before.count(tag) == 5 + 1  # five Saturdays in August 2026, and the legend
    assert c.post("/themes/calendar/saturdays", data={"mode": "last"}).status_code == 303
    body = c.get("/themes/calendar/2026/8").get_data(as_text=True)
    assert body.count(tag) == 1 + 1
    c.post("/themes/calendar/saturdays", data={"mode": "nonsense"})
    assert as_role("district_staff").post("/themes/calendar/saturdays", data={"mode": "all"}).status_code == 403
    assert "日历设置" not in as_role("district_staff").get("/themes/calendar/2026/8").get_data(as_text=True)
    body = c.get("/themes/calendar/2026/8").get_data(as_text=True)
    assert body.count(tag) == 1 + 1  # the junk value changed nothing


def test_org_leaders_and_leaders_change_no_plan(as_role, world):
    plan = theme_plan(world["city"], 2026, published=False)
    db.session.commit()
    for role in ("org_leader", "leader", "reviewer"):
        c = as_role(role)
        assert c.post(f"/themes/{plan.id}/rows", data={"month": "4", "name": "x"}).status_code == 403
        assert c.post(f"/themes/rows/{plan.rows[0].id}/move", data={"direction": "down"}).status_code == 403
        assert c.get("/themes/new").status_code == 403
        assert c.post(f"/themes/{plan.id}/copy", data={"year": 2027, "region_id": world["city"].id}).status_code == 403
    assert len(db.session.get(ThemePlan, plan.id).rows) == 12
    assert "载入示例计划" not in as_role("district_staff").get("/themes/").get_data(as_text=True)


def test_csrf_is_required(as_role, world):
    plan = theme_plan(world["city"], 2026, published=False)
    db.session.commit()
    resp = as_role("city_admin").post(f"/themes/{plan.id}/rows", data={"month": "4", "name": "x"}, csrf=False)
    assert resp.status_code == 400


def test_district_plan_page_lists_the_city_rows_it_follows(as_role, world):
    theme_plan(world["city"], 2026)
    plan = theme_plan(world["district_a"], 2026, rows=[("3", "赤坎区学雷锋", "", "", "")])
    db.session.commit()
    body = as_role("district_staff").get(f"/themes/{plan.id}").get_data(as_text=True)
    assert "市级计划（2026 年，已发布）" in body and body.count("暖冬行主题志愿服务月") == 1 and "赤坎区学雷锋" in body


def test_board_cell_names_org_count_briefly(as_role, world):
    # QA: "3 个组织参与" wrapped to a lone "与" in the narrow month cells; the cell says "3 个组织", the
    # tooltip says what is counted.
    _board_world(world)
    body = as_role("city_admin").get("/themes/board?year=2026").get_data(as_text=True)
    assert "个组织参与</small>" not in body
    assert "1 个组织</small>" in body and "个志愿服务组织开展了主题活动" in body
