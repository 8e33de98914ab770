"""Two redemptions at the same moment never overdraw a volunteer's balance (SQLite: BEGIN IMMEDIATE
serializes writers; PostgreSQL: the volunteer's row is locked before the balance is read)."""
from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

from blueprints.accounts.models import User
from blueprints.funding.services import holder_from_org
from blueprints.rewards import services
from blueprints.rewards.models import RewardItem
from blueprints.volunteers.models import Volunteer
from core.extensions import db
from tests import factories

WRITERS = 4


def test_concurrent_redemptions_never_overdraw(app, world, monkeypatch):
    """The balance never falls below zero, also when several staff record at once."""
    checked = services.unmet_conditions

    def slow_check(*args, **kwargs):  # widen the race between reading the balance and inserting
        out = checked(*args, **kwargs)
        time.sleep(0.1)
        return out

    monkeypatch.setattr(services, "unmet_conditions", slow_check)
    v = factories.activity_volunteer(world["org_a"], registered_on=date(2026, 1, 1))
    for day in (5, 6, 7):
        factories.service_record(v, world["org_a"], day=date(2026, 1, day), hours="8", by=world["org_leader"])
    item = services.create_item(world["city_admin"], holder_from_org(world["org_a"]), services.ItemData(
        title="家电维修", kind="service", description="", cost="10", min_star=0, core_only=False))
    db.session.commit()
    ids = (v.id, item.id, world["org_leader"].id)
    start = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write() -> None:
        start.wait()
        with app.test_request_context("/rewards", method="POST"):
            try:
                user = db.session.get(User, ids[2])
                services.redeem(user, db.session.get(RewardItem, ids[1]), db.session.get(Volunteer, ids[0]))
                db.session.commit()
                outcome = "saved"
            except services.RewardError:
                db.session.rollback()
                outcome = "refused"
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                outcome = f"error: {exc!r}"[:300]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=write) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    # 24 points, 10 each: two redemptions fit, the others are refused.
    assert sorted(outcomes) == ["refused"] * (WRITERS - 2) + ["saved"] * 2, outcomes
    db.session.commit()
    assert services.balance(db.session.get(Volunteer, v.id)).available == Decimal("4.0")
