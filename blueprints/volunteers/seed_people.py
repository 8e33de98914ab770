"""Demo data of the rules about people (issue 18), after the volunteers and their ledger:

- the 劝退 history: a city-wide 劝退 event for every volunteer seeded as dismissed; stations' own 劝退
  of some memberships (001 附件4 第五条 "本站可以对其劝退"), a few reported upward and waiting in the
  district offices' queue ("报上级志愿服务组织备案"), some already filed, one decided city-wide, one
  membership reinstated (the history keeps both);
- 工作单位 of party members and public servants (004 §12), so the work-unit report has members.
Idempotent: it does nothing once a DismissalEvent exists.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update

from blueprints.accounts.models import Role, User
from blueprints.volunteers import services
from blueprints.volunteers.models import (DismissalAction, DismissalEvent, DismissalLevel, DismissReason, Membership,
                                          PoliticalStatus, ServiceRecord, Volunteer, VolunteerStatus)
from core.extensions import db
from core.timeutil import local_today, utcnow

WORK_UNITS = ["湛江市财政局", "湛江市教育局", "湛江市卫生健康局", "湛江市人民医院", "赤坎区人民政府", "霞山区人民法院",
              "湛江海关", "湛江市第一中学", "国网湛江供电局", "湛江市税务局", "岭南师范学院", "广东海洋大学"]
NOTES = {
    DismissReason.DISOBEDIENCE: "一年内三次无故缺席已报名的服务活动，经谈话仍未改正。",
    DismissReason.VIOLATION: "多次在服务站内与服务对象发生争执，违反服务站管理规定。",
    DismissReason.HARM: "服务中擅自处置服务对象财物，造成损失并引发投诉。",
    DismissReason.PROFIT: "以志愿者名义向社区老人推销保健品。",
}


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(DismissalEvent)):
        return
    rng = random.Random(1818)
    _work_units(rng)
    _city_history()
    _station_dismissals(ctx, rng)
    db.session.flush()


def _work_units(rng: random.Random) -> None:
    officials = list(db.session.scalars(select(Volunteer.id).where(
        Volunteer.work_unit == "",
        (Volunteer.political_status.in_([PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY]))
        | Volunteer.public_servant.is_(True)).order_by(Volunteer.id)))
    rows = [{"vid": vid, "unit": rng.choice(WORK_UNITS)} for vid in officials if rng.random() < 0.7]
    stmt = update(Volunteer.__table__).where(Volunteer.__table__.c.id == bindparam("vid")).values(
        work_unit=bindparam("unit"))
    for start in range(0, len(rows), 2000):
        db.session.execute(stmt, rows[start:start + 2000])


def _city_history() -> None:
    """The seeded dismissed volunteers were dismissed city-wide (as migration 0024 carries them over)."""
    now = utcnow()
    rows = [dict(volunteer_id=vid, organization_id=None, level=DismissalLevel.CITY, action=DismissalAction.DISMISS,
                 reason=reason, effective_on=on, note=note or "", decision_note="", by_name="区县文明办", at=now)
            for vid, reason, on, note in db.session.execute(
                select(Volunteer.id, Volunteer.dismiss_reason, Volunteer.dismissed_on, Volunteer.dismiss_note)
                .where(Volunteer.status == VolunteerStatus.DISMISSED, Volunteer.dismissed_on.is_not(None)))]
    if rows:
        db.session.execute(DismissalEvent.__table__.insert(), rows)


def _station_dismissals(ctx: dict, rng: random.Random) -> None:
    today = local_today()
    lead_ids = [o.id for o in ctx.get("lead_orgs", [])]
    leaders = {o.id: u for u in db.session.scalars(select(User).where(User.role == Role.ORG_LEADER))
               for o in u.organizations}
    staff = {u.region_id: u for u in db.session.scalars(select(User).where(User.role == Role.DISTRICT_STAFF))}
    active = select(Membership).join(Volunteer, Volunteer.id == Membership.volunteer_id).where(
        Volunteer.status == VolunteerStatus.ACTIVE, Membership.dismissed_on.is_(None), Membership.is_primary.is_(False))
    # The lead organizations' (the demo accounts') memberships first, so their pages and queues show it.
    chosen = list(db.session.scalars(active.where(Membership.organization_id.in_(lead_ids or [0]))
                                     .order_by(Membership.id).limit(6)))
    chosen += list(db.session.scalars(active.where(Membership.organization_id.not_in(lead_ids or [0]))
                                      .order_by(Membership.id).limit(400)))[::20]
    for i, m in enumerate(chosen):
        last = db.session.scalar(select(func.max(ServiceRecord.service_date)).where(
            ServiceRecord.volunteer_id == m.volunteer_id, ServiceRecord.organization_id == m.organization_id))
        on = max(m.joined_on, min(today, (last or today - timedelta(days=10)) + timedelta(days=1)))
        reason = list(DismissReason)[i % 4]
        by = leaders.get(m.organization_id)
        report = i % 3 != 2
        try:
            event = services.dismiss_membership(by, m, reason, on, NOTES[reason], report=report)
        except services.VolunteerError:
            continue
        district_id = m.organization.district_id
        office = staff.get(district_id)
        if office is None or not report:
            if not report and i % 2:  # the station took the person back: both rows stay
                services.reinstate_membership(by, m, "经谈话已认识错误，本站同意恢复。")
            continue
        if i % 5 == 1:
            services.decide_report(office, event, "file", "已备案，由服务站继续教育管理。")
        elif i == 4:
            services.decide_report(office, event, "city", "情节严重，经研究决定全市劝退。")
        event.at = utcnow() - timedelta(days=rng.randint(1, 20))
