"""Demo commendation data: last year's campaign decided with winners (their awards on the volunteers'
ledgers and certificates to download), and this year's campaign in the panel-scoring stage with
nominations from every seeded district in every state, five reviewers (the demo account `reviewer`
among them, one reviewer recusing from their own organization) and part of the scores entered.

Nominations go through services.transition so that their steps are exactly what people would have
produced; the actors of districts and organizations without a demo account are named stand-ins.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from blueprints.accounts.models import Role, User
from blueprints.awards import services
from blueprints.awards.models import Campaign, Nomination, NominationStatus, NomineeType, ScoreSheet
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core.cli import DEMO_PASSWORD
from core.extensions import db
from core.timeutil import local_today

REVIEWERS = [("reviewer_zhou", "周建国（市志愿服务联合会）"), ("reviewer_lin", "林慧（广东海洋大学）"),
             ("reviewer_huang", "黄志强（市民政局）"), ("reviewer_wu", "吴秀英（市总工会）")]
SUMMARIES = [
    "扎根社区{y}年，组织助老、助残服务数百场，被居民称为“身边的活雷锋”。",
    "常年参与文明交通劝导和海滨环保行动，带动身边青年加入志愿服务。",
    "台风“摩羯”过境后连续七天参与灾后清理和物资转运，表现突出。",
    "发挥医护专长，坚持每月为社区老人义诊，累计服务两千余人次。",
    "组织“四点半课堂”，为留守儿童辅导功课、开展科普活动。",
]
PROJECTS = ["“银龄守护”社区居家养老志愿服务项目", "“护蓝行动”海湾环保志愿服务项目", "“四点半课堂”关爱留守儿童项目",
            "“文明出行”交通劝导志愿服务项目"]


def _actor(role: Role, name: str, user: User | None = None):
    return user or SimpleNamespace(role=role, id=None, display_name=name, username="")


def _reviewers(ctx: dict) -> list[User]:
    users = [ctx.get("users", {}).get("reviewer")]
    for username, name in REVIEWERS:
        u = db.session.scalar(select(User).where(User.username == username))
        if u is None:
            u = User(username=username, display_name=name, role=Role.REVIEWER)
            u.set_password(DEMO_PASSWORD)
            db.session.add(u)
        users.append(u)
    db.session.flush()
    return [u for u in users if u is not None]


def _top_volunteers(org: Organization, n: int) -> list[Volunteer]:
    return list(db.session.scalars(
        select(Volunteer).where(Volunteer.id.in_(select(Membership.volunteer_id).where(
            Membership.organization_id == org.id)), Volunteer.status == VolunteerStatus.ACTIVE)
        .order_by(Volunteer.total_hours.desc(), Volunteer.id).limit(n)))


def _next_commemoration(after: date) -> date:
    """The first of 3月5日, 5月4日, 12月5日 (003) on or after a day."""
    days = [date(y, m, d) for y in (after.year, after.year + 1) for m, d, _ in services.PRESENTATION_DAYS]
    return min(d for d in days if d >= after)


def _campaign(year: int, start: date, admin: User, title: str) -> Campaign:
    d = services.CampaignData(year=year, title=title, nomination_start=start, nomination_end=start + timedelta(days=30),
                              district_deadline=start + timedelta(days=40), review_deadline=start + timedelta(days=55),
                              notice_start=start + timedelta(days=60), notice_end=start + timedelta(days=66),
                              presentation_date=_next_commemoration(start + timedelta(days=67)))
    return services.create_campaign(admin, d, [dict(c) for c in services.DEFAULT_CRITERIA])


def _nominate(c: Campaign, kind, org: Organization, leader, rng: random.Random, volunteer: Volunteer | None = None,
              project: str = "") -> Nomination:
    n = Nomination(campaign_id=c.id, kind_id=kind.id, organization_id=org.id, district_id=org.district_id,
                   created_by_id=getattr(leader, "id", None))
    if volunteer is not None:
        n.volunteer_id, n.nominee_name = volunteer.id, volunteer.name
    elif project:
        n.project_title = n.nominee_name = project
        # the project's own activity, when the organization held one: the award then shows on its page
        from blueprints.activities.models import Activity

        n.activity_id = db.session.scalar(select(Activity.id).where(
            Activity.organization_id == org.id, Activity.held_on <= min(date(c.year, 12, 31), local_today()))
            .order_by(Activity.held_on.desc()).limit(1))  # held in the campaign's year or before, never ahead
    else:
        n.nominee_org_id, n.nominee_name = org.id, org.name
    n.summary = rng.choice(SUMMARIES).format(y=rng.randint(3, 9))
    n.deeds = (n.summary + "\n\n") * 3 + "以上事迹经推荐单位核实。"
    db.session.add(n)
    db.session.flush()
    db.session.refresh(n)
    services.record_step(n, "create", NominationStatus.DRAFT, NominationStatus.DRAFT, leader, "")
    return n


def _district_candidates(district_id: int, n: int) -> list[Volunteer]:
    """The district's volunteers with the most verified hours, in approved organizations."""
    approved = select(Organization.id).where(Organization.district_id == district_id,
                                             Organization.status == OrgStatus.APPROVED)
    return list(db.session.scalars(
        select(Volunteer).where(Volunteer.primary_org_id.in_(approved), Volunteer.status == VolunteerStatus.ACTIVE)
        .order_by(Volunteer.total_hours.desc(), Volunteer.id).limit(n)))


