"""Demo volunteers: ~20,000 people with valid synthetic ID numbers across the registered organizations,
some serving in two organizations, some minors (with their guardian's consent recorded, 001 第二条),
some 劝退 (001 第五条). Bulk inserts: one statement per table and chunk; ID numbers are encrypted with
the one cached Fernet of core/pii.py (about 1 s for 20,000, with the keyed hashes).

At the end the ledger's own seed (blueprints/volunteers/seed_ledger.py, service records and the derived
figures) runs when it exists, then the rules about people (seed_people.py: 劝退 history, 工作单位).
"""
from __future__ import annotations

import importlib
import os
import random
import time
from datetime import date, timedelta

import click
from sqlalchemy import func, insert, select

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.volunteers.models import (AVAILABILITY, SKILLS, DismissReason, Membership, PoliticalStatus, Volunteer,
                                          VolunteerSequence, VolunteerSkill, VolunteerStatus, identity_columns)
from core.extensions import db
from core.timeutil import local_today, utcnow
from core.validators import id_check_char

TARGET = int(os.environ.get("DEMO_VOLUNTEERS", "20000"))  # the bench may ask for 50,000
LEAD_ORG_VOLUNTEERS = 400  # the demo accounts' organizations get a full roster

SURNAMES = ("陈林黄李张吴王梁刘杨郑谢何许邓冯蔡庞钟莫周罗彭曾叶苏潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦"
            "江史顾侯邵孟龙万段漆钱汤尹黎易常武乔贺赖龚文")
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国海燕志文俊晓雪梅宇浩琳婷欣怡家豪嘉欣子涵思远振华锦辉"
POLITICAL_MIX = [(PoliticalStatus.MASSES, 52), (PoliticalStatus.LEAGUE_MEMBER, 22), (PoliticalStatus.PARTY_MEMBER, 20),
                 (PoliticalStatus.PROBATIONARY, 2), (PoliticalStatus.DEMOCRATIC, 4)]
RELATIONS = ["父亲", "母亲", "祖父", "祖母"]
DISMISS_NOTES = {
    DismissReason.DISOBEDIENCE: "一年内三次无故缺席已报名的服务活动，经谈话仍未改正。",
    DismissReason.VIOLATION: "多次在服务站内与服务对象发生争执，违反服务站管理规定。",
    DismissReason.HARM: "服务中擅自处置服务对象财物，造成损失并引发投诉。",
    DismissReason.PROFIT: "以志愿者名义向社区老人推销保健品。",
}


def _weighted(rng: random.Random, mix):
    return rng.choices([m for m, _ in mix], weights=[w for _, w in mix])[0]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _id_number(rng: random.Random, area: str, birth: date, male: bool, taken: set[str]) -> str:
    while True:
        order = rng.randint(0, 499) * 2 + (1 if male else 0)  # the 17th digit: odd for men
        body = f"{area}{birth:%Y%m%d}{order:03d}"
        number = body + id_check_char(body)
        if number not in taken:
            taken.add(number)
            return number


def _age_birth(rng: random.Random, today: date, registered: date, minor: bool) -> date:
    if minor:  # 12–17 at registration, so still a minor on the page for most of them
        age_days = rng.randint(12 * 365 + 10, 17 * 365 - 10)
        return registered - timedelta(days=age_days)
    age = min(int(rng.triangular(18, 75, 35)), 74)
    birth = registered - timedelta(days=age * 365 + rng.randint(10, 350))
    return birth


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(Volunteer)) < TARGET // 2:
        started = time.perf_counter()
        n = _bulk(ctx)
        click.echo(f"    {n} 名志愿者（{time.perf_counter() - started:.1f} 秒）")
    ctx["volunteer_count"] = db.session.scalar(select(func.count()).select_from(Volunteer))
    try:
        ledger_seed = importlib.import_module("blueprints.volunteers.seed_ledger")
    except ModuleNotFoundError as e:
        if e.name != "blueprints.volunteers.seed_ledger":
            raise
        return
    ledger_seed.seed(ctx)
    from blueprints.volunteers import seed_people

    seed_people.seed(ctx)


