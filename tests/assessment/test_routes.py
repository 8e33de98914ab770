"""HTTP: every route for every role, forms with bad input (422), scope by URL, PDFs."""
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.assessment import services
from blueprints.assessment.models import AssessmentYear, Indicator
from core.audit import AuditEntry
from core.extensions import db
from tests import factories
from tests.jobs import export_file

Y = 2026


@pytest.fixture
def year(world):
    services.ensure_year(Y)
    services.ensure_year(Y - 1)
    db.session.commit()
    return Y


def ind(code, year=Y):
    return db.session.scalar(select(Indicator).where(Indicator.year == year, Indicator.code == code))


@pytest.mark.parametrize("role,status", [("city_admin", 200), ("district_staff", 200), ("leader", 200),
                                         ("district_leader", 200), ("org_leader", 403), ("reviewer", 403)])
def test_dashboard_by_role(as_role, year, role, status):
    r = as_role(role).get(f"/assessment/?year={Y}")
    assert r.status_code == status
    if status == 200:
        assert "年度志愿服务工作考核" in r.text


def test_dashboard_shows_only_own_district_to_district_users(as_role, year):
    text = as_role("district_staff").get(f"/assessment/?year={Y}").text
    assert "赤坎区" in text and "霞山区" not in text
    text = as_role("leader").get(f"/assessment/?year={Y}").text
    assert "赤坎区" in text and "霞山区" in text and "下载考核报告" in text


def test_anonymous_is_sent_to_login(client, year):
    assert client.get("/assessment/").status_code in (302, 303)


def test_city_admin_sets_up_a_year_and_edits_a_target(as_role, world):
    c = as_role("city_admin")
    assert "生成 2027 年度考核指标" in c.get("/assessment/indicators?year=2027").text
    r = c.post("/assessment/indicators/setup", data={"year": "2027"})
    assert r.status_code == 303
    i = ind("registration", 2027)
    assert i.target == Decimal("20")
    r = c.post(f"/assessment/indicators/{i.id}/edit", data={"name": i.name, "target": "abc", "weight": "15",
                                                            "method": "linear", "active": "y"})
    assert r.status_code == 422 and "请填写数字" in r.text and 'value="abc"' in r.text
    r = c.post(f"/assessment/indicators/{i.id}/edit", data={"name": i.name, "target": "120", "weight": "15",
                                                            "method": "linear", "active": "y"})
    assert r.status_code == 422 and "不能超过 100" in r.text
    r = c.post(f"/assessment/indicators/{i.id}/edit", data={"name": i.name, "target": "25", "weight": "20",
                                                            "method": "pass_fail", "active": "y"})
    assert r.status_code == 303
    db.session.refresh(i)
    assert (i.target, i.weight, i.method.value) == (Decimal("25"), Decimal("20"), "pass_fail")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "assessment_indicator",
                                                      AuditEntry.action == "update")) is not None


@pytest.mark.parametrize("role", ["district_staff", "leader", "org_leader"])
def test_only_city_admin_edits(as_role, year, role):
    c = as_role(role)
    i = ind("survey")
    assert c.get(f"/assessment/indicators/{i.id}/edit").status_code == 403
    assert c.post(f"/assessment/indicators/{i.id}/edit", data={"name": "x", "target": "1", "weight": "1",
                                                               "method": "linear"}).status_code == 403
    assert c.post("/assessment/indicators/setup", data={"year": "2030"}).status_code == 403
    assert c.post(f"/assessment/years/{Y}/freeze").status_code == 403
    assert c.post(f"/assessment/years/{Y}/reopen", data={"reason": "abcdef"}).status_code == 403
    assert c.get(f"/assessment/years/{Y}/grades").status_code == 403


