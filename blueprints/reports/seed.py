"""Demo monthly reports: the last twelve months for most organizations and every district, in every
state (accepted on time, accepted late, returned, awaiting review, drafts, missing), with needs, a few
photo attachments, their workflow steps, and one 催报 round for last month when it is overdue.

Figures come from the demo ledger with grouped queries (one per figure), then rows are bulk-inserted.
"""
from __future__ import annotations

import io
import random
import time as clock
from datetime import datetime, time, timedelta
from decimal import Decimal

import click
from sqlalchemy import extract, func, insert, select

from blueprints.accounts.models import Role, User, UserStatus
from blueprints.activities.models import Activity, ActivityStatus
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.reports import services
from blueprints.reports.models import (AttachmentKind, MonthlyReport, ReportAttachment, ReportLevel, ReportNeed,
                                       ReportStatus, ReportStep)
from blueprints.themes.models import ThemeActivity
from blueprints.volunteers.models import Membership, RecordStatus, ServiceRecord
from core.extensions import db
from core.timeutil import local_today, utcnow

SUMMARIES = [
    "本月组织开展社区环境清洁、关爱空巢老人和文明交通劝导等志愿服务活动，志愿者参与积极。",
    "围绕本月主题开展集中志愿服务活动，走访困难家庭，开展义诊和政策宣传。",
    "本月重点开展“四点半课堂”和留守儿童陪伴活动，组织志愿者培训一次。",
    "配合街道开展创文志愿服务，在农贸市场、公交站点开展文明劝导。",
    "开展海滨公园环保清洁、垃圾分类宣传和敬老院慰问活动。",
]
HIGHLIGHTS = ["新招募大学生志愿者，队伍更加年轻化。", "与社区卫生服务中心合作开展义诊，群众反响良好。",
              "志愿服务活动被市级媒体报道。", "", "建立了志愿者微信群，服务需求对接更及时。"]
PROBLEMS = ["部分志愿者服务时长记录不够及时。", "活动经费不足，物资保障困难。", "", "志愿者流动性较大，骨干不足。"]
PLANS = ["下月继续开展主题活动，加强志愿者培训。", "计划开展一次集中志愿服务日活动。", "完善服务台账，及时录入服务时长。"]
NEEDS = [
    ("陪伴独居老人聊天、代购生活用品", "社区居家养老服务站", "社区居委会 李主任", "每周六上午"),
    ("辅导留守儿童完成作业", "社区“四点半课堂”", "社区团支部 陈老师", "工作日 16:30–18:00"),
    ("海滩垃圾清理", "金沙湾海滨浴场", "志愿服务队 王队长", "每月第二个周日"),
    ("文明交通劝导", "人民大道与海滨大道路口", "交警中队 联络员", "早晚高峰"),
    ("为残障人士提供出行陪同", "区残联康复中心", "区残联 张老师", "预约后安排"),
    ("义务理发", "敬老院", "敬老院 何院长", "每月 15 日"),
    ("防诈骗宣传", "农贸市场门口", "派出所社区民警", "周末"),
]
RETURN_COMMENTS = ["请补充活动图片和工作简报。", "服务时长与台账不一致，请核对后重新提交。", "工作概况过于简单，请补充具体内容。"]


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(MonthlyReport)):
        return
    started = clock.perf_counter()
    n = _bulk(ctx)
    click.echo(f"    {n} 份月报（{clock.perf_counter() - started:.1f} 秒）")


def _grouped(stmt) -> dict:
    return {(a, int(y), int(m)): v for a, y, m, v in db.session.execute(stmt)}


