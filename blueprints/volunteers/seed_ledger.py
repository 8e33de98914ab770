"""Demo ledger: ~200,000 service records over the last two years, mostly verified, so that every star
level (一星 … 五星) and both 志愿者骨干 and 流动志愿者 appear; recent ones partly pending, a few late
entries (《办法》§11), corrections with their trace, training (§8), awards (§9) and open correction
requests (§13) for the demo organizations. Called at the end of the volunteers seed.

The rules hold for the generated data as for typed data: one record per volunteer and day (so never
more than 24 h a day), never before registration, after a 劝退 or in the future. Bulk inserts; the
derived figures (Volunteer.total_hours, VolunteerYearHours) are rebuilt from the verified records at
the end with ledger.rebuild_all_figures(), so the cache is exact.
"""
from __future__ import annotations

import os
import random
from bisect import bisect
from itertools import accumulate
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, insert, select

from blueprints.accounts.models import user_organization
from blueprints.volunteers import ledger
from blueprints.volunteers.models import (AwardReceived, CorrectionRequest, Membership, Quality, RecordCorrection,
                                          RecordSource, RecordStatus, RequestStatus, ServiceRecord, TrainingRecord,
                                          Volunteer, VolunteerStatus)
from core.extensions import db
from core.timeutil import local_today, utcnow

TARGET = int(os.environ.get("DEMO_SERVICE_RECORDS", "200000"))  # a total over all volunteers, not per person
PER_VOLUNTEER = 10  # the demo's rate (200,000 records for 20,000 volunteers) that the tiers below produce
DAYS = 730
PENDING_WINDOW = 45  # recent records are partly still waiting for verification

CONTENTS = ["社区长者探访", "独居老人助餐送餐", "关爱留守儿童课业辅导", "海滨公园净滩", "河道清洁巡护", "垃圾分类宣传引导",
            "文明交通劝导", "社区防诈骗宣传", "志愿服务站值守", "便民理发义剪", "义诊健康咨询协助", "图书馆阅读推广",
            "疫苗接种现场引导", "困难家庭入户帮扶", "助残陪伴出行", "消防安全宣传", "应急救护知识普及", "创文巡查",
            "红树林保护宣传", "法律咨询进社区", "敬老院文艺慰问", "无偿献血引导服务"]
QUALITY_MIX = [(Quality.EXCELLENT, 25), (Quality.GOOD, 60), (Quality.FAIR, 14), (Quality.POOR, 1)]
TRAININGS = [("志愿者通识培训", "志愿服务理念、礼仪与安全", "湛江市志愿者联合会"),
             ("应急救护培训", "心肺复苏、止血包扎", "湛江市红十字会"),
             ("心理疏导基础", "倾听与沟通技巧", "湛江市心理咨询协会"),
             ("防溺水安全培训", "水域救援常识", "湛江市应急管理局"),
             ("长者照护技能", "助餐、助浴与陪护要点", "市社会福利院")]
AWARDS = [("优秀志愿者", "湛江市文明办"), ("最美志愿者", "湛江市文明办"), ("优秀志愿者", "区文明办"),
          ("五星级志愿者", "湛江市志愿者联合会"), ("抗击台风先进个人", "区应急管理局")]
# Volunteer intensity tiers: (share, records over two years (low, high), hours per record (low, high)).
# The heavy tiers produce 三星 … 五星 within two years; the light one the many 流动志愿者.
TIERS = [(0.003, (260, 360), (3, 7)), (0.015, (120, 250), (2, 5)), (0.06, (35, 90), (2, 4)), (1.0, (0, 7), (1, 4))]


def seed(ctx: dict) -> None:
    if db.session.scalar(select(ServiceRecord.id).limit(1)) is not None:
        return  # idempotent: only an empty ledger is filled
    started = time.perf_counter()
    n = _bulk(ctx)
    ledger.rebuild_all_figures()
    db.session.flush()
    click.echo(f"    {n} 条服务记录及培训、获奖、更正（{time.perf_counter() - started:.1f} 秒）")


def _at(day: date, rng: random.Random, lag_days: int) -> datetime:
    """Naive UTC of a local (Asia/Shanghai, UTC+8) working hour (09:00–18:00) `lag_days` after `day`."""
    return datetime(day.year, day.month, day.day) + timedelta(days=lag_days, hours=1 + 9 * rng.random())


