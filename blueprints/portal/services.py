"""What a volunteer sees of their own record. Everything is read through the scope gate with the
volunteer's account: a rule that forgot the volunteer would show nothing, never someone else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from blueprints.volunteers import ledger
from blueprints.volunteers.models import (Membership, RecordStatus, ServiceRecord, Volunteer,
                                          VolunteerYearHours)
from core import scope
from core.extensions import db


def own_volunteer(user) -> Volunteer:
    """The person record of a volunteer's account (404 if the account has none)."""
    return scope.get_scoped_or_404(Volunteer, user.volunteer_id or 0, user)


@dataclass
class Summary:
    total: Decimal  # verified hours, all years
    year: int
    year_hours: Decimal  # verified hours this calendar year
    pending: Decimal  # hours waiting for the organization's verification
    star: int
    next_star_hours: Decimal | None  # hours still needed for the next star (None at five stars)
    core_hours: int  # 骨干: hours a year (seed 001 第四条)
    community_hours: Decimal = Decimal(0)  # the year's hours in the community they served most (骨干 counts per community)

    @property
    def star_label(self) -> str:
        return ledger.STAR_LABELS[self.star]

    @property
    def core_done(self) -> bool:
        return self.community_hours >= self.core_hours

    @property
    def core_percent(self) -> int:
        return min(100, int(self.community_hours * 100 / self.core_hours)) if self.core_hours else 100


def summary(user, v: Volunteer, today: date | None = None) -> Summary:
    year = (today or date.today()).year
    year_hours = db.session.scalar(select(VolunteerYearHours.hours).where(
        VolunteerYearHours.volunteer_id == v.id, VolunteerYearHours.year == year)) or Decimal(0)
    pending = db.session.scalar(scope.scoped(
        select(func.coalesce(func.sum(ServiceRecord.hours), 0)).where(
            ServiceRecord.volunteer_id == v.id, ServiceRecord.status == RecordStatus.PENDING),
        ServiceRecord, user)) or Decimal(0)
    total = ledger.quantize(v.total_hours or 0)
    star = ledger.star_level(total)
    thresholds = ledger.star_thresholds()
    next_needed = ledger.quantize(Decimal(thresholds[star]) - total) if star < len(thresholds) else None
    return Summary(total=total, year=year, year_hours=ledger.quantize(year_hours), pending=ledger.quantize(pending),
                   star=star, next_star_hours=next_needed, core_hours=ledger.core_hours(),
                   community_hours=max((c.hours for c in ledger.community_hours(v, year)), default=Decimal(0)))


def memberships(user, v: Volunteer) -> list[Membership]:
    return list(db.session.scalars(scope.scoped(
        select(Membership).where(Membership.volunteer_id == v.id).order_by(Membership.is_primary.desc(),
                                                                            Membership.joined_on),
        Membership, user)))


def recent_records(user, v: Volunteer, limit: int = 10) -> list[ServiceRecord]:
    return list(db.session.scalars(scope.scoped(
        select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)
        .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc()).limit(limit),
        ServiceRecord, user)))
