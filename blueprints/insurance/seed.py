"""Demo insurance: policies for most approved organizations — current named and head-count policies,
some expiring within the warning window, some expired (a few renewed, a few not) — and risky
activities whose participants are left uncovered (the most recent joiners of an organization are
not on its list, and one upcoming risky activity of a demo organization keeps an uninsured
participant). Bulk inserts throughout.
"""
from __future__ import annotations

import random
import time as clock
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import click
from sqlalchemy import delete, func, insert, select, update

from blueprints.activities.models import Activity, ActivityStatus, Participant
from blueprints.insurance.models import CoverageMode, InsurancePolicy, InsuredPerson
from blueprints.insurance.services import INSURERS, PRODUCTS
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today, utcnow

SOURCES = ["财政拨款", "志愿服务基金", "社会捐赠", "自筹", "政府购买服务"]


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(InsurancePolicy)):
        return
    started = clock.perf_counter()
    n, people = _bulk(ctx)
    click.echo(f"    {n} 份保单，{people} 名记名被保险人（{clock.perf_counter() - started:.1f} 秒）")


def _bulk(ctx: dict) -> tuple[int, int]:
    rng = random.Random(8)
    today = local_today()
    orgs = list(db.session.scalars(select(Organization.id).where(Organization.status == OrgStatus.APPROVED)
                                   .order_by(Organization.id)))
    members: dict[int, list[int]] = defaultdict(list)
    for oid, vid in db.session.execute(
            select(Membership.organization_id, Membership.volunteer_id)
            .join(Volunteer, Volunteer.id == Membership.volunteer_id)
            .where(Volunteer.status == VolunteerStatus.ACTIVE, Membership.organization_id.in_(orgs))
            .order_by(Membership.organization_id, Membership.joined_on, Membership.volunteer_id)):
        members[oid].append(vid)
    lead = [o.id for o in ctx.get("lead_orgs", []) if o.id in members]

    policies: list[dict] = []
    named: list[tuple[int, list[int]]] = []  # (index in policies, volunteer ids)
    renew_of: list[tuple[int, int]] = []  # (index of new, index of old)
    seq = 0

    def add(oid: int, start: date, end: date, mode: CoverageMode, vids: list[int], head: int | None = None) -> int:
        nonlocal seq
        seq += 1
        people = len(vids) if mode == CoverageMode.NAMED else (head or 0)
        insurer = INSURERS[oid % len(INSURERS)]
        premium = Decimal(max(people, 1) * rng.choice([30, 40, 50, 60, 80])).quantize(Decimal("0.01"))
        policies.append(dict(
            organization_id=oid, insurer=insurer, policy_no=f"P{start.year}{4408:04d}{seq:06d}",
            product=PRODUCTS[0] if mode == CoverageMode.HEADCOUNT else rng.choice(PRODUCTS[:3]),
            mode=mode, head_count=head if mode == CoverageMode.HEADCOUNT else None,
            start_date=start, end_date=end, sum_insured=Decimal(rng.choice([100000, 200000, 300000, 500000])),
            premium=premium, payer_source=rng.choice(SOURCES), payer_note="", note="", scan=None, scan_name="",
            created_at=utcnow(), updated_at=utcnow()))
        if mode == CoverageMode.NAMED:
            named.append((len(policies) - 1, vids))
        return len(policies) - 1

    for i, oid in enumerate(orgs):
        vids = members.get(oid, [])
        if not vids:
            continue
        kind = "lead" if oid in lead else rng.choices(
            ["current", "headcount", "expiring", "expired", "renewed", "none"], [40, 12, 14, 10, 14, 10])[0]
        if kind == "none":
            continue
        # Named lists leave out the most recent joiners (about one in eight): they show as uncovered.
        listed = vids[: max(1, len(vids) - max(1, len(vids) // 8))]
        if kind == "current":
            start = today - timedelta(days=rng.randint(30, 300))
            add(oid, start, start + timedelta(days=364), CoverageMode.NAMED, listed)
        if kind == "headcount":
            start = today - timedelta(days=rng.randint(30, 300))
            add(oid, start, start + timedelta(days=364), CoverageMode.HEADCOUNT, [],
                head=max(1, len(vids) - rng.randint(0, 3)))
        if kind == "expiring":
            end = today + timedelta(days=rng.randint(3, 28))
            add(oid, end - timedelta(days=364), end, CoverageMode.NAMED, listed)
        if kind == "expired":
            end = today - timedelta(days=rng.randint(5, 60))
            add(oid, end - timedelta(days=364), end, CoverageMode.NAMED, listed)
        if kind in ("renewed", "lead"):
            new_start = today - timedelta(days=rng.randint(20, 200))
            if len(lead) > 1 and oid == lead[1]:  # the second demo organization's policy is about to expire
                new_start = today - timedelta(days=345)
            old = add(oid, new_start - timedelta(days=365), new_start - timedelta(days=1), CoverageMode.NAMED, listed)
            # the demo organizations' current policy is a renewal too
            new = add(oid, new_start, new_start + timedelta(days=364), CoverageMode.NAMED, listed)
            renew_of.append((new, old))
    if not policies:
        return 0, 0
    ids = list(db.session.scalars(insert(InsurancePolicy).returning(InsurancePolicy.id, sort_by_parameter_order=True),
                                  policies))
    for new, old in renew_of:  # Core updates: demo data, not a person's change for the audit log
        db.session.execute(update(InsurancePolicy).where(InsurancePolicy.id == ids[new])
                           .values(renewed_from_id=ids[old]))
    rows = [{"policy_id": ids[idx], "volunteer_id": vid} for idx, vids in named for vid in vids]
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(InsuredPerson), rows[chunk:chunk + 5000])
    for oid in lead:
        _leave_one_uncovered(oid, today)
    db.session.flush()
    return len(policies), len(rows)


def _leave_one_uncovered(org_id: int, today: date) -> None:
    """One upcoming risky activity of a demo organization keeps a participant without insurance."""
    act = db.session.scalar(select(Activity).where(
        Activity.organization_id == org_id, Activity.risky.is_(True), Activity.status == ActivityStatus.OPEN,
        Activity.held_on >= today, Activity.participant_count > 0).order_by(Activity.held_on))
    if act is None:
        return
    vid = db.session.scalar(select(Participant.volunteer_id).where(Participant.activity_id == act.id)
                            .order_by(Participant.id))
    db.session.execute(delete(InsuredPerson).where(InsuredPerson.volunteer_id == vid))
