"""Who may be put on an activity: THE checks every path runs (issue 18, one rule, one home).

Paths that put a volunteer on an activity: the organizer's sign-up (services.sign_up), the
organizer's attendance sheet (services.record_attendance / record_all), the volunteer's own sign-up
(recruitment.sign_up_self, through recruitment.problems), the organizer's acceptance of a pending sign-up
(recruitment.decide) and the QR check-in (checkin.scan). Each
calls refusal() / refusals() here, so a rule changes in one place.

- Minors, seed 001 附件4 第二条: "限制民事行为能力人经其监护人同意或者由其监护人陪同，可以参加与其年龄、
  智力相适应的志愿服务": under 18 (by the activity's year) needs the guardian's consent on record or a
  guardian present at this activity (Participant.guardian_present); a risky activity (002: "对从事有风险
  的志愿服务，为志愿者购买必要的人身保险") is not one suited to their age: never.
- 劝退, seed 001 附件4 第五条 "本站可以对其劝退，行为加重者，报上级志愿服务组织备案": a city-wide 劝退
  (Volunteer.status dismissed) refuses every activity; a 劝退 by the organizing organization (its
  membership's dismissed_on) refuses that organization's activities (volunteers.services.dismissed_by).
"""
from __future__ import annotations

from blueprints.activities.models import Activity
from blueprints.volunteers.models import Volunteer, VolunteerStatus
from blueprints.volunteers.services import dismissed_by

ADULT_AGE = 18  # 001 附件4: under 18 only with a guardian's consent or a guardian present


def age_at(volunteer: Volunteer, activity: Activity) -> int:
    """Age in the activity's year, from the birth year (what the registry keeps in clear)."""
    return activity.held_on.year - volunteer.birth_year


def is_minor(volunteer: Volunteer, activity: Activity) -> bool:
    return age_at(volunteer, activity) < ADULT_AGE


def minor_refusal(volunteer: Volunteer, activity: Activity, guardian_present: bool = False) -> str | None:
    """Why a minor may not serve at this activity (None: an adult, or a minor who may)."""
    if not is_minor(volunteer, activity):
        return None
    if activity.risky:
        return "有风险的志愿服务不得安排未成年人参加"
    if not (volunteer.guardian_consent or guardian_present):
        return "未成年人参加志愿服务须有监护人同意，或由监护人陪同参加"
    return None


def dismissal_refusal(volunteer: Volunteer, organization_id: int) -> str | None:
    """Why a dismissed person may not serve with this organization (None: they may)."""
    if volunteer.status == VolunteerStatus.DISMISSED:
        return "已被劝退（全市），不能参加志愿服务活动"
    m = dismissed_by(volunteer, organization_id)
    if m is not None:
        return f"已于 {m.dismissed_on.isoformat()} 被该组织劝退，不能参加其活动"
    return None


def refusals(volunteer: Volunteer, activity: Activity, guardian_present: bool = False) -> list[str]:
    """Every reason this volunteer may not be put on this activity (empty: they may)."""
    return [r for r in (dismissal_refusal(volunteer, activity.organization_id),
                        minor_refusal(volunteer, activity, guardian_present)) if r]


def refusal(volunteer: Volunteer, activity: Activity, guardian_present: bool = False) -> str | None:
    found = refusals(volunteer, activity, guardian_present)
    return "；".join(found) if found else None
