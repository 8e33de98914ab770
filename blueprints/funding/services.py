"""Rules of the funding ledger (经费保障): exact money, holders, audited-period locks, reversing
entries, balances and summaries, purchased-service projects (state machine, payments), audits.

Plain functions taking the session's user; they flush, the route commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Select, and_, case, cast, extract, func, or_, select, true

from blueprints.accounts.models import Role, User
from blueprints.funding.models import (EntryKind, FundAudit, ItemStatus, LedgerEntry,
                                       ProjectPayment, ProjectStatus, ProjectStep, RectificationItem, ServiceProject)
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from core import scope
from core.audit import record_change
from core.extensions import db
from core.settings import get_list
from core.templating import fmt_money
from core.timeutil import local_today, utcnow
from core.validators import ValidationError, parse_money
from core.workflow import actor_fields, verbs_for

# 000 (多渠道、社会化筹集), 003 (志愿服务基金), 004 (专项工作经费): configurable under this key.
SOURCES_KEY = "funding.sources"
DEFAULT_SOURCES = ["财政拨款", "政府购买服务", "社会捐赠", "志愿服务基金", "自筹"]
PURPOSE_SUGGESTIONS = ["志愿服务活动", "志愿者保险", "志愿者培训", "表彰奖励", "站点建设", "宣传物料",
                       "交通餐饮补贴", "办公费用", "项目运营"]
MAX_AMOUNT = Decimal("999999999999.99")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class FundingError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def sources() -> list[str]:
    return get_list(SOURCES_KEY, DEFAULT_SOURCES)


# ---- money ---------------------------------------------------------------------------------------

def parse_amount(text) -> Decimal:
    """A positive amount in yuan to the fen from what a person typed ("1,234.56", "¥80"); never float.
    The rule (≤ 12 integer digits, 2 decimals) is core.validators.parse_money."""
    if str(text if text is not None else "").strip().startswith("-"):
        raise FundingError("金额必须大于 0（更正请使用冲销）", "amount")
    try:
        return parse_money(text, "金额")
    except ValidationError as e:
        raise FundingError(e.message, "amount") from None


def fen_sum(expr):
    """SUM of a money expression computed in whole fen (an integer in every database), so that
    totals are exact even where the database keeps NUMERIC as a binary float (SQLite)."""
    return func.coalesce(func.sum(cast(func.round(expr * 100), BigInteger)), 0)


def from_fen(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def signed(col_kind=LedgerEntry.kind, col_amount=LedgerEntry.amount):
    return case((col_kind == EntryKind.INCOME, col_amount), else_=-col_amount)


# ---- holders ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    kind: str  # "org" | "region"
    id: int
    name: str
    district_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def org_id(self) -> int | None:
        return self.id if self.kind == "org" else None

    @property
    def region_id(self) -> int | None:
        return self.id if self.kind == "region" else None

    @property
    def label(self) -> str:
        return self.name if self.kind == "region" or not self.district_name else f"{self.name}（{self.district_name}）"


def holder_of(row) -> Holder:
    if row.organization_id:
        return Holder("org", row.organization_id, row.organization.name)
    return Holder("region", row.region_id, row.region.name)


def holder_from_org(org: Organization) -> Holder:
    return Holder("org", org.id, org.name)


def holder_from_region(region: Region) -> Holder:
    return Holder("region", region.id, region.name)


def holder_condition(model, holder: Holder):
    if holder.kind == "org":
        return model.organization_id == holder.id
    return model.region_id == holder.id


def holders_for(user: User, with_entries: bool = False) -> list[Holder]:
    """Holders whose ledger the user may see: ledger-keeping regions (city, districts) and
    organizations in scope. Org leaders keep only their organizations' ledgers. `with_entries`: only
    organizations that have kept entries (the list's filter: thousands of empty ledgers help nobody)."""
    out: list[Holder] = []
    if user.role != Role.ORG_LEADER:
        regions = db.session.scalars(scope.scoped(
            select(Region).where(Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT])), Region, user)
            .order_by(Region.path))
        out += [Holder("region", r.id, r.name) for r in regions]
    district = db.aliased(Region)
    rows = db.session.execute(
        scope.scoped(select(Organization.id, Organization.name, district.name)
                     .join(Region, Region.id == Organization.region_id)
                     .outerjoin(district, district.id == Region.district_id)
                     .where(Organization.status.notin_([OrgStatus.DRAFT, OrgStatus.DEREGISTERED]),
                            Organization.id.in_(select(LedgerEntry.organization_id)) if with_entries else true()),
                     Organization, user)
        .order_by(district.name, Organization.name_pinyin))
    out += [Holder("org", oid, name, dname or "") for oid, name, dname in rows]
    return out


