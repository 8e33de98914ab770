"""The demo seed tells one story per organization: the queue's 提交时间 is the trail's 提交审核 step."""
from __future__ import annotations

import random

from sqlalchemy import select

from blueprints.orgs import seed
from blueprints.orgs.models import Organization, OrgStep
from core.extensions import db
from core.timeutil import utcnow


def test_seeded_submit_step_matches_submitted_at_and_trail_is_in_order(world):
    seed._bulk(random.Random(7), per_district=25, heads=False)
    db.session.flush()
    rows = db.session.execute(
        select(Organization.id, Organization.submitted_at, OrgStep.at)
        .join(OrgStep, OrgStep.organization_id == Organization.id)
        .where(OrgStep.action == "submit")).all()
    assert len(rows) > 20
    # QA: the queue said 2026-11-16 13:33 while the trail said 提交审核 2026-11-17 13:33.
    assert [r.id for r in rows if r.at != r.submitted_at] == []
    now = utcnow()
    for org_id in {r.id for r in rows}:
        times = db.session.scalars(select(OrgStep.at).where(OrgStep.organization_id == org_id).order_by(OrgStep.id)).all()
        assert times == sorted(times) and times[-1] <= now


def test_name_sort_label_says_pinyin_order():
    # QA: "名称 A→Z" listed 中华… before 交通… before 光明… (code-point order). The registry now sorts by the
    # pinyin key (core/collation.py, tests/core/test_collation.py), and the label says so.
    from blueprints.orgs.services import SORT_LABELS

    assert "拼音" in SORT_LABELS["name"] and "拼音" in SORT_LABELS["-name"]
