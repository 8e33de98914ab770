"""The demo seed: example plan, city plans, district rows, links to demo activities."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.themes import calendar as cal
from blueprints.themes import seed, services
from blueprints.themes.models import PlanStatus, ThemeActivity, ThemePlan
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def test_seed_without_activities_creates_the_plans(world):
    seed.seed({})
    db.session.commit()
    plans = list(db.session.scalars(select(ThemePlan)))
    example = services.example_plan()
    assert example is not None and len(example.rows) == 12
    this_year = [p for p in plans if p.year == local_today().year and p.region_id == world["city"].id]
    assert this_year[0].status == PlanStatus.PUBLISHED and len(this_year[0].rows) == 12
    assert "湛江" in this_year[0].rows[-1].name and "广安" not in this_year[0].rows[-1].name
    assert any(p.year == local_today().year + 1 and p.status == PlanStatus.DRAFT for p in plans)
    assert db.session.scalar(select(func.count()).select_from(ThemeActivity)) == 0
    seed.seed({})  # idempotent
    assert db.session.scalar(select(func.count()).select_from(ThemePlan)) == len(plans)


def test_seed_ties_activities_to_themes(world):
    today = local_today()
    for d in range(0, 200, 9):
        factories.activity(world["org_a"], f"活动{d}", held_on=today - timedelta(days=d))
        factories.activity(world["org_b"], f"霞山活动{d}", held_on=today - timedelta(days=d))
    seed.seed({})
    db.session.commit()
    links = list(db.session.scalars(select(ThemeActivity)))
    assert links and any(t.is_concentrated for t in links)
    assert all(t.unit_region_id in (world["district_a"].id, world["district_b"].id) for t in links)
    rows = cal.board_rows(world["city_admin"], today.year, today)
    states = {c.state for r in rows for c in r.cells}
    assert cal.CellState.MISSING in states or today.month <= 2