def parse_holder(user: User, key: str | None) -> Holder | None:
    """A holder key from a form or a URL ("org-12", "region-3") when it is one of the user's."""
    m = re.fullmatch(r"(org|region)-(\d{1,9})", key or "")
    if not m:
        return None
    kind, hid = m.group(1), int(m.group(2))
    if kind == "org":
        org = db.session.scalar(scope.scoped(select(Organization).where(Organization.id == hid), Organization, user))
        if org is None or org.status in (OrgStatus.DRAFT, OrgStatus.DEREGISTERED):
            return None
        return holder_from_org(org)
    if user.role == Role.ORG_LEADER:
        return None
    region = db.session.scalar(scope.scoped(select(Region).where(
        Region.id == hid, Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT])), Region, user))
    return holder_from_region(region) if region else None


def holder_in_scope(user: User, holder: Holder) -> bool:
    return parse_holder(user, holder.key) is not None


# ---- audited periods ------------------------------------------------------------------------------

def locking_audit(holder: Holder, day: date) -> FundAudit | None:
    """The audit whose period covers `day` for this holder (entries there are locked), if any."""
    return db.session.scalar(select(FundAudit).where(
        holder_condition(FundAudit, holder), FundAudit.period_start <= day, FundAudit.period_end >= day)
        .order_by(FundAudit.audit_date.desc()).limit(1))


def entry_lock(entry: LedgerEntry) -> FundAudit | None:
    return locking_audit(holder_of(entry), entry.entry_date)


def _locked_message(audit: FundAudit) -> str:
    return (f"{audit.period_start:%Y-%m-%d} 至 {audit.period_end:%Y-%m-%d} 已经审计（{audit.auditor}，"
            f"{audit.audit_date:%Y-%m-%d}），该期间的账目已锁定，不能修改或删除；如需更正，请做冲销。")


def check_not_locked(holder: Holder, day: date, field: str = "entry_date") -> None:
    audit = locking_audit(holder, day)
    if audit is not None:
        raise FundingError(_locked_message(audit), field)


# ---- ledger entries ------------------------------------------------------------------------------

@dataclass
class EntryData:
    entry_date: date
    kind: EntryKind
    amount: Decimal
    source: str
    purpose: str = ""
    project: str = ""
    voucher_no: str = ""
    note: str = ""


def _check_entry(data: EntryData, keep_source: str | None = None) -> None:
    if data.entry_date is None:
        raise FundingError("请填写日期", "entry_date")
    if data.entry_date > local_today():
        raise FundingError("日期不能晚于今天", "entry_date")
    if data.entry_date.year < 2000:
        raise FundingError("日期不能早于 2000 年", "entry_date")
    data.amount = parse_amount(data.amount)
    # A source removed from the settings stays valid on the entries that already use it.
    if data.source not in sources() and data.source != keep_source:
        raise FundingError("请选择经费来源", "source")
    try:
        data.kind = EntryKind(data.kind)
    except ValueError:
        raise FundingError("请选择收入或支出", "kind") from None


def create_entry(user: User, holder: Holder, data: EntryData, **extra) -> LedgerEntry:
    if not holder_in_scope(user, holder):
        raise FundingError("不能为该单位记账", "holder")
    scope.require_write(user)
    _check_entry(data)
    check_not_locked(holder, data.entry_date)
    entry = LedgerEntry(organization_id=holder.org_id, region_id=holder.region_id, entry_date=data.entry_date,
                        kind=data.kind, amount=data.amount, source=data.source, purpose=data.purpose.strip(),
                        project=data.project.strip(), voucher_no=data.voucher_no.strip(), note=data.note.strip(),
                        created_by_id=user.id, **extra)
    db.session.add(entry)
    db.session.flush()
    return entry


def check_editable(entry: LedgerEntry) -> None:
    if entry.is_reversal:
        raise FundingError("冲销记录不能修改或删除。")
    if entry.reversed_by is not None:
        raise FundingError("该记录已被冲销，不能再修改或删除。")
    if entry.service_project_id is not None:
        raise FundingError("该记录是购买服务项目的付款，不能在台账中修改或删除。")
    audit = entry_lock(entry)
    if audit is not None:
        raise FundingError(_locked_message(audit))


