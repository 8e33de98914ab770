"""Demo activities: ~1,500 over the last two years across the registered organizations, more on the
fixed days (3月5日 学雷锋纪念日, 5月4日, 12月5日 国际志愿者日), a few cancelled, some upcoming.

The service records are the ledger seed's job (it runs before this one). Where an organization has
records on a day, an activity is held there: its participants are those volunteers and each
participant links to their record (the record gets the activity too), so the grid shows them as
pending or verified. The rest get members of the organization as participants without records
(upcoming activities, and a few recent ones that the demo organizer can record attendance for).
Bulk inserts throughout.
"""
from __future__ import annotations

import random
import time as clock
from collections import defaultdict
from datetime import date, time, timedelta

import click
from sqlalchemy import func, insert, select, update

from blueprints.activities.eligibility import ADULT_AGE
from blueprints.activities.models import Activity, ActivityStatus, Category, Participant
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region
from blueprints.volunteers.models import Membership, ServiceRecord, Volunteer, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today, utcnow

TARGET = 1500
UPCOMING = 60

TITLES = {
    Category.OTHERS: ["走访慰问孤寡老人", "关爱留守儿童课业辅导", "助残陪伴日", "爱心义诊进社区", "敬老院文艺慰问",
                      "重阳节敬老服务", "困难家庭入户帮扶", "无偿献血引导服务", "心理疏导热线值守"],
    Category.NATURE: ["海滨公园净滩行动", "红树林保护宣传", "河道清洁巡护", "植树护绿", "垃圾分类宣传进小区",
                      "湖光岩景区文明引导", "金沙湾环境整治", "节能减排主题宣传"],
    Category.SOCIETY: ["文明交通劝导", "社区防诈骗宣传", "学雷锋便民服务", "法律咨询进社区", "疫苗接种现场引导",
                       "创文巡查", "应急救护知识普及", "消防安全宣传", "文明祭扫引导", "全民阅读推广"],
}
FIXED_DAYS = {(3, 5): ("学雷锋纪念日便民服务", Category.SOCIETY), (5, 4): ("五四青年志愿服务行动", Category.SOCIETY),
              (12, 5): ("国际志愿者日集中服务", Category.OTHERS)}
PUBLIC_PLACES = ["湛江海滨公园", "金沙湾观海长廊", "霞山观海长廊", "寸金桥公园", "湖光岩风景区", "赤坎老街",
                 "湛江市人民广场", "南国热带花园", "市第一中学门口路段", "火车南站广场"]
RISKY = {"河道清洁巡护", "海滨公园净滩行动", "应急救护知识普及", "金沙湾环境整治", "消防安全宣传"}
CANCEL_REASONS = ["台风预警，活动取消", "场地临时调整，活动取消", "天气原因取消", "与上级集中活动时间冲突"]
PEOPLE = "陈林黄李张吴王梁刘杨郑谢何许邓冯"


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(Activity)) < TARGET // 2:
        started = clock.perf_counter()
        n, linked = _bulk(ctx)
        click.echo(f"    {n} 项活动，{linked} 条服务记录关联到活动（{clock.perf_counter() - started:.1f} 秒）")
    if at_stations := _at_stations():
        click.echo(f"    {at_stations} 项站点活动")


def _time_slot(rng: random.Random) -> tuple[time, time, int]:
    start = rng.choice([8, 8, 9, 9, 9, 14, 14, 15, 19])
    hours = rng.choice([2, 2, 2, 3, 3, 4])
    return time(start, rng.choice([0, 0, 30])), time(min(23, start + hours), 0), hours


