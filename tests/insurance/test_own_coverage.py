"""What a volunteer sees of their own insurance (issue 17): the policies that cover them on a day,
named or within their organization's head count — agreeing with covered_ids."""
from __future__ import annotations

from datetime import date

from blueprints.insurance import services
from tests import factories as f


def test_policies_covering_agrees_with_who_is_covered(world):
    vols = [f.activity_volunteer(world["org_a"]) for _ in range(4)]
    named = f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), volunteers=[vols[0]],
                               product="实名意外险")
    heads = f.insurance_policy(world["org_a"], start=date(2026, 1, 1), end=date(2026, 12, 31), head_count=2,
                               product="团体意外险")
    day = date(2026, 6, 1)
    covered = services.covered_ids(day, [v.id for v in vols])
    for v in vols:
        policies = services.policies_covering(v.id, day)
        assert bool(policies) == (v.id in covered)
    assert services.policies_covering(vols[0].id, day) == [named]
    assert services.policies_covering(vols[1].id, day) == [heads]
    assert services.policies_covering(vols[3].id, day) == []
    assert services.policies_covering(vols[0].id, date(2027, 1, 1)) == []
