"""Demo project library: projects of the demo organizations and of others in every stage (立项, 实施, 评估,
结项 with its evaluation), activities linked to them, and a purchased-service contract and a 最佳志愿服务项目
nomination pointing at one where they exist. Idempotent: skipped once a project exists."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select, update

from blueprints.activities.models import Activity
from blueprints.awards.models import AwardKind, NomineeType, Nomination
from blueprints.funding.models import ServiceProject
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.projects import services
from blueprints.projects.models import ProjectEvaluation, ProjectStatus, VolunteerProject, VolunteerProjectStep
from core.extensions import db
from core.timeutil import local_today

IDEAS = [  # title, field, target group, goals
    ("银龄关爱·邻里守望", "扶老", "空巢老人", "为辖区空巢老人每月上门探访两次，建立一人一档，代办就医购物。"),
    ("留守儿童四点半课堂", "助学", "留守儿童", "每周三次课后辅导与阅读陪伴，学期末开展成长汇报。"),
    ("助残微心愿", "助残", "残疾人", "收集并认领残疾人微心愿，提供出行陪伴和康复协助。"),
    ("海岸线守护行动", "环境保护", "社区居民", "每月两次净滩，开展红树林保护宣传，减少海漂垃圾。"),
    ("文明交通劝导岗", "文明劝导", "游客市民", "在重点路口设岗，高峰时段劝导文明出行。"),
    ("社区法律明白人", "法律援助", "社区居民", "每月一次法律咨询进社区，培养社区法律明白人。"),
    ("困境儿童成长护航", "救孤", "困境儿童", "结对帮扶困境儿童，开展心理陪伴与学业支持。"),
    ("环卫工人爱心驿站", "社区服务", "环卫工人", "依托志愿服务站为环卫工人提供饮水、休息和义诊。"),
]
STAGES = [ProjectStatus.INITIATED, ProjectStatus.IMPLEMENTING, ProjectStatus.EVALUATING, ProjectStatus.CLOSED]
ORGS = 14


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(VolunteerProject)):
        return
    rng = random.Random(1805)
    today = local_today()
    users = ctx.get("users", {})
    lead = list(ctx.get("lead_orgs", []))
    others = list(db.session.scalars(select(Organization).where(Organization.status == OrgStatus.APPROVED)
                                     .order_by(Organization.id).limit(ORGS)))
    orgs = list({o.id: o for o in lead + others}.values())[:ORGS]
    made: list[VolunteerProject] = []
    for i, org in enumerate(orgs):
        # The demo organizations get one project in every stage; the others one each, stages in turn.
        stages = STAGES if org in lead[:2] else [STAGES[i % len(STAGES)]]
        for j, stage in enumerate(stages):
            title, field, group, goals = IDEAS[(i + j) % len(IDEAS)]
            start = date(today.year, 1, 1) + timedelta(days=rng.randint(0, 60)) if stage != ProjectStatus.CLOSED \
                else date(today.year - 1, 3, 1)
            end = date(start.year, 12, 31)
            p = VolunteerProject(title=f"{title}（{org.name[:12]}）" if org not in lead[:2] else title,
                                 organization_id=org.id, field=field, target_group=group, start_date=start,
                                 end_date=end, budget=Decimal(rng.choice([0, 5000, 12000, 20000, 50000])), goals=goals,
                                 status=ProjectStatus.INITIATED)
            db.session.add(p)
            db.session.flush()
            actor = users.get("org_leader") if org in lead[:1] else users.get("org_leader_2") if org in lead[1:2] else None
            office = users.get("district_staff") or users.get("city_admin")
            _step(p, "create", None, ProjectStatus.INITIATED, actor)
            path = STAGES[1:STAGES.index(stage) + 1]
            for to in path:
                action = {"implementing": "start", "evaluating": "review", "closed": "close"}[to.value]
                if to == ProjectStatus.CLOSED:
                    scores = {k: Decimal(rng.randint(70, 98)) for k, _, _ in services.CRITERIA}
                    total = services.weighted_total(scores)
                    db.session.add(ProjectEvaluation(
                        project_id=p.id, evaluated_on=min(today, end + timedelta(days=20)), evaluator="区文明办评估组",
                        scores=[{"key": k, "label": label, "weight": w, "score": str(scores[k])} for k, label, w in services.CRITERIA],
                        total=total, conclusion="目标基本达成，服务对象反映良好，台账完整。",
                        evaluated_by_id=office.id if office else None))
                    _step(p, action, ProjectStatus.EVALUATING, to, office, f"评估总分 {total}（{services.grade(total)}）")
                else:
                    _step(p, action, p.status, to, actor)
                p.status = to
            made.append(p)
    db.session.flush()
    # Activities of the organization during the project's period belong to it (a few each).
    linked = 0
    for p in made:
        if p.status == ProjectStatus.INITIATED:
            continue
        ids = list(db.session.scalars(select(Activity.id).where(
            Activity.organization_id == p.organization_id, Activity.project_id.is_(None),
            Activity.held_on.between(p.start_date, min(p.end_date, today))).order_by(Activity.held_on).limit(4)))
        if ids:
            db.session.execute(update(Activity).where(Activity.id.in_(ids)).values(project_id=p.id))
            linked += len(ids)
    # A purchased-service contract and a 最佳志愿服务项目 nomination point at a project of their organization.
    by_org = {}
    for p in made:
        by_org.setdefault(p.organization_id, p)
    contracts = 0
    for sp in db.session.scalars(select(ServiceProject).where(ServiceProject.provider_org_id.in_(list(by_org)),
                                                              ServiceProject.project_id.is_(None))):
        sp.project_id = by_org[sp.provider_org_id].id
        contracts += 1
    nominations = 0
    for n in db.session.scalars(select(Nomination).join(AwardKind, AwardKind.id == Nomination.kind_id).where(
            AwardKind.nominee_type == NomineeType.PROJECT, Nomination.organization_id.in_(list(by_org)))):
        n.project_id = by_org[n.organization_id].id
        nominations += 1
    db.session.flush()
    click.echo(f"    {len(made)} 个志愿服务项目，{linked} 项活动归入项目，{contracts} 个购买服务合同、"
               f"{nominations} 个项目类推荐关联项目库")


def _step(p: VolunteerProject, action: str, frm, to, user, comment: str = "") -> None:
    p.steps.append(VolunteerProjectStep(
        action=action, from_status=frm.value if frm else None, to_status=to.value, comment=comment,
        actor_id=user.id if user else None, actor_name=(user.display_name or user.username) if user else "系统"))
