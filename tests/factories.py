"""Builders of realistic records — the one place every test gets its data from."""
from __future__ import annotations

import itertools
from functools import lru_cache

from werkzeug.security import generate_password_hash

from blueprints.accounts.models import Role, User, UserStatus
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel, RegionYearFigure
from blueprints.regions.services import create_region
from core.extensions import db

PASSWORD = "Test@2026x"
_seq = itertools.count(1)


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    # A cheap hash for tests (the app's own default is scrypt); the check function reads either.
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


def region(parent: Region | None, name: str, code: str | None = None, level: RegionLevel | None = None) -> Region:
    return create_region(parent, name, code, level=level)


def city_tree() -> dict:
    """湛江市 with 赤坎区 and 霞山区, one street and two communities each, and 2026 figures."""
    city = region(None, "湛江市", "440800", RegionLevel.CITY)
    out = {"city": city}
    for key, name, code, street in (("a", "赤坎区", "440802", "中华街道"), ("b", "霞山区", "440803", "解放街道")):
        district = region(city, name, code)
        town = region(district, street, code + "001")
        out[f"district_{key}"] = district
        out[f"town_{key}"] = town
        out[f"community_{key}"] = region(town, "幸福社区", code + "001001")
        out[f"community_{key}2"] = region(town, "和平社区", code + "001002")
        db.session.add(RegionYearFigure(region=district, year=2026, population=300000, urban_population=250000,
                                        party_members=12000, league_members=15000))
    db.session.flush()
    return out


def org(region_: Region, name: str | None = None, status: OrgStatus = OrgStatus.APPROVED, **kw) -> Organization:
    o = Organization(name=name or f"测试志愿服务队{next(_seq)}", region=region_, status=status, **kw)
    db.session.add(o)
    db.session.flush()
    return o


def user(role: Role | str, username: str | None = None, region: Region | None = None,
         orgs: list[Organization] | None = None, password: str = PASSWORD, **kw) -> User:
    u = User(username=username or f"user{next(_seq)}", display_name=kw.pop("display_name", "测试用户"),
             role=Role(role), region=region, status=kw.pop("status", UserStatus.ACTIVE), **kw)
    u.password_hash = _hash(password)
    u.organizations = list(orgs or [])
    db.session.add(u)
    db.session.flush()
    return u


def world() -> dict:
    """A city, two districts, an organization in each, and one account of every role."""
    w = city_tree()
    w["org_a"] = org(w["community_a"], "赤坎区幸福社区志愿服务队")
    w["org_b"] = org(w["community_b"], "霞山区幸福社区志愿服务队")
    w["city_admin"] = user(Role.CITY_ADMIN, "city_admin", w["city"])
    w["district_staff"] = user(Role.DISTRICT_STAFF, "district_staff", w["district_a"])
    w["district_staff_2"] = user(Role.DISTRICT_STAFF, "district_staff_2", w["district_b"])
    w["org_leader"] = user(Role.ORG_LEADER, "org_leader", orgs=[w["org_a"]])
    w["org_leader_2"] = user(Role.ORG_LEADER, "org_leader_2", orgs=[w["org_b"]])
    w["leader"] = user(Role.LEADER, "leader", w["city"])
    w["district_leader"] = user(Role.LEADER, "district_leader", w["district_a"])
    w["reviewer"] = user(Role.REVIEWER, "reviewer")
    db.session.commit()
    return w


def add_volunteer(w: dict) -> dict:
    """The world's volunteer with an account (issue 17): w["person"] (in w["org_v"], an organization of
    their own in district A) and w["volunteer"] (their login "volunteer"). Added on demand (the `as_role`
    and `me` fixtures), so that the other tests' counts stay as they built them."""
    if "volunteer" not in w:
        w["org_v"] = org(w["community_a"], "赤坎区青年志愿服务队")
        w["person"] = volunteer(w["org_v"], "陈小青", by=w["city_admin"])
        w["volunteer"] = volunteer_account(w["person"], "volunteer")
        db.session.commit()
    return w


