"""The volunteer's pages read the new features' own facts (issue 18): training sessions' records and
岗前培训 on /my/certificates, the staff's balance on /my/rewards."""
from __future__ import annotations

import re
from datetime import timedelta

from blueprints.training import services as training
from core.extensions import db
from core.timeutil import local_today
from tests import factories


def test_my_certificates_lists_the_training_sessions_records_and_the_pre_service_flag(me, as_role):
    """000: "完善志愿者岗前培训制度、培训课程登记制度" — what the organization records at its session reaches the
    volunteer's own page, and the page says whether 岗前培训 is done."""
    c = as_role("volunteer")
    html = c.get("/my/certificates").get_data(as_text=True)
    assert "岗前培训：尚未参加" in html
    leader = factories.user("org_leader", "leader_v", orgs=[me["org_v"]])
    course = factories.training_course(me["city"], "pre_service", name="新志愿者岗前培训（第3期）")
    session = factories.training_session(course, me["org_v"], held_on=local_today() - timedelta(days=3))
    training.mark_attended(leader, session, [me["person"].id])
    other = factories.activity_volunteer(me["org_a"], "另一人")
    skill = factories.training_course(me["city"], "skill", name="别人的应急救护培训")
    training.mark_attended(me["org_leader"], factories.training_session(skill, me["org_a"],
                                                                         held_on=local_today() - timedelta(days=2)),
                           [other.id])
    db.session.commit()
    html = c.get("/my/certificates").get_data(as_text=True)
    assert "新志愿者岗前培训（第3期）" in html
    assert f"岗前培训：已完成（{(local_today() - timedelta(days=3)).isoformat()}）" in html
    assert "别人的应急救护培训" not in html


def test_my_rewards_shows_the_balance_staff_see(me, as_role):
    """001（六）: "志愿者可以利用参加志愿服务的工时，适度换取一定的社区服务" — one balance, whoever looks."""
    leader = factories.user("org_leader", "leader_v", orgs=[me["org_v"]])
    for _ in range(3):
        factories.service_record(me["person"], me["org_v"], day=local_today(), hours="4", by=leader)
    factories.service_record(me["person"], me["org_v"], day=local_today(), hours="5", by=leader, verified=False)
    db.session.commit()
    mine = re.search(r'id="my-balance">([^<]+)<', as_role("volunteer").get("/my/rewards").get_data(as_text=True))
    staff = re.search(r'id="balance">([^<]+)<', as_role("city_admin").get(
        f"/rewards/volunteers/{me['person'].id}").get_data(as_text=True))
    assert mine.group(1) == staff.group(1) == "12.0"
