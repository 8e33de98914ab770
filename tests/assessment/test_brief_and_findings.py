"""The 月度简报 month choice and the annual report's findings (issue 15, "PDFs for leaders")."""
import subprocess
from datetime import date
from decimal import Decimal as D
from urllib.parse import unquote

import pytest

from blueprints.assessment import services
from blueprints.assessment.services import Cell, DistrictResult, IndicatorInfo, Results
from core.extensions import db
from tests.jobs import export_file
from core.timeutil import local_today

Y = 2026


def _text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


# ---- the month of the brief ---------------------------------------------------------------------

@pytest.mark.parametrize("value,year,expected", [
    ("2026-03", None, (2026, 3)),
    (None, None, (2026, 10)),  # default: the last complete month
    ("3", "2026", (2026, 3)),  # the older year=…&month=… links
    ("2026-13", None, (2026, 10)), ("abc", None, (2026, 10)), ("2026-x", None, (2026, 10)),
    ("2027-01", None, (2026, 10)),  # not begun yet
    ("2026-11", None, (2026, 11)),  # the current month so far may be asked for
    ("1999-05", None, (2026, 10)),
])
def test_brief_period(value, year, expected):
    assert services.brief_period(value, year, today=date(2026, 11, 30)) == expected


def test_last_complete_month_of_january_is_last_december():
    assert services.last_complete_month(date(2027, 1, 3)) == (2026, 12)


@pytest.fixture
def year(world):
    services.ensure_year(Y)
    db.session.commit()
    return Y


def test_brief_pdf_is_the_chosen_month_named_yuedu_jianbao(as_role, year):
    r = as_role("city_admin").get(f"/assessment/brief.pdf?month={Y}-03")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    name = unquote(r.headers["Content-Disposition"])
    assert "月度简报" in name and f"{Y}年3月" in name
    text = _text(r.data).replace(" ", "")
    assert "志愿服务月度简报" in text and f"{Y}年3月" in text


def test_assessment_page_and_home_tile_offer_the_month_form(as_role, year):
    y, m = services.last_complete_month(local_today())
    c = as_role("leader")
    for url in (f"/assessment/?year={Y}", "/"):
        html = c.get(url).get_data(as_text=True)
        assert 'name="month"' in html and f'value="{y}-{m:02d}"' in html, url
        assert "月度简报" in html and "本月简报" not in html


# ---- findings -----------------------------------------------------------------------------------

def _res() -> Results:
    inds = [IndicatorInfo(1, "registration", "注册率指标", "%", "linear", D(20), D(50)),
            IndicatorInfo(2, "avg_hours", "人均时长指标", "小时", "linear", D(25), D(50))]

    def row(i, name, reg, hrs, total, rank, prev, prev_rank):
        cells = [Cell("registration", None, None, reg, reg, D(0), target=D(20)),
                 Cell("avg_hours", None, None, hrs, hrs, D(0), target=D(25))]
        return DistrictResult(i, name, cells, D(total), "合格", rank, None if prev is None else D(prev), prev_rank)

    return Results(Y, inds, [row(1, "甲区", D("21.5"), D("12.5"), "80", 1, "70", 2),
                             row(2, "乙区", D("8.25"), D("30"), "60", 2, "75", 1),
                             row(3, "丙县", None, D("10"), "40", 3, "40", 3),
                             row(4, "丁市", D("5"), D("26"), "30", 4, None, None)], D(100), {})


def test_findings_name_who_rose_who_fell_and_the_lagging_indicators_with_figures():
    f = services.findings(_res())
    assert [(m.name, m.delta, m.prev_rank, m.rank) for m in f.improved] == [("甲区", D(10), 2, 1)]
    assert [(m.name, m.delta) for m in f.fell] == [("乙区", D(-15))]
    assert f.steady == ["丙县"] and f.no_previous == ["丁市"]
    assert f.top == ("甲区", D(80)) and f.bottom == ("丁市", D(30)) and f.spread == D(50)
    # 注册率: 3 of 4 below 20 % (丙县 without data counts as below); the lowest values first
    reg = next(g for g in f.lagging if g.name == "注册率指标")
    assert (reg.missed, reg.of, reg.target) == (3, 4, "≥ 20%")
    assert reg.lowest == [("丁市", "5%"), ("乙区", "8.25%")]
    hrs = next(g for g in f.lagging if g.name == "人均时长指标")
    assert hrs.missed == 2 and hrs.lowest == [("丙县", "10 小时"), ("甲区", "12.5 小时")]
    assert f.missing == [("注册率指标", ["丙县"])] and f.all_met == []


def test_city_report_writes_the_findings_from_the_data(as_role, year, monkeypatch):
    res = _res()
    monkeypatch.setattr(services, "results", lambda y: res if y == Y else None)
    monkeypatch.setattr(services, "data_version", lambda y: "findings-test")  # not a cached real report
    r = export_file(as_role("city_admin"), f"/assessment/report.pdf?year={Y}")
    assert r.status_code == 200
    text = _text(r.data).replace(" ", "").replace("\n", "")
    assert "主要发现" in text
    assert "甲区由70分升至80分（+10，排名由第2名升至第1名）" in text
    assert "乙区由75分降至60分（-15" in text
    assert "“注册率指标”4个县(市、区)中3个未达目标（目标≥20%），最低为丁市5%、乙区8.25%" in text
    assert "附件1" in text and "附件2" in text