def _figures(year_months: list[tuple[int, int]]) -> dict:
    """(org_id, year, month) → Figures, from the verified ledger, activities, memberships and theme links."""
    first = services.month_bounds(*year_months[-1])[0]
    last = services.month_bounds(*year_months[0])[1]
    sy, sm = extract("year", ServiceRecord.service_date), extract("month", ServiceRecord.service_date)
    verified = (ServiceRecord.status == RecordStatus.VERIFIED, ServiceRecord.service_date.between(first, last))
    people = _grouped(select(ServiceRecord.organization_id, sy, sm, func.count(func.distinct(ServiceRecord.volunteer_id)))
                      .where(*verified).group_by(ServiceRecord.organization_id, sy, sm))
    hours = _grouped(select(ServiceRecord.organization_id, sy, sm, func.sum(ServiceRecord.hours))
                     .where(*verified).group_by(ServiceRecord.organization_id, sy, sm))
    ay, am = extract("year", Activity.held_on), extract("month", Activity.held_on)
    acts = _grouped(select(Activity.organization_id, ay, am, func.count(Activity.id))
                    .where(Activity.status == ActivityStatus.OPEN, Activity.held_on.between(first, last))
                    .group_by(Activity.organization_id, ay, am))
    jy, jm = extract("year", Membership.joined_on), extract("month", Membership.joined_on)
    new = _grouped(select(Membership.organization_id, jy, jm, func.count(func.distinct(Membership.volunteer_id)))
                   .where(Membership.joined_on.between(first, last)).group_by(Membership.organization_id, jy, jm))
    themes = set()
    for oid, unit, y, m in db.session.execute(
            select(Activity.organization_id, ThemeActivity.unit_region_id, ThemeActivity.year, ThemeActivity.month)
            .join(Activity, Activity.id == ThemeActivity.activity_id).where(Activity.status == ActivityStatus.OPEN)):
        themes.add(("org", oid, y, m))
        themes.add(("district", unit, y, m))
    return {"people": people, "hours": hours, "acts": acts, "new": new, "themes": themes}


def _local_to_utc(day, hour: int, minute: int) -> datetime:
    """A local (Asia/Shanghai, UTC+8, no DST) wall-clock time as the naive UTC the columns store."""
    return datetime.combine(day, time(hour, minute)) - timedelta(hours=8)