def volunteer_account(person, username: str | None = None, password: str = PASSWORD, **kw) -> User:
    """The login of a volunteer (issue 17), tied to their person record."""
    from blueprints.accounts.models import VolunteerAccount

    u = user(Role.VOLUNTEER, username, display_name=person.name, password=password, **kw)
    u.volunteer_link = VolunteerAccount(volunteer_id=person.id)
    db.session.flush()
    return u


# ---- organizations (issue #4) ---------------------------------------------------------------------

def credit_code(n: int | None = None) -> str:
    """A valid 统一社会信用代码 (GB 32100 check character) that differs for every call."""
    from core.validators import credit_code_check_char

    body = f"51440800MJ{(next(_seq) if n is None else n) % 10_000_000:07d}"
    return body + credit_code_check_char(body)


def org_with_leader(region_: Region, status: OrgStatus = OrgStatus.SUBMITTED, username: str | None = None,
                    user_status: UserStatus = UserStatus.PENDING, **kw) -> tuple[Organization, User]:
    """An organization (as the public application makes it) and its org_leader account."""
    o = org(region_, status=status, contact_name=kw.pop("contact_name", "王芳"),
            contact_phone=kw.pop("contact_phone", "13812345678"), **kw)
    u = user(Role.ORG_LEADER, username, orgs=[o], status=user_status)
    return o, u


# ---- stations (issue 4) ---------------------------------------------------------------------------

def station(region_: Region, name: str | None = None, station_type: str = "community",
            organization: Organization | None = None, active: bool = True, **kw):
    """A 志愿服务站 in a community (or a public place in any region of a district)."""
    from blueprints.stations.models import Station, StationType

    s = Station(name=name or f"{region_.name}志愿服务站{next(_seq)}", station_type=StationType(station_type),
                region=region_, district_id=region_.district_id, organization=organization, active=active,
                address=kw.pop("address", ""), opening_hours=kw.pop("opening_hours", "周一至周五 08:30–17:30"),
                contact_name=kw.pop("contact_name", "李敏"), contact_phone=kw.pop("contact_phone", "13800138000"), **kw)
    db.session.add(s)
    db.session.flush()
    return s


def station_assessment(station_, met=True, on=None, assessor: User | None = None):
    """A "五有" assessment: met=True (all five), False (none) or a set of the item keys that are met."""
    from datetime import date

    from blueprints.stations.models import WUYOU_KEYS, StationAssessment, StationAssessmentItem

    ok = set(WUYOU_KEYS) if met is True else set() if met is False else set(met)
    a = StationAssessment(station=station_, assessed_on=on or date(2026, 5, 1),
                          assessor_id=assessor.id if assessor else None,
                          assessor_name=assessor.display_name if assessor else "测试评估人",
                          all_met=ok >= set(WUYOU_KEYS))
    for pos, key in enumerate(WUYOU_KEYS):
        a.items.append(StationAssessmentItem(item=key, position=pos, ok=key in ok, note="", photo=None, photo_name=""))
    db.session.add(a)
    db.session.flush()
    return a


# ---- volunteers (issue 5) -------------------------------------------------------------------------

def id_number(birth=None, sex: str = "男", area: str = "440802") -> str:
    """A valid GB 11643 身份证号 (check character computed) that differs for every call."""
    from datetime import date

    from core.validators import id_check_char

    birth = birth or date(1990, 5, 17)
    seq = (next(_seq) * 2) % 1000 + (1 if sex == "男" else 0)  # the 17th digit is odd for men
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


def volunteer(org_: Organization, name: str = "张伟", number: str | None = None, by: User | None = None, **kw):
    """A volunteer registered in an organization through the service (the real rules apply)."""
    from blueprints.volunteers import services

    data = services.VolunteerData(name=name, phone=kw.pop("phone", "13800138000"), **kw)
    by = by or db.session.scalar(db.select(User).where(User.role == Role.CITY_ADMIN)) or user(Role.CITY_ADMIN)
    result = services.register(by, org_, number or id_number(), data)
    db.session.flush()
    return result.volunteer