def update_entry(user: User, entry: LedgerEntry, data: EntryData) -> LedgerEntry:
    scope.require_write(user)
    check_editable(entry)
    _check_entry(data, keep_source=entry.source)
    # Moving an entry into an audited period is refused too.
    check_not_locked(holder_of(entry), data.entry_date)
    for key in ("entry_date", "kind", "amount", "source"):
        setattr(entry, key, getattr(data, key))
    for key in ("purpose", "project", "voucher_no", "note"):
        setattr(entry, key, getattr(data, key).strip())
    db.session.flush()
    return entry


def delete_entry(user: User, entry: LedgerEntry) -> None:
    scope.require_write(user)
    check_editable(entry)
    db.session.delete(entry)
    db.session.flush()


def reverse_entry(user: User, entry: LedgerEntry, reason: str, day: date | None = None,
                  *, via_payment: bool = False) -> LedgerEntry:
    """A correction is a new reversing entry (红字冲销): same holder, kind and source, the negated
    amount, dated today (outside the audited period), linked to the original, with the reason.
    A project payment's lines are reversed only together, from the project (reverse_payment)."""
    scope.require_write(user)
    if entry.service_project_id is not None and not via_payment:
        raise FundingError("该记录是购买服务项目的付款，请在项目页面冲销该笔付款", "reason")
    reason = (reason or "").strip()
    if not reason:
        raise FundingError("请填写冲销原因", "reason")
    if entry.is_reversal:
        raise FundingError("冲销记录不能再冲销", "reason")
    if entry.reversed_by is not None:
        raise FundingError("该记录已经冲销过", "reason")
    day = day or local_today()
    holder = holder_of(entry)
    check_not_locked(holder, day, "reason")
    rev = LedgerEntry(organization_id=entry.organization_id, region_id=entry.region_id, entry_date=day,
                      kind=entry.kind, amount=-entry.amount, source=entry.source, purpose=entry.purpose,
                      project=entry.project, voucher_no=entry.voucher_no, reverses=entry, reason=reason[:2000],
                      note=f"冲销 {entry.entry_date:%Y-%m-%d} {entry.kind.label} {fmt_money(entry.amount)}",
                      service_project_id=entry.service_project_id, created_by_id=user.id)
    db.session.add(rev)
    db.session.flush()
    return rev


# ---- listing ---------------------------------------------------------------------------------------

@dataclass
class LedgerFilter:
    holder: str = ""
    year: int | None = None
    month: int | None = None
    kind: str = ""
    source: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "LedgerFilter":
        f = cls(holder=(args.get("holder") or "")[:30], kind=args.get("kind") or "",
                source=(args.get("source") or "")[:32], q=(args.get("q") or "").strip()[:64])
        try:
            y = int(args.get("year") or 0)
            f.year = y if 2000 <= y <= 2100 else None
        except ValueError:
            f.year = None
        try:
            m = int(args.get("month") or 0)
            f.month = m if 1 <= m <= 12 else None
        except ValueError:
            f.month = None
        if f.kind not in ("income", "expense"):
            f.kind = ""
        return f

    def args(self) -> dict:
        return {k: v for k, v in dict(holder=self.holder, year=self.year or "", month=self.month or "",
                                      kind=self.kind, source=self.source, q=self.q).items() if v}


def ledger_stmt(user: User, f: LedgerFilter) -> Select:
    stmt = scope.scoped(select(LedgerEntry), LedgerEntry, user)
    if f.holder:
        holder = parse_holder(user, f.holder)
        if holder is None:
            return stmt.where(False)
        stmt = stmt.where(holder_condition(LedgerEntry, holder))
    if f.year:
        start, end = _period(f.year, f.month)
        stmt = stmt.where(LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end)
    elif f.month:  # the same month of every year
        stmt = stmt.where(extract("month", LedgerEntry.entry_date) == f.month)
    if f.kind:
        stmt = stmt.where(LedgerEntry.kind == EntryKind(f.kind))
    if f.source:
        stmt = stmt.where(LedgerEntry.source == f.source)
    if f.q:
        like = f"%{f.q}%"
        stmt = stmt.where(or_(LedgerEntry.purpose.like(like), LedgerEntry.project.like(like),
                              LedgerEntry.voucher_no.like(like), LedgerEntry.note.like(like)))
    return stmt


def _period(year: int, month: int | None = None) -> tuple[date, date]:
    if month:
        return date(year, month, 1), (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1))
    return date(year, 1, 1), date(year + 1, 1, 1)


@dataclass
class Totals:
    income: Decimal = ZERO
    expense: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.income - self.expense


