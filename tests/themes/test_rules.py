"""Rules of 每月一主题: months and ranges, row validation, the 2015 example, copying, import,
the fixed days (重阳节 from the lunar calendar), tying activities and the board's classification."""
from __future__ import annotations

from datetime import date

import pytest

from blueprints.themes import calendar as cal
from blueprints.themes import services
from blueprints.themes.models import PlanStatus, ThemeActivity
from core.extensions import db
from core.tabular import ImportRow
from tests import factories
from tests.themes.builders import row_of, theme_link, theme_plan


# ---- months ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("5", (5, 5)), ("12", (12, 12)), ("1－2", (1, 2)), ("1-2", (1, 2)), ("1~2", (1, 2)), ("1至2", (1, 2)),
    ("１－２", (1, 2)), (" 3 月", (3, 3)), ("11—12", (11, 12)), ("1-2月", (1, 2)),
])
def test_month_text_is_read_as_one_month_or_a_range(text, expected):
    assert services.parse_months(text) == expected


@pytest.mark.parametrize("text, words", [
    ("", "请填写月份"), ("13", "1–12"), ("0", "1–12"), ("3-13", "1–12"), ("五月", "数字"), ("1,2", "数字"),
    ("2－1", "不能倒置"), ("12-1", "不能倒置"),
])
def test_bad_months_are_refused_with_a_message(text, words):
    with pytest.raises(services.ThemeError) as e:
        services.parse_months(text)
    assert words in e.value.message and e.value.field == "month"


def test_month_label_uses_the_full_width_dash_of_the_attachment():
    assert services.month_label(1, 2) == "1－2" and services.month_label(5, 5) == "5"


def test_row_validation_reports_every_wrong_field_at_once():
    with pytest.raises(services.RowInvalid) as e:
        services.validate_row(services.RowData(month="2-1", name="  "))
    assert set(e.value.errors) == {"month", "name"}
    assert "请填写活动名称" in e.value.errors["name"]


def test_row_validation_refuses_overlong_text():
    with pytest.raises(services.RowInvalid) as e:
        services.validate_row(services.RowData(month="5", name="x", lead_unit="单" * 201))
    assert "牵头单位" in e.value.errors["lead_unit"]


# ---- plans and rows -------------------------------------------------------------------------------

def test_example_plan_is_the_2015_table_row_for_row(world):
    plan, created = services.load_example(world["city_admin"])
    assert created and plan.is_example and plan.year == 2015
    assert plan.title == "“感恩奋进·广安志愿2015月主题活动”安排表"
    got = [(r.month_label, r.name, r.content, r.lead_unit, r.responsible_units) for r in plan.rows]
    assert got == services.EXAMPLE_ROWS
    assert len(got) == 12 and got[0][0] == "1－2"
    # May holds two rows (002): the second without 责任单位.
    may = [r for r in plan.rows if r.covers(5)]
    assert [r.name for r in may] == ["文明旅游主题志愿服务月", "关爱残疾人志愿服务"] and may[1].responsible_units == ""
    again, created_again = services.load_example(world["city_admin"])
    assert again.id == plan.id and not created_again


def test_a_month_range_covers_each_of_its_months(world):
    plan = theme_plan(world["city"], 2026)
    themes = services.themes_by_month(2026, None)
    assert [r.name for r in themes[1]] == [r.name for r in themes[2]] == ["暖冬行主题志愿服务月"]
    assert len(themes[5]) == 2
    assert row_of(plan, 2).month_label == "1－2"


def test_district_follows_the_city_and_adds_its_own_rows(world):
    theme_plan(world["city"], 2026)
    theme_plan(world["district_a"], 2026, rows=[("3", "赤坎区学雷锋进社区", "", "赤坎区文明办", "")])
    theme_plan(world["district_b"], 2026, rows=[("3", "霞山区海滨清洁", "", "霞山区文明办", "")])
    a = [r.name for r in services.themes_by_month(2026, world["district_a"].id)[3]]
    assert a == ["学雷锋主题志愿服务月", "赤坎区学雷锋进社区"]
    assert [r.name for r in services.themes_by_month(2026, None)[3]] == ["学雷锋主题志愿服务月"]