def _bulk(ctx: dict) -> tuple[int, int]:
    rng = random.Random(5105)
    today = local_today()
    start = today - timedelta(days=730)
    orgs = {o.id: o for o in db.session.execute(
        select(Organization.id, Organization.region_id, Organization.name)
        .where(Organization.status == OrgStatus.APPROVED).order_by(Organization.id))}
    if not orgs:
        return 0, 0
    region_names = {rid: name for rid, name in db.session.execute(select(Region.id, Region.name))}
    members: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for vid, oid, registered in db.session.execute(
            select(Membership.volunteer_id, Membership.organization_id, Volunteer.registered_on)
            .join(Volunteer, Volunteer.id == Membership.volunteer_id)
            .where(Volunteer.status == VolunteerStatus.ACTIVE)):
        members[oid].append((vid, registered))
    # Minors are never at a risky activity (001 附件4 第二条; activities/eligibility.py): an activity with one is not risky.
    birth_years = dict(db.session.execute(select(Volunteer.id, Volunteer.birth_year)).all())
    # Days on which an organization recorded service (the ledger seed): activities are held there.
    groups: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
    for rid, vid, oid, day in db.session.execute(
            select(ServiceRecord.id, ServiceRecord.volunteer_id, ServiceRecord.organization_id,
                   ServiceRecord.service_date)
            .where(ServiceRecord.service_date >= start, ServiceRecord.activity_id.is_(None))):
        groups[(oid, day)].append((rid, vid))
    past_target = TARGET - UPCOMING
    slots = _spread([k for k, v in groups.items() if len(v) >= 3 and k[0] in orgs], past_target, rng)

    lead_ids = [o.id for o in ctx.get("lead_orgs", []) if o.id in orgs]
    org_ids = [oid for oid in orgs if members.get(oid)] or list(orgs)

    plans: list[dict] = []  # one per activity: row + who takes part + which records

    def plan(oid: int, day: date, participants: list[tuple[int, int | None]], status=ActivityStatus.OPEN):
        fixed = FIXED_DAYS.get((day.month, day.day))
        if fixed and rng.random() < 0.7:
            title, category = fixed
        else:
            category = rng.choice(list(Category))
            title = rng.choice(TITLES[category])
        org = orgs[oid]
        place = (rng.choice(PUBLIC_PLACES) if rng.random() < 0.45
                 else f"{region_names.get(org.region_id, '')}活动中心")
        t0, t1, _ = _time_slot(rng)
        capacity = None if rng.random() < 0.3 else max(len(participants) + rng.randint(0, 15), 5)
        plans.append({"row": {
            "title": title, "organization_id": oid, "region_id": org.region_id, "held_on": day, "start_time": t0,
            "end_time": t1, "place": place, "category": category,
            "risky": title in RISKY and all(day.year - birth_years.get(vid, 0) >= ADULT_AGE for vid, _ in participants),
            "description": f"{org.name}组织开展“{title}”志愿服务活动。", "capacity": capacity,
            "person_in_charge": rng.choice(PEOPLE) + rng.choice(["队长", "老师", "主任", "书记"]),
            "status": status, "participant_count": len(participants),
            "cancel_reason": rng.choice(CANCEL_REASONS) if status == ActivityStatus.CANCELLED else "",
            "cancelled_at": utcnow() if status == ActivityStatus.CANCELLED else None,
            "created_at": utcnow(), "updated_at": utcnow(),
        }, "participants": participants})

    def some_members(oid: int, day: date, k: int) -> list[tuple[int, int | None]]:
        pool = [vid for vid, registered in members.get(oid, []) if registered <= day]
        return [(vid, None) for vid in rng.sample(pool, min(k, len(pool)))]

    for oid, day in slots:
        plan(oid, day, [(vid, rid) for rid, vid in groups[(oid, day)]])
    # Without (enough) ledger data: activities whose attendance has not been recorded.
    while len(plans) < past_target:
        oid = rng.choice(org_ids)
        day = start + timedelta(days=rng.randint(0, 729))
        cancelled = rng.random() < 0.05
        plan(oid, day, [] if cancelled else some_members(oid, day, rng.randint(3, 25)),
             ActivityStatus.CANCELLED if cancelled else ActivityStatus.OPEN)
    # The demo organizers' organizations: two recent activities waiting for attendance, and upcoming ones.
    for oid in lead_ids:
        for back in (1, 3):
            plan(oid, today - timedelta(days=back), some_members(oid, today, rng.randint(12, 30)))
    for i in range(UPCOMING):
        oid = lead_ids[i % len(lead_ids)] if lead_ids and i < 10 else rng.choice(org_ids)
        day = today + timedelta(days=rng.randint(1, 45))
        plan(oid, day, some_members(oid, today, rng.randint(0, 12)))

    ids = list(db.session.scalars(
        insert(Activity).returning(Activity.id, sort_by_parameter_order=True), [p["row"] for p in plans]))
    participant_rows, record_links = [], []
    for aid, p in zip(ids, plans):
        day = p["row"]["held_on"]
        seen = set()
        for vid, rid in p["participants"]:
            if vid in seen:
                continue
            seen.add(vid)
            participant_rows.append({"activity_id": aid, "volunteer_id": vid, "record_id": rid,
                                     "attended": True if rid else None,
                                     "signed_up_at": utcnow() if day >= today else _signed_up(day)})
            if rid:
                record_links.append({"id": rid, "activity_id": aid})
        p["row"]["participant_count"] = len(seen)
    for chunk in range(0, len(participant_rows), 5000):
        db.session.execute(insert(Participant), participant_rows[chunk:chunk + 5000])
    if record_links:
        db.session.execute(update(ServiceRecord), record_links)
        # The participant's hours and quality mirror the record's.
        hours = select(ServiceRecord.hours).where(ServiceRecord.id == Participant.record_id).scalar_subquery()
        quality = select(ServiceRecord.quality).where(ServiceRecord.id == Participant.record_id).scalar_subquery()
        db.session.execute(update(Participant).where(Participant.record_id.is_not(None))
                           .values(hours=hours, quality=quality).execution_options(synchronize_session=False))
    count = (select(func.count()).where(Participant.activity_id == Activity.id).scalar_subquery())
    db.session.execute(update(Activity).values(participant_count=count).execution_options(synchronize_session=False))
    db.session.flush()
    return len(ids), len(record_links)