def totals(stmt: Select) -> Totals:
    """Income and expense of the entries a (scoped, filtered) select of LedgerEntry returns."""
    sub = stmt.order_by(None).subquery()
    row = db.session.execute(select(
        fen_sum(case((sub.c.kind == EntryKind.INCOME, sub.c.amount), else_=0)),
        fen_sum(case((sub.c.kind == EntryKind.EXPENSE, sub.c.amount), else_=0)),
    )).one()
    return Totals(from_fen(row[0]), from_fen(row[1]))


def ledger_rows(stmt: Select) -> Select:
    return stmt.order_by(LedgerEntry.entry_date.desc(), LedgerEntry.id.desc())


# ---- balances and summaries ------------------------------------------------------------------------

@dataclass
class HolderBalance:
    holder: Holder
    income: Decimal  # in the year
    expense: Decimal
    balance: Decimal  # cumulative to the end of the year
    opening: Decimal = ZERO


def balances_by_holder(user: User, year: int) -> list[HolderBalance]:
    """Per holder in scope: the year's income and expense and the cumulative balance at year end.
    Only holders with at least one entry up to that year are listed."""
    start, end = _period(year)
    in_year = and_(LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end)
    stmt = scope.scoped(select(
        LedgerEntry.organization_id, LedgerEntry.region_id,
        fen_sum(case((and_(in_year, LedgerEntry.kind == EntryKind.INCOME), LedgerEntry.amount), else_=0)),
        fen_sum(case((and_(in_year, LedgerEntry.kind == EntryKind.EXPENSE), LedgerEntry.amount), else_=0)),
        fen_sum(signed()),
    ).where(LedgerEntry.entry_date < end), LedgerEntry, user).group_by(LedgerEntry.organization_id, LedgerEntry.region_id)
    rows = db.session.execute(stmt).all()
    org_names = {i: n for i, n in db.session.execute(select(Organization.id, Organization.name).where(
        Organization.id.in_([r[0] for r in rows if r[0]])))}
    regions = {i: (n, (path.count("/"), sort, i)) for i, n, path, sort in db.session.execute(
        select(Region.id, Region.name, Region.path, Region.sort).where(Region.id.in_([r[1] for r in rows if r[1]])))}
    out = []
    for org_id, region_id, inc, exp, bal in rows:
        h = Holder("org", org_id, org_names.get(org_id, "")) if org_id else Holder("region", region_id, regions[region_id][0])
        out.append(HolderBalance(h, from_fen(inc), from_fen(exp), from_fen(bal)))
    # The city, then the districts in tree order, then the organizations by name.
    out.sort(key=lambda b: (0, regions[b.holder.id][1], "") if b.holder.kind == "region" else (1, (0, 0, 0), b.holder.name))
    return out


@dataclass
class SourceRow:
    source: str
    income: Decimal
    expense: Decimal
    balance: Decimal  # cumulative to year end


def source_balances(holder: Holder, year: int) -> list[SourceRow]:
    return _source_rows(holder_condition(LedgerEntry, holder), year)


def scope_source_balances(user: User, year: int) -> list[SourceRow]:
    """Per source over every ledger in the user's scope."""
    return _source_rows(scope.scope_filter(LedgerEntry, user), year)


def _source_rows(cond, year: int) -> list[SourceRow]:
    start, end = _period(year)
    in_year = and_(LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end)
    rows = db.session.execute(select(
        LedgerEntry.source,
        fen_sum(case((and_(in_year, LedgerEntry.kind == EntryKind.INCOME), LedgerEntry.amount), else_=0)),
        fen_sum(case((and_(in_year, LedgerEntry.kind == EntryKind.EXPENSE), LedgerEntry.amount), else_=0)),
        fen_sum(signed()),
    ).where(cond, LedgerEntry.entry_date < end).group_by(LedgerEntry.source)).all()
    by_source = {s: SourceRow(s, from_fen(i), from_fen(e), from_fen(b)) for s, i, e, b in rows}
    ordered = [by_source.pop(s) for s in sources() if s in by_source]
    return ordered + sorted(by_source.values(), key=lambda r: r.source)


@dataclass
class PeriodRow:
    label: str
    income: Decimal
    expense: Decimal
    count: int

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


def monthly_summary(holder: Holder, year: int) -> list[PeriodRow]:
    return _monthly_rows(holder_condition(LedgerEntry, holder), year)


def scope_monthly_summary(user: User, year: int) -> list[PeriodRow]:
    return _monthly_rows(scope.scope_filter(LedgerEntry, user), year)