def test_draft_plans_do_not_apply(world):
    theme_plan(world["city"], 2026, published=False)
    assert not any(services.themes_by_month(2026, None).values())


def test_new_row_goes_after_the_rows_of_its_month(world):
    plan = theme_plan(world["city"], 2026)
    services.add_row(plan, services.RowData(month="5", name="五四青年志愿服务"))
    assert [r.name for r in plan.rows if r.covers(5)][-1] == "五四青年志愿服务"
    assert plan.rows[5].name == "五四青年志愿服务" and plan.rows[6].month_start == 6


def test_rows_move_up_and_down(world):
    plan = theme_plan(world["city"], 2026)
    first, second = plan.rows[0], plan.rows[1]
    services.move_row(second, "up")
    assert list(plan.rows)[:2] == [second, first]
    services.move_row(second, "up")  # already on top: nothing changes
    assert list(plan.rows)[0] is second
    services.move_row(second, "down")
    assert list(plan.rows)[:2] == [first, second]


def test_invalid_row_update_changes_nothing(world):
    plan = theme_plan(world["city"], 2026)
    row = plan.rows[0]
    with pytest.raises(services.RowInvalid):
        services.update_row(row, services.RowData(month="3-1", name="新名称"))
    assert row.name == "暖冬行主题志愿服务月" and row.month_label == "1－2"


def test_publish_needs_rows_and_the_example_is_never_published(world):
    empty = services.create_plan(world["city_admin"], world["city"], 2027)
    with pytest.raises(services.ThemeError, match="没有任何主题"):
        services.transition(empty, "publish")
    example, _ = services.load_example(world["city_admin"])
    with pytest.raises(services.ThemeError, match="示例"):
        services.transition(example, "publish")
    services.add_row(empty, services.RowData(month="1", name="新春志愿服务"))
    services.transition(empty, "publish")
    assert empty.status == PlanStatus.PUBLISHED and empty.published_at
    with pytest.raises(services.ThemeError, match="请先撤回"):
        services.delete_plan(empty)


def test_one_plan_per_region_and_year(world):
    services.create_plan(world["city_admin"], world["city"], 2027)
    with pytest.raises(services.ThemeError, match="已经存在"):
        services.create_plan(world["city_admin"], world["city"], 2027)


def test_district_staff_plan_only_for_their_district(world):
    staff = world["district_staff"]
    assert services.plan_regions_for(staff) == [world["district_a"]]
    with pytest.raises(services.ThemeError):
        services.create_plan(staff, world["district_b"], 2027)
    with pytest.raises(services.ThemeError):
        services.create_plan(staff, world["city"], 2027)
    city_plan = theme_plan(world["city"], 2026)
    assert not services.can_edit_plan(staff, city_plan)
    assert services.can_edit_plan(world["city_admin"], city_plan)
    assert not services.can_edit_plan(world["leader"], city_plan)


def test_copy_makes_a_draft_of_the_next_year_with_every_row(world):
    example, _ = services.load_example(world["city_admin"])
    copy = services.copy_plan(world["city_admin"], example, 2027)
    assert copy.status == PlanStatus.DRAFT and not copy.is_example and copy.region_id == world["city"].id
    # The 2015 广安 table is an example only: the copy is the city's own plan, naming neither 广安 nor
    # that plan (issue 15).
    city = world["city"].name
    assert copy.title == f"{city}2027年“每月一主题”志愿服务活动安排表" and copy.copied_from_id == example.id
    assert copy.note == "" and "广安" not in copy.title
    place = city.removesuffix("市")
    assert [(r.month_label, r.name, r.content) for r in copy.rows] == [
        (r.month_label, r.name.replace("2015", "2027").replace("广安", place), r.content.replace("广安", place))
        for r in example.rows]
    assert copy.rows[-1].name == f"“感恩奋进·{place}志愿2027”展示交流活动"
    assert not any("广安" in r.name + r.content for r in copy.rows)
    with pytest.raises(services.ThemeError, match="已经存在"):
        services.copy_plan(world["city_admin"], example, 2027)


