"""Demo volunteers with accounts (README): `volunteer` is a member of the demo account org_leader's
organization, `volunteer_2` of org_leader_2's; both with the demo password. Also (issue 17) pending,
refused and approved self-registration applications, unused activation codes (one with a known code,
DEMO_CODE, for the README) and a certificate request in the organizations' queues. The demo `volunteer`
also holds an issued certificate (download, /verify) and a training attended, and the demo volunteers
the messages of their sign-ups, so that 我的 and 消息 show them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from blueprints.accounts.models import Role, User, VolunteerAccount
from blueprints.portal import services_join as sj
from blueprints.portal.models import ActivationCode, CertificateRequest, JoinApplication
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core.cli import DEMO_PASSWORD
from core.extensions import db
from core.timeutil import local_today, utcnow
from core.validators import id_check_char

DEMO_CODE = "ZJZY2026"  # README: the activation code of the demo member, printed as ZJZY-2026
APPLICANTS = [  # name, birth, phone, lead org index, outcome
    ("林晓雨", "19980312", "13902581234", 0, "pending"),
    ("黄子轩", "20100815", "13902582345", 0, "pending"),  # a minor: guardian's consent
    ("吴家豪", "19920127", "13902583456", 1, "pending"),
    ("郑美玲", "19870605", "13902584567", 0, "refused"),
    ("许文杰", "19950920", "13902585678", 0, "approved"),
]


def _member_of(org_id: int) -> Volunteer | None:
    """An adult active member of the organization, preferably one with some verified hours to show (a
    small demo — the tests' — may have none with that many: then any adult member)."""
    taken = select(VolunteerAccount.volunteer_id)
    base = (select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.organization_id == org_id, Volunteer.status == VolunteerStatus.ACTIVE,
                   Volunteer.birth_year <= 2000, Volunteer.id.not_in(taken)).order_by(Volunteer.id).limit(1))
    return db.session.scalar(base.where(Volunteer.total_hours > 50)) or db.session.scalar(base)


def _accounts(ctx: dict) -> None:
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


def _id_number(birth: str, n: int) -> str:
    first17 = f"440802{birth}{880 + n:03d}"
    return first17 + id_check_char(first17)


def _applications(ctx: dict) -> None:
    if db.session.scalar(select(JoinApplication.id).limit(1)):
        return
    leaders = [db.session.scalar(select(User).where(User.username == name)) for name in ("org_leader", "org_leader_2")]
    for n, (name, birth, phone, org_index, outcome) in enumerate(APPLICANTS):
        org = ctx["lead_orgs"][org_index]
        minor = int(birth[:4]) > local_today().year - 18
        data = sj.JoinData(name=name, id_number=_id_number(birth, n), phone=phone, organization_id=org.id,
                           password=DEMO_PASSWORD, skills=["社区服务", "文明劝导"] if n % 2 else ["助学"],
                           availability=["周末"], guardian_name="黄建华" if minor else "",
                           guardian_phone="13902580000" if minor else "", guardian_relation="父亲" if minor else "",
                           guardian_consent=minor)
        if sj.vs.find_person(data.id_number) is not None:
            continue
        application = sj.submit(data)
        application.created_at = utcnow() - timedelta(days=len(APPLICANTS) - n)
        leader = leaders[org_index]
        if outcome == "refused" and leader:
            sj.refuse(leader, application, "本队目前只招募中华街道辖区内的居民，请选择居住地附近的志愿服务站。")
        elif outcome == "approved" and leader:
            sj.approve(leader, application)
    db.session.flush()


def _codes(ctx: dict) -> None:
    if db.session.scalar(select(ActivationCode.id).limit(1)):
        return
    org = ctx["lead_orgs"][0]
    leader = db.session.scalar(select(User).where(User.username == "org_leader"))
    taken = select(VolunteerAccount.volunteer_id)
    members = list(db.session.scalars(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.organization_id == org.id, Volunteer.status == VolunteerStatus.ACTIVE,
               Volunteer.id.not_in(taken)).order_by(Volunteer.id).limit(4)))
    expires = utcnow() + timedelta(days=sj.CODE_DAYS)
    for i, v in enumerate(members):
        code = DEMO_CODE if i == 0 else f"ZJZY{i + 2}{i + 3}{i + 4}{i + 5}"
        db.session.add(ActivationCode(code_hash=sj.code_hash(code), volunteer_id=v.id, organization_id=org.id,
                                      created_by_id=leader.id if leader else None, expires_at=expires))
    db.session.flush()


