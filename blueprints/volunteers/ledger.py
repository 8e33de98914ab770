"""The service-hour ledger: the rules of a record, verification, correction, and the figures derived
from verified records (cumulative hours, hours per year, star level, 骨干/流动, the 40-hour check).

Policy numbers are settings the city admin edits (core/settings.py policies), the cited values are the
defaults; star_thresholds() / core_hours() / official_hours() / official_days() / late_working_days() read them:
- volunteers.star_hours (100, 300, 600, 1000, 1500): 一星 … 五星 (004 第7条, 民政部 standard);
- volunteers.core_hours 48: 志愿者骨干 in a year (001 附件4 第四条), otherwise 流动志愿者;
- volunteers.official_hours 40 and volunteers.official_days 7: party members and public servants per
  year, "7天以上时间（服务时长累计不少于40小时）" (004 第15条);
- volunteers.late_working_days 10: entered later than this is a late entry (《办法》§11), counted in
  official working days (core/workdays.py).

Public functions other features call (keep these signatures stable):
- create_record(user, volunteer, org, day, hours, content, quality=GOOD, activity=None, source=MANUAL)
  -> ServiceRecord (pending; raises LedgerError(message, field) on any rule: hours > 0, ≤ 24 h a day
  per volunteer across all records, date not in the future nor before registration, member org);
- create_records(user, org, day, [(volunteer, hours, quality)], content, activity=None, source=MANUAL)
  -> ({i: record}, {i: LedgerError}) — the same rules for a whole attendance sheet, one flush;
- update_record(user, record, day, hours, content, quality) (pending only), delete_record(user, record);
- verify_records(user, records) -> int (org leader only; pending → verified; figures refreshed);
- correct_record(user, record, day, hours, content, quality, reason, void=False, request=None)
  -> RecordCorrection (verified only; keeps the original as a trace; figures refreshed);
- parse_hours(value) -> Decimal, day_totals(volunteer_ids, day, exclude_ids=()) -> {vid: hours};
- add_training(...), add_award(volunteer, name, awarded_on, granting_unit, *, user, org, source, source_ref);
- log_request(...), answer_request(...) (《办法》§13);
- pure derived figures on constructed data: verified_total(records), hours_per_year(records),
  star_level(total), star_label(total), is_core(year_hours), kind_label(year_hours),
  official_below(is_party, public_servant, year_hours, year_days=None);
- 骨干 per community (001 附件4 第四条 "每年在本社区服务时长达48小时"): community_hours(volunteer, year),
  core_communities(volunteer, year), is_core_in(volunteer, community, year), core_volunteer_ids(year)
  (a subquery), org_communities() (which community an organization's service counts for);
  privileges of 骨干 (training, 爱心回馈): core_ids_for(ids, years, privilege_communities(org, region));
- cached figures for pages and lists: figures_for(volunteer, year=None) -> Figures,
  year_hours_map(ids, year), refresh_figures(ids), rebuild_all_figures().
Only VERIFIED records count in any figure; `Volunteer.total_hours` and `VolunteerYearHours` are the
exact cache of the verified ledger (tests compare them with a recomputation).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable

from sqlalchemy import Integer, any_, case, delete, extract, func, insert, literal, select, true, union, update
from sqlalchemy.dialects.postgresql import ARRAY

from blueprints.accounts.models import Role
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.orgs.services import clean_org_query, org_name_ids
from blueprints.regions.models import Region, RegionLevel
from blueprints.volunteers.models import (AwardReceived, CorrectionRequest, Quality, RecordCorrection,
                                          RecordSource, RecordStatus, RequestStatus, ServiceRecord,
                                          TrainingRecord, Volunteer, VolunteerCommunityHours, VolunteerYearHours)
from core import cache, scope
from core.audit import record_change
from core import settings, workdays
from core.sources import cite
from core.extensions import db
from core.timeutil import local_today, to_local, utcnow
from core.validators import parse_date, parse_id

MAX_HOURS_PER_DAY = Decimal("24")  # a day has 24 hours, across every record of the person
STAR_LABELS = ["未评星", "一星", "二星", "三星", "四星", "五星"]
ONE_DECIMAL = Decimal("0.1")


class LedgerError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- policy ------------------------------------------------------------------------------------

# The policy numbers are edited by the city admin on the settings page (core/settings.py); these
# functions are the one way a rule reads them.
STAR_KEY, CORE_KEY, OFFICIAL_KEY, LATE_KEY = ("volunteers.star_hours", "volunteers.core_hours",
                                              "volunteers.official_hours", "volunteers.late_working_days")
settings.register_policy(settings.Policy(
    STAR_KEY, "星级志愿者认定的累计服务时长", (100, 300, 600, 1000, 1500), "小时", 1, 100000, cite("004", "第7条"),
    "根据民政部确定的认定标准，志愿服务累计达到100小时、300小时、600小时、1000小时和1500小时的志愿者，"
    "可依次认定为一至五星志愿者。", group="志愿者与服务时长", order=10, items=("一星", "二星", "三星", "四星", "五星")))
settings.register_policy(settings.Policy(
    CORE_KEY, "志愿者骨干的年服务时长", 48, "小时", 1, 8784, cite("001", "附件4 第四条"),
    "凡每年在本社区服务时长达48小时以上，归入“志愿者骨干”登记注册", group="志愿者与服务时长", order=20))
settings.register_policy(settings.Policy(
    OFFICIAL_KEY, "党员、公职人员倡导的年服务时长", 40, "小时", 1, 8784, cite("004", "第15条"),
    "倡导全省党员、公职人员每年从双休日和节假日中拿出7天以上时间（服务时长累计不少于40小时）",
    group="志愿者与服务时长", order=30))
OFFICIAL_DAYS_KEY = "volunteers.official_days"
settings.register_policy(settings.Policy(
    OFFICIAL_DAYS_KEY, "党员、公职人员倡导的年服务天数", 7, "天", 1, 366, cite("004", "第15条"),
    "倡导全省党员、公职人员每年从双休日和节假日中拿出7天以上时间（服务时长累计不少于40小时）",
    group="志愿者与服务时长", order=35))
settings.register_policy(settings.Policy(
    LATE_KEY, "补录标记：服务后超过几个工作日录入", 10, "个工作日", 1, 250,
    "《志愿服务记录与证明出具办法》第十一条（服务记录应及时录入）", "",
    group="志愿者与服务时长", order=40, hint="工作日按国务院公布的法定节假日和调休计算。"))


def star_thresholds() -> tuple[int, ...]:
    return tuple(settings.policy(STAR_KEY))


def core_hours() -> int:
    return int(settings.policy(CORE_KEY))


def official_hours() -> int:
    return int(settings.policy(OFFICIAL_KEY))


def official_days() -> int:
    return int(settings.policy(OFFICIAL_DAYS_KEY))


def late_working_days() -> int:
    return int(settings.policy(LATE_KEY))


def star_level(total: Decimal | int | float | None) -> int:
    total = Decimal(total or 0)
    return sum(1 for t in star_thresholds() if total >= t)


def star_label(total) -> str:
    return STAR_LABELS[star_level(total)]


def is_core(year_hours) -> bool:
    """志愿者骨干: at least 48 verified hours in the year *in one community* (001 附件4 第四条
    "每年在本社区服务时长达48小时"); otherwise 流动志愿者. Pass the hours of one community
    (community_hours / core_communities below); a person's hours summed over communities do not count."""
    return Decimal(year_hours or 0) >= core_hours()


