"""Demo organizations: ~300 of every kind across the nine districts, with the 总队/支队/大队
hierarchy (002), a realistic mix of states (most registered; some waiting, returned, suspended,
deregistered, drafts), their registration history, and pending applicant accounts for the ones still
in review. The two LEAD_ORGS are the ones the demo accounts org_leader / org_leader_2 lead.

Bulk inserts (a few statements per table) keep `flask seed-demo` fast; derived columns (name_key,
district_id) that the ORM event would fill are computed here.
"""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from blueprints.accounts.models import Role, User, UserStatus, user_organization
from blueprints.orgs.models import Organization, OrgServiceField, OrgStatus, OrgStep, RegistrationType
from blueprints.orgs.services import DEFAULT_KINDS, DEFAULT_SERVICE_FIELDS, name_key
from blueprints.regions.models import Region, RegionLevel
from core.extensions import db
from core.timeutil import utcnow
from core.validators import credit_code_check_char

LEAD_ORGS = [
    ("赤坎区中华街道社区志愿服务队", "社区志愿服务队", "440802001"),
    ("霞山区解放街道党员志愿服务队", "党员志愿服务队", "440803001"),
]
TARGET = 300

SURNAMES = "陈林黄李张吴王梁刘杨郑谢何许邓冯蔡庞钟莫"
GIVEN = ["志强", "海燕", "建华", "丽娟", "国栋", "晓敏", "伟明", "秀英", "文杰", "春梅", "俊杰", "美玲", "家豪", "玉兰"]
THEMES = {
    "党员志愿服务队": ["党员先锋", "红色先锋", "党员突击"],
    "专业志愿服务队": ["应急救援", "卫生防疫", "法律援助", "心理安抚", "水上救援", "医疗救护"],
    "社区志愿服务队": ["邻里守望", "社区关爱", "文明家园"],
    "高校志愿者队伍": ["广东海洋大学青年", "岭南师范学院青年", "广东医科大学青年", "湛江科技学院青年"],
    "企业志愿服务队": ["湛江港集团", "宝钢湛江钢铁", "中海油湛江", "广东电网湛江供电局"],
    "机关/事业单位志愿服务队": ["税务", "交通运输", "市场监管", "卫生健康"],
    "社会组织/民间团体": ["蓝天救援", "爱心义工", "绿色环保", "夕阳红关爱"],
    "志愿服务联合会/协会": ["志愿服务联合会", "义工联合会", "志愿者协会"],
}
FIELDS_BY_KIND = {
    "党员志愿服务队": ["文明劝导", "社区服务", "扶老", "济困"],
    "专业志愿服务队": ["应急救援", "救灾", "助医", "法律援助", "心理疏导"],
    "社区志愿服务队": ["社区服务", "扶老", "助残", "环境保护", "文明劝导"],
    "高校志愿者队伍": ["助学", "科普", "环境保护", "社区服务"],
    "企业志愿服务队": ["扶贫", "环境保护", "助学", "救灾"],
    "机关/事业单位志愿服务队": ["文明劝导", "法律援助", "科普", "济困"],
    "社会组织/民间团体": ["济困", "救孤", "恤病", "助残", "应急救援"],
    "志愿服务联合会/协会": ["社区服务", "扶贫", "助学", "科普"],
}
# (status, weight): most are registered, some in each other state (issue #4: "some pending,
# returned, suspended").
STATUS_MIX = [(OrgStatus.APPROVED, 78), (OrgStatus.SUBMITTED, 8), (OrgStatus.RETURNED, 5),
              (OrgStatus.SUSPENDED, 4), (OrgStatus.DEREGISTERED, 2), (OrgStatus.DRAFT, 3)]
RETURN_REASONS = ["统一社会信用代码与登记证书不一致，请核对后重新提交。", "请补充组织简介和主要服务领域。",
                  "联系电话无法接通，请更新联系人信息。", "所属区域填写有误，应为所在社区。"]
SUSPEND_REASONS = ["连续六个月未开展志愿服务活动。", "负责人变更，待补充材料。"]
DEREGISTER_REASONS = ["组织已解散，经负责人申请注销。"]


def _credit_code(n: int) -> str:
    body = f"52440800MJ{n:07d}"
    return body + credit_code_check_char(body)


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def seed(ctx: dict) -> None:
    rng = random.Random(4404)
    lead = []
    for name, kind, region_code in LEAD_ORGS:
        org = db.session.scalar(select(Organization).where(Organization.name == name))
        if org is None:
            region = db.session.scalar(select(Region).where(Region.code == region_code))
            org = Organization(name=name, kind=kind, region=region, status=OrgStatus.APPROVED,
                               registration_type=RegistrationType.FILED, contact_name=_person(rng),
                               contact_phone=_phone(rng), address=f"{region.name}文明实践站",
                               founded_on=date(2019, 3, 5), description="扎根街道社区，常态化开展邻里守望、关爱老人和文明劝导服务。",
                               created_at=utcnow() - timedelta(days=400), submitted_at=utcnow() - timedelta(days=400))
            org.service_field_rows = [OrgServiceField(field=f) for f in FIELDS_BY_KIND[kind][:3]]
            db.session.add(org)
            db.session.flush()
            db.session.add_all([
                OrgStep(organization=org, action=action, from_status=frm, to_status=to, actor_name=actor,
                        at=org.created_at + timedelta(days=days))
                for action, frm, to, actor, days in (("create", None, "draft", org.contact_name, 0),
                                                      ("submit", "draft", "submitted", org.contact_name, 0),
                                                      ("approve", "submitted", "approved", f"{org.district.name}文明办", 3))
            ])
        lead.append(org)
    db.session.flush()
    ctx["lead_orgs"] = lead
    if db.session.scalar(select(func.count()).select_from(Organization)) >= TARGET // 2:
        return  # already seeded
    _bulk(rng)