def _bulk(ctx: dict) -> int:
    rng = random.Random(5005)
    today = local_today()
    orgs = list(db.session.execute(
        select(Organization.id, Organization.region_id, Organization.district_id, Organization.founded_on)
        .where(Organization.status == OrgStatus.APPROVED).order_by(Organization.id)))
    if not orgs:
        return 0
    regions = {r.id: r for r in db.session.scalars(select(Region))}
    communities: dict[int, list[int]] = {}
    for r in regions.values():
        if r.level == RegionLevel.COMMUNITY and r.district_id:
            communities.setdefault(r.district_id, []).append(r.id)
    lead_ids = [o.id for o in ctx.get("lead_orgs", [])]
    by_id = {o.id: o for o in orgs}

    def prefix_of(region_id: int | None) -> str:
        r = regions.get(region_id)
        while r is not None:
            if r.code and len(r.code) == 6 and r.level != RegionLevel.CITY:
                return r.code
            r = regions.get(r.parent_id)
        return "440800"

    # Each volunteer's primary organization: the lead organizations first, then the others weighted
    # (a few large teams, many small ones).
    weights = [rng.paretovariate(1.3) for _ in orgs]
    primaries = [oid for oid in lead_ids for _ in range(LEAD_ORG_VOLUNTEERS)]
    primaries += [o.id for o in rng.choices(orgs, weights=weights, k=TARGET - len(primaries))]

    next_id = (db.session.scalar(select(func.max(Volunteer.id))) or 0) + 1
    sequences = dict(db.session.execute(select(VolunteerSequence.prefix, VolunteerSequence.last)).all())
    taken: set[str] = set()
    now = utcnow()
    volunteers, skills, memberships = [], [], []
    for i, org_id in enumerate(primaries):
        org = by_id[org_id]
        vid = next_id + i
        start = max(date(2017, 1, 1), org.founded_on or date(2017, 1, 1))
        span = max((today - timedelta(days=20) - start).days, 1)
        registered = start + timedelta(days=int(span * rng.random() ** 0.7))
        minor = rng.random() < 0.035
        male = rng.random() < 0.46
        birth = _age_birth(rng, today, registered, minor)
        area = prefix_of(org.region_id) if rng.random() < 0.85 else rng.choice(["440802", "440803", "440811", "445302", "440105"])
        number = _id_number(rng, area, birth, male, taken)
        prefix = prefix_of(org.region_id)
        sequences[prefix] = sequences.get(prefix, 0) + 1
        phone = _phone(rng)
        political = _weighted(rng, POLITICAL_MIX) if not minor else rng.choice(
            [PoliticalStatus.MASSES, PoliticalStatus.LEAGUE_MEMBER])
        status, reason, dismissed_on, note = VolunteerStatus.ACTIVE, None, None, ""
        if not minor and rng.random() < 0.012:
            reason = rng.choice(list(DismissReason))
            status, note = VolunteerStatus.DISMISSED, DISMISS_NOTES[reason]
            dismissed_on = registered + timedelta(days=rng.randint(60, max((today - registered).days, 61)))
            dismissed_on = min(dismissed_on, today)
        home = org.region_id
        if rng.random() < 0.3 and communities.get(org.district_id):
            home = rng.choice(communities[org.district_id])
        volunteers.append(dict(
            id=vid, number=f"{prefix}{sequences[prefix]:06d}", name=_name(rng), **identity_columns(number),
            phone=phone, phone_last4=phone[-4:],
            political_status=political, public_servant=(not minor and rng.random() < 0.12),
            availability="、".join(sorted(rng.sample(AVAILABILITY[:4], rng.randint(1, 2)), key=AVAILABILITY.index))
            if rng.random() < 0.9 else "时间不限",
            region_id=home, primary_org_id=org_id, registered_on=registered, status=status,
            dismiss_reason=reason, dismissed_on=dismissed_on, dismiss_note=note,
            guardian_name=(_name(rng)[:1] + rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)) if minor else "",
            guardian_phone=_phone(rng) if minor else "", guardian_relation=rng.choice(RELATIONS) if minor else "",
            guardian_consent=minor, total_hours=0, created_at=now, updated_at=now,
        ))
        for skill in rng.sample(SKILLS, rng.choice((1, 1, 2, 2, 3))):
            skills.append(dict(volunteer_id=vid, skill=skill))
        memberships.append(dict(volunteer_id=vid, organization_id=org_id, is_primary=True, joined_on=registered,
                                created_at=now))
        if rng.random() < 0.12:  # some serve in a second organization of the same district or the city
            other = rng.choice(orgs)
            if other.id != org_id:
                memberships.append(dict(volunteer_id=vid, organization_id=other.id, is_primary=False,
                                        joined_on=min(today, registered + timedelta(days=rng.randint(10, 700))),
                                        created_at=now))
    for table, rows in ((Volunteer.__table__, volunteers), (VolunteerSkill.__table__, skills),
                        (Membership.__table__, memberships)):
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(table), rows[start:start + 2000])
    existing = set(db.session.scalars(select(VolunteerSequence.prefix)))
    for prefix, last in sequences.items():
        if prefix in existing:
            db.session.execute(VolunteerSequence.__table__.update().where(VolunteerSequence.prefix == prefix)
                               .values(last=last))
        else:
            db.session.execute(insert(VolunteerSequence.__table__), [dict(prefix=prefix, last=last)])
    db.session.flush()
    return len(volunteers)