def _build(c: Campaign, ctx: dict, rng: random.Random, leave_some: bool) -> list[Nomination]:
    """Nominations from every seeded district: submitted, then recommended within quota (or rejected)."""
    users = ctx.get("users", {})
    lead = {o.id: users.get(name) for o, name in zip(ctx.get("lead_orgs", [])[:2], ("org_leader", "org_leader_2"))}
    staff = {}
    for u in (users.get("district_staff"), users.get("district_staff_2")):
        if u is not None and u.region_id:
            staff[u.region_id] = u
    kinds = {k.name: k for k in c.kinds}
    today = local_today()
    out = []
    for dname, district in ctx.get("districts", {}).items():
        checker = _actor(Role.DISTRICT_STAFF, f"{dname}文明办", staff.get(district.id))
        noms: list[Nomination] = []
        lead_here = [o for o in ctx.get("lead_orgs", []) if o.district_id == district.id]
        vols = [v for v in _district_candidates(district.id, 8)
                if not services.eligibility(kinds["最美志愿者"], services.volunteer_facts(v, today))][:4]
        orgs: list[Organization] = []
        for v in vols:
            org = db.session.get(Organization, v.primary_org_id)
            noms.append(_nominate(c, kinds["最美志愿者"], org, _actor(Role.ORG_LEADER, f"{org.name}负责人",
                                                                       lead.get(org.id)), rng, volunteer=v))
            if org not in orgs:
                orgs.append(org)
        orgs = lead_here + [o for o in orgs if o not in lead_here]
        if orgs:
            o = orgs[0]
            noms.append(_nominate(c, kinds["最佳志愿服务组织"], o, _actor(Role.ORG_LEADER, f"{o.name}负责人",
                                                                         lead.get(o.id)), rng))
            o = lead_here[0] if lead_here else orgs[-1]
            noms.append(_nominate(c, kinds["最佳志愿服务项目"], o, _actor(Role.ORG_LEADER, f"{o.name}负责人",
                                                                         lead.get(o.id)), rng,
                                  project=f"{dname}{rng.choice(PROJECTS)}"))
        for j, n in enumerate(noms):
            leader = _actor(Role.ORG_LEADER, f"{n.organization.name}负责人", lead.get(n.organization_id))
            if leave_some and n.kind.nominee_type == NomineeType.PROJECT and n.organization_id in lead:
                continue  # a draft the demo org leader can still finish
            try:
                services.transition(n, "submit", leader)
            except services.AwardError:
                if not leave_some:  # a finished campaign keeps no drafts
                    db.session.delete(n)
                    db.session.flush()
                continue
            if j == 3 and n.kind.nominee_type == NomineeType.VOLUNTEER:
                services.transition(n, "reject", checker, "事迹材料不够具体，服务时长证明不足，本年度暂不推荐。")
                continue
            try:
                services.transition(n, "recommend", checker, "经区文明办审核，同意推荐。")
            except services.AwardError:  # past the district's quota
                services.transition(n, "reject", checker, "本区该奖项推荐名额已满，未予推荐。")
        out.extend(noms)
    return out


