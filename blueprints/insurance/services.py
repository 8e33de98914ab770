"""Insurance rules: policy validation, who is covered on a day, warnings, coverage shares, XLSX import.

Coverage rule (documented in the README and the coverage page):
- A *named* policy covers each volunteer on its list on every day from its start to its end date
  (both inclusive), whatever their status.
- A *head-count* policy (团体不记名) of organization O with N persons covers, on a day D, the first N
  of O's active volunteers (members who had joined by D) that no named policy covers on D, in the
  order they joined the organization (join date, then volunteer id). Several head-count policies of
  O valid on D add up. So the people left uncovered when the count falls short are the most recent
  joiners — the ones an insurer's head count most likely did not include.
- A volunteer is covered on D when any named policy lists them, or any head-count policy of any
  organization they are a member of covers them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select

from blueprints.activities.models import Activity, ActivityStatus, Participant
from blueprints.insurance.models import CoverageMode, InsurancePolicy, InsuredPerson
from blueprints.orgs.models import Organization
from blueprints.orgs.services import clean_org_query, org_name_ids
from blueprints.regions.models import Region
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core import cache as _cache
from core import pii, scope
from core.audit import record_change
from core.collation import pinyin_key, pinyin_sorted
from core.extensions import db
from core import settings
from core.settings import get_list
from core.tabular import ImportRow
from core.timeutil import local_today
from core.validators import ValidationError, parse_id_number
from core.validators import parse_money as core_parse_money

WARN_DAYS_KEY = "insurance.warn_days"
DEFAULT_WARN_DAYS = 30
# The payer list is funding's configured source list (blueprints/funding/services.py SOURCES_KEY).
FUNDING_SOURCES_KEY = "funding.sources"
DEFAULT_SOURCES = ["财政拨款", "政府购买服务", "社会捐赠", "志愿服务基金", "自筹"]
INSURERS = ["中国人寿", "中国人保财险", "中国平安", "太平洋保险", "中华联合保险", "太平保险"]
PRODUCTS = ["志愿者团体意外伤害保险", "志愿者综合保障计划", "团体意外伤害保险（含意外医疗）", "大型活动公众责任保险"]
MAX_AMOUNT = Decimal("999999999999.99")
MAX_HEADCOUNT = 100000
CENT = Decimal("0.01")
IMPORT_COLUMNS = ["姓名", "身份证号"]


class InsuranceError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def warn_days() -> int:
    return int(settings.policy(WARN_DAYS_KEY))


# The city admin edits it on the settings page with the other policy numbers (core/settings.py).
settings.register_policy(settings.Policy(
    WARN_DAYS_KEY, "保单到期提醒提前天数", DEFAULT_WARN_DAYS, "天", 1, 365, "系统默认值（政策文件未规定）", "",
    group="月报与保险", order=20, hint="保单止期在该天数以内时显示为“即将到期”，并在首页提醒。"))


def payer_sources() -> list[str]:
    return get_list(FUNDING_SOURCES_KEY, DEFAULT_SOURCES)


# ---- money -----------------------------------------------------------------------------------------

def parse_money(text, label: str, field_name: str) -> Decimal:
    """A positive amount in yuan to the fen ("1,234.56", "¥80"); never float (core.validators.parse_money)."""
    try:
        return core_parse_money(text, label)
    except ValidationError as e:
        raise InsuranceError(e.message, field_name) from None


# ---- status ------------------------------------------------------------------------------------------

STATUS_LABELS = {"future": "未生效", "active": "有效", "expiring": "即将到期", "expired": "已过期"}
STATUS_TONES = {"future": "blue", "active": "green", "expiring": "amber", "expired": "red"}


def policy_status(policy: InsurancePolicy, today: date | None = None, days: int | None = None) -> str:
    today = today or local_today()
    days = warn_days() if days is None else days
    if policy.end_date < today:
        return "expired"
    if policy.end_date <= today + timedelta(days=days):
        return "expiring"
    if policy.start_date > today:
        return "future"
    return "active"


def status_clause(status: str, today: date, days: int):
    P = InsurancePolicy
    soon = today + timedelta(days=days)
    return {
        "expired": P.end_date < today,
        "expiring": and_(P.end_date >= today, P.end_date <= soon),
        "future": and_(P.start_date > today, P.end_date > soon),
        "active": and_(P.start_date <= today, P.end_date > soon),
    }.get(status)


def valid_on(day: date):
    return and_(InsurancePolicy.start_date <= day, InsurancePolicy.end_date >= day)


def not_renewed():
    successor = InsurancePolicy.__table__.alias("successor")
    return ~exists().where(successor.c.renewed_from_id == InsurancePolicy.id)


# ---- list ----------------------------------------------------------------------------------------------

@dataclass
class PolicyFilter:
    org: int | None = None
    status: str = ""
    insurer: str = ""
    q: str = ""
    orgq: str = ""  # part of an organization's name (when there are too many for a select)
    unrenewed: bool = False  # 待续保: not renewed (expired ones only within the last year), as the home tile counts

    @classmethod
    def from_args(cls, args) -> "PolicyFilter":
        org = args.get("org", "")
        status = args.get("status", "")
        return cls(org=int(org) if org.isdigit() and len(org) <= 9 else None,
                   status=status if status in STATUS_LABELS else "",
                   insurer=(args.get("insurer") or "").strip()[:64], q=(args.get("q") or "").strip()[:64],
                   orgq=clean_org_query(args), unrenewed=args.get("unrenewed") == "1")

    def args(self) -> dict:
        return {k: v for k, v in (("org", self.org), ("orgq", self.orgq), ("status", self.status),
                                  ("insurer", self.insurer), ("q", self.q),
                                  ("unrenewed", "1" if self.unrenewed else "")) if v}


def policies_stmt(user, f: PolicyFilter, today: date | None = None):
    today = today or local_today()
    stmt = scope.scoped(select(InsurancePolicy), InsurancePolicy, user)
    if f.org:
        stmt = stmt.where(InsurancePolicy.organization_id == f.org)
    if f.orgq:
        stmt = stmt.where(InsurancePolicy.organization_id.in_(org_name_ids(f.orgq)))
    if f.status:
        stmt = stmt.where(status_clause(f.status, today, warn_days()))
    if f.unrenewed:
        stmt = stmt.where(unrenewed_clause(today))
    if f.insurer:
        stmt = stmt.where(InsurancePolicy.insurer == f.insurer)
    if f.q:
        like = f"%{f.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(InsurancePolicy.policy_no.like(like), InsurancePolicy.product.like(like)))
    return stmt.order_by(InsurancePolicy.end_date.desc(), InsurancePolicy.id.desc())


def insurers_in_scope(user) -> list[str]:
    stmt = scope.scoped(select(InsurancePolicy.insurer).distinct(), InsurancePolicy, user)
    return sorted(db.session.scalars(stmt))


def orgs_for(user) -> list[Organization]:
    """Organizations the user may insure or filter by (in scope, not deregistered)."""
    from blueprints.orgs.models import OrgStatus

    stmt = scope.scoped(select(Organization), Organization, user).where(
        Organization.status.in_([OrgStatus.APPROVED, OrgStatus.SUSPENDED])).order_by(Organization.name_pinyin)
    return list(db.session.scalars(stmt))


def insured_counts(policy_ids: list[int]) -> dict[int, int]:
    if not policy_ids:
        return {}
    rows = db.session.execute(select(InsuredPerson.policy_id, func.count()).where(
        InsuredPerson.policy_id.in_(policy_ids)).group_by(InsuredPerson.policy_id))
    return dict(rows.all())


# ---- create, update, renew ------------------------------------------------------------------------------

@dataclass
class PolicyData:
    organization_id: int | None
    insurer: str
    policy_no: str
    product: str
    mode: str
    head_count: int | None
    start_date: date | None
    end_date: date | None
    sum_insured: str | Decimal
    premium: str | Decimal
    payer_source: str = ""
    payer_note: str = ""
    note: str = ""
    volunteer_ids: list[int] = field(default_factory=list)


def org_member_ids(org_id: int, ids: list[int] | None = None, active_only: bool = True) -> set[int]:
    stmt = select(Membership.volunteer_id).join(Volunteer, Volunteer.id == Membership.volunteer_id).where(
        Membership.organization_id == org_id)
    if active_only:
        stmt = stmt.where(Volunteer.status == VolunteerStatus.ACTIVE)
    if ids is not None:
        stmt = stmt.where(Membership.volunteer_id.in_(ids))
    return set(db.session.scalars(stmt))


def _check(user, data: PolicyData, policy: InsurancePolicy | None = None) -> tuple[Organization, Decimal, Decimal]:
    org = None
    if data.organization_id:
        org = db.session.scalar(scope.scoped(select(Organization).where(Organization.id == data.organization_id),
                                             Organization, user))
    if org is None:
        raise InsuranceError("请选择投保组织", "organization")
    insurer, number = (data.insurer or "").strip(), (data.policy_no or "").strip()
    if not insurer:
        raise InsuranceError("请填写保险公司", "insurer")
    if not number:
        raise InsuranceError("请填写保单号", "policy_no")
    if not (data.product or "").strip():
        raise InsuranceError("请填写保险产品", "product")
    dup = select(InsurancePolicy.id).where(InsurancePolicy.insurer == insurer, InsurancePolicy.policy_no == number)
    if policy is not None:
        dup = dup.where(InsurancePolicy.id != policy.id)
    if db.session.scalar(dup) is not None:
        raise InsuranceError(f"{insurer} 的保单号 {number} 已登记过", "policy_no")
    if data.start_date is None:
        raise InsuranceError("请填写保险起期", "start_date")
    if data.end_date is None:
        raise InsuranceError("请填写保险止期", "end_date")
    if data.end_date < data.start_date:
        raise InsuranceError("保险止期不能早于起期", "end_date")
    if (data.end_date - data.start_date).days > 366 * 5:
        raise InsuranceError("保险期间最长 5 年", "end_date")
    if data.mode not in (CoverageMode.NAMED.value, CoverageMode.HEADCOUNT.value):
        raise InsuranceError("请选择投保方式", "mode")
    if data.mode == CoverageMode.HEADCOUNT.value:
        if not data.head_count or data.head_count < 1:
            raise InsuranceError("不记名保单请填写投保人数（至少 1 人）", "head_count")
        if data.head_count > MAX_HEADCOUNT:
            raise InsuranceError(f"投保人数最多 {MAX_HEADCOUNT} 人", "head_count")
    else:
        ids = set(data.volunteer_ids)
        if ids - org_member_ids(org.id, list(ids), active_only=False):
            raise InsuranceError("所选志愿者中有人不属于该组织，请重新选择", "volunteers")
    sum_insured = parse_money(data.sum_insured, "保险金额", "sum_insured")
    premium = parse_money(data.premium, "保费", "premium")
    sources = payer_sources()
    if data.payer_source and data.payer_source not in sources and (policy is None or
                                                                    data.payer_source != policy.payer_source):
        raise InsuranceError("请选择经费来源", "payer_source")
    return org, sum_insured, premium


def _apply(policy: InsurancePolicy, org: Organization, data: PolicyData, sum_insured: Decimal, premium: Decimal):
    policy.organization_id = org.id
    policy.organization = org
    policy.insurer, policy.policy_no = data.insurer.strip(), data.policy_no.strip()
    policy.product = data.product.strip()
    policy.mode = CoverageMode(data.mode)
    policy.start_date, policy.end_date = data.start_date, data.end_date
    policy.sum_insured, policy.premium = sum_insured, premium
    policy.payer_source, policy.payer_note = data.payer_source or "", (data.payer_note or "").strip()
    policy.note = (data.note or "").strip()
    if policy.mode == CoverageMode.HEADCOUNT:
        policy.head_count = data.head_count
        policy.insured = []
    else:
        policy.head_count = None
        keep = {p.volunteer_id: p for p in policy.insured}
        policy.insured = [keep.get(vid) or InsuredPerson(volunteer_id=vid) for vid in sorted(set(data.volunteer_ids))]


def create_policy(user, data: PolicyData, renewed_from: InsurancePolicy | None = None) -> InsurancePolicy:
    org, sum_insured, premium = _check(user, data)
    policy = InsurancePolicy(created_by_id=user.id, renewed_from_id=renewed_from.id if renewed_from else None)
    _apply(policy, org, data, sum_insured, premium)
    db.session.add(policy)
    db.session.flush()
    return policy


def update_policy(user, policy: InsurancePolicy, data: PolicyData) -> InsurancePolicy:
    org, sum_insured, premium = _check(user, data, policy)
    before = {p.volunteer_id for p in policy.insured}
    _apply(policy, org, data, sum_insured, premium)
    db.session.flush()
    after = {p.volunteer_id for p in policy.insured}
    if before != after:  # the list rows are not audited one by one; one entry says what changed
        record_change("update", policy, summary=f"被保险人名单：新增 {len(after - before)} 人，移除 {len(before - after)} 人")
    return policy


def add_months(day: date, months: int) -> date:
    import calendar

    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months(start: date, end: date) -> int:
    """N when start..end is exactly N calendar months (end = start + N months - 1 day), else 0."""
    for n in range(1, 61):
        stop = add_months(start, n) - timedelta(days=1)
        if stop == end:
            return n
        if stop > end:
            return 0
    return 0


def renewal_data(policy: InsurancePolicy) -> PolicyData:
    """A renewal copies the policy to the next period of the same length; the number is new."""
    start = policy.end_date + timedelta(days=1)
    months = whole_months(policy.start_date, policy.end_date)
    # A policy of whole months (the usual one year) renews for the same months, whatever leap days fall in.
    end = add_months(start, months) - timedelta(days=1) if months else start + (policy.end_date - policy.start_date)
    ids = sorted(org_member_ids(policy.organization_id, [p.volunteer_id for p in policy.insured]))
    return PolicyData(organization_id=policy.organization_id, insurer=policy.insurer, policy_no="",
                      product=policy.product, mode=policy.mode.value, head_count=policy.head_count,
                      start_date=start, end_date=end, sum_insured=policy.sum_insured,
                      premium=policy.premium, payer_source=policy.payer_source, payer_note=policy.payer_note,
                      note="", volunteer_ids=ids)


# ---- volunteer picker ------------------------------------------------------------------------------------

def picker_volunteers(org_id: int, q: str = "", limit: int = 300) -> list[Volunteer]:
    stmt = (select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == org_id, Volunteer.status == VolunteerStatus.ACTIVE))
    q = (q or "").strip()[:32]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        by_last4 = [Volunteer.last4_matches(q)] if len(q) == 4 else []
        stmt = stmt.where(or_(Volunteer.name.like(like), Volunteer.number.like(like), *by_last4))
    return list(db.session.scalars(stmt.order_by(Volunteer.name_pinyin, Volunteer.id).limit(limit)))


def volunteers_by_ids(ids, limit: int | None = None) -> list[Volunteer]:
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Volunteer).where(Volunteer.id.in_(ids)).order_by(Volunteer.name_pinyin,
                                                                                           Volunteer.id).limit(limit)))


# ---- who is covered on a day -------------------------------------------------------------------------------

def _named_covered_clause(day: date, volunteer_col):
    return exists().where(InsuredPerson.volunteer_id == volunteer_col,
                          InsuredPerson.policy_id == InsurancePolicy.id, valid_on(day))


def headcount_covered(org_id: int, day: date, count: int | None = None) -> set[int]:
    """Volunteers of one organization covered on `day` by its head-count policies (rule in the docstring)."""
    if count is None:
        count = db.session.scalar(select(func.coalesce(func.sum(InsurancePolicy.head_count), 0)).where(
            InsurancePolicy.organization_id == org_id, InsurancePolicy.mode == CoverageMode.HEADCOUNT,
            valid_on(day))) or 0
    if count <= 0:
        return set()
    stmt = (select(Membership.volunteer_id).join(Volunteer, Volunteer.id == Membership.volunteer_id)
            .where(Membership.organization_id == org_id, Volunteer.status == VolunteerStatus.ACTIVE,
                   Membership.joined_on <= day, ~_named_covered_clause(day, Membership.volunteer_id))
            .order_by(Membership.joined_on, Membership.volunteer_id).limit(count))
    return set(db.session.scalars(stmt))


def covered_ids(day: date, volunteer_ids) -> set[int]:
    """Which of these volunteers are insured on `day`."""
    ids = set(volunteer_ids)
    if not ids:
        return set()
    if len(ids) > MANY:
        # A question about thousands (a large organization, a district, the city): everyone covered on
        # the day, computed once per data version for all workers (core/cache.py), then intersected.
        return _everyone_covered(day) & ids
    return _covered_ids(day, ids)


MANY = 500  # more ids than this: answered from everyone covered on the day (shared, per data version)
_COVERED_MEMO: dict[tuple, frozenset] = {}


def _everyone_covered(day: date) -> frozenset:
    from core import cache

    if _COVERED_MEMO not in cache.LOCAL_MEMOS:
        cache.LOCAL_MEMOS.append(_COVERED_MEMO)
    version = cache.data_version()
    key = (str(db.engine.url), version, day)
    if version >= 0 and key in _COVERED_MEMO:
        return _COVERED_MEMO[key]
    value = cache.shared("insurance", f"covered:{day.isoformat()}",
                         lambda: frozenset(_covered_ids(day, set(db.session.scalars(select(Volunteer.id))))),
                         version=version)
    if version >= 0:
        _COVERED_MEMO.clear()  # only the current version is worth keeping
        _COVERED_MEMO[key] = value
    return value


def _warm_coverage() -> None:
    from core.timeutil import local_today

    _everyone_covered(local_today())


_cache.warmer(_warm_coverage)  # computed by the job worker right after a change (core/cache.py)


def _covered_ids(day: date, ids: set[int]) -> set[int]:
    # A city-wide question (thousands of ids) reads every policy in force instead of a huge IN list.
    big = len(ids) > 500
    named_q = (select(InsuredPerson.volunteer_id).join(InsurancePolicy, InsurancePolicy.id == InsuredPerson.policy_id)
               .where(valid_on(day)).distinct())
    if not big:
        named_q = named_q.where(InsuredPerson.volunteer_id.in_(list(ids)))
    named = set(db.session.scalars(named_q)) & ids
    rest = ids - named
    if not rest:
        return named
    counts_q = (select(InsurancePolicy.organization_id, func.sum(InsurancePolicy.head_count))
                .where(InsurancePolicy.mode == CoverageMode.HEADCOUNT, valid_on(day))
                .group_by(InsurancePolicy.organization_id))
    if not big:
        counts_q = counts_q.where(InsurancePolicy.organization_id.in_(
            select(Membership.organization_id).where(Membership.volunteer_id.in_(list(rest)))))
    counts = db.session.execute(counts_q).all()
    by_headcount: set[int] = set()
    for org_id, count in counts:
        by_headcount |= headcount_covered(org_id, day, int(count or 0)) & rest
    return named | by_headcount


def is_covered(volunteer_id: int, day: date) -> bool:
    return volunteer_id in covered_ids(day, [volunteer_id])


def policies_covering(volunteer_id: int, day: date) -> list[InsurancePolicy]:
    """The policies that cover one volunteer on `day` (named on it, or within an organization's head
    count): what a volunteer sees of their own insurance (issue 17) without a scope on policies."""
    named = list(db.session.scalars(
        select(InsurancePolicy).join(InsuredPerson, InsuredPerson.policy_id == InsurancePolicy.id)
        .where(InsuredPerson.volunteer_id == volunteer_id, valid_on(day)).order_by(InsurancePolicy.end_date)))
    if named:
        return named
    org_ids = list(db.session.scalars(select(Membership.organization_id).where(Membership.volunteer_id == volunteer_id)))
    return [p for org_id in org_ids if volunteer_id in headcount_covered(org_id, day)
            for p in db.session.scalars(select(InsurancePolicy).where(
                InsurancePolicy.organization_id == org_id, InsurancePolicy.mode == CoverageMode.HEADCOUNT,
                valid_on(day)).order_by(InsurancePolicy.end_date))]


# ---- risky activities ----------------------------------------------------------------------------------------

def uncovered_participants(activity: Activity) -> list[Volunteer]:
    vids = list(db.session.scalars(select(Participant.volunteer_id).where(Participant.activity_id == activity.id)))
    missing = set(vids) - covered_ids(activity.held_on, vids)
    return volunteers_by_ids(missing)


@dataclass
class RiskyRow:
    activity: Activity
    participants: int
    uncovered: list[Volunteer]


def risky_activities(user, start: date, end: date, only_uncovered: bool = True) -> list[RiskyRow]:
    """Risky, not cancelled activities held between start and end (in scope) with their uncovered participants."""
    acts = list(db.session.scalars(
        scope.scoped(select(Activity), Activity, user)
        .where(Activity.risky.is_(True), Activity.status != ActivityStatus.CANCELLED,
               Activity.held_on >= start, Activity.held_on <= end)
        .order_by(Activity.held_on, Activity.id).limit(2000)))
    if not acts:
        return []
    parts: dict[int, list[int]] = {}
    for aid, vid in db.session.execute(select(Participant.activity_id, Participant.volunteer_id)
                                       .where(Participant.activity_id.in_([a.id for a in acts]))):
        parts.setdefault(aid, []).append(vid)
    by_day: dict[date, set[int]] = {}
    for a in acts:
        by_day.setdefault(a.held_on, set()).update(parts.get(a.id, []))
    covered = {day: covered_ids(day, vids) for day, vids in by_day.items()}
    missing_all: dict[int, set[int]] = {a.id: set(parts.get(a.id, [])) - covered[a.held_on] for a in acts}
    people = {v.id: v for v in volunteers_by_ids(set().union(*missing_all.values()))}
    rows = []
    for a in acts:
        missing = sorted((people[i] for i in missing_all[a.id]), key=lambda v: (v.name_pinyin or pinyin_key(v.name), v.id))
        if missing or not only_uncovered:
            rows.append(RiskyRow(a, len(parts.get(a.id, [])), missing))
    return rows


# ---- coverage shares -------------------------------------------------------------------------------------------

@dataclass
class CoverageRow:
    key: int
    name: str
    active: int
    covered: int

    @property
    def share(self) -> Decimal | None:
        return (Decimal(self.covered) / Decimal(self.active)) if self.active else None

    @property
    def uncovered(self) -> int:
        return self.active - self.covered


def _active_members(user, district_id: int | None = None) -> list[tuple[int, int]]:
    """(organization, volunteer) pairs of active members of the organizations in the user's scope."""
    stmt = (select(Membership.organization_id, Membership.volunteer_id)
            .join(Organization, Organization.id == Membership.organization_id)
            .join(Volunteer, Volunteer.id == Membership.volunteer_id)
            .where(scope.scope_filter(Organization, user), Volunteer.status == VolunteerStatus.ACTIVE))
    if district_id:
        stmt = stmt.where(Organization.district_id == district_id)
    return list(db.session.execute(stmt).all())