def test_import_continues_the_month_above_and_reports_bad_lines():
    rows = [ImportRow(2, {"月份": "5", "活动名称": "文明旅游", "活动内容": "", "牵头单位": "", "责任单位": ""}),
            ImportRow(3, {"月份": "", "活动名称": "助残", "活动内容": "", "牵头单位": "", "责任单位": ""}),
            ImportRow(4, {"月份": "13", "活动名称": "", "活动内容": "", "牵头单位": "", "责任单位": ""})]
    out = services.validate_import(rows)
    assert out[1].values["月份"] == "5" and not out[1].errors
    assert any("1–12" in e for e in out[2].errors) and any("活动名称" in e for e in out[2].errors)


def test_import_replaces_the_rows(world):
    plan = theme_plan(world["city"], 2026, published=False)
    n = services.apply_import(plan, [{"line": 2, "values": {"月份": "1－2", "活动名称": "新春", "活动内容": "c",
                                                            "牵头单位": "市文明办", "责任单位": "各地"}}])
    assert n == 1 and [r.name for r in plan.rows] == ["新春"]


# ---- fixed days -----------------------------------------------------------------------------------

@pytest.mark.parametrize("year, day", [
    (2015, date(2015, 10, 21)), (2023, date(2023, 10, 23)), (2024, date(2024, 10, 11)),
    (2025, date(2025, 10, 29)), (2026, date(2026, 10, 18)), (2027, date(2027, 10, 8)),
])
def test_chongyang_is_lunar_nine_nine(year, day):
    assert cal.chongyang(year) == day
    assert "重阳节" in cal.fixed_days(year, day.month)[day]


def test_fixed_commemoration_days():
    days = cal.fixed_days(2026)
    assert "学雷锋纪念日" in days[date(2026, 3, 5)]
    assert "青年节" in days[date(2026, 5, 4)]
    assert "国际志愿者日" in days[date(2026, 12, 5)]


def test_party_saturdays():
    assert cal.party_saturdays(2026, 8, "all") == [date(2026, 8, d) for d in (1, 8, 15, 22, 29)]
    assert cal.party_saturdays(2026, 8, "first") == [date(2026, 8, 1)]
    assert cal.party_saturdays(2026, 8, "last") == [date(2026, 8, 29)]
    assert cal.PARTY_SATURDAY in cal.fixed_days(2026, 8)[date(2026, 8, 8)]


def test_month_weeks_start_on_monday_and_cover_the_month():
    weeks = cal.month_weeks(2026, 2)
    assert weeks[0][0] == date(2026, 1, 26) and weeks[0][0].weekday() == 0
    assert date(2026, 2, 28) in weeks[-1]
    assert cal.shift_month(2026, 12, 1) == (2027, 1) and cal.shift_month(2026, 1, -1) == (2025, 12)


# ---- tying activities -----------------------------------------------------------------------------

