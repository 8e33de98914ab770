"""QR check-in and check-out (issue 17), and the hours they make.

The code: HMAC-SHA256 with the app's SECRET_KEY over "checkin:<activity id>:<window>", where a window
is WINDOW_SECONDS long; six decimal digits of it. A code is accepted in its window and the one after
(so a code read just before it changes still works), only while the activity runs ± the margin
(setting "activities.checkin_margin", minutes). The QR holds a URL of this platform with the activity
and the code; the volunteer, logged in, confirms with one button (a POST: no state changes on GET).

Refused: a code of another activity or a made-up one (invalid), an older window (expired), outside the
activity's time, by someone without an accepted sign-up (foreign), and the same window used again by
the same volunteer (replay: check-out needs a later code than check-in). Each refusal is logged
(audit log, action "checkin_refused", with the reason).

Hours = check-out − check-in, rounded down to the half hour, at most the activity's planned length and
what the 24-hours-a-day rule leaves that day; the result is a pending ServiceRecord (source 签到) that
the organization verifies in the ledger's batch queue. A check-in without check-out becomes a 补签
request (the volunteer files it, or the hourly task does once the activity is over) that the
organization confirms (the record is made from the claimed time) or refuses.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.activities.eligibility import refusal
from blueprints.activities.models import Activity, ActivityStatus, MakeupStatus, Participant, SignupStatus
from blueprints.activities.recruitment import (ends_at, local_to_utc, notify_volunteers, own_participant,
                                               starts_at)
from blueprints.activities.services import ActivityError, can_manage, record_content
from blueprints.volunteers import ledger
from blueprints.volunteers.ledger import MAX_HOURS_PER_DAY
from blueprints.volunteers.models import RecordSource, Volunteer
from core import scope
from core.audit import record_change, record_event
from core.extensions import db
from core import settings
from core.timeutil import local_today, to_local, utcnow

WINDOW_SECONDS = 60
DEFAULT_MARGIN_MINUTES = 30
HALF_HOUR = Decimal("0.5")
MIN_BEFORE_CHECKOUT = timedelta(minutes=5)  # a check-out sooner than this after the check-in is refused


MARGIN_KEY = "activities.checkin_margin"
# A policy number on the one settings page (/settings/policy; audited like every setting).
settings.register_policy(settings.Policy(
    MARGIN_KEY, "扫码签到：活动前后可签到的分钟数", DEFAULT_MARGIN_MINUTES, "分钟", 0, 240,
    "系统默认值（政策文件未规定）", "", group="嘉许回馈与活动签到", order=20,
    hint="签到码只在活动开始前、结束后的这段时间内有效（活动时间 ± 该分钟数）。"))


def margin() -> timedelta:
    return timedelta(minutes=int(settings.policy(MARGIN_KEY)))


def window_of(now: datetime) -> int:
    """The time window of a naive UTC datetime."""
    return int(now.replace(tzinfo=timezone.utc).timestamp()) // WINDOW_SECONDS


def code_for(activity_id: int, window: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"checkin:{activity_id}:{window}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def period(activity: Activity) -> tuple[datetime, datetime]:
    """When codes are shown and accepted (UTC): the activity's time ± the margin."""
    return starts_at(activity) - margin(), ends_at(activity) + margin()


def codes_active(activity: Activity, now: datetime | None = None) -> bool:
    now = now or utcnow()
    start, end = period(activity)
    return activity.status == ActivityStatus.OPEN and start <= now <= end


def current_code(activity: Activity, now: datetime | None = None) -> tuple[str, int] | None:
    """(code, seconds until it changes), or None outside the activity's time."""
    now = now or utcnow()
    if not codes_active(activity, now):
        return None
    w = window_of(now)
    left = (w + 1) * WINDOW_SECONDS - int(now.replace(tzinfo=timezone.utc).timestamp())
    return code_for(activity.id, w), left


def matching_window(activity_id: int, code: str, now: datetime) -> int | None:
    """The window (this one or the previous) whose code this is, or None."""
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    w = window_of(now)
    for candidate in (w, w - 1):
        if hmac.compare_digest(code_for(activity_id, candidate), code):
            return candidate
    return None


def _expired(activity_id: int, code: str, now: datetime, lookback: int = 24 * 60) -> bool:
    """Whether the code was this activity's some time in the last day (for the message and the log)."""
    w = window_of(now)
    return any(hmac.compare_digest(code_for(activity_id, w - k), code) for k in range(2, lookback))


class CheckinRefused(ActivityError):
    pass


def _refuse(user, activity: Activity | None, reason: str, message: str) -> CheckinRefused:
    """Log the refusal (audit log; the code itself is not logged) and return the error to raise."""
    record_event("checkin_refused", "activity", activity.id if activity else None,
                 f"活动“{activity.title}”" if activity else "签到", summary=reason, user=user,
                 region_id=activity.organization.region_id if activity else None,
                 org_id=activity.organization_id if activity else None)
    return CheckinRefused(message, "code")


