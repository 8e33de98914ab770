from blueprints.assessment import seed, services
from core.timeutil import local_today


def test_demo_seed_sets_two_years_with_survey_values_and_freezes_the_previous_one(world):
    seed.seed({})
    year = local_today().year
    assert services.get_year(year - 1).frozen and not services.get_year(year).frozen
    res = services.results(year)
    survey = [c for d in res.districts for c in d.cells if c.code == "survey"]
    assert survey and all(c.value is not None for c in survey)
    assert all(d.prev_total is not None for d in res.districts)
    seed.seed({})  # idempotent
    assert len(services.indicators(year, active_only=False)) == len(services.DEFINITIONS)
