"""Demo training: the catalogue (岗前 / 专业技能 / 骨干), sessions this year and last across organizations with
their attendance (training records written alongside), a 骨干 session attended by 骨干 only, and for the
demo organizers one held session waiting for attendance and one upcoming. Idempotent: skipped once a
course exists. Bulk inserts for the records and attendees."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, insert, select

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.training.models import CourseKind, TrainingAttendee, TrainingCourse, TrainingSession
from blueprints.volunteers import ledger
from blueprints.volunteers.models import Membership, TrainingRecord, Volunteer, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today, utcnow

CITY_COURSES = [
    ("志愿者岗前培训", CourseKind.PRE_SERVICE, "2", "志愿服务理念、《社区志愿服务站义工守则》、服务礼仪与安全须知、服务记录的填报"),
    ("应急救护技能培训", CourseKind.SKILL, "4", "心肺复苏、止血包扎、AED 使用，考核合格发放证书"),
    ("心理疏导技能培训", CourseKind.SKILL, "3", "倾听与陪伴、常见心理问题识别、转介流程"),
    ("法律援助实务培训", CourseKind.SKILL, "3", "常见民事纠纷咨询要点、法律援助申请流程"),
    ("志愿者骨干能力提升培训", CourseKind.CORE, "4", "项目策划与管理、团队组织、活动风险防范、服务记录审核"),
]
PLACES = ["社区党群服务中心", "新时代文明实践站", "街道综合文化站", "市青年志愿者服务中心", "区图书馆报告厅"]
TRAINERS = ["林敏老师", "陈志强老师", "黄晓红医生", "吴律师", "市红十字会培训师", "梁社工"]
ORGS = 40  # organizations holding sessions


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(TrainingCourse)):
        return
    city = ctx.get("city") or db.session.scalar(select(Region).where(Region.level == RegionLevel.CITY))
    if city is None:
        return
    rng = random.Random(1818)
    today = local_today()
    courses = []
    for name, kind, hours, content in CITY_COURSES:
        courses.append(TrainingCourse(name=name, kind=kind, content=content, default_hours=Decimal(hours),
                                      region_id=city.id, created_at=utcnow()))
    for district in list(ctx.get("districts", {}).values())[:2]:
        courses.append(TrainingCourse(name=f"{district.name}社区志愿服务岗前培训", kind=CourseKind.PRE_SERVICE,
                                      content="本区社区志愿服务站运行规范、服务项目介绍", default_hours=Decimal("2"),
                                      region_id=district.id, created_at=utcnow()))
    db.session.add_all(courses)
    db.session.flush()
    pre, skills, core = courses[0], courses[1:4], courses[4]

    lead = [o for o in ctx.get("lead_orgs", [])]
    others = list(db.session.scalars(select(Organization).where(Organization.status == OrgStatus.APPROVED)
                                     .order_by(Organization.id).limit(ORGS)))
    orgs = list({o.id: o for o in lead + others}.values())[:ORGS]
    members: dict[int, list[tuple[int, date]]] = {}
    for oid in (o.id for o in orgs):
        members[oid] = list(db.session.execute(
            select(Volunteer.id, Volunteer.registered_on).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == oid, Volunteer.status == VolunteerStatus.ACTIVE)
            .order_by(Volunteer.id).limit(400)).all())

    sessions: list[tuple[TrainingSession, list[int]]] = []

    def held(org: Organization, course: TrainingCourse, day: date, people: list[int]) -> None:
        s = TrainingSession(course_id=course.id, organization_id=org.id, held_on=day, place=rng.choice(PLACES),
                            hours=course.default_hours, trainer=rng.choice(TRAINERS),
                            capacity=None if rng.random() < 0.5 else max(len(people) + 10, 20), created_at=utcnow())
        db.session.add(s)
        sessions.append((s, people))

    year_start = date(today.year, 1, 1)
    for i, org in enumerate(orgs):
        pool = members.get(org.id, [])
        if not pool:
            continue
        # 岗前: most of this year's newcomers (the share shows per district), a few older members.
        new = [vid for vid, reg in pool if reg >= year_start]
        old = [vid for vid, reg in pool if reg < year_start]
        share = 0.5 + 0.4 * rng.random()
        picked = rng.sample(new, int(len(new) * share)) + rng.sample(old, min(len(old), rng.randint(0, 8)))
        if picked and today > year_start:
            held(org, pre, year_start + timedelta(days=rng.randint(0, max(0, (today - year_start).days - 1))), picked)
        if i % 2 == 0:
            course = skills[i % len(skills)]
            held(org, course, today - timedelta(days=rng.randint(20, 400)), rng.sample(old or new, min(len(old or new), rng.randint(5, 20))))
        if i % 3 == 0:  # 骨干培训: the 骨干 of this organization's community (the rule services.may_attend applies)
            day = today - timedelta(days=rng.randint(10, 200))
            found = ledger.core_ids_for([vid for vid, _ in pool], (day.year, day.year - 1),
                                        ledger.privilege_communities(org=org))
            cores = [vid for vid, _ in pool if vid in found]
            if cores:
                held(org, core, day, rng.sample(cores, min(len(cores), 15)))
    db.session.flush()

    record_rows, keys = [], []
    for s, people in sessions:
        org_name = next(o.name for o in orgs if o.id == s.organization_id)
        course = next(c for c in courses if c.id == s.course_id)
        for vid in dict.fromkeys(people):
            record_rows.append({"volunteer_id": vid, "organization_id": s.organization_id, "name": course.name,
                                "content": course.content[:500], "hours": s.hours, "host_unit": org_name,
                                "held_on": s.held_on, "recorded_at": utcnow()})
            keys.append((s.id, vid))
    ids = list(db.session.scalars(insert(TrainingRecord).returning(TrainingRecord.id, sort_by_parameter_order=True),
                                  record_rows)) if record_rows else []
    if ids:
        db.session.execute(insert(TrainingAttendee), [
            {"session_id": sid, "volunteer_id": vid, "record_id": rid, "marked_at": utcnow()}
            for (sid, vid), rid in zip(keys, ids)])
    # The demo organizers: a session held yesterday waiting for attendance, and one next week.
    for org in lead[:2]:
        db.session.add(TrainingSession(course_id=pre.id, organization_id=org.id, held_on=today - timedelta(days=1),
                                       place="社区党群服务中心", hours=pre.default_hours, trainer="林敏老师",
                                       note="签到表已收回，待录入参训人员。", created_at=utcnow()))
        db.session.add(TrainingSession(course_id=skills[0].id, organization_id=org.id, held_on=today + timedelta(days=7),
                                       place="市青年志愿者服务中心", hours=skills[0].default_hours, trainer="市红十字会培训师",
                                       capacity=40, created_at=utcnow()))
    db.session.flush()
    click.echo(f"    {len(courses)} 门培训课程，{len(sessions) + 2 * len(lead[:2])} 场培训，{len(ids)} 人次参训")