def _certificate_request(ctx: dict) -> None:
    user = db.session.scalar(select(User).where(User.username == "volunteer"))
    if user is None or user.volunteer_id is None or db.session.scalar(select(CertificateRequest.id).limit(1)):
        return
    db.session.add(CertificateRequest(volunteer_id=user.volunteer_id, organization_id=ctx["lead_orgs"][0].id,
                                      note="求职需要，申请出具近一年的志愿服务记录证明。"))
    db.session.flush()


def _demo_record(ctx: dict) -> None:
    """The demo `volunteer`'s 证书 tab is not empty: a certificate of last year issued by org_leader, and a
    held training session of that organization attended (both through their services, rules apply)."""
    from blueprints.training import services as training
    from blueprints.training.models import CourseKind, TrainingAttendee, TrainingCourse, TrainingSession
    from blueprints.volunteers import certificates
    from blueprints.volunteers.models import Certificate

    user = db.session.scalar(select(User).where(User.username == "volunteer"))
    leader = db.session.scalar(select(User).where(User.username == "org_leader"))
    if user is None or user.volunteer_id is None or leader is None:
        return
    v, org = db.session.get(Volunteer, user.volunteer_id), ctx["lead_orgs"][0]
    today = local_today()
    if not db.session.scalar(select(Certificate.id).where(Certificate.volunteer_id == v.id).limit(1)):
        try:
            last_year = today.year - 1
            certificates.issue(leader, v, org, "王建国", max(v.registered_on, today.replace(year=last_year, month=1, day=1)),
                               today.replace(year=last_year, month=12, day=31))
        except certificates.CertificateError:
            pass  # no verified hours last year: no certificate to show
    if not db.session.scalar(select(TrainingAttendee.id).where(TrainingAttendee.volunteer_id == v.id).limit(1)):
        for session in db.session.scalars(select(TrainingSession).join(TrainingCourse).where(
                TrainingSession.organization_id == org.id, TrainingSession.held_on < today - timedelta(days=1))
                .order_by(TrainingCourse.kind == CourseKind.CORE, TrainingSession.held_on.desc())):  # not 骨干 first
            try:
                training.mark_attended(leader, session, [v.id])
                break
            except training.TrainingError:
                continue
    db.session.flush()


def _demo_notices() -> None:
    """The demo volunteers' 消息 is not empty: the 报名成功 message of each accepted platform sign-up, as
    signing up sends it (only for an account that has no messages yet)."""
    from blueprints.activities import recruitment
    from blueprints.activities.models import Activity, Participant, SignupStatus
    from blueprints.reports.models import Notification

    for username in ("volunteer", "volunteer_2"):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or user.volunteer_id is None or db.session.scalar(
                select(Notification.id).where(Notification.user_id == user.id).limit(1)):
            continue
        for p, a in db.session.execute(
                select(Participant, Activity).join(Activity, Activity.id == Participant.activity_id)
                .where(Participant.volunteer_id == user.volunteer_id, Participant.via_portal.is_(True),
                       Participant.signup_status == SignupStatus.ACCEPTED).order_by(Activity.held_on)).all():
            recruitment.notify_volunteers([p], f"报名成功：{a.title}", recruitment._when(a), a)
    db.session.flush()


def seed(ctx: dict) -> None:
    _accounts(ctx)
    _applications(ctx)
    _codes(ctx)
    _certificate_request(ctx)
    _demo_record(ctx)
    from blueprints.activities import seed_recruit  # recruitment needs the accounts above (issue 17)

    seed_recruit.seed(ctx)
    _demo_notices()