def _spread(slots: list[tuple[int, date]], n: int, rng: random.Random) -> list[tuple[int, date]]:
    """Pick n (organization, day) slots round-robin over the organizations, so every team that
    served holds activities, not only the biggest ones."""
    by_org: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for slot in slots:
        by_org[slot[0]].append(slot)
    queues = []
    for oid in sorted(by_org):
        days = by_org[oid]
        rng.shuffle(days)
        queues.append(days)
    out: list[tuple[int, date]] = []
    while len(out) < n and queues:
        queues = [q for q in queues if q]
        for q in queues:
            if len(out) >= n:
                break
            out.append(q.pop())
    return out


def _signed_up(day: date):
    from datetime import datetime

    return datetime.combine(day - timedelta(days=3), time(2, 0))


STATION_TITLES = ["站点便民服务日", "义剪义诊进社区", "政策宣讲与咨询", "邻里互助议事会", "关爱空巢老人走访",
                  "“四点半课堂”辅导", "文明交通劝导", "垃圾分类宣传"]


def _at_stations() -> int:
    """Activities held at the stations (issue 18; 001 附件2: 每月组织2-3次社区志愿服务活动): two or three
    a month at most managed stations in the last three complete months and this month so far, one or
    none at some, so that the coverage board lists the stations below the rule."""
    from blueprints.stations.models import Station

    if db.session.scalar(select(func.count()).select_from(Activity).where(Activity.station_id.is_not(None))):
        return 0
    rng = random.Random(440800 + 18)
    today = local_today()
    months = []
    first = today.replace(day=1)
    for _ in range(4):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    now = utcnow()
    rows = []
    stations = db.session.execute(select(Station.id, Station.name, Station.region_id, Station.organization_id)
                                  .where(Station.active, Station.organization_id.is_not(None)).order_by(Station.id)).all()
    for sid, name, region_id, org_id in stations:
        quiet = rng.random() < 0.15
        for start in months:
            last_day = min(today, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            count = rng.choice([0, 1]) if quiet else rng.choice([2, 2, 3])
            if start == months[0]:  # this month so far
                count = min(count, max(0, (today.day - 1) // 10))
            for _ in range(count):
                day = start + timedelta(days=rng.randint(0, (last_day - start).days))
                begin, end, _hours = _time_slot(rng)
                rows.append(dict(title=rng.choice(STATION_TITLES), organization_id=org_id, region_id=region_id,
                                 held_on=day, start_time=begin, end_time=end, place=name, category=Category.OTHERS,
                                 risky=False, description="在志愿服务站举办的社区志愿服务活动。", capacity=None,
                                 person_in_charge=rng.choice(PEOPLE) + "站长", status=ActivityStatus.OPEN,
                                 cancel_reason="", participant_count=0, created_at=now, updated_at=now,
                                 station_id=sid))
    if rows:
        db.session.execute(insert(Activity), rows)
    return len(rows)