def test_org_leader_ties_an_activity_but_only_the_district_marks_the_concentrated_one(world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    row = row_of(plan, 6)
    link = cal.link_activity(world["org_leader"], act, row.id, False)
    assert link.unit_region_id == world["district_a"].id and (link.year, link.month) == (2026, 6)
    with pytest.raises(cal.LinkError, match="文明办"):
        cal.link_activity(world["org_leader"], act, row.id, True)
    link = cal.link_activity(world["district_staff"], act, row.id, True)
    assert link.is_concentrated
    with pytest.raises(cal.LinkError):
        cal.link_activity(world["district_staff_2"], act, row.id, False)


def test_one_concentrated_activity_per_district_and_month(world):
    plan = theme_plan(world["city"], 2026)
    first = factories.activity(world["org_a"], "净滩行动", held_on=date(2026, 6, 6))
    second = factories.activity(world["org_a"], "护绿行动", held_on=date(2026, 6, 20))
    other_district = factories.activity(world["org_b"], "霞山净滩", held_on=date(2026, 6, 20))
    cal.link_activity(world["city_admin"], first, row_of(plan, 6).id, True)
    with pytest.raises(cal.LinkError, match="已有集中活动"):
        cal.link_activity(world["district_staff"], second, row_of(plan, 6).id, True)
    cal.link_activity(world["district_staff_2"], other_district, row_of(plan, 6).id, True)  # another district
    cal.link_activity(world["district_staff"], second, row_of(plan, 6).id, False)  # participation only
    assert db.session.query(ThemeActivity).filter_by(is_concentrated=True).count() == 2


def test_an_activity_is_tied_only_to_a_published_theme_of_its_month(world):
    plan = theme_plan(world["city"], 2026)
    act = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    with pytest.raises(cal.LinkError, match="没有这个已发布的主题"):
        cal.link_activity(world["district_staff"], act, row_of(plan, 7).id, False)
    cal.link_activity(world["district_staff"], act, row_of(plan, 6).id, False)
    assert cal.link_activity(world["district_staff"], act, None, False) is None
    assert cal.link_of(act) is None


def test_activities_of_the_city_level_count_for_the_city(world):
    city_org = factories.org(world["city"], "湛江市志愿者联合会")
    act = factories.activity(city_org, held_on=date(2026, 6, 13))
    assert cal.unit_region_of(act) == world["city"]
    act2 = factories.activity(world["org_a"], held_on=date(2026, 6, 13))
    assert cal.unit_region_of(act2) == world["district_a"]


# ---- the board ------------------------------------------------------------------------------------

@pytest.mark.parametrize("month, held_on, today, state", [
    (3, date(2026, 3, 5), date(2026, 6, 10), cal.CellState.HELD),
    (6, date(2026, 6, 20), date(2026, 6, 10), cal.CellState.PLANNED),
    (4, None, date(2026, 6, 10), cal.CellState.MISSING),
    (6, None, date(2026, 6, 10), cal.CellState.DUE),
    (6, None, date(2026, 6, 30), cal.CellState.DUE),  # red only once the month is over
    (6, None, date(2026, 7, 1), cal.CellState.MISSING),
    (9, None, date(2026, 6, 10), cal.CellState.NOT_DUE),
])
def test_board_classification(month, held_on, today, state):
    assert cal.classify(2026, month, today, True, held_on) == state


def test_month_without_theme_is_not_missing():
    assert cal.classify(2026, 4, date(2026, 6, 10), False, None) == cal.CellState.NO_THEME


def test_board_on_constructed_data(world):
    plan = theme_plan(world["city"], 2026)
    held = factories.activity(world["org_a"], "三月集中活动", held_on=date(2026, 3, 7))
    planned = factories.activity(world["org_a"], "六月集中活动", held_on=date(2026, 6, 20))
    theme_link(held, row_of(plan, 3), world["district_a"], concentrated=True)
    theme_link(planned, row_of(plan, 6), world["district_a"], concentrated=True)
    extra_org = factories.org(world["community_a"], "赤坎区第二志愿服务队")
    theme_link(factories.activity(extra_org, "三月参与", held_on=date(2026, 3, 9)), row_of(plan, 3),
               world["district_a"])
    cancelled = factories.activity(world["org_b"], "已取消的集中活动", held_on=date(2026, 3, 7), status="cancelled")
    theme_link(cancelled, row_of(plan, 3), world["district_b"], concentrated=True)
    rows = {r.region.name: r for r in cal.board_rows(world["city_admin"], 2026, date(2026, 6, 10))}
    a, b, city = rows["赤坎区"], rows["霞山区"], rows["湛江市"]
    assert a.cells[2].state == cal.CellState.HELD and a.cells[2].activity == held and a.cells[2].orgs == 2
    assert a.cells[5].state == cal.CellState.PLANNED
    assert a.cells[3].state == cal.CellState.MISSING and a.cells[6].state == cal.CellState.NOT_DUE
    assert b.cells[2].state == cal.CellState.MISSING  # a cancelled activity does not count
    assert city.cells[0].state == cal.CellState.MISSING and a.held == 1 and a.missing == 4
    # District staff of 霞山区 see 赤坎区's statuses to compare, but not which activity it was.
    rows_b = cal.board_rows(world["district_staff_2"], 2026, date(2026, 6, 10))
    assert rows_b[0].region == world["district_b"] and rows_b[0].mine
    other = next(r for r in rows_b if r.region == world["district_a"])
    assert other.cells[2].state == cal.CellState.HELD and other.cells[2].activity is None
    assert cal.board_drill(world["district_staff_2"], world["district_a"], 2026, 3) == []
    assert len(cal.board_drill(world["district_staff"], world["district_a"], 2026, 3)) == 2