def _monthly_rows(cond, year: int) -> list[PeriodRow]:
    start, end = _period(year)
    month = extract("month", LedgerEntry.entry_date)
    rows = db.session.execute(select(
        month,
        fen_sum(case((LedgerEntry.kind == EntryKind.INCOME, LedgerEntry.amount), else_=0)),
        fen_sum(case((LedgerEntry.kind == EntryKind.EXPENSE, LedgerEntry.amount), else_=0)),
        func.count(),
    ).where(cond, LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end).group_by(month)).all()
    by_month = {int(m): (i, e, n) for m, i, e, n in rows}
    out = []
    for m in range(1, 13):
        i, e, n = by_month.get(m, (0, 0, 0))
        out.append(PeriodRow(f"{m} 月", from_fen(i), from_fen(e), n))
    return out


def yearly_summary(holder: Holder) -> list[PeriodRow]:
    year = extract("year", LedgerEntry.entry_date)
    rows = db.session.execute(select(
        year,
        fen_sum(case((LedgerEntry.kind == EntryKind.INCOME, LedgerEntry.amount), else_=0)),
        fen_sum(case((LedgerEntry.kind == EntryKind.EXPENSE, LedgerEntry.amount), else_=0)),
        func.count(),
    ).where(holder_condition(LedgerEntry, holder)).group_by(year).order_by(year)).all()
    return [PeriodRow(f"{int(y)} 年", from_fen(i), from_fen(e), n) for y, i, e, n in rows]


def holder_balance(holder: Holder, until: date | None = None) -> Decimal:
    stmt = select(fen_sum(signed())).where(holder_condition(LedgerEntry, holder))
    if until:
        stmt = stmt.where(LedgerEntry.entry_date < until)
    return from_fen(db.session.scalar(stmt))


def spending_by_purpose(holder: Holder, year: int) -> list[tuple[str, Decimal]]:
    start, end = _period(year)
    rows = db.session.execute(select(LedgerEntry.purpose, fen_sum(LedgerEntry.amount)).where(
        holder_condition(LedgerEntry, holder), LedgerEntry.kind == EntryKind.EXPENSE,
        LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end).group_by(LedgerEntry.purpose)).all()
    out = [(p or "（未填写用途）", from_fen(v)) for p, v in rows if v]
    return sorted(out, key=lambda r: -r[1])


def scope_year_totals(user: User, year: int) -> Totals:
    """This year's income and expense over every holder in the user's scope (dashboard tile)."""
    start, end = _period(year)
    stmt = scope.scoped(select(LedgerEntry), LedgerEntry, user).where(
        LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end)
    return totals(stmt)


def entry_years(user: User) -> list[int]:
    y = extract("year", LedgerEntry.entry_date)
    years = {int(v) for v in db.session.scalars(scope.scoped(select(y).distinct(), LedgerEntry, user)) if v}
    years.add(local_today().year)
    return sorted(years, reverse=True)


# ---- purchased-service projects (政府购买服务, 000) ------------------------------------------------

PROJECT_ACTION_LABELS = verbs_for("funding_project", ("create", "tender", "award", "submit", "reject", "close"))
# action → (from, to, comment required)
PROJECT_TRANSITIONS = {
    "tender": (ProjectStatus.INITIATED, ProjectStatus.TENDERING, False),
    "award": (ProjectStatus.TENDERING, ProjectStatus.IN_PROGRESS, False),
    "submit": (ProjectStatus.IN_PROGRESS, ProjectStatus.ACCEPTANCE, False),
    "reject": (ProjectStatus.ACCEPTANCE, ProjectStatus.IN_PROGRESS, True),
    "close": (ProjectStatus.ACCEPTANCE, ProjectStatus.CLOSED, False),
}
PAYABLE = (ProjectStatus.IN_PROGRESS, ProjectStatus.ACCEPTANCE)


def buyer_regions(user: User) -> list[Region]:
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF):
        return []
    return list(db.session.scalars(scope.scoped(
        select(Region).where(Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT])), Region, user)
        .order_by(Region.path)))


def provider_orgs(user: User, buyer: Region | None = None) -> list[Organization]:
    stmt = scope.scoped(select(Organization).where(Organization.status == OrgStatus.APPROVED), Organization, user)
    if buyer is not None and buyer.level == RegionLevel.DISTRICT:
        stmt = stmt.where(Organization.region_id.in_(scope.region_subtree_ids(buyer.id)))
    return list(db.session.scalars(stmt.order_by(Organization.name_pinyin)))


def can_manage_project(user: User, project: ServiceProject) -> bool:
    """The buyer's side manages a project: city admins, and district staff for their district's."""
    if user.role == Role.CITY_ADMIN:
        return True
    return user.role == Role.DISTRICT_STAFF and project.buyer_region_id == user.region_id


