"""Browser: district staff page through the reports matrix of their organizations (issue 16 at 10×: a
district's 2,000+ organizations are shown a page at a time); the totals stay those of every unit, the
"only overdue" filter keeps the pages, and the export offers the whole matrix."""
from __future__ import annotations

import re
from datetime import date

import pytest

from blueprints.reports import routes
from core.extensions import db
from tests import factories
from tests.conftest import browser_login, htmx_settled

pytestmark = pytest.mark.e2e


def test_page_through_the_matrix_with_its_totals(page, world, monkeypatch):
    monkeypatch.setattr(routes, "MATRIX_PAGE", 3)
    for i in range(5):
        factories.org(world["community_a"], f"矩阵翻页{i}队")
    db.session.commit()
    year = date.today().year - 1
    browser_login(page, "district_staff")
    page.goto(f"/reports/matrix?level=org&year={year}")
    first = page.locator("td.mx-name").all_inner_texts()
    assert len(first) == 3
    totals = page.inner_text("#matrix [data-units]")
    assert "共 6 个单位" in totals and "逾期未报 72 次" in totals
    page.click("#matrix .pager a[rel=next]")
    htmx_settled(page)
    page.wait_for_url(re.compile(r".*page=2"))
    second = page.locator("td.mx-name").all_inner_texts()
    assert len(second) == 3 and not set(first) & set(second)
    assert page.inner_text("#matrix [data-units]") == totals
    page.check("input[name=only]")
    htmx_settled(page)
    assert "共 6 个单位" in page.inner_text("#matrix [data-units]")  # every unit is overdue that year
    assert "only=problems" in page.get_attribute("#matrix-export", "href")
    assert "page=" not in page.get_attribute("#matrix-export", "href")  # the export is the whole matrix