def coverage_by_org(user, day: date | None = None, district_id: int | None = None) -> list[CoverageRow]:
    day = day or local_today()
    orgs_q = scope.scoped(select(Organization.id, Organization.name), Organization, user)
    if district_id:
        orgs_q = orgs_q.where(Organization.district_id == district_id)
    orgs = db.session.execute(orgs_q.order_by(Organization.name_pinyin)).all()
    pairs = _active_members(user, district_id)
    covered = covered_ids(day, {v for _, v in pairs})
    counts: dict[int, list[int]] = {}
    for oid, vid in pairs:
        c = counts.setdefault(oid, [0, 0])
        c[0] += 1
        c[1] += vid in covered
    return [CoverageRow(o.id, o.name, *counts.get(o.id, [0, 0])) for o in orgs]


def coverage_by_district(user, day: date | None = None) -> list[CoverageRow]:
    day = day or local_today()
    pairs = db.session.execute(
        select(Organization.district_id, Membership.volunteer_id)
        .join(Membership, Membership.organization_id == Organization.id)
        .join(Volunteer, Volunteer.id == Membership.volunteer_id)
        .where(scope.scope_filter(Organization, user), Volunteer.status == VolunteerStatus.ACTIVE)).all()
    covered = covered_ids(day, {v for _, v in pairs})
    people: dict[int, set[int]] = {}
    for did, vid in pairs:
        if did is not None:
            people.setdefault(did, set()).add(vid)
    names = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(list(people)))).all())
    rows = [CoverageRow(did, names.get(did, "—"), len(vids), len(vids & covered)) for did, vids in people.items()]
    return pinyin_sorted(rows, key=lambda r: r.name)


