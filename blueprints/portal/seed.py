"""Demo volunteers with accounts (README): `volunteer` is a member of the demo account org_leader's
organization, `volunteer_2` of org_leader_2's; both with the demo password."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.accounts.models import Role, User, VolunteerAccount
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core.cli import DEMO_PASSWORD
from core.extensions import db


def _member_of(org_id: int) -> Volunteer | None:
    taken = select(VolunteerAccount.volunteer_id)
    return db.session.scalar(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.organization_id == org_id, Volunteer.status == VolunteerStatus.ACTIVE,
               Volunteer.birth_year <= 2000, Volunteer.total_hours > 50, Volunteer.id.not_in(taken))
        .order_by(Volunteer.id).limit(1))


def seed(ctx: dict) -> None:
    for username, org in zip(("volunteer", "volunteer_2"), ctx["lead_orgs"][:2]):
        if db.session.scalar(select(User.id).where(User.username == username)):
            continue
        v = _member_of(org.id)
        if v is None:
            continue
        user = User(username=username, display_name=v.name, role=Role.VOLUNTEER)
        user.set_password(DEMO_PASSWORD)
        user.volunteer_link = VolunteerAccount(volunteer_id=v.id)
        db.session.add(user)
    db.session.flush()
    from blueprints.activities import seed_recruit  # recruitment needs the accounts above (issue 17)

    seed_recruit.seed(ctx)
