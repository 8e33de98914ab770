"""The 工作单位 page before a search: the units registered in the user's scope, each a link to its report."""
from __future__ import annotations

from core.extensions import db
from tests import factories


def test_work_unit_page_lists_the_units_in_scope_before_a_search(world, as_role):
    factories.volunteer(world["org_a"], name="财政甲", work_unit="湛江市财政局")
    factories.volunteer(world["org_b"], name="海关乙", work_unit="湛江海关")
    db.session.commit()
    body = as_role("district_staff").get("/volunteers/work-units").get_data(as_text=True)
    assert 'id="unit-list"' in body and "湛江市财政局" in body and "湛江海关" not in body
    assert "/volunteers/work-units?unit=%E6%B9%9B%E6%B1%9F%E5%B8%82%E8%B4%A2%E6%94%BF%E5%B1%80" in body
    searched = as_role("district_staff").get("/volunteers/work-units?unit=财政局").get_data(as_text=True)
    assert 'id="unit-list"' not in searched and "财政甲" in searched