def coverage_tables(user, district_id: int | None = None) -> tuple[list[CoverageRow], list[CoverageRow], int | None]:
    """The coverage page's tables for today: by district, and by organization (of `district_id` when it is
    one of the user's districts, else of the whole scope); the district actually shown is returned too.
    Each table reads every active membership of the scope (at 10×: ~70,000 for a district, 85–160 ms), so
    both are kept per data version, day and scope in the shared cache (core/cache.py)."""
    from core.figures import shared_for_scope

    day = local_today()
    districts = shared_for_scope(user, "insurance", "coverage", "districts", lambda: coverage_by_district(user, day))
    if district_id not in {d.key for d in districts}:
        district_id = None  # only a district shown above gets a table (and a cache entry) of its own
    orgs = shared_for_scope(user, "insurance", "coverage", f"orgs:{district_id or 0}",
                            lambda: coverage_by_org(user, day, district_id))
    return districts, orgs, district_id


def total_row(rows: list[CoverageRow]) -> CoverageRow:
    return CoverageRow(0, "合计", sum(r.active for r in rows), sum(r.covered for r in rows))


def org_uncovered(org: Organization, day: date | None = None,
                  limit: int | None = None) -> tuple[CoverageRow, list[Volunteer]]:
    """The organization's coverage and its uncovered members (the first `limit` by name: a large
    organization has thousands; the row's counts are always complete)."""
    day = day or local_today()
    members = org_member_ids(org.id)
    covered = covered_ids(day, members)
    return (CoverageRow(org.id, org.name, len(members), len(members & covered)),
            volunteers_by_ids(members - covered, limit))