def hours_between(activity: Activity, checkin: datetime, checkout: datetime) -> Decimal:
    """Rounded down to 0.5 h, capped at the activity's planned length (and a day)."""
    minutes = max(0, int((checkout - checkin).total_seconds() // 60))
    hours = Decimal(minutes // 30) * HALF_HOUR
    cap = activity.planned_hours or MAX_HOURS_PER_DAY
    return min(hours, cap, MAX_HOURS_PER_DAY)


def _make_record(user, p: Participant, checkout: datetime) -> tuple[Decimal, str]:
    """The pending 签到 record of a finished check-in/out; hours also capped by the 24-hour day."""
    activity, volunteer = p.activity, p.volunteer
    hours = hours_between(activity, p.checkin_at, checkout)
    already = ledger.day_totals([volunteer.id], activity.held_on).get(volunteer.id, Decimal(0))
    hours = min(hours, max(Decimal(0), MAX_HOURS_PER_DAY - already))
    if hours <= 0:
        return Decimal(0), "服务时长不足半小时（或当天已满 24 小时），未生成服务记录"
    try:
        record = ledger.create_record(user, volunteer, activity.organization, activity.held_on, hours,
                                      record_content(activity), activity=activity, source=RecordSource.CHECKIN,
                                      require_member=False)
    except ledger.LedgerError as e:
        return Decimal(0), f"未生成服务记录：{e.message}"
    p.record, p.attended, p.hours = record, True, record.hours
    db.session.flush()
    return hours, f"服务时长 {hours} 小时，待组织审核"


def scan(user, activity: Activity, code: str, now: datetime | None = None) -> tuple[str, str]:
    """Check in, or out, with a code of this activity. Returns (action, message); raises CheckinRefused."""
    now = now or utcnow()
    code = (code or "").strip()
    if activity.status != ActivityStatus.OPEN:
        raise _refuse(user, activity, "活动已取消", "该活动已取消")
    w = matching_window(activity.id, code, now)
    if w is None:
        if len(code) == 6 and code.isdigit() and _expired(activity.id, code, now):
            raise _refuse(user, activity, "签到码已过期", "签到码已过期，请扫描现场最新的二维码")
        raise _refuse(user, activity, "签到码无效（非本活动）", "签到码无效，请核对现场显示的签到码")
    if not codes_active(activity, now):
        raise _refuse(user, activity, "不在签到时间内", "不在该活动的签到时间内")
    p = own_participant(user, activity)
    if p is None or p.signup_status != SignupStatus.ACCEPTED:
        raise _refuse(user, activity, "未报名或未录用者签到", "您未报名该活动，或报名尚未被录用，不能签到")
    if p.checkin_at is None and (found := refusal(p.volunteer, activity, p.guardian_present)):
        # 劝退 and minors (eligibility.py): the same check as every other path onto an activity
        raise _refuse(user, activity, f"不符合参加条件：{found}", f"不能签到：{found}")
    if p.checkin_at is None:
        p.checkin_at, p.checkin_window = now, w
        db.session.flush()
        record_change("checkin", activity, f"{p.volunteer.name} 签到", user=user)
        return "checkin", f"签到成功（{to_local(now):%H:%M}）。离开时请再次扫码签退。"
    if p.checkout_at is not None:
        raise _refuse(user, activity, "重复签退", "您已签退，无需再次扫码")
    if p.checkin_window is not None and w <= p.checkin_window:
        raise _refuse(user, activity, "签到码重复使用", "该签到码已用于签到，请等待现场显示新的签到码后再签退")
    if now - p.checkin_at < MIN_BEFORE_CHECKOUT:
        # a second scan right after checking in is a slip, not a departure: it must not end the service
        raise CheckinRefused(f"您于 {to_local(p.checkin_at):%H:%M} 刚签到，离开时再扫码签退", "code")
    p.checkout_at, p.checkout_window = now, w
    p.makeup_status = MakeupStatus.NONE
    _, message = _make_record(user, p, now)
    record_change("checkout", activity, f"{p.volunteer.name} 签退", user=user)
    return "checkout", f"签退成功（{to_local(now):%H:%M}）。{message}"


def scan_typed(user, code: str, now: datetime | None = None) -> tuple[Activity, str, str]:
    """A code typed on the portal: it names no activity, so it is tried against the volunteer's
    accepted sign-ups of activities running now."""
    now = now or utcnow()
    today = local_today()
    rows = list(db.session.scalars(
        scope.scoped(select(Participant), Participant, user).join(Activity, Activity.id == Participant.activity_id)
        .where(Activity.held_on.between(today - timedelta(days=1), today + timedelta(days=1)),
               Participant.signup_status == SignupStatus.ACCEPTED)
        .options(selectinload(Participant.activity))))
    for p in rows:
        if matching_window(p.activity_id, code, now) is not None:
            action, message = scan(user, p.activity, code, now)
            return p.activity, action, message
    raise _refuse(user, None, "签到码无效、已过期或不属于您报名的活动",
                  "签到码无效或已过期，或您未报名该活动；请核对现场显示的最新签到码")


# ---- 补签 ------------------------------------------------------------------------------------------

def can_request_makeup(p: Participant, now: datetime | None = None) -> bool:
    return (p.checkin_at is not None and p.checkout_at is None
            and p.makeup_status in (MakeupStatus.NONE,) and (now or utcnow()) > ends_at(p.activity))


def request_makeup(user, p: Participant, left_at: time, note: str = "", now: datetime | None = None) -> None:
    """The volunteer forgot to check out: they say when they left; the organization decides."""
    if not can_request_makeup(p, now):
        raise ActivityError("只有已签到、未签退且活动已结束的报名可以申请补签", "left_at")
    claimed = local_to_utc(p.activity.held_on, left_at)
    if claimed <= p.checkin_at:
        raise ActivityError("离开时间应晚于签到时间", "left_at")
    if claimed > period(p.activity)[1]:
        raise ActivityError("离开时间不能晚于活动结束时间", "left_at")
    note = (note or "").strip()
    if len(note) > 200:
        raise ActivityError("说明最多 200 个字", "note")
    p.makeup_status, p.makeup_checkout_at, p.makeup_note = MakeupStatus.REQUESTED, claimed, note
    db.session.flush()


def flag_missing_checkouts(now: datetime | None = None) -> int:
    """Check-ins of finished activities without a check-out become 补签 requests (at the activity's end)."""
    now = now or utcnow()
    today = local_today()
    rows = db.session.scalars(
        select(Participant).join(Activity, Activity.id == Participant.activity_id)
        .where(Activity.held_on.between(today - timedelta(days=7), today), Participant.checkin_at.is_not(None),
               Participant.checkout_at.is_(None), Participant.makeup_status == MakeupStatus.NONE)
        .options(selectinload(Participant.activity))).all()
    n = 0
    for p in rows:
        if now > period(p.activity)[1]:
            p.makeup_status, p.makeup_checkout_at = MakeupStatus.REQUESTED, max(ends_at(p.activity), p.checkin_at)
            p.makeup_note = "未签退，系统转为补签申请"
            n += 1
    db.session.flush()
    return n


def decide_makeup(user, p: Participant, confirm: bool) -> str:
    """The organization confirms a 补签 (the 签到 record is made from the claimed time) or refuses it."""
    activity = p.activity
    if not can_manage(user, activity):
        raise ActivityError("您不能处理该活动的补签")
    if p.makeup_status != MakeupStatus.REQUESTED:
        raise ActivityError("该补签申请已处理")
    if not confirm:
        p.makeup_status = MakeupStatus.REFUSED
        db.session.flush()
        record_change("reject", activity, f"补签未通过：{p.volunteer.name}", user=user)
        notify_volunteers([p], f"补签未通过：{activity.title}", "如有疑问请联系活动组织。", activity)
        return "已拒绝补签"
    p.makeup_status, p.checkout_at = MakeupStatus.CONFIRMED, p.makeup_checkout_at
    hours, message = _make_record(user, p, p.makeup_checkout_at)
    record_change("accept", activity, f"补签确认：{p.volunteer.name}，{hours} 小时", user=user)
    notify_volunteers([p], f"补签已确认：{activity.title}", message, activity)
    return f"已确认补签：{message}"


def participant_for(activity: Activity, volunteer: Volunteer) -> Participant | None:
    return db.session.scalar(select(Participant).where(Participant.activity_id == activity.id,
                                                       Participant.volunteer_id == volunteer.id))


def local_hm(value: datetime | None) -> str:
    return f"{to_local(value):%H:%M}" if value else ""


# ---- the periodic work: the day-before reminder and missing check-outs ---------------------------------

def run_periodic(now: datetime | None = None) -> tuple[int, int]:
    """What the hourly task does (idempotent): remind tomorrow's participants once, turn finished
    check-ins without a check-out into 补签 requests. Returns (reminders sent, 补签 requests made)."""
    from blueprints.activities.recruitment import send_reminders

    return send_reminders(), flag_missing_checkouts(now)


def _register_task() -> None:
    from huey import crontab

    from core import jobs

    @jobs.huey.periodic_task(crontab(minute="17"))
    def signup_reminders() -> None:
        with jobs._app().app_context():
            try:
                run_periodic()
                db.session.commit()
            finally:
                db.session.remove()


_register_task()