def _bulk(ctx: dict) -> int:
    rng = random.Random(7007)
    today = local_today()
    periods = services.period_choices(today, 13)[1:]  # the last 12 complete months, newest first
    # City-level organizations (no district) file with their own region, and the city reviews them.
    orgs = list(db.session.execute(select(Organization.id, Organization.name,
                                          func.coalesce(Organization.district_id, Organization.region_id))
                                   .where(Organization.status == OrgStatus.APPROVED).order_by(Organization.id)))
    districts = list(db.session.execute(select(Region.id, Region.name).where(Region.level == RegionLevel.DISTRICT)
                                        .order_by(Region.sort, Region.id)))
    if not orgs and not districts:
        return 0
    fig = _figures(periods)
    leaders = {oid: uid for oid, uid in db.session.execute(
        select(Organization.id, User.id).join(User.organizations).where(User.role == Role.ORG_LEADER))}
    staff = {rid: (uid, name) for uid, rid, name in db.session.execute(
        select(User.id, User.region_id, User.display_name).where(User.role == Role.DISTRICT_STAFF,
                                                                 User.status == UserStatus.ACTIVE))}
    admin = db.session.execute(select(User.id, User.display_name).where(User.role == Role.CITY_ADMIN)).first()
    # A few organizations never report (the matrix shows them red), a few are often late.
    silent = {oid for oid, _, _ in orgs if rng.random() < 0.08}
    sloppy = {oid for oid, _, _ in orgs if rng.random() < 0.2}

    # The demo org leader's team missed the last overdue month: the 催报 below reaches them.
    chase = _chase_period(today)
    demo_org = ctx["lead_orgs"][0].id if ctx.get("lead_orgs") else None

    rows, plans = [], []  # report rows; (unit_key, year, month, plan) for steps/needs
    units = [("org", oid, did, oid in silent, oid in sloppy) for oid, _, did in orgs] + \
            [("district", rid, rid, False, rng.random() < 0.3) for rid, _ in districts]
    for level, uid, district_id, is_silent, is_sloppy in units:
        for age, (y, m) in enumerate(periods):
            due = services.due_date(y, m)
            deadline_passed = today > due
            roll = rng.random()
            if (level == "org" and uid == demo_org and (y, m) == chase) or is_silent or \
                    roll < (0.15 if is_sloppy else 0.04):
                if not deadline_passed and rng.random() < 0.5:
                    plans.append((level, uid, district_id, y, m, "draft", None))
                continue  # missing (or not started yet)
            late = deadline_passed and rng.random() < (0.4 if is_sloppy else 0.08)
            if not deadline_passed:
                submitted_on = today - timedelta(days=rng.randint(0, max(0, (today - due.replace(day=1)).days)))
                late = False
            elif late:
                submitted_on = due + timedelta(days=rng.randint(1, 12))
            else:
                submitted_on = due - timedelta(days=rng.randint(0, 4))
            if submitted_on > today:
                submitted_on = today
            if age == 0:
                outcome = rng.choice(["submitted", "submitted", "accepted", "returned", "draft", "resubmitted"])
            else:
                outcome = "accepted" if rng.random() > 0.06 else rng.choice(["returned", "resubmitted"])
            plans.append((level, uid, district_id, y, m, outcome, submitted_on))

    def figures_of(level, uid, y, m):
        if level == "org":
            ids = [uid]
        else:
            ids = [oid for oid, _, did in orgs if did == uid]
        return (sum(fig["acts"].get((i, y, m), 0) for i in ids),
                sum(fig["people"].get((i, y, m), 0) for i in ids),
                Decimal(str(sum(Decimal(str(fig["hours"].get((i, y, m), 0) or 0)) for i in ids))).quantize(Decimal("0.1")),
                sum(fig["new"].get((i, y, m), 0) for i in ids),
                (level, uid, y, m) in fig["themes"] or any(("org", i, y, m) in fig["themes"] for i in ids))

    now = utcnow()
    for level, uid, district_id, y, m, outcome, submitted_on in plans:
        acts, people, hours, new, theme = figures_of(level, uid, y, m)
        first_at = _local_to_utc(submitted_on, rng.randint(8, 20), rng.randint(0, 59)) if submitted_on else None
        if first_at is not None:  # submitted "today": at a working hour that has already passed
            first_at = min(first_at, now - timedelta(hours=3))
        if outcome == "draft":
            first_at = None
        rows.append(dict(
            level=ReportLevel(level), unit_key=f"{level}-{uid}", organization_id=uid if level == "org" else None,
            region_id=district_id, year=y, month=m, status=ReportStatus(outcome), version=rng.randint(2, 9),
            activity_count=acts, volunteer_count=people, service_hours=hours, new_volunteers=new, theme_held=theme,
            figures_frozen_at=first_at if outcome != "draft" else None,
            summary=rng.choice(SUMMARIES) if level == "org" else
            "本区各志愿服务组织按月开展主题志愿服务活动，区文明办组织集中志愿服务日一次，" + rng.choice(SUMMARIES),
            highlights=rng.choice(HIGHLIGHTS), problems=rng.choice(PROBLEMS), next_plan=rng.choice(PLANS),
            first_submitted_at=first_at, submitted_at=first_at, decided_at=None,
            created_by_id=leaders.get(uid) if level == "org" else staff.get(uid, (None,))[0],
            created_at=first_at or now, updated_at=first_at or now))
    if not rows:
        return 0
    db.session.execute(insert(MonthlyReport), rows)
    ids = {(k, y, m): i for i, k, y, m in db.session.execute(
        select(MonthlyReport.id, MonthlyReport.unit_key, MonthlyReport.year, MonthlyReport.month))}

    steps, needs = [], []
    for row in rows:
        rid = ids[(row["unit_key"], row["year"], row["month"])]
        status, at = row["status"], row["first_submitted_at"]
        if at is None:
            continue
        if row["level"] == ReportLevel.ORG:
            filer = (row["created_by_id"], "组织负责人")
            reviewer = staff.get(row["region_id"]) or admin or (None, "市文明办")
        else:
            filer = staff.get(row["region_id"], (None, "区文明办"))
            reviewer = admin or (None, "市文明办")
        steps.append(dict(report_id=rid, action="submit", from_status="draft", to_status="submitted",
                          actor_id=filer[0], actor_name=filer[1] or "填报人", comment="", at=at))
        t = at
        if status in (ReportStatus.RETURNED, ReportStatus.RESUBMITTED):
            t = min(t + timedelta(days=1, hours=2), now - timedelta(hours=2))  # never in the future
            steps.append(dict(report_id=rid, action="return", from_status="submitted", to_status="returned",
                              actor_id=reviewer[0], actor_name=reviewer[1] or "审核人",
                              comment=rng.choice(RETURN_COMMENTS), at=t))
            if status == ReportStatus.RESUBMITTED:
                t = min(t + timedelta(days=1), now - timedelta(hours=1))
                steps.append(dict(report_id=rid, action="resubmit", from_status="returned", to_status="resubmitted",
                                  actor_id=filer[0], actor_name=filer[1] or "填报人", comment="", at=t))
        if status == ReportStatus.ACCEPTED:
            t = min(t + timedelta(days=rng.randint(1, 3)), now - timedelta(minutes=30))
            steps.append(dict(report_id=rid, action="accept", from_status="submitted", to_status="accepted",
                              actor_id=reviewer[0], actor_name=reviewer[1] or "审核人", comment="", at=t))
        for pos in range(rng.choice([0, 0, 1, 1, 2])):
            what, place, contact, when = rng.choice(NEEDS)
            needs.append(dict(report_id=rid, position=pos, what=what, place=place, contact=contact, when=when))
    if steps:
        db.session.execute(insert(ReportStep), steps)
    if needs:
        db.session.execute(insert(ReportNeed), needs)
    db.session.execute(MonthlyReport.__table__.update()
                       .where(MonthlyReport.status == ReportStatus.ACCEPTED)
                       .values(decided_at=MonthlyReport.submitted_at))
    _attachments(rng, ids, rows)
    db.session.flush()
    _chase_last_month(ctx, today)
    return len(rows)