def _bulk(ctx: dict) -> int:
    rng = random.Random(5205)
    today = local_today()
    first = today - timedelta(days=DAYS)
    now = utcnow()
    people = list(db.session.execute(
        select(Volunteer.id, Volunteer.primary_org_id, Volunteer.registered_on, Volunteer.status,
               Volunteer.dismissed_on).order_by(Volunteer.id)))
    if not people:
        return 0
    second_org: dict[int, int] = {}
    for vid, oid in db.session.execute(select(Membership.volunteer_id, Membership.organization_id)
                                       .where(Membership.is_primary.is_(False))):
        second_org.setdefault(vid, oid)
    leaders: dict[int, int] = {}
    for uid, oid in db.session.execute(select(user_organization.c.user_id, user_organization.c.organization_id)):
        leaders.setdefault(oid, uid)
    lead_org_ids = {o.id for o in ctx.get("lead_orgs", [])}

    # Each organization serves on some days (activities are held there later, see the activities seed);
    # bigger teams on more days.
    size: dict[int, int] = defaultdict(int)
    for _, oid, *_ in people:
        if oid:
            size[oid] += 1
    all_days = [first + timedelta(days=i) for i in range(DAYS + 1)]
    org_days: dict[int, list[date]] = {}
    for oid, n in size.items():
        k = min(len(all_days), max(24, min(220, n // 2 + 20)))
        weights = [3 if d.weekday() >= 5 else 1 for d in all_days]
        org_days[oid] = sorted(set(rng.choices(all_days, weights=weights, k=k)))

    # TARGET is a total: the tiers' rate is scaled by how far the wanted total is from what this many people
    # produce at the demo rate, and the surplus (if any) is trimmed at the end, so that asking for 2,000,000
    # gives 2,000,000, with 20,000 volunteers or with 200,000.
    scale = TARGET / (PER_VOLUNTEER * len(people))
    qualities = [q for q, _ in QUALITY_MIX]
    quality_cum = list(accumulate(w for _, w in QUALITY_MIX))
    late_after = ledger.late_working_days()
    records: list[dict] = []
    for vid, oid, registered, status, dismissed_on in people:
        if not oid:
            continue
        start = max(first, registered)
        end = min(today, dismissed_on) if status == VolunteerStatus.DISMISSED and dismissed_on else today
        if end < start:
            continue
        roll = rng.random()
        for share, (klo, khi), (hlo, hhi) in TIERS:
            if roll < share:
                break
            roll -= share
        k = int(rng.randint(klo, khi) * scale) if khi > 7 else rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7))
        span = (end - start).days + 1
        if k <= 0:
            continue
        heavy = khi > 90
        candidates = [d for d in org_days.get(oid, ()) if start <= d <= end]
        if heavy or len(candidates) < k:  # station duty and the like: any day
            candidates = [start + timedelta(days=i) for i in range(span)]
        days = rng.sample(candidates, min(k, len(candidates)))
        other = second_org.get(vid)
        for day in days:
            unit = other if other and rng.random() < 0.15 else oid
            hours = Decimal(rng.randint(hlo * 2, hhi * 2)) / 2  # whole and half hours
            lag = rng.choice((0, 0, 0, 1, 1, 2, 3, 5)) if rng.random() > 0.04 else rng.randint(15, 60)
            lag = min(lag, (today - day).days)
            recorded_at = _at(day, rng, lag)
            age = (today - day).days
            pending = age < PENDING_WINDOW and rng.random() < (0.6 if age < 14 else 0.3)
            verified_at = None if pending else _at(day, rng, min(age, lag + rng.randint(1, 6)))
            # A record of today is entered and checked at a working hour that has already passed.
            recorded_at = min(recorded_at, now - timedelta(hours=2))
            if verified_at is not None:
                verified_at = max(recorded_at, min(verified_at, now - timedelta(hours=1)))
            records.append(dict(
                volunteer_id=vid, organization_id=unit, activity_id=None, service_date=day, hours=hours,
                content=rng.choice(CONTENTS), quality=qualities[bisect(quality_cum, rng.random() * quality_cum[-1])],
                status=RecordStatus.PENDING if pending else RecordStatus.VERIFIED, source=RecordSource.MANUAL,
                late_entry=lag > late_after and ledger.working_days_between(day, day + timedelta(days=lag)) > late_after, recorded_by_id=leaders.get(unit),
                recorded_at=recorded_at, verified_by_id=None if pending else leaders.get(unit),
                verified_at=verified_at, corrected=False, origin_unit="", external_uid=None,
            ))
    if len(records) > TARGET:
        records = rng.sample(records, TARGET)
    # Demo organizations: a visible queue of pending records from the last days.
    records.sort(key=lambda r: (r["service_date"], r["volunteer_id"]))
    table = ServiceRecord.__table__
    for i in range(0, len(records), 5000):
        db.session.execute(insert(table), records[i:i + 5000])
    _corrections(rng, lead_org_ids, leaders, now)
    _training_and_awards(rng, people, leaders, today)
    _requests(rng, lead_org_ids, leaders, today, now)
    return len(records)


def _corrections(rng: random.Random, lead_org_ids: set[int], leaders: dict[int, int], now) -> None:
    """A few verified records were corrected afterwards: the original stays as a trace."""
    rows = list(db.session.execute(
        select(ServiceRecord.id, ServiceRecord.organization_id, ServiceRecord.service_date, ServiceRecord.hours,
               ServiceRecord.content, ServiceRecord.quality)
        .where(ServiceRecord.status == RecordStatus.VERIFIED, ServiceRecord.hours >= 2)
        .order_by(ServiceRecord.id).limit(60000)))
    picked = rng.sample(rows, min(300, len(rows)))
    fixes = []
    for rid, oid, day, hours, content, quality in picked:
        q = Quality(quality).value
        before = {"service_date": day.isoformat(), "hours": str(ledger.quantize(hours + 1)), "content": content,
                  "quality": q, "status": "verified"}
        after = dict(before, hours=str(ledger.quantize(hours)))
        fixes.append(dict(record_id=rid, before=before, after=after,
                          reason=rng.choice(["签到表核对后时长有误", "录入时多记 1 小时", "志愿者申请更正，经核实"]),
                          request_id=None, corrected_by_id=leaders.get(oid), corrected_by_name="组织负责人",
                          corrected_at=now))
    if fixes:
        db.session.execute(insert(RecordCorrection.__table__), fixes)
        ids = [f["record_id"] for f in fixes]
        db.session.execute(ServiceRecord.__table__.update().where(ServiceRecord.id.in_(ids)).values(corrected=True))


def _training_and_awards(rng, people, leaders, today) -> None:
    trainings, awards = [], []
    for vid, oid, registered, *_ in people:
        if not oid:
            continue
        if rng.random() < 0.08:
            for _ in range(rng.choice((1, 1, 2, 3))):
                name, content, host = rng.choice(TRAININGS)
                held = registered + timedelta(days=rng.randint(0, max((today - registered).days, 0)))
                trainings.append(dict(volunteer_id=vid, organization_id=oid, name=name, content=content,
                                      hours=Decimal(rng.choice((2, 3, 4, 6))), host_unit=host, held_on=held,
                                      external_uid=None, recorded_by_id=leaders.get(oid), recorded_at=utcnow()))
        if rng.random() < 0.02:
            name, unit = rng.choice(AWARDS)
            day = date(rng.choice((today.year - 1, today.year - 2)), 12, 5)
            if day >= registered:
                awards.append(dict(volunteer_id=vid, organization_id=oid, name=name, awarded_on=day,
                                   granting_unit=unit, source="manual", source_ref=None,
                                   recorded_by_id=leaders.get(oid), recorded_at=utcnow()))
    for table, rows in ((TrainingRecord.__table__, trainings), (AwardReceived.__table__, awards)):
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i:i + 5000])


def _requests(rng, lead_org_ids, leaders, today, now) -> None:
    """Open correction requests (§13) waiting for the demo organizations' leaders."""
    rows = []
    for oid in lead_org_ids:
        recs = list(db.session.execute(
            select(ServiceRecord.id, ServiceRecord.volunteer_id).where(
                ServiceRecord.organization_id == oid, ServiceRecord.status == RecordStatus.VERIFIED)
            .order_by(ServiceRecord.id.desc()).limit(40)))
        for rid, vid in rng.sample(recs, min(3, len(recs))):
            rows.append(dict(volunteer_id=vid, organization_id=oid, record_id=rid,
                             received_on=today - timedelta(days=rng.randint(0, 6)), channel=rng.choice(["现场", "电话"]),
                             content=rng.choice(["当天实际服务时间比记录多 1 小时", "服务内容应为助老送餐",
                                                 "该次服务漏记，请补录"]),
                             status=RequestStatus.OPEN, answer="", logged_by_id=leaders.get(oid), logged_at=now,
                             answered_by_id=None, answered_at=None))
    if rows:
        db.session.execute(insert(CorrectionRequest.__table__), rows)