def _score_all(c: Campaign, reviewers: list[User], rng: random.Random, skip: User | None = None) -> None:
    for n in db.session.scalars(select(Nomination).where(Nomination.campaign_id == c.id,
                                                         Nomination.status == NominationStatus.RECOMMENDED)):
        base = rng.uniform(0.6, 0.95)
        for r in reviewers:
            if r is skip or services.must_recuse(r, n):
                continue
            points = [str(min(int(cr["max"]), max(0, round(int(cr["max"]) * (base + rng.uniform(-0.1, 0.1)))))) for cr in
                      c.criteria]
            services.score(r, n, points)


# When each step happened, in days after the campaign's start (seeding runs "now").
STEP_DAYS = {"create": (1, 20), "submit": (21, 29), "recommend": (31, 39), "reject": (31, 39), "rank": (55, 55),
             "publicize": (60, 60), "drop": (60, 60), "award": (67, 67)}


def _backdate(c: Campaign, start: date) -> None:
    from datetime import datetime, time

    from blueprints.awards.models import NominationStep

    rng = random.Random(c.id)
    for step in db.session.scalars(select(NominationStep).join(Nomination).where(Nomination.campaign_id == c.id)):
        lo, hi = STEP_DAYS.get(step.action, (1, 1))
        day = start + timedelta(days=rng.randint(lo, hi))
        step.at = datetime.combine(min(day, local_today()), time(1 + rng.randint(0, 8), rng.randint(0, 59)))
    db.session.flush()


def seed(ctx: dict) -> None:
    if db.session.scalar(select(Campaign.id).limit(1)) is not None:
        return
    users = ctx.get("users", {})
    admin = users.get("city_admin") or db.session.scalar(select(User).where(User.role == Role.CITY_ADMIN))
    if admin is None or not ctx.get("districts"):
        return
    rng = random.Random(905)
    today = local_today()
    reviewers = _reviewers(ctx)
    lead_orgs = ctx.get("lead_orgs", [])
    if len(reviewers) > 2 and len(lead_orgs) > 1:
        reviewers[2].organizations = [lead_orgs[1]]  # must recuse from that organization's nominees

    # Last year: decided, with winners and certificates.
    past_start = date(today.year - 1, 9, 1)
    past = _campaign(today.year - 1, past_start, admin, f"{today.year - 1}年度湛江市志愿服务先进典型评选表彰")
    past.nomination_start, past.nomination_end = past_start, today + timedelta(days=1)  # open while seeding
    _build(past, ctx, rng, leave_some=False)
    past.nomination_end = past_start + timedelta(days=30)
    services.set_panel(admin, past, [u.id for u in reviewers])
    services.advance(admin, past, "start_scoring")
    _score_all(past, reviewers, rng)
    services.advance(admin, past, "close_scoring")
    services.advance(admin, past, "publish")
    services.advance(admin, past, "decide")
    _backdate(past, past_start)

    # This year: nominations closed, the panel is scoring; the demo reviewer still has work to do.
    start = today - timedelta(days=45)
    cur = _campaign(today.year, start, admin, f"{today.year}年度湛江市志愿服务先进典型评选表彰")
    cur.nomination_start, cur.nomination_end = start, today + timedelta(days=1)  # open while seeding
    _build(cur, ctx, rng, leave_some=True)
    cur.nomination_end = today - timedelta(days=10)
    cur.district_deadline, cur.review_deadline = today - timedelta(days=3), today + timedelta(days=10)
    cur.notice_start, cur.notice_end = today + timedelta(days=12), today + timedelta(days=18)
    cur.presentation_date = _next_commemoration(cur.notice_end + timedelta(days=1))
    services.set_panel(admin, cur, [u.id for u in reviewers])
    services.advance(admin, cur, "start_scoring")
    _score_all(cur, reviewers[1:], rng)  # the demo account `reviewer` has not scored yet
    # One of the others has only just started.
    late = reviewers[-1]
    for s in list(db.session.scalars(select(ScoreSheet).join(Nomination).where(
            ScoreSheet.reviewer_id == late.id, Nomination.campaign_id == cur.id).order_by(ScoreSheet.id)))[3:]:
        db.session.delete(s)
    db.session.flush()
    _backdate(cur, start)