def kind_label(year_hours) -> str:
    return "志愿者骨干" if is_core(year_hours) else "流动志愿者"


def official_met(year_hours, year_days=None) -> bool:
    """004 第15条: "7天以上时间（服务时长累计不少于40小时）" — both, when the days are known."""
    if Decimal(year_hours or 0) < official_hours():
        return False
    return year_days is None or int(year_days) >= official_days()


def official_below(is_party: bool, public_servant: bool, year_hours, year_days=None) -> bool:
    """Party members and public servants are advocated ("倡导") to serve 40 h on 7 days or more a year (004 第15条)."""
    return (is_party or public_servant) and not official_met(year_hours, year_days)


def _counts(record) -> bool:
    return RecordStatus(record.status) == RecordStatus.VERIFIED


def verified_total(records) -> Decimal:
    """Cumulative hours of a volunteer's records: verified only (pending and void never count)."""
    return quantize(sum((Decimal(r.hours) for r in records if _counts(r)), Decimal(0)))


def hours_per_year(records) -> dict[int, Decimal]:
    out: dict[int, Decimal] = defaultdict(Decimal)
    for r in records:
        if _counts(r):
            out[r.service_date.year] += Decimal(r.hours)
    return {y: quantize(h) for y, h in sorted(out.items())}


def star_bounds(level: int) -> tuple[int, int | None]:
    """Hours range [low, high) of a star level, for filtering on total_hours."""
    t = (0,) + star_thresholds()
    return t[level], (t[level + 1] if level + 1 < len(t) else None)