# ---- activities (issue 5) ---------------------------------------------------------------------------

def synthetic_id_number(n: int, birth: str = "19900101", area: str = "440802") -> str:
    """A valid (check character per GB 11643) but invented 身份证号; n makes it unique."""
    from core.validators import id_check_char

    first17 = f"{area}{birth}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def activity_volunteer(org_: Organization, name: str | None = None, registered_on=None, birth: str = "19900101",
                       **kw):
    """A volunteer who is a member of org_ (built directly: fast, no sequence table)."""
    from datetime import date

    from blueprints.volunteers.models import Membership, Volunteer, identity_columns

    n = next(_seq)
    number = synthetic_id_number(n, birth=birth, area=f"4408{n // 1000 % 100:02d}")
    v = Volunteer(number=f"AV{n:08d}", name=name or f"志愿者{n}", **identity_columns(number),
                  region_id=org_.region_id, primary_org_id=org_.id,
                  registered_on=registered_on or date(2020, 1, 1), **kw)
    v.memberships.append(Membership(organization=org_, is_primary=True, joined_on=v.registered_on))
    db.session.add(v)
    db.session.flush()
    return v


def activity(org_: Organization, title: str = "海滨公园清洁行动", held_on=None, **kw):
    from blueprints.activities.models import Activity, Category
    from core.timeutil import local_today

    a = Activity(title=title, organization=org_, organization_id=org_.id, region_id=kw.pop("region_id", org_.region_id),
                 held_on=held_on or local_today(), place=kw.pop("place", "海滨公园"),
                 category=kw.pop("category", Category.NATURE), participant_count=0, **kw)
    db.session.add(a)
    db.session.flush()
    return a


# ---- funding (经费保障) ----------------------------------------------------------------------------

def ledger_entry(holder, amount="100.00", kind="income", entry_date=None, source="财政拨款", purpose="志愿服务活动",
                 **kw):
    """A ledger line of an organization or a region (district/city), built directly."""
    from decimal import Decimal

    from blueprints.funding.models import EntryKind, LedgerEntry
    from blueprints.regions.models import Region
    from core.timeutil import local_today

    holder_cols = {"region_id": holder.id} if isinstance(holder, Region) else {"organization_id": holder.id}
    e = LedgerEntry(entry_date=entry_date or local_today(), kind=EntryKind(kind), amount=Decimal(str(amount)),
                    source=source, purpose=purpose, **holder_cols, **kw)
    db.session.add(e)
    db.session.flush()
    return e


def service_project(buyer, provider=None, title="社区关爱服务购买项目", amount="50000.00", status="initiated", **kw):
    from datetime import date
    from decimal import Decimal

    from blueprints.funding.models import ProjectStatus, ServiceProject

    p = ServiceProject(title=title, buyer_region_id=buyer.id, buyer_name=f"{buyer.name}文明办",
                       provider_org_id=provider.id if provider else None, amount=Decimal(amount),
                       start_date=kw.pop("start_date", date(2026, 1, 1)), end_date=kw.pop("end_date", date(2026, 12, 31)),
                       status=ProjectStatus(status), **kw)
    db.session.add(p)
    db.session.flush()
    return p


def fund_audit(holder, period_start, period_end, audit_date=None, auditor="湛江市审计局", findings="", **kw):
    from blueprints.funding.models import FundAudit
    from blueprints.regions.models import Region

    holder_cols = {"region_id": holder.id} if isinstance(holder, Region) else {"organization_id": holder.id}
    a = FundAudit(period_start=period_start, period_end=period_end, audit_date=audit_date or period_end,
                  auditor=auditor, findings=findings, **holder_cols, **kw)
    db.session.add(a)
    db.session.flush()
    return a


# ---- service ledger (issue 5) ----------------------------------------------------------------------

