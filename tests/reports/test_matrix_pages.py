"""Issue 16 at 10×: the reports matrix at organization level (a district's 2,000+ organizations × 12 months,
≈ 900 KB of HTML) shows one page of units; its filter and totals count every unit, its export is whole."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from blueprints.reports import routes, services
from core.extensions import db
from tests import factories
from tests.jobs import export_file


@pytest.fixture
def many_orgs(world, monkeypatch):
    """Seven organizations in 赤坎区 besides org_a; three units per page."""
    monkeypatch.setattr(routes, "MATRIX_PAGE", 3)
    orgs = [factories.org(world["community_a"], f"矩阵测试{i}队") for i in range(7)]
    db.session.commit()
    return orgs


def _units(body: str) -> list[str]:
    return re.findall(r'<td class="mx-name">([^<]+)</td>', body)


def test_the_org_matrix_is_paged_with_totals_over_every_unit(as_role, world, many_orgs):
    year = date.today().year - 1  # a whole past year: every month without a report is overdue
    c = as_role("district_staff")
    first = c.get(f"/reports/matrix?level=org&year={year}").get_data(as_text=True)
    assert len(_units(first)) == 3
    assert 'data-units="8"' in first and 'data-missing="96"' in first  # 8 units × 12 months, not the page's 3
    assert 'aria-label="分页"' in first and "共 8 条，第 1/3 页" in first
    last = c.htmx_get(f"/reports/matrix?level=org&year={year}&page=3").get_data(as_text=True)
    assert len(_units(last)) == 2 and 'data-units="8"' in last
    seen = set(_units(first)) | set(_units(c.get(f"/reports/matrix?level=org&year={year}&page=2").text)) | set(_units(last))
    assert seen == {world["org_a"].name, *(o.name for o in many_orgs)}
    assert "page=2" in first and f"year={year}" in re.search(r'<nav class="pager.*?</nav>', first, re.S).group(0)


def test_the_problems_filter_and_the_export_cover_every_unit(as_role, world, many_orgs):
    year = date.today().year - 1
    for m in range(1, 13):  # org_a reports every month on time: no problem
        r = factories.monthly_report(world["org_leader"], world["org_a"], year, m, status="accepted")
        r.first_submitted_at = datetime(year + (m == 12), m % 12 + 1, 2, 2, 0)  # the 2nd of the next month
    db.session.commit()
    c = as_role("district_staff")
    body = c.get(f"/reports/matrix?level=org&year={year}&only=problems").get_data(as_text=True)
    assert 'data-units="7"' in body and world["org_a"].name not in body
    resp = export_file(c, f"/reports/matrix.xlsx?level=org&year={year}")
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 8  # the header and every unit, not one page


def test_the_city_sees_districts_by_default_and_every_organization_paged(as_role, world, many_orgs):
    c = as_role("city_admin")
    body = c.get("/reports/matrix").get_data(as_text=True)
    assert "<th>区县</th>" in body and world["district_a"].name in _units(body)
    every = services.orgs_in_scope(db.session.merge(world["city_admin"]))
    assert len(every) > 3
    orgs = c.get("/reports/matrix?level=org").get_data(as_text=True)
    assert len(_units(orgs)) == 3 and f'data-units="{len(every)}"' in orgs and f"共 {len(every)} 条" in orgs