def quantize(value) -> Decimal:
    return Decimal(value or 0).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def parse_hours(value) -> Decimal:
    """Hours as typed: a positive number with at most one decimal."""
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LedgerError("请填写时长（小时），如 2 或 2.5", "hours") from None
    if not d.is_finite():
        raise LedgerError("请填写时长（小时），如 2 或 2.5", "hours")
    if d <= 0:
        raise LedgerError("时长须大于 0", "hours")
    if d > MAX_HOURS_PER_DAY:
        raise LedgerError("一条记录的时长不能超过 24 小时", "hours")
    if d != d.quantize(ONE_DECIMAL):
        raise LedgerError("时长最多保留一位小数", "hours")
    return d.quantize(ONE_DECIMAL)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`: official holidays and 调休 make-up days
    as the State Council announces them (core/workdays.py, the `chinesecalendar` package)."""
    return workdays.working_days_between(start, end)


def is_late(service_date: date, entered_on: date) -> bool:
    return working_days_between(service_date, entered_on) > late_working_days()


# ---- who may do what -----------------------------------------------------------------------------

def recording_orgs(user, volunteer: Volunteer) -> list[Organization]:
    """Approved organizations in the user's scope that the volunteer serves in."""
    if not user.can_write:
        return []
    member_org_ids = [m.organization_id for m in volunteer.memberships]
    if not member_org_ids:
        return []
    stmt = scope.scoped(select(Organization).where(Organization.id.in_(member_org_ids),
                                                   Organization.status == OrgStatus.APPROVED),
                        Organization, user).order_by(Organization.name_pinyin)
    return list(db.session.scalars(stmt))


def can_verify(user) -> bool:
    """Verification, corrections and answers to requests are the organization leader's (issue 5)."""
    return getattr(user, "role", None) == Role.ORG_LEADER


def can_edit_record(user, record: ServiceRecord) -> bool:
    return user.can_write and record.status == RecordStatus.PENDING and scope.in_scope(user, record)


def can_correct_record(user, record: ServiceRecord) -> bool:
    return can_verify(user) and record.status == RecordStatus.VERIFIED and scope.in_scope(user, record)


# ---- the rules of one record ---------------------------------------------------------------------

def lock_volunteers(volunteer_ids: Iterable[int]) -> None:
    """Serialize writers of the same people's ledger until the transaction ends, so that two
    concurrent entries cannot both pass the 24-hours-a-day check (PostgreSQL: a row lock on each
    volunteer, taken in id order against deadlocks; READ COMMITTED then lets the sum below see what
    the previous holder committed). SQLite needs none: a writing request holds the database's one
    write lock from BEGIN IMMEDIATE on (core/extensions.py)."""
    ids = sorted(set(volunteer_ids))
    if ids and db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(select(Volunteer.id).where(Volunteer.id.in_(ids)).order_by(Volunteer.id)
                           .with_for_update())


def day_totals(volunteer_ids: Iterable[int], day: date, exclude_ids: Iterable[int] = ()) -> dict[int, Decimal]:
    """Hours already on the ledger per volunteer on one day (pending and verified, not void).
    Locks those volunteers first: the caller is about to add hours under the 24-hour rule."""
    ids = list(set(volunteer_ids))
    if not ids:
        return {}
    lock_volunteers(ids)
    stmt = (select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours))
            .where(ServiceRecord.volunteer_id.in_(ids), ServiceRecord.service_date == day,
                   ServiceRecord.status != RecordStatus.VOID)
            .group_by(ServiceRecord.volunteer_id))
    exclude = [i for i in exclude_ids if i]
    if exclude:
        stmt = stmt.where(ServiceRecord.id.not_in(exclude))
    return {vid: quantize(total) for vid, total in db.session.execute(stmt)}


def check_day_limit(volunteer: Volunteer, day: date, hours: Decimal, exclude_id: int | None = None) -> None:
    already = day_totals([volunteer.id], day, [exclude_id] if exclude_id else []).get(volunteer.id, Decimal(0))
    if already + hours > MAX_HOURS_PER_DAY:
        left = max(Decimal(0), MAX_HOURS_PER_DAY - already)
        raise LedgerError(f"{volunteer.name} 在 {day.isoformat()} 已记录 {already} 小时，"
                          f"同一天合计不能超过 24 小时（最多还可记录 {left} 小时）", "hours")


def check_date(volunteer: Volunteer, day: date, field_name: str = "service_date") -> None:
    if day > local_today():
        raise LedgerError("服务日期不能晚于今天", field_name)
    if day < volunteer.registered_on:
        raise LedgerError(f"服务日期不能早于该志愿者的注册日期（{volunteer.registered_on.isoformat()}）", field_name)
    if volunteer.dismissed_on is not None and day > volunteer.dismissed_on:
        # 劝退 (001 第五条): service before the dismissal may still be entered late, none after it.
        raise LedgerError(f"该志愿者已于 {volunteer.dismissed_on.isoformat()} 被劝退，之后的服务不能记录", field_name)


def check_member(volunteer: Volunteer, org: Organization, day: date) -> None:
    """The recording organization is one the volunteer serves in, and had not dismissed them by then
    (本站劝退, 001 第五条: it ends that membership; earlier service may still be entered late)."""
    membership = next((m for m in volunteer.memberships if m.organization_id == org.id), None)
    if membership is None:
        raise LedgerError("该志愿者不是所选组织的成员", "organization_id")
    if membership.dismissed_on is not None and day > membership.dismissed_on:
        raise LedgerError(f"该志愿者已于 {membership.dismissed_on.isoformat()} 被本组织劝退，之后的服务不能由本组织记录",
                          "organization_id")


def _clean_content(content: str) -> str:
    content = (content or "").strip()
    if not content:
        raise LedgerError("请填写服务内容", "content")
    if len(content) > 500:
        raise LedgerError("服务内容最多 500 个字", "content")
    return content


def create_record(user, volunteer: Volunteer, org: Organization, day: date, hours, content: str,
                  quality: Quality | str = Quality.GOOD, activity=None,
                  source: RecordSource = RecordSource.MANUAL, require_member: bool = True) -> ServiceRecord:
    """A new pending record; the checks run in the order a person reads the form.
    require_member=False: a check-in at an activity open to the district (issue 17) — the organization
    records service done at its activity by a volunteer who is not its member."""
    if org.status != OrgStatus.APPROVED:
        raise LedgerError("只有已登记（审核通过）的组织才能记录服务时长", "organization_id")
    if require_member:
        check_member(volunteer, org, day)
    check_date(volunteer, day)
    hours = parse_hours(hours)
    content = _clean_content(content)
    check_day_limit(volunteer, day, hours)
    record = ServiceRecord(
        volunteer=volunteer, organization=org, activity=activity, service_date=day, hours=hours,
        content=content, quality=Quality(quality), status=RecordStatus.PENDING, source=source,
        late_entry=is_late(day, local_today()), recorded_by_id=user.id, recorded_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    notify_verifiers({org.id})
    return record


def create_records(user, org: Organization, day: date, items: list[tuple[Volunteer, object, Quality | str]],
                   content: str, activity=None, source: RecordSource = RecordSource.MANUAL,
                   ) -> tuple[dict[int, ServiceRecord], dict[int, LedgerError]]:
    """Many new pending records of one organization on one day (an attendance sheet), with exactly the
    rules of `create_record` but one 24-hour query and one flush for the whole batch.

    `items` are (volunteer, hours, quality); each item stands alone: the answer is
    ({index: record}, {index: LedgerError}) and a refused item adds nothing."""
    made: dict[int, ServiceRecord] = {}
    refused: dict[int, LedgerError] = {}
    if org.status != OrgStatus.APPROVED:
        err = LedgerError("只有已登记（审核通过）的组织才能记录服务时长", "organization_id")
        return made, {i: err for i in range(len(items))}
    try:
        content = _clean_content(content)
    except LedgerError as err:
        return made, {i: err for i in range(len(items))}
    totals = day_totals([v.id for v, _, _ in items], day)
    late, now = is_late(day, local_today()), utcnow()
    for i, (volunteer, hours, quality) in enumerate(items):
        try:
            check_member(volunteer, org, day)
            check_date(volunteer, day)
            hours = parse_hours(hours)
            already = totals.get(volunteer.id, Decimal(0))
            if already + hours > MAX_HOURS_PER_DAY:
                left = max(Decimal(0), MAX_HOURS_PER_DAY - already)
                raise LedgerError(f"{volunteer.name} 在 {day.isoformat()} 已记录 {already} 小时，"
                                  f"同一天合计不能超过 24 小时（最多还可记录 {left} 小时）", "hours")
            quality = Quality(quality)
        except LedgerError as err:
            refused[i] = err
            continue
        totals[volunteer.id] = already + hours
        made[i] = ServiceRecord(
            volunteer=volunteer, organization=org, activity=activity, service_date=day, hours=hours,
            content=content, quality=quality, status=RecordStatus.PENDING, source=source,
            late_entry=late, recorded_by_id=user.id, recorded_at=now,
        )
    db.session.add_all(made.values())
    db.session.flush()
    if made:
        notify_verifiers({org.id})
    return made, refused


# ---- who acts next: the recording organization's leader verifies ------------------------------------

def pending_count(org_id: int) -> int:
    return db.session.scalar(select(func.count(ServiceRecord.id)).where(
        ServiceRecord.organization_id == org_id, ServiceRecord.status == RecordStatus.PENDING)) or 0


def notify_verifiers(org_ids: Iterable[int]) -> int:
    """Tell each organization's leader that records await their verification — one in-app
    notification per leader and day (the monthly reports' notifications, as 催报 sends them), kept
    up to date with the count instead of one message per record. Returns the number of new ones."""
    from datetime import datetime, time

    from blueprints.reports.models import Notification
    from blueprints.reports.services import _path, notify, org_leaders
    from core.timeutil import LOCAL_TZ

    ids = sorted(set(org_ids))
    if not ids:
        return 0
    day_start = datetime.combine(local_today(), time.min, LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())
    new = 0
    for org_id, leaders in org_leaders(ids).items():
        count = pending_count(org_id)
        if not count:
            continue
        url = _path("ledger.index", status=RecordStatus.PENDING.value, org=org_id)
        title = f"{names.get(org_id, '')}有 {count} 条服务记录待您审核"
        for u in leaders:
            today_note = db.session.scalar(select(Notification).where(
                Notification.user_id == u.id, Notification.url == url, Notification.created_at >= day_start)
                .order_by(Notification.id.desc()).limit(1))
            if today_note is not None:
                today_note.title = title[:200]
            else:
                notify([u], title, "审核通过后记录才计入志愿者的服务时长。", url)
                new += 1
    db.session.flush()
    return new


def update_record(user, record: ServiceRecord, day: date, hours, content: str, quality) -> None:
    """Pending records are edited freely by their organization (a trace is the audit log)."""
    if record.status != RecordStatus.PENDING:
        raise LedgerError("已审核的记录不能直接修改，请使用“更正”并说明原因")
    check_date(record.volunteer, day)
    hours = parse_hours(hours)
    content = _clean_content(content)
    check_day_limit(record.volunteer, day, hours, exclude_id=record.id)
    if day != record.service_date:
        record.late_entry = is_late(day, to_local(record.recorded_at).date())
    record.service_date, record.hours, record.content, record.quality = day, hours, content, Quality(quality)


def delete_record(user, record: ServiceRecord) -> None:
    if record.status != RecordStatus.PENDING:
        raise LedgerError("已审核的记录不能删除，如有错误请更正或作废")
    _unlink_participant(record)
    db.session.delete(record)
    db.session.flush()


def _unlink_participant(record: ServiceRecord) -> None:
    from blueprints.activities.models import Participant

    db.session.execute(update(Participant).where(Participant.record_id == record.id)
                       .values(record_id=None, attended=None, hours=None))


def verify_records(user, records: list[ServiceRecord]) -> int:
    """Batch verification by the org leader: pending → verified; only then do they count.
    The caller loads `records` through core/scope (the leader's own organizations)."""
    if not can_verify(user):
        raise LedgerError("只有组织负责人可以审核服务记录")
    now = utcnow()
    done = []
    for r in records:
        if r.status != RecordStatus.PENDING:
            continue
        r.status, r.verified_by_id, r.verified_at = RecordStatus.VERIFIED, user.id, now
        done.append(r)
    db.session.flush()
    for r in done:
        record_change("verify", r, user=user)
    refresh_figures({r.volunteer_id for r in done})
    return len(done)


def _snapshot(record: ServiceRecord) -> dict:
    return {"service_date": record.service_date.isoformat(), "hours": str(quantize(record.hours)),
            "content": record.content, "quality": record.quality.value, "status": record.status.value}


def correct_record(user, record: ServiceRecord, day: date, hours, content: str, quality, reason: str,
                   void: bool = False, request: CorrectionRequest | None = None) -> RecordCorrection:
    """After verification only a correction with a reason; the original stays visible as a trace."""
    if not can_verify(user):
        raise LedgerError("只有组织负责人可以更正已审核的记录")
    if record.status != RecordStatus.VERIFIED:
        raise LedgerError("只有已审核的记录需要更正；待审核的记录可直接修改")
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("请填写更正原因", "reason")
    if len(reason) > 500:
        raise LedgerError("更正原因最多 500 个字", "reason")
    before = _snapshot(record)
    if void:
        record.status = RecordStatus.VOID
    else:
        check_date(record.volunteer, day)
        hours = parse_hours(hours)
        content = _clean_content(content)
        check_day_limit(record.volunteer, day, hours, exclude_id=record.id)
        record.service_date, record.hours, record.content, record.quality = day, hours, content, Quality(quality)
    after = _snapshot(record)
    if after == before:
        raise LedgerError("更正后的内容与原记录相同", "hours")
    record.corrected = True
    correction = RecordCorrection(record=record, before=before, after=after, reason=reason,
                                  request_id=request.id if request else None, corrected_by_id=user.id,
                                  corrected_by_name=str(user), corrected_at=utcnow())
    db.session.add(correction)
    db.session.flush()
    record_change("void" if void else "correct", record, f"原因：{reason}", user=user)
    refresh_figures([record.volunteer_id])
    return correction


# ---- derived figures (maintained, so lists never aggregate the whole ledger) -------------------

def _year_col():
    return extract("year", ServiceRecord.service_date)


def org_communities(org_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Which community an organization's service counts for (骨干, 001 附件4 第四条 "在本社区服务"):
    the community an organization is registered in; an organization registered higher up (a town's
    or district's) that manages the stations of exactly one community counts for that community.
    Organizations of no single community count for none. `org_ids` narrows the look-up."""
    from blueprints.stations.models import Station

    ids = None if org_ids is None else sorted(set(org_ids))
    stmt = select(Organization.id, Organization.region_id).join(Region, Region.id == Organization.region_id).where(
        Region.level == RegionLevel.COMMUNITY)
    stations_stmt = select(Station.organization_id, Station.region_id).join(Region, Region.id == Station.region_id).where(
        Station.organization_id.is_not(None), Region.level == RegionLevel.COMMUNITY)
    if ids is not None:
        if not ids:
            return {}
        stmt = stmt.where(Organization.id.in_(ids))
        stations_stmt = stations_stmt.where(Station.organization_id.in_(ids))
    out = dict(db.session.execute(stmt).all())
    stations: dict[int, set[int]] = defaultdict(set)
    for oid, rid in db.session.execute(stations_stmt):
        stations[oid].add(rid)
    for oid, rids in stations.items():
        if oid not in out and len(rids) == 1:
            out[oid] = next(iter(rids))
    return out


def _community_rows(where) -> list[dict]:
    year = _year_col()
    rows = db.session.execute(
        select(ServiceRecord.volunteer_id, ServiceRecord.organization_id, year, func.sum(ServiceRecord.hours))
        .where(where, ServiceRecord.status == RecordStatus.VERIFIED)
        .group_by(ServiceRecord.volunteer_id, ServiceRecord.organization_id, year)).all()
    communities = org_communities({oid for _, oid, _, _ in rows} if len(rows) < 5000 else None)
    totals: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
    for vid, oid, y, hours in rows:
        cid = communities.get(oid)
        if cid is not None:
            totals[(vid, cid, int(y))] += Decimal(hours)
    return [{"volunteer_id": k[0], "community_id": k[1], "year": k[2], "hours": quantize(h)} for k, h in totals.items()]


def refresh_figures(volunteer_ids: Iterable[int]) -> None:
    """Recompute cumulative and per-year verified hours (and days, and hours per community) of some
    volunteers from their records."""
    ids = sorted(set(volunteer_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        year = _year_col()
        rows = db.session.execute(
            select(ServiceRecord.volunteer_id, year, func.sum(ServiceRecord.hours),
                   func.count(func.distinct(ServiceRecord.service_date)))
            .where(ServiceRecord.volunteer_id.in_(chunk), ServiceRecord.status == RecordStatus.VERIFIED)
            .group_by(ServiceRecord.volunteer_id, year)
        ).all()
        db.session.execute(delete(VolunteerYearHours).where(VolunteerYearHours.volunteer_id.in_(chunk)))
        db.session.execute(delete(VolunteerCommunityHours).where(VolunteerCommunityHours.volunteer_id.in_(chunk)))
        totals: dict[int, Decimal] = defaultdict(Decimal)
        year_rows = []
        for vid, y, hours, days in rows:
            hours = quantize(hours)
            totals[vid] += hours
            year_rows.append({"volunteer_id": vid, "year": int(y), "hours": hours, "days": int(days)})
        if year_rows:
            db.session.execute(insert(VolunteerYearHours), year_rows)
        community_rows = _community_rows(ServiceRecord.volunteer_id.in_(chunk))
        if community_rows:
            db.session.execute(insert(VolunteerCommunityHours), community_rows)
        db.session.execute(
            update(Volunteer).where(Volunteer.id.in_(chunk)).values(
                total_hours=case({vid: totals[vid] for vid in totals}, value=Volunteer.id, else_=Decimal(0))
                if totals else Decimal(0)
            ).execution_options(synchronize_session=False)
        )
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Volunteer) and obj.id in chunk:
                db.session.expire(obj, ["total_hours"])


def rebuild_all_figures() -> None:
    """Recompute every volunteer's figures in three statements (demo data, repairs)."""
    year = _year_col()
    db.session.execute(delete(VolunteerYearHours))
    db.session.execute(insert(VolunteerYearHours).from_select(
        ["volunteer_id", "year", "hours", "days"],
        select(ServiceRecord.volunteer_id, year, func.sum(ServiceRecord.hours),
               func.count(func.distinct(ServiceRecord.service_date)))
        .where(ServiceRecord.status == RecordStatus.VERIFIED)
        .group_by(ServiceRecord.volunteer_id, year),
    ))
    db.session.execute(delete(VolunteerCommunityHours))
    rows = _community_rows(true())
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(VolunteerCommunityHours), rows[start:start + 5000])
    total = (select(func.coalesce(func.sum(VolunteerYearHours.hours), 0))
             .where(VolunteerYearHours.volunteer_id == Volunteer.id).scalar_subquery())
    db.session.execute(update(Volunteer).values(total_hours=total).execution_options(synchronize_session=False))
    db.session.expire_all()


@dataclass
class Figures:
    total: Decimal
    star: int
    year: int
    year_hours: Decimal
    last_year_hours: Decimal
    pending_hours: Decimal
    pending_count: int
    per_year: list[tuple[int, Decimal]]
    is_core: bool
    official: bool  # party member or public servant
    official_below: bool
    next_star_at: int | None
    year_days: int = 0  # days with verified service in the year (004 第15条 "7天以上")
    communities: list["CommunityHours"] = field(default_factory=list)  # hours per community, most first

    @property
    def star_label(self) -> str:
        return STAR_LABELS[self.star]

    @property
    def kind_label(self) -> str:
        return "志愿者骨干" if self.is_core else "流动志愿者"


@dataclass
class CommunityHours:
    community: Region
    hours: Decimal

    @property
    def is_core(self) -> bool:
        return is_core(self.hours)


def community_hours(volunteer: Volunteer, year: int) -> list[CommunityHours]:
    """The volunteer's verified hours of the year per community they served in, most first."""
    return [CommunityHours(r, quantize(h)) for r, h in db.session.execute(
        select(Region, VolunteerCommunityHours.hours).join(Region, Region.id == VolunteerCommunityHours.community_id)
        .where(VolunteerCommunityHours.volunteer_id == volunteer.id, VolunteerCommunityHours.year == year)
        .order_by(VolunteerCommunityHours.hours.desc(), Region.id)).all()]


def core_communities(volunteer: Volunteer, year: int) -> list[Region]:
    """Communities the volunteer is 志愿者骨干 of in `year` (001 附件4 第四条: "每年在本社区服务时长达48小时")."""
    return [c.community for c in community_hours(volunteer, year) if c.is_core]


def is_core_in(volunteer: Volunteer, community: Region | int, year: int) -> bool:
    """志愿者骨干 of this community in `year` (their privilege: 骨干 training, 爱心回馈)."""
    cid = community if isinstance(community, int) else community.id
    hours = db.session.scalar(select(VolunteerCommunityHours.hours).where(
        VolunteerCommunityHours.volunteer_id == volunteer.id, VolunteerCommunityHours.community_id == cid,
        VolunteerCommunityHours.year == year))
    return is_core(hours)


def core_volunteer_ids(year: int):
    """Subquery: ids of the volunteers who are 骨干 of at least one community in `year` (lists, counts)."""
    return select(VolunteerCommunityHours.volunteer_id).where(
        VolunteerCommunityHours.year == year, VolunteerCommunityHours.hours >= core_hours())


def privilege_communities(org: Organization | None = None, region: Region | None = None):
    """The communities whose 骨干 a privilege offered by `org` or `region` is for (001 附件4 第四条:
    "…归入“志愿者骨干”登记注册，享有参加社区组织的各类志愿者培训活动资格"; "骨干可以依据个人志愿服务时长兑换
    社区提供的爱心回馈"): the community the offer belongs to. An organization counts for its community
    (org_communities); one of no single community, or a region above a community, offers to the 骨干 of the
    communities within its region; the city (no region) to the 骨干 of any community (None)."""
    if org is not None:
        cid = org_communities([org.id]).get(org.id)
        if cid is not None:
            return [cid]
        region = db.session.get(Region, org.region_id) if org.region_id else None
    if region is None or region.parent_id is None:
        return None
    if region.level == RegionLevel.COMMUNITY:
        return [region.id]
    return select(Region.id).where(Region.path.startswith(region.path, autoescape=False),
                                   Region.level == RegionLevel.COMMUNITY)


def core_ids_for(volunteer_ids: Iterable[int], years: Iterable[int], communities=None) -> set[int]:
    """THE 骨干 test of a privilege: those of `volunteer_ids` who are 志愿者骨干 ("每年在本社区服务时长达48小时")
    in one of `years` of one of `communities` (ids or a subquery, privilege_communities(); None: any community).
    Hours of different communities never add up."""
    ids = sorted(set(volunteer_ids))
    if not ids:
        return set()
    stmt = select(VolunteerCommunityHours.volunteer_id).where(
        VolunteerCommunityHours.volunteer_id.in_(ids), VolunteerCommunityHours.year.in_(list(years)),
        VolunteerCommunityHours.hours >= core_hours())
    if communities is not None:
        stmt = stmt.where(VolunteerCommunityHours.community_id.in_(communities))
    return set(db.session.scalars(stmt))


def core_id_set(volunteer_ids: list[int], year: int) -> set[int]:
    if not volunteer_ids:
        return set()
    return set(db.session.scalars(core_volunteer_ids(year).where(
        VolunteerCommunityHours.volunteer_id.in_(volunteer_ids))))


def official_met_ids(year: int):
    """Subquery: ids of the volunteers with 40 h on 7 days or more in `year` (004 第15条)."""
    return select(VolunteerYearHours.volunteer_id).where(
        VolunteerYearHours.year == year, VolunteerYearHours.hours >= official_hours(),
        VolunteerYearHours.days >= official_days())


def figures_for(volunteer: Volunteer, year: int | None = None) -> Figures:
    year = year or local_today().year
    rows = db.session.execute(
        select(VolunteerYearHours.year, VolunteerYearHours.hours, VolunteerYearHours.days)
        .where(VolunteerYearHours.volunteer_id == volunteer.id).order_by(VolunteerYearHours.year.desc())).all()
    per_year = [(y, quantize(h)) for y, h, _ in rows]
    days_by_year = {y: d for y, _, d in rows}
    by_year = dict(per_year)
    pending = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ServiceRecord.hours), 0))
        .where(ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.status == RecordStatus.PENDING)
    ).one()
    total = quantize(volunteer.total_hours)
    star = star_level(total)
    thresholds = star_thresholds()
    year_hours = by_year.get(year, Decimal(0))
    year_days = days_by_year.get(year, 0)
    official = volunteer.political_status.is_party or volunteer.public_servant
    communities = community_hours(volunteer, year)
    return Figures(
        total=total, star=star, year=year, year_hours=year_hours,
        last_year_hours=by_year.get(year - 1, Decimal(0)), pending_hours=quantize(pending[1]),
        pending_count=pending[0], per_year=per_year, is_core=any(c.is_core for c in communities),
        official=official,
        official_below=official_below(volunteer.political_status.is_party, volunteer.public_servant, year_hours,
                                      year_days),
        next_star_at=thresholds[star] if star < len(thresholds) else None,
        year_days=year_days, communities=communities,
    )


def year_days_map(volunteer_ids: list[int], year: int) -> dict[int, int]:
    if not volunteer_ids:
        return {}
    return dict(db.session.execute(
        select(VolunteerYearHours.volunteer_id, VolunteerYearHours.days)
        .where(VolunteerYearHours.volunteer_id.in_(volunteer_ids), VolunteerYearHours.year == year)).all())


def year_hours_map(volunteer_ids: list[int], year: int) -> dict[int, Decimal]:
    if not volunteer_ids:
        return {}
    return {vid: quantize(h) for vid, h in db.session.execute(
        select(VolunteerYearHours.volunteer_id, VolunteerYearHours.hours)
        .where(VolunteerYearHours.volunteer_id.in_(volunteer_ids), VolunteerYearHours.year == year))}


# ---- the monthly chart (server-rendered SVG, presentation attributes only) ----------------------

@dataclass
class Bar:
    label: str
    verified: Decimal
    pending: Decimal
    x: float
    width: float
    y_verified: float
    h_verified: float
    y_pending: float
    h_pending: float
    show_label: bool


@dataclass
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    bars: list[Bar]
    ticks: list[tuple[float, str]] = field(default_factory=list)
    total_verified: Decimal = Decimal(0)

    @property
    def baseline(self) -> int:
        return self.top + self.plot_h


def _nice_max(value: Decimal) -> int:
    v = float(value)
    for step in (4, 8, 12, 20, 40, 60, 80, 100, 120, 160, 200, 300, 400, 600, 800, 1000):
        if v <= step:
            return step
    return int((v // 500 + 1) * 500)


def monthly_chart(volunteer: Volunteer, months: int = 24, today: date | None = None) -> Chart:
    today = today or local_today()
    first = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    y, m = extract("year", ServiceRecord.service_date), extract("month", ServiceRecord.service_date)
    rows = db.session.execute(
        select(y, m, ServiceRecord.status, func.sum(ServiceRecord.hours))
        .where(ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.service_date >= first,
               ServiceRecord.status != RecordStatus.VOID)
        .group_by(y, m, ServiceRecord.status)
    ).all()
    data: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: {"verified": Decimal(0), "pending": Decimal(0)})
    for yy, mm, status, hours in rows:
        data[(int(yy), int(mm))][RecordStatus(status).value] += quantize(hours)
    keys = []
    cur = first
    for _ in range(months):
        keys.append((cur.year, cur.month))
        cur = (cur + timedelta(days=32)).replace(day=1)
    width, height, left, top, right, bottom = 760, 230, 44, 14, 10, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([data[k]["verified"] + data[k]["pending"] for k in keys] + [Decimal(1)])
    ymax = _nice_max(peak)
    slot = plot_w / months
    bars = []
    for i, (yy, mm) in enumerate(keys):
        v, p = data[(yy, mm)]["verified"], data[(yy, mm)]["pending"]
        hv = float(v) / ymax * plot_h
        hp = float(p) / ymax * plot_h
        base = top + plot_h
        bars.append(Bar(
            label=f"{yy}-{mm:02d}" if mm == 1 or i == 0 else f"{mm}月", verified=v, pending=p,
            x=round(left + i * slot + slot * 0.15, 1), width=round(slot * 0.7, 1),
            y_verified=round(base - hv, 1), h_verified=round(hv, 1),
            y_pending=round(base - hv - hp, 1), h_pending=round(hp, 1),
            show_label=(i % 3 == 0) or mm == 1,
        ))
    ticks = [(round(top + plot_h - plot_h * k / 4, 1), f"{ymax * k / 4:g}") for k in range(5)]
    return Chart(width, height, left, top, plot_w, plot_h, bars, ticks,
                 sum((b.verified for b in bars), Decimal(0)))


# ---- training (§8) and awards (§9) -----------------------------------------------------------------

def add_training(user, volunteer: Volunteer, org: Organization | None, name: str, content: str, hours,
                 host_unit: str, held_on: date) -> TrainingRecord:
    if held_on > local_today():
        raise LedgerError("培训日期不能晚于今天", "held_on")
    try:
        hours = parse_hours(hours)
    except LedgerError as e:
        raise LedgerError(e.message.replace("时长", "学习时长"), "hours") from None
    t = TrainingRecord(volunteer_id=volunteer.id, organization_id=org.id if org else None, name=name.strip(),
                       content=(content or "").strip(), hours=hours, host_unit=host_unit.strip(), held_on=held_on,
                       recorded_by_id=user.id if user else None)
    db.session.add(t)
    db.session.flush()
    return t


def add_award(volunteer: Volunteer, name: str, awarded_on: date, granting_unit: str, *, user=None,
              org: Organization | None = None, source: str = "manual", source_ref: str | None = None) -> AwardReceived:
    """Record an award received. The commendation feature calls this with source="commendation"
    and its own reference; calling it twice with the same reference does not duplicate the award."""
    if source_ref:
        existing = db.session.scalar(select(AwardReceived).where(
            AwardReceived.volunteer_id == volunteer.id, AwardReceived.source == source,
            AwardReceived.source_ref == source_ref))
        if existing is not None:
            return existing
    if awarded_on > local_today():
        raise LedgerError("获奖日期不能晚于今天", "awarded_on")
    a = AwardReceived(volunteer_id=volunteer.id, organization_id=org.id if org else None, name=name.strip(),
                      awarded_on=awarded_on, granting_unit=granting_unit.strip(), source=source,
                      source_ref=source_ref, recorded_by_id=user.id if user else None)
    db.session.add(a)
    db.session.flush()
    return a


# ---- a volunteer's correction request (§13) ------------------------------------------------------

def log_request(user, volunteer: Volunteer, org: Organization, content: str, received_on: date, channel: str,
                record: ServiceRecord | None = None) -> CorrectionRequest:
    content = (content or "").strip()
    if not content:
        raise LedgerError("请填写志愿者提出的更正内容", "content")
    if received_on > local_today():
        raise LedgerError("收到日期不能晚于今天", "received_on")
    if record is not None and record.volunteer_id != volunteer.id:
        raise LedgerError("所选记录不属于该志愿者", "record_id")
    req = CorrectionRequest(volunteer_id=volunteer.id, organization_id=org.id, record=record, content=content[:1000],
                            received_on=received_on, channel=channel, logged_by_id=user.id)
    db.session.add(req)
    db.session.flush()
    return req


def answer_request(user, req: CorrectionRequest, accepted: bool, answer: str) -> None:
    if not can_verify(user):
        raise LedgerError("只有组织负责人可以答复更正申请", "answer")
    if req.status != RequestStatus.OPEN:
        raise LedgerError("该申请已答复", "answer")
    answer = (answer or "").strip()
    if not answer:
        raise LedgerError("请填写答复内容", "answer")
    req.status = RequestStatus.ACCEPTED if accepted else RequestStatus.REJECTED
    req.answer, req.answered_by_id, req.answered_at = answer[:1000], user.id, utcnow()
    db.session.flush()
    record_change("answer", req, f"答复：{req.status.label}", user=user)


# ---- the ledger list (filters read from a query string; scope through core/scope) ----------------

LIST_FILTERS = ("status", "late", "corrected", "org", "from", "to", "q", "activity", "volunteer")


def _iso_date(value) -> date | None:
    return parse_date(value)


def _int(value) -> int | None:
    return parse_id(value)


def clean_filters(args) -> dict:
    """The list's filters from request.args (unknown or malformed values are dropped)."""
    out: dict = {}
    status = str(args.get("status", ""))
    if status in {s.value for s in RecordStatus}:
        out["status"] = status
    for flag in ("late", "corrected"):
        if args.get(flag) == "1":
            out[flag] = "1"
    for key in ("org", "activity", "volunteer"):
        if (n := _int(args.get(key))) is not None:
            out[key] = n
    for key in ("from", "to"):
        if (d := _iso_date(args.get(key))) is not None:
            out[key] = d.isoformat()
    q = str(args.get("q", "")).strip()[:20]
    if q:
        out["q"] = q
    if orgq := clean_org_query(args):
        out["orgq"] = orgq
    return out


def record_list_query(user, filters: dict):
    stmt = scope.scoped(select(ServiceRecord), ServiceRecord, user)
    if "status" in filters:
        stmt = stmt.where(ServiceRecord.status == RecordStatus(filters["status"]))
    if filters.get("late"):
        stmt = stmt.where(ServiceRecord.late_entry.is_(True))
    if filters.get("corrected"):
        stmt = stmt.where(ServiceRecord.corrected.is_(True))
    if "org" in filters:
        stmt = stmt.where(ServiceRecord.organization_id == filters["org"])
    if "orgq" in filters:
        stmt = stmt.where(ServiceRecord.organization_id.in_(org_name_ids(filters["orgq"])))
    if "activity" in filters:
        stmt = stmt.where(ServiceRecord.activity_id == filters["activity"])
    if "volunteer" in filters:
        stmt = stmt.where(ServiceRecord.volunteer_id == filters["volunteer"])
    if "from" in filters:
        stmt = stmt.where(ServiceRecord.service_date >= date.fromisoformat(filters["from"]))
    if "to" in filters:
        stmt = stmt.where(ServiceRecord.service_date <= date.fromisoformat(filters["to"]))
    if "q" in filters:  # the people first (no join of every record to its volunteer), then their records
        stmt = stmt.where(_people_filter(filters["q"]))
    return stmt.order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())


SEARCH_IDS_MAX = 50_000  # PostgreSQL: the people of a name search as one array of at most this many ids


def _people_filter(q: str):
    """The records of the people a name search finds, in the form each planner handles well (issue 16,
    measured at 10×: 200,000 people, 2,000,000 records, a common surname matching thousands of people).
    SQLite: a subquery. For it the planner assumes few people and reads their records through
    ix_service_record_volunteer_day, which holds the sort and the scope column (index-only); for a literal
    list it walked every record of the district and read each row to test its volunteer (0.5 s).
    PostgreSQL: the ids, looked up once per request, as one array: it knows how many people there are and
    either walks the list's sort order (a common name: 50 rows after ~900) or reads the people's records;
    for the subquery it misjudged the matches and tested every record of the district against them (0.3–1 s).
    """
    people = people_matching(q)
    if db.session.get_bind().dialect.name == "sqlite":
        return ServiceRecord.volunteer_id.in_(people)
    ids = list(db.session.scalars(people.limit(SEARCH_IDS_MAX + 1)))
    if len(ids) > SEARCH_IDS_MAX:
        return ServiceRecord.volunteer_id.in_(people)
    return ServiceRecord.volunteer_id == any_(literal(ids, ARRAY(Integer)))


def people_matching(q: str):
    """Ids of the people whose name contains `q` or whose number is `q`. Two selects in a UNION, not one
    `name LIKE … OR number = …`: the name test then scans the narrow name index (ix_volunteer_name), the
    number is one lookup in its unique index; the OR read every row of the wide volunteer table
    (200,000 people at 10×: ~60 ms against ~12 ms)."""
    return union(select(Volunteer.id).where(Volunteer.name.contains(q, autoescape=True)),
                 select(Volunteer.id).where(Volunteer.number == q))


def listed_hours(user, filters: dict, capped: bool = False, stmt=None) -> Decimal | None:
    """The hours of every record the list shows with these filters (all pages), shown under the list;
    None when the list is longer than the count cap (core/pagination.py): a sum over millions of rows
    on every page turn is not worth it, the list asks to narrow the filters instead. `stmt`: the list's
    record_list_query when the caller has it already (a name search then looks the people up once)."""
    if capped:
        return None
    stmt = record_list_query(user, filters) if stmt is None else stmt
    listed = stmt.order_by(None).with_only_columns(ServiceRecord.hours).subquery()
    return quantize(cache.scalar(select(func.coalesce(func.sum(listed.c.hours), 0)), namespace="count") or 0)


def verified_hours(where, start: date, end: date) -> Decimal:
    """THE definition of 已审核服务时长（按记录单位）: the hours of verified records matching `where`
    (e.g. the recording organizations) served from `start` to `end`, both included. Used by the home
    figure `hours.year` (blueprints/volunteers/figures.py) and the monthly reports' prefilled hours."""
    total = db.session.scalar(select(func.coalesce(func.sum(ServiceRecord.hours), 0)).where(
        where, ServiceRecord.status == RecordStatus.VERIFIED, ServiceRecord.service_date >= start,
        ServiceRecord.service_date <= end))
    return quantize(total or 0)


# ---- export of the ledger list (issue 15: what the current filters show) ----------------------------

EXPORT_HEADERS = ["服务日期", "志愿者编号", "姓名", "时长（小时）", "服务内容", "服务质量", "所属活动", "记录单位",
                  "状态", "补录", "已更正", "录入时间"]
EXPORT_WIDTHS = [12, 16, 10, 10, 40, 8, 28, 28, 8, 6, 6, 17]


def export_rows(user, filters: dict):
    """The ledger list's rows as the filters select them, in the list's order; no personal data
    beyond the volunteer's name and number. A generator reading EXPORT_BATCH rows at a time."""
    from blueprints.activities.models import Activity
    from core.exports import EXPORT_BATCH, EXPORT_ROW_LIMIT, capped_rows

    stmt = (record_list_query(user, filters)
            .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
            .join(Organization, Organization.id == ServiceRecord.organization_id)
            .outerjoin(Activity, Activity.id == ServiceRecord.activity_id)
            .with_only_columns(ServiceRecord.service_date, Volunteer.number, Volunteer.name, ServiceRecord.hours,
                               ServiceRecord.content, ServiceRecord.quality, Activity.title, ServiceRecord.origin_unit,
                               Organization.name, ServiceRecord.status, ServiceRecord.late_entry,
                               ServiceRecord.corrected, ServiceRecord.recorded_at))
    return capped_rows(
        [day, number, name, hours, content, quality.label, title or "", origin or org_name, status.label,
         "是" if late else "", "是" if corrected else "", recorded_at]
        for day, number, name, hours, content, quality, title, origin, org_name, status, late, corrected, recorded_at
        in db.session.execute(stmt.limit(EXPORT_ROW_LIMIT + 1).execution_options(yield_per=EXPORT_BATCH)))