def service_record(volunteer_, org_, day=None, hours="2", content="社区环境清洁", verified: bool = True,
                   by: User | None = None):
    """A service record entered through the ledger's rules; verified by an org leader unless told not to."""
    from blueprints.volunteers import ledger
    from core.timeutil import local_today

    by = by or db.session.scalar(db.select(User).where(User.role == Role.ORG_LEADER)) or user(Role.ORG_LEADER,
                                                                                              orgs=[org_])
    r = ledger.create_record(by, volunteer_, org_, day or local_today(), hours, content)
    if verified:
        ledger.verify_records(by, [r])
    return r


# ---- insurance (保险保障) ---------------------------------------------------------------------------

def insurance_policy(org_, start=None, end=None, volunteers=(), head_count=None, insurer="中国人寿",
                     policy_no=None, **kw):
    """A policy of org_, named (the given volunteers) or, with head_count, a head-count policy; built directly."""
    from datetime import timedelta
    from decimal import Decimal

    from blueprints.insurance.models import CoverageMode, InsurancePolicy, InsuredPerson
    from core.timeutil import local_today

    start = start or local_today() - timedelta(days=30)
    p = InsurancePolicy(organization_id=org_.id, insurer=insurer, policy_no=policy_no or f"PN{next(_seq):08d}",
                        product=kw.pop("product", "志愿者团体意外伤害保险"),
                        mode=CoverageMode.HEADCOUNT if head_count else CoverageMode.NAMED, head_count=head_count,
                        start_date=start, end_date=end or start + timedelta(days=364),
                        sum_insured=Decimal(kw.pop("sum_insured", "200000.00")),
                        premium=Decimal(kw.pop("premium", "1200.00")), payer_source=kw.pop("payer_source", "财政拨款"),
                        **kw)
    p.insured = [InsuredPerson(volunteer_id=v.id) for v in volunteers]
    db.session.add(p)
    db.session.flush()
    return p


# ---- monthly reports (issue 7) ---------------------------------------------------------------------

def monthly_report(by: User, unit, year: int, month: int, summary: str = "本月开展社区清洁和敬老活动。",
                   status: str = "draft", today=None, reviewer: User | None = None, comment: str = "请补充活动图片"):
    """A monthly report opened by its filer (org leader for an org, district staff for a district)
    and moved through the real state machine up to `status`."""
    from datetime import date

    from blueprints.reports import services
    from blueprints.reports.models import ReportLevel

    level = ReportLevel.ORG if isinstance(unit, Organization) else ReportLevel.DISTRICT
    r = services.open_report(by, level, unit.id, year, month, today=today or date(2100, 1, 1))
    r.summary = summary
    if status == "draft":
        return r
    services.transition(r, "submit", by)
    if status == "submitted":
        return r
    reviewer = reviewer or db.session.scalar(db.select(User).where(
        User.role == (Role.DISTRICT_STAFF if level == ReportLevel.ORG else Role.CITY_ADMIN),
        *( [User.region_id == r.region_id] if level == ReportLevel.ORG else [])))
    if status == "accepted":
        services.transition(r, "accept", reviewer)
        return r
    services.transition(r, "return", reviewer, comment)
    if status == "resubmitted":
        services.transition(r, "resubmit", by)
    return r


# ---- commendation (issue 9) ---------------------------------------------------------------------------

def award_campaign(stage: str = "nominating", panel: list[User] | None = None, district_quota: int = 2, **kw):
    """A campaign with the default kinds, dates around today, in the given stage (set directly)."""
    from datetime import timedelta

    from blueprints.awards import services
    from blueprints.awards.models import CampaignStage
    from core.timeutil import local_today

    today = local_today()
    admin = db.session.scalar(db.select(User).where(User.role == Role.CITY_ADMIN)) or user(Role.CITY_ADMIN)
    year = kw.pop("year", today.year)
    title = kw.pop("title", None)
    if title is None:  # the same title in the same year is refused: number the second one
        title, n = f"{year}年度志愿服务评选表彰", 1
        while services.title_taken(year, title):
            n += 1
            title = f"{year}年度志愿服务评选表彰（第{n}批）"
    d = services.CampaignData(year=year, title=title,
                              nomination_start=today - timedelta(days=10), nomination_end=today + timedelta(days=10),
                              district_deadline=today + timedelta(days=15), review_deadline=today + timedelta(days=20),
                              notice_start=today + timedelta(days=21), notice_end=today + timedelta(days=28),
                              presentation_date=today + timedelta(days=40))
    c = services.create_campaign(admin, d, [dict(x) for x in services.DEFAULT_CRITERIA])
    for k in c.kinds:
        for q in k.district_quotas:
            q.quota = district_quota
    if panel:
        services.set_panel(admin, c, [u.id for u in panel])
    c.stage = CampaignStage(stage)
    db.session.flush()
    return c