@dataclass
class ProjectData:
    title: str
    buyer_region_id: int
    buyer_name: str
    provider_org_id: int | None
    amount: Decimal
    start_date: date
    end_date: date
    description: str = ""
    project_id: int | None = None  # 项目库 (blueprints/projects)


def _check_project(user: User, data: ProjectData, project: ServiceProject | None = None) -> tuple[Region, Organization | None]:
    if not (data.title or "").strip():
        raise FundingError("请填写项目名称", "title")
    buyer = next((r for r in buyer_regions(user) if r.id == data.buyer_region_id), None)
    if buyer is None:
        raise FundingError("请选择购买方", "buyer_region_id")
    provider = None
    if data.provider_org_id:
        provider = next((o for o in provider_orgs(user, buyer) if o.id == data.provider_org_id), None)
        if provider is None:
            raise FundingError("承接组织须为购买方辖区内已登记的组织", "provider_org_id")
    data.amount = parse_amount(data.amount)
    if data.start_date is None:
        raise FundingError("请填写开始日期", "start_date")
    if data.end_date is None:
        raise FundingError("请填写结束日期", "end_date")
    if data.end_date < data.start_date:
        raise FundingError("结束日期不能早于开始日期", "end_date")
    if project is not None and project.payments and data.amount < project.paid:
        # Lowering the amount under what was already paid would make the payments exceed it silently.
        raise FundingError(f"项目金额不能低于已付款 {fmt_money(project.paid)}", "amount")
    if project is not None and project.provider_org_id and project.payments and data.provider_org_id != project.provider_org_id:
        raise FundingError("已有付款的项目不能更换承接组织", "provider_org_id")
    if data.project_id and (project is None or data.project_id != project.project_id):
        from blueprints.projects.models import VolunteerProject  # the project library builds on funding's neighbours

        library = db.session.get(VolunteerProject, data.project_id)
        if library is None or not scope.in_scope(user, library):
            raise FundingError("请从列表中选择项目库中的项目", "project_id")
        if provider is not None and library.organization_id != provider.id:
            raise FundingError("所选项目不是承接组织实施的项目", "project_id")
    return buyer, provider


def _step(project: ServiceProject, user: User, action: str, frm: ProjectStatus | None, to: ProjectStatus, comment: str = "") -> None:
    project.steps.append(ProjectStep(action=action, from_status=frm.value if frm else None, to_status=to.value,
                                     comment=comment, **actor_fields(user)))
    record_change(action, project, f"意见：{comment}" if comment else "", user=user)


def create_project(user: User, data: ProjectData) -> ServiceProject:
    scope.require_write(user)
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF):
        raise FundingError("只有市、县(区)文明办可以立项", "title")
    buyer, provider = _check_project(user, data)
    project = ServiceProject(title=data.title.strip(), buyer_region=buyer,
                             buyer_name=(data.buyer_name or "").strip() or f"{buyer.name}文明办",
                             provider=provider, amount=data.amount, start_date=data.start_date,
                             end_date=data.end_date, description=(data.description or "").strip(),
                             status=ProjectStatus.INITIATED, created_by_id=user.id, project_id=data.project_id or None)
    db.session.add(project)
    _step(project, user, "create", None, ProjectStatus.INITIATED)
    db.session.flush()
    return project


def update_project(user: User, project: ServiceProject, data: ProjectData) -> ServiceProject:
    if not can_manage_project(user, project):
        raise FundingError("无权修改该项目", "title")
    if project.status == ProjectStatus.CLOSED:
        raise FundingError("已结项的项目不能修改", "title")
    buyer, provider = _check_project(user, data, project)
    project.title, project.buyer_region = data.title.strip(), buyer
    project.buyer_name = (data.buyer_name or "").strip() or f"{buyer.name}文明办"
    project.provider, project.amount = provider, data.amount
    project.start_date, project.end_date = data.start_date, data.end_date
    project.description = (data.description or "").strip()
    project.project_id = data.project_id or None
    db.session.flush()
    return project


def allowed_actions(user: User, project: ServiceProject) -> list[str]:
    if not can_manage_project(user, project):
        return []
    return [a for a, (frm, _, _) in PROJECT_TRANSITIONS.items() if frm == project.status]