def fill_to(total: int, seed_: int = 5000) -> int:
    """Top the registry up to `total` organizations (the benchmark's 5,000); returns how many were added."""
    have = db.session.scalar(select(func.count()).select_from(Organization))
    if have >= total:
        return 0
    n_districts = db.session.scalar(select(func.count()).select_from(Region).where(Region.level == RegionLevel.DISTRICT))
    _bulk(random.Random(seed_), per_district=-(-(total - have) // max(1, n_districts)), heads=False)
    return db.session.scalar(select(func.count()).select_from(Organization)) - have


def _bulk(rng: random.Random, per_district: int = (TARGET - 1) // 9, heads: bool = True) -> None:
    city = db.session.scalar(select(Region).where(Region.level == RegionLevel.CITY))
    districts = list(db.session.scalars(select(Region).where(Region.level == RegionLevel.DISTRICT).order_by(Region.sort)))
    if city is None or not districts:
        return
    below: dict[int, list[Region]] = {}
    for r in db.session.scalars(select(Region).where(Region.level.in_([RegionLevel.TOWN, RegionLevel.COMMUNITY]))):
        below.setdefault(r.district_id, []).append(r)
    now = utcnow()
    taken = set(db.session.scalars(select(Organization.name_key)))
    code_seq = iter(range(len(taken) + 1, 10_000_000))
    # Organization rows, each with "_level" (0 city 总队, 1 district 总队, 2 支队, 3 大队 and the others)
    # and "_parent" (a name); parents are inserted first.
    rows: list[dict] = []

    def add(name: str, kind: str, region: Region, district_id: int | None, level: int, parent: str | None,
            status: OrgStatus | None = None) -> None:
        key = name_key(name)
        if key in taken:
            return
        taken.add(key)
        status = status or rng.choices([s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX])[0]
        registered = level < 3 or rng.random() < 0.35
        # Applications still open are recent; registered organizations go back three years.
        recent = status in (OrgStatus.SUBMITTED, OrgStatus.RETURNED, OrgStatus.DRAFT)
        created = now - timedelta(days=rng.randint(3, 45) if recent else rng.randint(60, 1100),
                                  minutes=rng.randint(0, 1440))
        demo = status == OrgStatus.APPROVED and rng.random() < 0.12
        incubated = status != OrgStatus.DRAFT and rng.random() < 0.15
        rows.append(dict(
            name=name, name_key=key, kind=kind, region_id=region.id, district_id=district_id, status=status,
            registration_type=RegistrationType.REGISTERED if registered else RegistrationType.FILED,
            credit_code=_credit_code(next(code_seq)) if registered else None,
            contact_name=_person(rng), contact_phone=_phone(rng),
            address=f"{region.name}{rng.choice(['文化活动中心', '党群服务中心', '新时代文明实践站', '综合楼'])}",
            founded_on=(created - timedelta(days=rng.randint(30, 2000))).date(),
            is_demo_site=demo, demo_site_year=rng.choice([2023, 2024, 2025]) if demo else None,
            is_incubated=incubated, incubated_year=rng.choice([2022, 2023, 2024, 2025]) if incubated else None,
            description=f"{name}围绕{'、'.join(FIELDS_BY_KIND[kind][:2])}等领域常态化开展志愿服务。",
            submitted_at=created + min(timedelta(days=1), (now - created) / 3) if status != OrgStatus.DRAFT else None,
            created_at=created, updated_at=created,
            _level=level, _parent=parent,
        ))

    if heads:
        add("湛江市志愿服务总队", "志愿服务联合会/协会", city, None, 0, None, OrgStatus.APPROVED)
    for d in districts:
        regions = below.get(d.id) or [d]
        short = d.name[:-1] if len(d.name) > 2 else d.name
        hq = f"{d.name}志愿服务总队"
        branches = [f"{d.name}{theme}志愿服务支队" for theme in ("应急救援", "文明实践", "关爱服务")]
        if heads:
            add(hq, "志愿服务联合会/协会", d, d.id, 1, "湛江市志愿服务总队", OrgStatus.APPROVED)
            for b in branches:
                add(b, "专业志愿服务队" if "应急" in b else "社区志愿服务队", d, d.id, 2, hq, OrgStatus.APPROVED)
        n, start = 0, len(rows)
        quota = per_district - (4 if heads else 0)
        while len(rows) - start < quota and n < 3 * quota:
            kind = DEFAULT_KINDS[n % len(DEFAULT_KINDS)]
            region = rng.choice(regions)
            theme = rng.choice(THEMES[kind])
            if kind == "社区志愿服务队":
                name = f"{region.name}{theme}志愿服务队"
            elif kind == "党员志愿服务队":
                name = f"{region.name}{theme}志愿服务队"
            elif kind in ("高校志愿者队伍", "企业志愿服务队", "机关/事业单位志愿服务队"):
                name = f"{theme}{short}志愿服务队" if kind != "高校志愿者队伍" else f"{theme}志愿者{short}分队"
            elif kind == "志愿服务联合会/协会":
                name = f"{region.name}{theme}"
            else:
                name = f"{short}{theme}{'协会' if rng.random() < 0.5 else '服务队'}"
            parent = rng.choice(branches) if rng.random() < 0.35 else None
            if parent:
                name = name.replace("志愿服务队", "志愿服务大队") if "志愿服务队" in name else name
            before = len(rows)
            add(name, kind, region, d.id, 3, parent)
            if len(rows) == before:  # name taken: another community or theme next time
                add(f"{region.name}{kind.split('/')[0].replace('志愿服务队', '')}志愿服务队{n + 1}号", kind, region,
                    d.id, 3, parent)
            n += 1

    if not rows:
        return
    # Insert level by level so that parents have ids.
    ids: dict[str, int] = {o.name: o.id for o in db.session.scalars(select(Organization))}
    cols = [c for c in rows[0] if not c.startswith("_")]
    for level in (0, 1, 2, 3):
        batch = [r for r in rows if r["_level"] == level]
        if not batch:
            continue
        values = [{**{c: r[c] for c in cols}, "parent_id": ids.get(r["_parent"]) if r["_parent"] else None}
                  for r in batch]
        new_ids = db.session.scalars(insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                                     values).all()
        for r, new_id in zip(batch, new_ids):
            ids[r["name"]] = new_id
            r["id"] = new_id

    fields, steps, users, links = [], [], [], []
    demo_hash = generate_password_hash("Demo@2026")
    office = {d.id: f"{d.name}文明办" for d in districts}
    for i, r in enumerate(rows):
        oid, status, at = r["id"], r["status"], r["created_at"]
        for f in rng.sample(FIELDS_BY_KIND[r["kind"]], rng.randint(1, 3)):
            fields.append({"organization_id": oid, "field": f})
        if rng.random() < 0.2:
            extra = rng.choice(DEFAULT_SERVICE_FIELDS)
            if extra not in {x["field"] for x in fields[-3:] if x["organization_id"] == oid}:
                fields.append({"organization_id": oid, "field": extra})
        who = office.get(r["district_id"], "市文明办")
        trail = [("create", None, "draft", "", r["contact_name"])]
        if status != OrgStatus.DRAFT:
            trail.append(("submit", "draft", "submitted", "", r["contact_name"]))
        if status == OrgStatus.RETURNED:
            trail.append(("return", "submitted", "returned", rng.choice(RETURN_REASONS), who))
        if status in (OrgStatus.APPROVED, OrgStatus.SUSPENDED, OrgStatus.DEREGISTERED):
            if rng.random() < 0.2:
                trail += [("return", "submitted", "returned", rng.choice(RETURN_REASONS), who),
                          ("resubmit", "returned", "submitted", "已按要求补充。", r["contact_name"])]
            trail.append(("approve", "submitted", "approved", "", who))
        if status == OrgStatus.SUSPENDED:
            trail.append(("suspend", "approved", "suspended", rng.choice(SUSPEND_REASONS), who))
        if status == OrgStatus.DEREGISTERED:
            trail.append(("deregister", "approved", "deregistered", rng.choice(DEREGISTER_REASONS), who))
        # The submit step happens at the organization's submitted_at (the queue shows that time); later steps
        # follow it, never in the future.
        start = r["submitted_at"] or at
        gap = min(timedelta(days=2), (now - start) / (len(trail) + 1))
        for k, (action, frm, to, comment, actor) in enumerate(trail):
            steps.append(dict(organization_id=oid, action=action, from_status=frm, to_status=to, comment=comment,
                              actor_name=actor, at=at if k == 0 else start + gap * (k - 1)))
        # Applicants still in review have a pending org_leader account (activated on approval).
        if status in (OrgStatus.SUBMITTED, OrgStatus.RETURNED, OrgStatus.DRAFT):
            users.append(dict(username=f"apply{oid:04d}", display_name=r["contact_name"], password_hash=demo_hash,
                              role=Role.ORG_LEADER, status=UserStatus.PENDING, must_change_password=False,
                              failed_logins=0, session_token=secrets.token_hex(16), created_at=at, updated_at=at))
            links.append(oid)
    db.session.execute(insert(OrgServiceField), fields)
    db.session.execute(insert(OrgStep), steps)
    if users:
        user_ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users).all()
        db.session.execute(insert(user_organization), [{"user_id": u, "organization_id": o}
                                                       for u, o in zip(user_ids, links)])
    db.session.flush()