def test_grades_form(as_role, year):
    c = as_role("city_admin")
    r = c.post(f"/assessment/years/{Y}/grades", data={"excellent": "70", "good": "80", "passing": "60"})
    assert r.status_code == 422 and "优秀 &gt; 良好 &gt; 合格" in r.text
    r = c.post(f"/assessment/years/{Y}/grades", data={"excellent": "92", "good": "80", "passing": "60"})
    assert r.status_code == 303
    assert db.session.scalar(select(AssessmentYear.excellent).where(AssessmentYear.year == Y)) == Decimal("92")
    assert c.get("/assessment/years/1999/grades").status_code == 404


def test_survey_entry_and_adjustment_forms(as_role, world, year):
    c = as_role("city_admin")
    da, survey, st = world["district_a"], ind("survey"), ind("public_stations")
    url = f"/assessment/districts/{da.id}/values/{survey.id}"
    assert "录入值" in c.get(url).text
    r = c.post(url, data={"entered": "101", "adjusted": "", "reason": ""})
    assert r.status_code == 422 and "0 至 100" in r.text
    assert c.post(url, data={"entered": "93.5", "adjusted": "", "reason": ""}).status_code == 303
    url = f"/assessment/districts/{da.id}/values/{st.id}"
    r = c.post(url, data={"adjusted": "6", "reason": ""})
    assert r.status_code == 422 and "须填写理由" in r.text and 'value="6"' in r.text
    assert c.post(url, data={"adjusted": "6", "reason": "核查后补录站点"}).status_code == 303
    text = c.get(f"/assessment/districts/{da.id}?year={Y}").text
    assert "93.5%" in text and "人工调整" in text and "核查后补录站点" in text
    assert "/volunteers/?region=" in text  # the records behind the figure


def test_registration_link_lists_exactly_the_counted_volunteers(as_role, world, year):
    """The records behind a figure: a 劝退 volunteer is neither counted nor in the linked list."""
    import html
    import re
    from datetime import date

    from blueprints.volunteers.models import VolunteerStatus
    a = world["org_a"]
    kept = factories.activity_volunteer(a, name="在册甲", registered_on=date(2025, 1, 1))
    gone = factories.activity_volunteer(a, name="劝退乙", registered_on=date(2025, 1, 1),
                                        status=VolunteerStatus.DISMISSED, dismissed_on=date(2025, 6, 1))
    db.session.commit()
    c = as_role("city_admin")
    page = c.get(f"/assessment/districts/{world['district_a'].id}?year={Y}").text
    link = html.unescape(re.search(r'href="(/volunteers/\?[^"]+)">查看记录', page).group(1))
    listed = c.get(link).text
    assert kept.name in listed and gone.name not in listed


def test_district_detail_scope_by_url(as_role, world, year):
    da, db_ = world["district_a"], world["district_b"]
    staff_b = as_role("district_staff_2")  # 霞山区
    assert staff_b.get(f"/assessment/districts/{db_.id}?year={Y}").status_code == 200
    assert staff_b.get(f"/assessment/districts/{da.id}?year={Y}").status_code == 404
    assert staff_b.get(f"/assessment/districts/{da.id}/summary.pdf?year={Y}").status_code == 404
    dl = as_role("district_leader")  # 赤坎区 leader
    assert dl.get(f"/assessment/districts/{db_.id}?year={Y}").status_code == 404
    assert dl.get(f"/assessment/report.pdf?year={Y}").status_code == 403
    assert as_role("city_admin").get(f"/assessment/districts/{world['town_a'].id}").status_code == 404


def test_freeze_and_reopen_through_the_browser_forms(as_role, year):
    c = as_role("city_admin")
    assert c.post(f"/assessment/years/{Y}/freeze").status_code == 303
    assert "已定稿" in c.get(f"/assessment/?year={Y}").text
    r = c.post(f"/assessment/years/{Y}/reopen", data={"reason": ""}, follow_redirects=True)
    assert "请填写理由" in r.text
    c.post(f"/assessment/years/{Y}/reopen", data={"reason": "补报数据后重新计算"})
    assert not services.get_year(Y).frozen