def transition(project: ServiceProject, action: str, user: User, comment: str = "") -> ServiceProject:
    """The one way a project changes status: checks who and from where, records the step."""
    comment = (comment or "").strip()[:2000]
    if action not in PROJECT_TRANSITIONS:
        raise FundingError("未知的操作")
    frm, to, needs_comment = PROJECT_TRANSITIONS[action]
    if not can_manage_project(user, project):
        raise FundingError("只有购买方（市、县(区)文明办）可以推进项目流程")
    if project.status != frm:
        raise FundingError(f"项目当前为“{project.status.label}”，不能执行“{PROJECT_ACTION_LABELS[action]}”")
    if needs_comment and not comment:
        raise FundingError("请填写验收意见（退回原因）", "comment")
    if to == ProjectStatus.IN_PROGRESS and action == "award" and project.provider_org_id is None:
        raise FundingError("请先在项目信息中填写中标的承接组织")
    project.status = to
    _step(project, user, action, frm, to, comment)
    db.session.flush()
    return project


def record_payment(user: User, project: ServiceProject, paid_on: date, amount, voucher_no: str = "",
                   over_reason: str = "") -> ProjectPayment:
    """Pay a project: the provider's income (source 政府购买服务) and, when the buyer keeps a ledger
    here, the buyer's expense. The sum of payments may exceed the amount only with a reason."""
    if not can_manage_project(user, project):
        raise FundingError("只有购买方可以登记付款", "amount")
    if project.status not in PAYABLE:
        raise FundingError(f"项目处于“{project.status.label}”阶段，只有实施或验收阶段可以付款", "amount")
    if project.provider is None:
        raise FundingError("项目尚无承接组织", "amount")
    amount = parse_amount(amount)
    if paid_on is None:
        raise FundingError("请填写付款日期", "paid_on")
    if paid_on > local_today():
        raise FundingError("付款日期不能晚于今天", "paid_on")
    over_reason = (over_reason or "").strip()[:2000]
    if project.paid + amount > project.amount and not over_reason:
        raise FundingError(
            f"累计付款 {fmt_money(project.paid + amount)} 将超过项目金额 {fmt_money(project.amount)}，须填写超付原因", "over_reason")
    provider_h = holder_from_org(project.provider)
    buyer_h = holder_from_region(project.buyer_region)
    check_not_locked(provider_h, paid_on, "paid_on")
    check_not_locked(buyer_h, paid_on, "paid_on")
    source = "政府购买服务" if "政府购买服务" in sources() else sources()[0]
    common = dict(entry_date=paid_on, amount=amount, purpose="政府购买服务", project=project.title[:128],
                  voucher_no=(voucher_no or "").strip()[:64], service_project_id=project.id, created_by_id=user.id,
                  note=(f"超付原因：{over_reason}" if over_reason else ""))
    income = LedgerEntry(organization_id=project.provider_org_id, kind=EntryKind.INCOME, source=source, **common)
    expense = LedgerEntry(region_id=project.buyer_region_id, kind=EntryKind.EXPENSE,
                          source="财政拨款" if "财政拨款" in sources() else source, **common)
    db.session.add_all([income, expense])
    payment = ProjectPayment(project=project, paid_on=paid_on, amount=amount, income_entry=income,
                             expense_entry=expense, over_reason=over_reason, created_by_id=user.id)
    db.session.add(payment)
    db.session.flush()
    return payment


def reverse_payment(user: User, payment: ProjectPayment, reason: str) -> ProjectPayment:
    """Undo a wrong payment: reversing entries for the provider's income and the buyer's expense,
    the payment kept and marked, no longer counted in what the project has paid."""
    project = payment.project
    if not can_manage_project(user, project):
        raise FundingError("只有购买方可以冲销付款", "reason")
    if payment.is_reversed:
        raise FundingError("该笔付款已经冲销", "reason")
    if project.status == ProjectStatus.CLOSED:
        raise FundingError("已结项的项目不能冲销付款", "reason")
    reason = (reason or "").strip()
    if not reason:
        raise FundingError("请填写冲销原因", "reason")
    for entry in (payment.income_entry, payment.expense_entry):
        if entry is not None and entry.reversed_by is None:
            reverse_entry(user, entry, f"冲销项目付款：{reason}", via_payment=True)
    payment.reversed_at, payment.reverse_reason = utcnow(), reason[:2000]
    db.session.flush()
    return payment


# ---- audits (003: 定时审计，接受社会监督) --------------------------------------------------------------

def can_audit(user: User) -> bool:
    return user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF)


def can_manage_audit(user: User, audit: FundAudit) -> bool:
    return can_audit(user) and scope.in_scope(user, audit)


def can_update_items(user: User, audit: FundAudit) -> bool:
    """The audited organization reports its rectification too; leaders only read."""
    return user.can_write and scope.in_scope(user, audit)


@dataclass
class AuditData:
    audit_date: date
    auditor: str
    period_start: date
    period_end: date
    findings: str = ""
    items: list[str] = field(default_factory=list)


