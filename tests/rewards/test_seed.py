"""The demo data of 嘉许回馈 and the exchange show every new thing, and seeding twice adds nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.exchange import seed as exchange_seed
from blueprints.exchange.models import ExchangeBatch, ExchangeMark
from blueprints.rewards import seed as rewards_seed
from blueprints.rewards.models import Redemption, RewardItem
from core.extensions import db
from core.settings import get_value
from core.timeutil import local_today
from tests import factories


def test_demo_seed_shows_items_redemptions_a_reversal_a_mapping_and_a_past_export(me):
    w = me
    v = factories.activity_volunteer(w["org_a"])
    for d in range(10, 24):
        factories.service_record(v, w["org_a"], day=local_today() - timedelta(days=d), hours="8", by=w["org_leader"])
    db.session.commit()
    ctx = {"lead_orgs": [w["org_a"], w["org_b"]], "users": {k: w[k] for k in ("city_admin", "org_leader", "district_staff")}}
    for _ in range(2):
        rewards_seed.seed(ctx)
        exchange_seed.seed(ctx)
        db.session.commit()
    assert db.session.scalar(select(func.count(RewardItem.id))) == 5
    assert db.session.scalar(select(func.count(Redemption.id)).where(Redemption.reverses_id.is_not(None))) == 1
    assert db.session.scalar(select(func.count(Redemption.id)).where(Redemption.reverses_id.is_(None))) >= 2
    assert get_value("exchange.mapping")["system"] == "i志愿"
    batch = db.session.scalar(select(ExchangeBatch))
    assert batch is not None and batch.rows == 1
    assert db.session.scalar(select(func.count(ExchangeMark.id))) == 1
