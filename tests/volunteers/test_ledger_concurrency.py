"""The 24-hours-a-day rule holds when several people record the same volunteer at the same moment
(SQLite: BEGIN IMMEDIATE serializes writers; PostgreSQL: a row lock on the volunteer)."""
from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.orgs.models import Organization
from blueprints.volunteers import ledger
from blueprints.volunteers.models import ServiceRecord, Volunteer
from core.extensions import db
from core.timeutil import local_today
from tests import factories

WRITERS = 5


def test_concurrent_entries_never_exceed_24_hours_a_day(app, world, monkeypatch):
    # Widen the race: every writer dawdles between summing the day and inserting its record.
    summed = ledger.day_totals

    def slow_day_totals(*args, **kwargs):
        totals = summed(*args, **kwargs)
        time.sleep(0.1)
        return totals

    monkeypatch.setattr(ledger, "day_totals", slow_day_totals)
    v = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    db.session.commit()
    ids = (v.id, world["org_a"].id, world["org_leader"].id)
    db.session.commit()  # the test's own transaction must hold no lock and no old snapshot
    day = local_today()
    start = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write() -> None:
        start.wait()  # before any statement: on SQLite the first one takes the write lock
        # A request context of its own: its own session, and BEGIN IMMEDIATE as a POST has.
        with app.test_request_context("/ledger", method="POST"):
            try:
                volunteer, org, user = (db.session.get(Volunteer, ids[0]), db.session.get(Organization, ids[1]),
                                        db.session.get(User, ids[2]))
                ledger.create_record(user, volunteer, org, day, "10", "社区环境清洁")
                db.session.commit()
                outcome = "saved"
            except ledger.LedgerError:
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

    assert sorted(outcomes) == ["refused"] * (WRITERS - 2) + ["saved"] * 2, outcomes
    db.session.commit()
    total = db.session.scalar(select(func.sum(ServiceRecord.hours)).where(
        ServiceRecord.volunteer_id == v.id, ServiceRecord.service_date == day))
    assert Decimal(total) == Decimal("20")