def create_audit(user: User, holder: Holder, data: AuditData) -> FundAudit:
    if not can_audit(user):
        raise FundingError("只有市、县(区)文明办可以登记审计", "holder")
    if not holder_in_scope(user, holder):
        raise FundingError("请选择被审计单位", "holder")
    if not (data.auditor or "").strip():
        raise FundingError("请填写审计机构", "auditor")
    if data.period_start is None:
        raise FundingError("请填写审计期间的开始日期", "period_start")
    if data.period_end is None:
        raise FundingError("请填写审计期间的结束日期", "period_end")
    if data.period_end < data.period_start:
        raise FundingError("审计期间的结束日期不能早于开始日期", "period_end")
    if data.audit_date is None:
        raise FundingError("请填写审计日期", "audit_date")
    if data.audit_date < data.period_end:
        raise FundingError("审计日期应在审计期间结束之后", "audit_date")
    if data.audit_date > local_today():
        raise FundingError("审计日期不能晚于今天", "audit_date")
    audit = FundAudit(organization_id=holder.org_id, region_id=holder.region_id, audit_date=data.audit_date,
                      auditor=data.auditor.strip(), period_start=data.period_start, period_end=data.period_end,
                      findings=(data.findings or "").strip(), created_by_id=user.id)
    for text in data.items:
        if text.strip():
            audit.items.append(RectificationItem(description=text.strip()[:2000]))
    db.session.add(audit)
    db.session.flush()
    return audit


def add_item(user: User, audit: FundAudit, description: str, due_date: date | None = None) -> RectificationItem:
    if not can_manage_audit(user, audit):
        raise FundingError("无权添加整改事项", "description")
    if not (description or "").strip():
        raise FundingError("请填写整改事项", "description")
    item = RectificationItem(audit=audit, description=description.strip()[:2000], due_date=due_date)
    db.session.add(item)
    db.session.flush()
    return item


def set_item_status(user: User, item: RectificationItem, status: str, result: str = "") -> RectificationItem:
    if not can_update_items(user, item.audit):
        raise FundingError("无权更新整改情况", "status")
    try:
        new = ItemStatus(status)
    except ValueError:
        raise FundingError("请选择整改状态", "status") from None
    if new == ItemStatus.DONE and not (result or "").strip() and not item.result:
        raise FundingError("标记为已整改时请填写整改结果", "result")
    item.status = new
    if (result or "").strip():
        item.result = result.strip()[:2000]
    db.session.flush()
    return item


def audits_for_holder(holder: Holder, year: int | None = None) -> list[FundAudit]:
    stmt = select(FundAudit).where(holder_condition(FundAudit, holder))
    if year:
        start, end = _period(year)
        stmt = stmt.where(FundAudit.period_start < end, FundAudit.period_end >= start)
    return list(db.session.scalars(stmt.order_by(FundAudit.period_start)))


def holder_projects(holder: Holder, year: int | None = None) -> list[ServiceProject]:
    """Projects an organization provides, or a region buys (those running in `year` if given)."""
    if holder.kind == "org":
        stmt = select(ServiceProject).where(ServiceProject.provider_org_id == holder.id)
    else:
        stmt = select(ServiceProject).where(ServiceProject.buyer_region_id == holder.id)
    if year:
        start, end = _period(year)
        stmt = stmt.where(ServiceProject.start_date < end, ServiceProject.end_date >= start)
    return list(db.session.scalars(stmt.order_by(ServiceProject.start_date.desc(), ServiceProject.id.desc())))


# ---- yearly public statement ------------------------------------------------------------------------

@dataclass
class Statement:
    holder: Holder
    year: int
    opening: Decimal
    income_by_source: list[tuple[str, Decimal]]
    spending_by_purpose: list[tuple[str, Decimal]]
    income: Decimal
    expense: Decimal
    closing: Decimal
    audits: list[FundAudit]
    projects: list[ServiceProject]
    months: list[PeriodRow]


def statement(holder: Holder, year: int) -> Statement:
    start, end = _period(year)
    rows = source_balances(holder, year)
    income_by_source = [(r.source, r.income) for r in rows if r.income]
    t = totals(select(LedgerEntry).where(holder_condition(LedgerEntry, holder),
                                         LedgerEntry.entry_date >= start, LedgerEntry.entry_date < end))
    opening = holder_balance(holder, start)
    projects = holder_projects(holder, year)
    return Statement(holder, year, opening, income_by_source, spending_by_purpose(holder, year), t.income, t.expense,
                     opening + t.balance, audits_for_holder(holder, year), projects, monthly_summary(holder, year))