# ---- warnings --------------------------------------------------------------------------------------------------

RISKY_UPCOMING_DAYS = 90  # the risky-activities page and the home tile look this far ahead


def unrenewed_clause(today: date):
    """待续保: not renewed by a successor policy; an expired one only if it ended within the last year."""
    return and_(not_renewed(), InsurancePolicy.end_date >= today - timedelta(days=365))


def expiry_counts(user, today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    days = warn_days()
    base = scope.scoped(select(func.count(InsurancePolicy.id)), InsurancePolicy, user).where(unrenewed_clause(today))
    return {
        "expiring": db.session.scalar(base.where(status_clause("expiring", today, days))) or 0,
        "expired": db.session.scalar(base.where(status_clause("expired", today, days))) or 0,
        "days": days,
    }


def expiring_policies(user, today: date | None = None, limit: int = 5) -> list[InsurancePolicy]:
    today = today or local_today()
    stmt = scope.scoped(select(InsurancePolicy), InsurancePolicy, user).where(
        InsurancePolicy.end_date <= today + timedelta(days=warn_days()),
        unrenewed_clause(today)).order_by(InsurancePolicy.end_date)
    return list(db.session.scalars(stmt.limit(limit)))


# ---- XLSX import of insured volunteers ----------------------------------------------------------------------

def check_import_rows(policy: InsurancePolicy, rows: list[ImportRow]) -> list[ImportRow]:
    """Match each row to a volunteer of the policy's organization by ID number (keyed hash, never stored)."""
    return list(iter_check_import_rows(policy, rows))


def iter_check_import_rows(policy: InsurancePolicy, rows):
    """check_import_rows() one row at a time (a generator: a preview job keeps no row, issue 16)."""
    already = {p.volunteer_id for p in policy.insured}
    members = org_member_ids(policy.organization_id, active_only=False)
    seen: dict[str, int] = {}
    for row in rows:
        name = row.values.get("姓名", "").strip()
        raw = row.values.get("身份证号", "")
        row.values = {"姓名": name, "身份证号": ""}  # the full number never leaves this function
        try:
            info = parse_id_number(raw)
        except ValueError as e:
            row.errors.append(getattr(e, "message", "身份证号不正确"))
            yield row
            continue
        h = pii.lookup_hash(info.number)
        if h in seen:
            row.errors.append(f"与第 {seen[h]} 行重复")
            yield row
            continue
        seen[h] = row.line
        v = db.session.scalar(select(Volunteer).where(Volunteer.id_hash == h))
        if v is None or v.id not in members:
            row.errors.append("该身份证号不是本组织的志愿者")
            yield row
            continue
        row.values.update({"volunteer_id": v.id, "masked": v.id_masked, "number": v.number})
        if name and name != v.name:
            row.errors.append(f"姓名与登记不符（登记为 {v.name}）")
        elif v.status != VolunteerStatus.ACTIVE:
            row.errors.append("该志愿者已劝退")
        elif v.id in already:
            row.errors.append("已在被保险人名单中")
        yield row


def add_insured(policy: InsurancePolicy, volunteer_ids: list[int], action: str = "update") -> int:
    if policy.is_headcount:
        raise InsuranceError("不记名保单没有被保险人名单")
    members = org_member_ids(policy.organization_id, volunteer_ids)
    # Only the ids asked about are looked up, and the rows added without loading the policy's list: an
    # import adds thousands a chunk at a time (issue 16), each chunk as cheap as the first.
    have: set[int] = set()
    asked = sorted(members)
    for start in range(0, len(asked), 900):
        have.update(db.session.scalars(select(InsuredPerson.volunteer_id).where(
            InsuredPerson.policy_id == policy.id, InsuredPerson.volunteer_id.in_(asked[start:start + 900]))))
    new = sorted(members - have)
    for vid in new:
        db.session.add(InsuredPerson(policy_id=policy.id, volunteer_id=vid))
    db.session.flush()
    if new and "insured" in policy.__dict__:
        db.session.expire(policy, ["insured"])  # a list loaded before shows the new rows
    if new:
        record_change(action, policy, summary=f"被保险人名单：新增 {len(new)} 人")
    return len(new)


def policies_for_activity(activity: Activity) -> list[InsurancePolicy]:
    """Named policies of the activity's organization in force on its date (uncovered participants can join)."""
    return list(db.session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.organization_id == activity.organization_id, InsurancePolicy.mode == CoverageMode.NAMED,
        valid_on(activity.held_on)).order_by(InsurancePolicy.end_date.desc())))