def award_kind(campaign, nominee_type: str = "volunteer"):
    return next(k for k in campaign.kinds if k.nominee_type.value == nominee_type)


def award_nomination(campaign, org_: Organization, kind=None, volunteer_=None, status: str = "draft", by: User | None = None,
                     name: str | None = None, **kw):
    """A nomination built directly in the given status (facts computed now) — for tests of later steps."""
    from blueprints.awards import services
    from blueprints.awards.models import Nomination, NominationStatus, NomineeType

    kind = kind or award_kind(campaign)
    n = Nomination(campaign_id=campaign.id, kind_id=kind.id, organization_id=org_.id, district_id=org_.district_id,
                   status=NominationStatus(status), summary=kw.pop("summary", "长期参与社区关爱服务"),
                   deeds=kw.pop("deeds", "事迹材料"), **kw)
    if kind.nominee_type == NomineeType.VOLUNTEER:
        volunteer_ = volunteer_ or activity_volunteer(org_)
        n.volunteer_id, n.nominee_name = volunteer_.id, name or volunteer_.name
    elif kind.nominee_type == NomineeType.PROJECT:
        n.project_title = n.nominee_name = name or f"关爱项目{next(_seq)}"
    else:
        n.nominee_org_id, n.nominee_name = org_.id, org_.name
    db.session.add(n)
    db.session.flush()
    db.session.refresh(n)
    n.facts = services.facts_for(n)
    db.session.flush()
    return n


# ---- training and the project library (issue 18) ---------------------------------------------------

def training_course(region_: Region, kind: str = "pre_service", name: str | None = None, hours: str = "2"):
    from decimal import Decimal

    from blueprints.training.models import CourseKind, TrainingCourse

    c = TrainingCourse(name=name or {"pre_service": "志愿者岗前培训", "skill": "应急救护技能培训",
                                     "core": "志愿者骨干能力提升培训"}[kind],
                       kind=CourseKind(kind), content="志愿服务理念与守则", default_hours=Decimal(hours), region_id=region_.id)
    db.session.add(c)
    db.session.flush()
    return c


def training_session(course, org_: Organization, held_on=None, hours: str = "2", **kw):
    from decimal import Decimal

    from blueprints.training.models import TrainingSession
    from core.timeutil import local_today

    s = TrainingSession(course_id=course.id, organization_id=org_.id, held_on=held_on or local_today(),
                        place=kw.pop("place", "社区活动中心"), hours=Decimal(hours), trainer=kw.pop("trainer", "林老师"), **kw)
    db.session.add(s)
    db.session.flush()
    db.session.refresh(s)
    return s


def volunteer_project(org_: Organization, title: str = "银龄关爱行动", status: str = "initiated", **kw):
    from datetime import date
    from decimal import Decimal

    from blueprints.projects.models import ProjectStatus, VolunteerProject

    p = VolunteerProject(title=title, organization_id=org_.id, field=kw.pop("field", "扶老"),
                         target_group=kw.pop("target_group", "空巢老人"), start_date=kw.pop("start_date", date(2026, 3, 1)),
                         end_date=kw.pop("end_date", date(2026, 12, 31)), budget=Decimal(kw.pop("budget", "20000.00")),
                         goals=kw.pop("goals", "每月上门探访辖区空巢老人"), status=ProjectStatus(status), **kw)
    db.session.add(p)
    db.session.flush()
    db.session.refresh(p)
    return p