def _attachments(rng: random.Random, ids: dict, rows: list[dict]) -> None:
    """A handful of photos (generated images) on the demo org leader's reports and a few others."""
    from PIL import Image, ImageDraw

    from core.uploads import store_bytes

    picked = [r for r in rows if r["level"] == ReportLevel.ORG and r["first_submitted_at"] is not None][:6]
    colours = [(46, 125, 50), (21, 101, 192), (230, 81, 0), (106, 27, 154)]
    for i, r in enumerate(picked):
        img = Image.new("RGB", (320, 200), colours[i % len(colours)])
        ImageDraw.Draw(img).rectangle([20, 20, 300, 180], outline=(255, 255, 255), width=4)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=70)
        stored = store_bytes(buf.getvalue(), "jpeg", "reports", f"活动照片{i + 1}.jpg")
        db.session.add(ReportAttachment(report_id=ids[(r["unit_key"], r["year"], r["month"])],
                                        kind=AttachmentKind.PHOTO, stored_name=stored.name,
                                        original_name=stored.original_name, content_type=stored.content_type,
                                        size=stored.size))


def _chase_period(today) -> tuple[int, int]:
    y, m = services.default_period(today)
    if today <= services.due_date(y, m):
        y, m = services.shift_month(y, m, -1)
    return y, m


def _chase_last_month(ctx: dict, today) -> None:
    """One 催报 round by each district's staff for last month, if its deadline has passed."""
    y, m = _chase_period(today)
    for u in db.session.scalars(select(User).where(User.role == Role.DISTRICT_STAFF, User.status == UserStatus.ACTIVE)):
        try:
            services.send_reminders(u, ReportLevel.ORG, y, m, today)
        except services.ReportError:
            continue
