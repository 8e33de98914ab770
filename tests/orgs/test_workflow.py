"""The registration state machine: every legal and every illegal move, who may move, what is kept."""
from __future__ import annotations

import pytest

from blueprints.accounts.models import UserStatus
from blueprints.orgs import services
from blueprints.orgs.models import OrgStatus
from blueprints.orgs.workflow import TRANSITIONS, NotPermitted, WorkflowError, actions_for, may, transition
from core.extensions import db
from tests import factories as F

S = OrgStatus
# The whole graph, written out once more by hand: (from, action) → to.
LEGAL = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.RETURNED, "resubmit"): S.SUBMITTED,
    (S.SUBMITTED, "approve"): S.APPROVED,
    (S.SUBMITTED, "return"): S.RETURNED,
    (S.APPROVED, "suspend"): S.SUSPENDED,
    (S.SUSPENDED, "reinstate"): S.APPROVED,
    (S.APPROVED, "deregister"): S.DEREGISTERED,
    (S.SUSPENDED, "deregister"): S.DEREGISTERED,
}
REASON = {"return", "suspend", "deregister"}
ALL = [(s, a) for s in OrgStatus for a in TRANSITIONS]


def test_the_table_matches_the_issue():
    table = {(s, a): t.target for a, t in TRANSITIONS.items() for s in t.sources}
    assert table == LEGAL


@pytest.mark.parametrize("status,action", [k for k in ALL if k in LEGAL])
def test_legal_move_changes_status_and_records_the_step(world, status, action):
    org = F.org(world["community_a"], status=status)
    step = transition(org, action, world["city_admin"], "原因说明" if action in REASON else "")
    assert org.status == LEGAL[(status, action)]
    assert (step.from_status, step.to_status, step.action) == (status.value, org.status.value, action)
    assert step.actor_name and step.at is not None
    assert org.steps[-1] is step


@pytest.mark.parametrize("status,action", [k for k in ALL if k not in LEGAL])
def test_illegal_move_is_refused_and_nothing_changes(world, status, action):
    org = F.org(world["community_a"], status=status)
    with pytest.raises(WorkflowError) as e:
        transition(org, action, world["city_admin"], "原因")
    assert "不能执行" in e.value.message
    assert org.status == status and not org.steps
    assert not may(world["city_admin"], org, action)


def test_unknown_action_is_refused(world):
    with pytest.raises(WorkflowError):
        transition(world["org_a"], "explode", world["city_admin"])


@pytest.mark.parametrize("action,status", [("return", S.SUBMITTED), ("suspend", S.APPROVED), ("deregister", S.APPROVED)])
def test_reason_is_required(world, action, status):
    org = F.org(world["community_a"], status=status)
    with pytest.raises(WorkflowError) as e:
        transition(org, action, world["district_staff"], "   ")
    assert e.value.field == "comment" and "请填写" in e.value.message
    assert org.status == status


def test_district_staff_decide_only_in_their_district(world):
    org = F.org(world["community_a"], status=S.SUBMITTED)
    with pytest.raises(NotPermitted):
        transition(org, "approve", world["district_staff_2"])
    assert org.status == S.SUBMITTED
    transition(org, "approve", world["district_staff"])
    assert org.status == S.APPROVED


def test_city_admin_decides_everywhere(world):
    org = F.org(world["community_b"], status=S.SUBMITTED)
    transition(org, "return", world["city_admin"], "请补充材料")
    assert org.status == S.RETURNED


@pytest.mark.parametrize("role", ["leader", "district_leader", "reviewer", "org_leader_2"])
def test_others_cannot_decide(world, role):
    org = F.org(world["community_a"], status=S.SUBMITTED)
    with pytest.raises(NotPermitted):
        transition(org, "approve", world[role])


def test_own_leader_submits_and_resubmits_but_cannot_decide(world):
    org, leader = F.org_with_leader(world["community_a"], status=S.DRAFT)
    assert actions_for(leader, org) == ["submit"]
    transition(org, "submit", leader)
    assert actions_for(leader, org) == []
    with pytest.raises(NotPermitted):
        transition(org, "approve", leader)
    transition(org, "return", world["district_staff"], "信用代码有误")
    assert org.last_return_reason == "信用代码有误"
    assert actions_for(leader, org) == ["resubmit"]
    transition(org, "resubmit", leader)
    assert org.status == S.SUBMITTED and org.submitted_at is not None


def test_another_leader_cannot_submit(world):
    org = F.org(world["community_a"], status=S.DRAFT)
    with pytest.raises(NotPermitted):
        transition(org, "submit", world["org_leader"])


def test_approval_activates_the_pending_leader_account(world):
    org, leader = F.org_with_leader(world["community_a"], status=S.SUBMITTED)
    assert leader.status == UserStatus.PENDING
    transition(org, "approve", world["district_staff"])
    db.session.flush()
    assert leader.status == UserStatus.ACTIVE


def test_return_keeps_the_account_pending(world):
    org, leader = F.org_with_leader(world["community_a"], status=S.SUBMITTED)
    transition(org, "return", world["district_staff"], "请补充")
    assert leader.status == UserStatus.PENDING


def test_the_whole_history_is_kept_in_order(world):
    org, leader = F.org_with_leader(world["community_a"], status=S.DRAFT)
    staff = world["district_staff"]
    for action, user, comment in [("submit", leader, ""), ("return", staff, "请补充简介"), ("resubmit", leader, "已补充"),
                                  ("approve", staff, ""), ("suspend", staff, "半年未活动"), ("reinstate", staff, ""),
                                  ("deregister", staff, "组织解散")]:
        transition(org, action, user, comment)
    db.session.commit()
    assert [s.action for s in org.steps] == ["submit", "return", "resubmit", "approve", "suspend", "reinstate",
                                             "deregister"]
    assert org.steps[1].comment == "请补充简介" and org.steps[1].actor_name == staff.display_name
    assert org.read_only and services.editable_fields(staff, org) == set()
    assert actions_for(world["city_admin"], org) == []


def test_a_long_comment_is_refused(world):
    org = F.org(world["community_a"], status=S.SUBMITTED)
    with pytest.raises(WorkflowError):
        transition(org, "return", world["district_staff"], "很" * 1001)
