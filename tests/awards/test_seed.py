"""The demo seed on a small city: a decided past campaign with winners, a current one in scoring."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from blueprints.awards import seed
from blueprints.awards.models import Campaign, CampaignStage, Nomination, NominationStatus, ScoreSheet
from blueprints.volunteers.models import AwardReceived
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f


def test_seed_builds_past_and_current_campaigns(world):
    for org in (world["org_a"], world["org_b"]):
        for hours in ("320", "150", "40"):
            v = f.activity_volunteer(org)
            v.total_hours = Decimal(hours)
        f.activity(org, title="往年的项目活动", held_on=local_today().replace(year=local_today().year - 1, month=6, day=1))
        f.activity(org, title="将来的活动", held_on=local_today() + timedelta(days=40))
    ctx = {"users": {k: world[k] for k in ("city_admin", "district_staff", "district_staff_2", "org_leader",
                                            "org_leader_2", "reviewer")},
           "districts": {"赤坎区": world["district_a"], "霞山区": world["district_b"]},
           "lead_orgs": [world["org_a"], world["org_b"]], "city": world["city"]}
    seed.seed(ctx)
    past, cur = db.session.scalars(db.select(Campaign).order_by(Campaign.year)).all()
    assert past.stage == CampaignStage.DECIDED and cur.stage == CampaignStage.SCORING
    winners = db.session.scalars(db.select(Nomination).where(Nomination.campaign_id == past.id,
                                                             Nomination.status == NominationStatus.AWARDED)).all()
    assert winners
    linked = [n for n in db.session.scalars(db.select(Nomination).where(Nomination.activity_id.is_not(None)))]
    assert linked and all(n.activity.held_on.year <= n.campaign.year and n.activity.held_on <= local_today()
                          for n in linked)  # a project's activity was held in its campaign's year or before
    assert db.session.scalar(db.select(db.func.count()).select_from(AwardReceived)
                             .where(AwardReceived.source == "commendation")) >= 1
    states = set(db.session.scalars(db.select(Nomination.status).where(Nomination.campaign_id == cur.id)))
    assert {NominationStatus.RECOMMENDED, NominationStatus.DRAFT} <= states
    assert any(m.user_id == world["reviewer"].id for m in cur.panel)
    assert db.session.scalar(db.select(db.func.count()).select_from(ScoreSheet).join(Nomination)
                             .where(Nomination.campaign_id == cur.id)) > 0
    assert not db.session.scalar(db.select(ScoreSheet.id).where(ScoreSheet.reviewer_id == world["reviewer"].id,
                                                                ScoreSheet.nomination_id.in_(
                                                                    db.select(Nomination.id).where(
                                                                        Nomination.campaign_id == cur.id))))
    seed.seed(ctx)  # idempotent
    assert db.session.scalar(db.select(db.func.count()).select_from(Campaign)) == 2
