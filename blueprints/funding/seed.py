"""Demo funding data: two years of ledgers for the city, five districts and their organizations,
purchased-service projects in every status with payments (one over-paid with a reason), and audits
with findings that lock their periods (seed 003: 定时审计，接受社会监督).

Ledger lines are bulk-inserted; projects and audits go through the services so that their steps,
payments and linked ledger lines are exactly what a person would have produced.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from blueprints.funding import services
from blueprints.funding.models import EntryKind, FundAudit, ItemStatus, LedgerEntry, ProjectStatus, RectificationItem
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region
from core.extensions import db
from core.timeutil import local_today

SEED_DISTRICTS = ["赤坎区", "霞山区", "坡头区", "麻章区", "廉江市"]
ORGS_PER_DISTRICT = 4
DISTRICT_SPENDING = [("志愿者保险", 3000, 12000), ("志愿者培训", 2000, 9000), ("宣传物料", 800, 4000),
                     ("站点建设", 5000, 30000), ("表彰奖励", 2000, 10000), ("办公费用", 500, 2500)]
ORG_SPENDING = [("志愿服务活动", 200, 3000), ("交通餐饮补贴", 100, 1200), ("宣传物料", 100, 800),
                ("志愿者保险", 300, 2000), ("志愿者培训", 200, 1500)]
ORG_INCOME = [("社会捐赠", 500, 8000), ("志愿服务基金", 1000, 6000), ("自筹", 200, 2000)]
PROJECTS = [
    # (district, title, amount, status, payments as shares of the amount, over-paid reason)
    ("赤坎区", "赤坎区社区居家养老志愿服务项目", "120000.00", ProjectStatus.CLOSED, [Decimal("0.3"), Decimal("0.4"), Decimal("0.3")], ""),
    ("赤坎区", "赤坎区关爱留守儿童“四点半课堂”项目", "86000.00", ProjectStatus.ACCEPTANCE, [Decimal("0.5"), Decimal("0.3")], ""),
    ("霞山区", "霞山区文明交通劝导志愿服务项目", "150000.00", ProjectStatus.IN_PROGRESS, [Decimal("0.4")], ""),
    ("霞山区", "霞山区海滨公园环保志愿服务项目", "60000.00", ProjectStatus.CLOSED, [Decimal("0.5"), Decimal("0.5"), Decimal("0.05")],
     "增加台风后海滩清理两场，经区文明办批准追加"),
    ("坡头区", "坡头区应急救援志愿者培训项目", "98000.00", ProjectStatus.TENDERING, [], ""),
    ("麻章区", "麻章区助残康复志愿服务项目", "75000.00", ProjectStatus.INITIATED, [], ""),
    ("廉江市", "廉江市乡村学校科普志愿服务项目", "110000.00", ProjectStatus.IN_PROGRESS, [Decimal("0.35")], ""),
]
ROUTE = {
    ProjectStatus.INITIATED: [],
    ProjectStatus.TENDERING: ["tender"],
    ProjectStatus.IN_PROGRESS: ["tender", "award"],
    ProjectStatus.ACCEPTANCE: ["tender", "award", "submit"],
    ProjectStatus.CLOSED: ["tender", "award", "submit", "close"],
}


def _money(rng: random.Random, lo: int, hi: int) -> Decimal:
    return (Decimal(rng.randint(lo * 100, hi * 100)) / 100).quantize(Decimal("0.01"))


def _days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(LedgerEntry)):
        return
    rng = random.Random(20260508)
    today = local_today()
    first = date(today.year - 1, 1, 1)
    users = ctx.get("users", {})
    admin = users.get("city_admin")
    districts = {r.name: r for r in db.session.scalars(select(Region).where(Region.name.in_(SEED_DISTRICTS)))}
    city = ctx.get("city")
    lead_ids = {o.id for o in ctx.get("lead_orgs", [])}
    rows: list[dict] = []
    voucher = [0]

    def add(holder: dict, day: date, kind: EntryKind, amount: Decimal, source: str, purpose: str, project: str = ""):
        voucher[0] += 1
        rows.append(dict(holder, entry_date=day, kind=kind, amount=amount, source=source, purpose=purpose,
                         project=project, voucher_no=f"记-{day.year}-{voucher[0]:05d}", note="", attachment_name="",
                         reason="", created_by_id=None))

    months = [(y, m) for y in (today.year - 1, today.year) for m in range(1, 13) if date(y, m, 1) <= today]

    def day_in(y: int, m: int) -> date:
        last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
        d = date(y, m, rng.randint(1, last))
        return min(d, today)

    # The city's and the districts' own ledgers: quarterly 财政拨款, monthly spending.
    holders = ([("湛江市", {"region_id": city.id, "organization_id": None}, 4)] if city is not None else []) + [
        (name, {"region_id": r.id, "organization_id": None}, 1) for name, r in districts.items()]
    for name, holder, scale in holders:
        for y, m in months:
            if m in (1, 4, 7, 10):
                add(holder, date(y, m, 5) if date(y, m, 5) <= today else today, EntryKind.INCOME,
                    Decimal(90000 * scale + rng.randint(0, 20) * 1000), "财政拨款", "志愿服务专项工作经费")
            if m in (3, 9):
                add(holder, day_in(y, m), EntryKind.INCOME, _money(rng, 5000, 30000), "社会捐赠", "企业捐赠")
            for purpose, lo, hi in rng.sample(DISTRICT_SPENDING, 3):
                add(holder, day_in(y, m), EntryKind.EXPENSE, _money(rng, lo * scale, hi * scale), "财政拨款", purpose)
        if name == "湛江市":
            add(holder, date(today.year - 1, 12, 5), EntryKind.INCOME, Decimal("200000.00"), "志愿服务基金",
                "市志愿服务基金会拨付")
    # Organizations: the lead ones and a few approved ones per district.
    orgs: list[Organization] = []
    for r in districts.values():
        orgs += list(db.session.scalars(select(Organization).where(
            Organization.status == OrgStatus.APPROVED,
            Organization.region_id.in_(select(Region.id).where(Region.path.startswith(r.path))))
            .order_by(Organization.id.in_(lead_ids).desc(), Organization.id).limit(ORGS_PER_DISTRICT)))
    for org in orgs:
        holder = {"organization_id": org.id, "region_id": None}
        for y, m in months:
            if rng.random() < 0.6:
                source, lo, hi = rng.choice(ORG_INCOME)
                add(holder, day_in(y, m), EntryKind.INCOME, _money(rng, lo, hi), source,
                    {"社会捐赠": "爱心企业捐赠", "志愿服务基金": "基金资助", "自筹": "会员自筹"}[source])
            for purpose, lo, hi in rng.sample(ORG_SPENDING, rng.randint(1, 2)):
                add(holder, day_in(y, m), EntryKind.EXPENSE, _money(rng, lo, hi),
                    rng.choice(["社会捐赠", "志愿服务基金", "自筹"]), purpose)
        add(holder, date(today.year - 1, 2, 20), EntryKind.INCOME, Decimal("10000.00"), "财政拨款",
            "区文明办年度补助")
        add(holder, date(today.year - 1, 1, 2), EntryKind.INCOME, _money(rng, 3000, 9000), "自筹", "上年结转")
    db.session.execute(insert(LedgerEntry), rows)
    db.session.flush()

    # Purchased-service projects through the services: steps, payments and linked ledger lines.
    if admin is not None:
        by_district = {}
        for org in orgs:
            region = db.session.get(Region, org.region_id)
            by_district.setdefault(region.district_id, []).append(org)
        for n, (dname, title, amount, status, shares, over_reason) in enumerate(PROJECTS):
            district = districts.get(dname)
            if district is None or not by_district.get(district.id):
                continue
            provider = by_district[district.id][n % len(by_district[district.id])]
            start = date(today.year - 1, 3 + n % 4, 1) if status == ProjectStatus.CLOSED else date(today.year, 1, 1)
            end = date(start.year, 12, 31)
            project = services.create_project(admin, services.ProjectData(
                title=title, buyer_region_id=district.id, buyer_name=f"{dname}文明办",
                provider_org_id=provider.id if status != ProjectStatus.INITIATED else None,
                amount=amount, start_date=start, end_date=end,
                description="依据《关于推进志愿服务制度化的实施意见》，以政府购买服务方式立项招标，由志愿服务组织承接运作。"))
            steps_on = [start - timedelta(days=40), start - timedelta(days=25), start - timedelta(days=5)]
            for action in ROUTE[status]:
                services.transition(project, action, admin, {"close": "验收合格，同意结项。",
                                                             "award": "经公开招标确定承接组织。"}.get(action, ""))
            # Payments: made while the project was under way, dated inside its period.
            if shares:
                paying_status = project.status
                project.status = ProjectStatus.IN_PROGRESS
                for k, share in enumerate(shares):
                    paid_on = min(start + timedelta(days=30 + 60 * k), today)
                    services.record_payment(admin, project, paid_on, (project.amount * share).quantize(Decimal("0.01")),
                                            f"GM-{n + 1:02d}-{k + 1}",
                                            over_reason if k == len(shares) - 1 else "")
                project.status = paying_status
            for step, when in zip(project.steps, steps_on + [start + timedelta(days=200), end + timedelta(days=10)]):
                step.at = datetime.combine(min(when, today), time(2, 30))
        db.session.flush()

    # Audits (003): the first 赤坎区 org's first half of last year, and 霞山区's whole last year.
    audits = []
    chikan_org = next((o for o in orgs if o.id in lead_ids), orgs[0] if orgs else None)
    if chikan_org is not None:
        audits.append(FundAudit(
            organization_id=chikan_org.id, audit_date=date(today.year - 1, 8, 12), auditor="湛江市审计局",
            period_start=date(today.year - 1, 1, 1), period_end=date(today.year - 1, 6, 30),
            findings="经费收支基本规范，账实相符。发现：1. 3 笔交通餐饮补贴缺少签收单；2. 社会捐赠收入未在次月公示。",
            items=[RectificationItem(description="补齐 3 笔交通餐饮补贴的签收单", due_date=date(today.year - 1, 9, 30),
                                     status=ItemStatus.DONE, result="已补齐签收单并归档。"),
                   RectificationItem(description="社会捐赠收入按月在服务站公示栏和平台公示", due_date=date(today.year - 1, 10, 31),
                                     status=ItemStatus.IN_PROGRESS, result="已在公示栏公示，平台公示在建设中。")]))
    xiashan = districts.get("霞山区")
    if xiashan is not None and today >= date(today.year, 2, 1):
        audits.append(FundAudit(
            region_id=xiashan.id, audit_date=min(date(today.year, 3, 20), today), auditor="广东信达会计师事务所",
            period_start=date(today.year - 1, 1, 1), period_end=date(today.year - 1, 12, 31),
            findings="专项经费专款专用，未发现违规。建议完善志愿服务基金管理制度，定期向社会公开。",
            items=[RectificationItem(description="制定志愿服务基金管理办法并公开", due_date=date(today.year, 6, 30))]))
    db.session.add_all(audits)
    db.session.flush()