def cover_activity(policy: InsurancePolicy, activity: Activity) -> tuple[int, int]:
    """Add the activity's uncovered participants who belong to the policy's organization to its list.
    Returns (added, left uncovered)."""
    if policy.is_headcount:
        raise InsuranceError("不记名保单没有被保险人名单")
    if not policy.covers_day(activity.held_on):
        raise InsuranceError("该保单在活动当日不在保险期间内")
    missing = [v.id for v in uncovered_participants(activity)]
    added = add_insured(policy, missing)
    return added, len(missing) - added


# ---- export of the policy list (issue 15: what the current filters show) ---------------------------

EXPORT_HEADERS = ["保险公司", "保单号", "产品", "投保组织", "被保险人数", "记名方式", "起保日期", "终止日期",
                  "保险金额（元/人）", "保费（元）", "经费来源", "状态"]
EXPORT_WIDTHS = [16, 22, 24, 30, 10, 8, 12, 12, 14, 12, 12, 8]


def export_rows(user, f: PolicyFilter) -> list[list]:
    from sqlalchemy.orm import selectinload

    from core.exports import EXPORT_ROW_LIMIT, capped_rows

    today, days = local_today(), warn_days()
    policies = list(db.session.scalars(policies_stmt(user, f, today).options(
        selectinload(InsurancePolicy.organization)).limit(EXPORT_ROW_LIMIT + 1)))
    counts: dict[int, int] = {}
    for start in range(0, len(policies), 900):
        counts.update(insured_counts([p.id for p in policies[start:start + 900]]))
    return capped_rows(
        [p.insurer, p.policy_no, p.product, p.organization.name,
         p.head_count if p.is_headcount else counts.get(p.id, 0), "不记名" if p.is_headcount else "记名",
         p.start_date, p.end_date, p.sum_insured, p.premium, p.payer_source,
         STATUS_LABELS[policy_status(p, today, days)]]
        for p in policies)