def _pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_city_report_pdf_has_districts_and_no_id_numbers(as_role, world, year):
    number = factories.id_number()
    v = factories.volunteer(world["org_a"], name="王小明", number=number)
    assert v.id
    db.session.commit()
    leader = as_role("leader")
    started = leader.get(f"/assessment/report.pdf?year={Y}")  # not cached yet: built by a job
    assert started.status_code == 303 and "/jobs/" in started.location
    r = export_file(leader, f"/assessment/report.pdf?year={Y}")  # now cached: served at once
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = _pdftotext(r.data)
    for s in ("年度志愿服务工作考核报告", "赤坎区", "霞山区", "第 1 页 共", "市民对志愿服务活动认同和支持率", "湛江"):
        assert s in text.replace(" ", "") or s in text
    assert number not in text and number[-4:] + "\n" not in text and "王小明" not in text
    # the second download comes from the cache and is identical
    assert as_role("city_admin").get(f"/assessment/report.pdf?year={Y}").data == r.data
    job = export_file(leader, f"/jobs/{started.location.rsplit('/', 1)[1]}/download")
    assert job.mimetype == "application/pdf" and job.data == r.data  # the job's file: the same PDF


def test_district_summary_and_brief_pdfs(as_role, world, year):
    c = as_role("district_staff")
    r = c.get(f"/assessment/districts/{world['district_a'].id}/summary.pdf?year={Y}")
    assert r.status_code == 200
    text = _pdftotext(r.data)
    assert "赤坎区" in text and "霞山区" not in text
    r = c.get(f"/assessment/brief.pdf?year={Y}&month=3")
    assert r.status_code == 200
    text = _pdftotext(r.data)
    assert "简报" in text and "赤坎区" in text and "霞山区" not in text


def test_pdfs_print_large_figures_in_full_with_thousands_separators(as_role, world, year):
    """A real city's built-up-area population is in the millions: never "1.5e+06" or a rounded figure."""
    from blueprints.regions.models import RegionYearFigure
    fig = db.session.scalar(select(RegionYearFigure).where(RegionYearFigure.region_id == world["district_a"].id,
                                                           RegionYearFigure.year == Y))
    fig.urban_population = 1234567
    db.session.commit()
    c = as_role("city_admin")
    for url in (f"/assessment/report.pdf?year={Y}", f"/assessment/districts/{world['district_a'].id}/summary.pdf?year={Y}"):
        text = _pdftotext(export_file(c, url).data)
        assert "1,234,567" in text and "e+06" not in text and "1.23457" not in text


def test_junk_query_values_do_not_fail(as_role, year):
    c = as_role("city_admin")
    for url in ("/assessment/?year=abc", "/assessment/?year=99999", "/assessment/brief.pdf?year=x&month=13",
                "/assessment/indicators?year=-1", "/assessment/report.pdf?year=1990"):
        assert export_file(c, url).status_code in (200, 404), url  # the report: a job, then its file


def test_leader_home_page_has_the_assessment_tile(as_role, year):
    text = as_role("leader").get("/").text
    assert "年度考核" in text and "赤坎区" in text


def test_year_switch_answers_htmx_with_the_body_only(as_role, year):
    c = as_role("leader")
    r = c.get(f"/assessment/?year={Y - 1}", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and f"{Y - 1} 年度志愿服务工作考核" in r.text
    assert "HX-Request" in r.headers.get("Vary", "")
    assert "<html" in c.get(f"/assessment/?year={Y - 1}").text


def test_district_added_after_freezing_has_no_summary(as_role, world, year):
    services.freeze(world["city_admin"], Y)
    new = factories.region(world["city"], "麻章区", "440811")
    db.session.commit()
    c = as_role("city_admin")
    assert c.get(f"/assessment/districts/{new.id}/summary.pdf?year={Y}").status_code == 404
    assert c.get(f"/assessment/districts/{new.id}?year={Y}").status_code == 200
