"""Rules of 嘉许回馈 (seeds 001, 002, 004): the rate, a volunteer's balance, the conditions of an item,
redemptions and their reversal. Plain functions taking the session's user; they flush, the route commits.

- 004 / 001: "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务" — the balance derives from
  verified hours (pending or void records never count) under a rate the city sets (默认 1 小时 = 1 分).
- 001: "骨干可以依据个人志愿服务时长兑换社区提供的爱心回馈" — an item may be for 骨干 only
  (≥ 48 verified hours in this or last calendar year in the provider's community: ledger.core_ids_for).
- Star levels (004: 100/300/600/1000/1500 h) may be asked for.
- The balance never falls below 0: a redemption locks the volunteer first (PostgreSQL row lock; SQLite
  serializes writers), then checks and inserts in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, case, func, select

from blueprints.funding.services import Holder, holder_from_org, holder_from_region
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region
from blueprints.rewards.models import Redemption, RewardItem, RewardKind
from blueprints.volunteers import ledger
from blueprints.volunteers.models import Volunteer
from blueprints.volunteers.services import dismissed_by
from core import scope
from core.extensions import db
from core import settings
from core.sources import cite
from core.timeutil import local_today

RATE_KEY = "rewards.points_per_hour"
DEFAULT_RATE = Decimal("1")  # 1 verified hour = 1 point
ONE_DECIMAL = Decimal("0.1")
MAX_POINTS = Decimal("9999999.9")


# The rate is a policy number on the one settings page (/settings/policy; audited like every setting).
settings.register_policy(settings.Policy(
    RATE_KEY, "嘉许回馈：每小时服务折算积分", DEFAULT_RATE, "积分/小时", Decimal("0.1"), 100, cite("001"),
    "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务", group="嘉许回馈与活动签到", order=10, decimals=1,
    hint="志愿者已审核服务时长按此比例折算为可兑换积分（默认 1 小时 = 1 积分，比例由市里确定）。"))


class RewardError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- the rate ----------------------------------------------------------------------------------------

def rate() -> Decimal:
    return settings.policy(RATE_KEY)


def parse_points(text, label: str = "积分", allow_zero: bool = True) -> Decimal:
    raw = str(text if text is not None else "").strip()
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise RewardError(f"{label}应为数字（最多一位小数）") from None
    if not value.is_finite():
        raise RewardError(f"{label}应为数字（最多一位小数）")
    if value < 0 or (value == 0 and not allow_zero):
        raise RewardError(f"{label}必须大于 0" if not allow_zero else f"{label}不能为负数")
    if value > MAX_POINTS:
        raise RewardError(f"{label}过大")
    if value != value.quantize(ONE_DECIMAL):
        raise RewardError(f"{label}最多一位小数")
    return value.quantize(ONE_DECIMAL)


def set_rate(user, value) -> Decimal:
    """Set the rate as the settings page does (same bounds; audited)."""
    scope.require_roles(user, "city_admin")
    r = parse_points(value, "折算比例", allow_zero=False)
    try:
        settings.save_policies({RATE_KEY: r}, user)
    except settings.PolicyError:
        raise RewardError("折算比例应在 0.1 到 100 之间", "rate") from None
    return r


# ---- the balance -------------------------------------------------------------------------------------

@dataclass
class Balance:
    hours: Decimal  # verified hours, all years
    rate: Decimal
    earned: Decimal  # hours × rate
    spent: Decimal  # redemptions net of reversals
    available: Decimal


def spent(volunteer_id: int) -> Decimal:
    total = db.session.scalar(select(func.coalesce(func.sum(Redemption.points), 0))
                              .where(Redemption.volunteer_id == volunteer_id))
    return Decimal(total or 0).quantize(ONE_DECIMAL)


def balance(v: Volunteer) -> Balance:
    hours = ledger.quantize(v.total_hours or 0)
    r = rate()
    earned = (hours * r).quantize(ONE_DECIMAL)
    used = spent(v.id)
    return Balance(hours=hours, rate=r, earned=earned, spent=used, available=earned - used)


def is_core(v: Volunteer, item: RewardItem | None = None, today: date | None = None) -> bool:
    """骨干 (001 附件4 第四条 "每年在本社区服务时长达48小时"; "骨干可以依据个人志愿服务时长兑换社区提供的爱心回馈"):
    of the item's community (its provider: ledger.privilege_communities) — without an item, of any community —
    in this calendar year or the last one."""
    year = (today or local_today()).year
    communities = None
    if item is not None:
        communities = ledger.privilege_communities(org=item.organization if item.organization_id else None,
                                                   region=item.region if item.region_id else None)
    return v.id in ledger.core_ids_for([v.id], (year, year - 1), communities)


def core_communities(v: Volunteer, today: date | None = None) -> list:
    """The communities the volunteer is 骨干 of this calendar year or the last (what is_core reads)."""
    year = (today or local_today()).year
    seen = {}
    for y in (year, year - 1):
        for c in ledger.core_communities(v, y):
            seen.setdefault(c.id, c)
    return list(seen.values())


def unmet_conditions(item: RewardItem, v: Volunteer, bal: Balance | None = None,
                     today: date | None = None) -> list[str]:
    """What keeps this volunteer from this item (empty: may redeem)."""
    out = []
    if not item.active:
        out.append("该回馈项目已停止兑换")
    star = ledger.star_level(v.total_hours or 0)
    if item.min_star and star < item.min_star:
        out.append(f"需{ledger.STAR_LABELS[item.min_star]}及以上志愿者（当前{ledger.STAR_LABELS[star]}）")
    if item.core_only and not is_core(v, item, today):
        out.append(f"仅限本社区志愿者骨干（在本社区年度服务满 {ledger.core_hours()} 小时）")
    bal = bal or balance(v)
    if item.cost > bal.available:
        out.append(f"可用积分不足（需 {item.cost}，可用 {bal.available}）")
    if v.status != "active":
        out.append("该志愿者当前不是在册状态")
    elif item.organization_id and (m := dismissed_by(v, item.organization_id)) is not None:
        out.append(f"该志愿者已于 {m.dismissed_on.isoformat()} 被提供组织劝退，不能兑换其回馈")
    return out


# ---- items ---------------------------------------------------------------------------------------------

@dataclass
class ItemData:
    title: str
    kind: str
    description: str
    cost: object
    min_star: int
    core_only: bool
    active: bool = True


def providers_for(user) -> list[Holder]:
    """Who may publish, as the user may choose: their organizations, and (office staff) the regions of
    their district — communities included (001: 社区提供的爱心回馈)."""
    out: list[Holder] = []
    if user.role != "org_leader":
        regions = db.session.scalars(scope.scoped(select(Region), Region, user).order_by(Region.path).limit(2000))
        out += [holder_from_region(r) for r in regions]
    orgs = db.session.scalars(scope.scoped(select(Organization).where(
        Organization.status.notin_([OrgStatus.DRAFT, OrgStatus.DEREGISTERED])), Organization, user)
        .order_by(Organization.name_pinyin).limit(2000))
    out += [holder_from_org(o) for o in orgs]
    return out


def parse_provider(user, key: str | None) -> Holder | None:
    return next((h for h in providers_for(user) if h.key == key), None) if key else None


def _check_item(data: ItemData) -> Decimal:
    title = (data.title or "").strip()
    if not title:
        raise RewardError("请填写回馈项目名称", "title")
    try:
        RewardKind(data.kind)
    except ValueError:
        raise RewardError("请选择回馈类型", "kind") from None
    if not 0 <= int(data.min_star or 0) <= 5:
        raise RewardError("星级条件应为 0 到 5", "min_star")
    try:
        return parse_points(data.cost, "所需积分")
    except RewardError as e:
        raise RewardError(e.message, "cost") from None


def create_item(user, provider: Holder, data: ItemData) -> RewardItem:
    scope.require_write(user)
    cost = _check_item(data)
    item = RewardItem(title=data.title.strip()[:128], kind=RewardKind(data.kind), description=data.description or "",
                      organization_id=provider.org_id, region_id=provider.region_id, cost=cost,
                      min_star=int(data.min_star or 0), core_only=bool(data.core_only), active=bool(data.active),
                      created_by_id=user.id)
    db.session.add(item)
    db.session.flush()
    return item


def update_item(user, item: RewardItem, data: ItemData) -> RewardItem:
    scope.require_write(user)
    cost = _check_item(data)
    item.title, item.kind, item.description = data.title.strip()[:128], RewardKind(data.kind), data.description or ""
    item.cost, item.min_star, item.core_only, item.active = cost, int(data.min_star or 0), bool(data.core_only), bool(data.active)
    db.session.flush()
    return item


def items_stmt(user, active_only: bool = False) -> Select:
    stmt = scope.scoped(select(RewardItem), RewardItem, user)
    if active_only:
        stmt = stmt.where(RewardItem.active.is_(True))
    return stmt.order_by(RewardItem.active.desc(), RewardItem.id.desc())


# ---- redemptions -------------------------------------------------------------------------------------

def find_volunteer(user, number: str) -> Volunteer:
    """The volunteer a staff member names by 志愿者编号, within their scope."""
    number = (number or "").strip().upper()
    v = db.session.scalar(scope.scoped(select(Volunteer).where(Volunteer.number == number), Volunteer, user)) \
        if number and len(number) <= 16 else None
    if v is None:
        raise RewardError("找不到该志愿者编号（或不在您的管理范围内）", "volunteer")
    return v


def redeem(user, item: RewardItem, v: Volunteer, day: date | None = None, note: str = "") -> Redemption:
    """Record that a volunteer redeemed an item (staff record it, 001). The volunteer's row is locked
    first, so two redemptions at the same moment cannot both spend the same points."""
    scope.require_write(user)
    if not scope.in_scope(user, item) or not scope.in_scope(user, v):
        raise RewardError("无权为该志愿者登记该回馈项目", "volunteer")
    ledger.lock_volunteers([v.id])
    db.session.refresh(v)  # the hours as the lock holder sees them
    problems = unmet_conditions(item, v, balance(v), day)
    if problems:
        raise RewardError("；".join(problems), "volunteer")
    r = Redemption(volunteer_id=v.id, item_id=item.id, organization_id=item.organization_id, region_id=item.region_id,
                   points=item.cost, redeemed_on=day or local_today(), note=(note or "").strip()[:200],
                   created_by_id=user.id)
    db.session.add(r)
    db.session.flush()
    return r


def reverse(user, r: Redemption, reason: str) -> Redemption:
    """A mistaken redemption is corrected by a reversing line (红字冲销), never deleted."""
    scope.require_write(user)
    reason = (reason or "").strip()
    if not reason:
        raise RewardError("请填写冲销原因", "reason")
    if r.is_reversal:
        raise RewardError("冲销记录不能再冲销", "reason")
    if r.reversed_by is not None:
        raise RewardError("该记录已经冲销过", "reason")
    rev = Redemption(volunteer_id=r.volunteer_id, item_id=r.item_id, organization_id=r.organization_id,
                     region_id=r.region_id, points=-r.points, redeemed_on=local_today(), reverses=r,
                     reason=reason[:500], note=f"冲销 {r.redeemed_on:%Y-%m-%d} 兑换", created_by_id=user.id)
    db.session.add(rev)
    db.session.flush()
    return rev


def redemptions_stmt(user, volunteer_id: int | None = None, item_id: int | None = None) -> Select:
    stmt = scope.scoped(select(Redemption), Redemption, user)
    if volunteer_id:
        stmt = stmt.where(Redemption.volunteer_id == volunteer_id)
    if item_id:
        stmt = stmt.where(Redemption.item_id == item_id)
    return stmt.order_by(Redemption.redeemed_on.desc(), Redemption.id.desc())


@dataclass
class WhereRow:
    provider: str
    district: str
    count: int
    points: Decimal


def redeemed_where(user, year: int) -> list[WhereRow]:
    """What was redeemed where (the district's view): per provider, net of reversals, in one year."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    district = db.aliased(Region)
    org_region = db.aliased(Region)
    reg = db.aliased(Region)
    reg_district = db.aliased(Region)
    rows = db.session.execute(scope.scoped(
        select(Redemption.organization_id, Redemption.region_id, Organization.name, reg.name,
               func.coalesce(district.name, reg_district.name),
               func.sum(case((Redemption.reverses_id.is_(None), 1), else_=-1)), func.sum(Redemption.points))
        .outerjoin(Organization, Organization.id == Redemption.organization_id)
        .outerjoin(org_region, org_region.id == Organization.region_id)
        .outerjoin(district, district.id == org_region.district_id)
        .outerjoin(reg, reg.id == Redemption.region_id)
        .outerjoin(reg_district, reg_district.id == reg.district_id)
        .where(Redemption.redeemed_on.between(start, end))
        .group_by(Redemption.organization_id, Redemption.region_id, Organization.name, reg.name,
                  func.coalesce(district.name, reg_district.name)),
        Redemption, user)).all()
    out = [WhereRow(provider=oname or rname or "—", district=dname or "—", count=int(n or 0),
                    points=Decimal(p or 0).quantize(ONE_DECIMAL)) for _, _, oname, rname, dname, n, p in rows]
    return sorted(out, key=lambda r: (r.district, -r.points))
