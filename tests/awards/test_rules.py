"""Rules of commendation on constructed data: eligibility, quotas, scoring maths, ties, recusal, the state machine."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from blueprints.accounts.models import Role
from blueprints.awards import services
from blueprints.awards.models import (AwardKind, CampaignStage, NominationStatus, NomineeType,
                                      ObjectionStatus, ScoreSheet)
from blueprints.awards.services import AwardError, eligibility, rank_scores, trimmed_mean
from blueprints.orgs.models import OrgStatus
from blueprints.volunteers.models import AwardReceived, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today, utcnow
from tests import factories as f

D = Decimal


def _kind(**kw) -> AwardKind:
    base = dict(name="最美志愿者", nominee_type=NomineeType.VOLUNTEER, quota=3, min_star=0, min_hours=0, min_years=0,
                no_dismissal=True, active_org=True)
    base.update(kw)
    return AwardKind(**base)


def _facts(**kw) -> dict:
    base = dict(total_hours="120.0", star=1, star_label="一星", years_active=3, dismissed=False, org_active=True)
    base.update(kw)
    return base


# ---- eligibility --------------------------------------------------------------------------------

def test_eligible_volunteer_has_no_reasons():
    assert eligibility(_kind(min_star=1, min_hours=100, min_years=2), _facts()) == []


def test_star_level_below_minimum_is_refused_with_reason():
    reasons = eligibility(_kind(min_star=2), _facts(star=1, star_label="一星"))
    assert reasons == ["星级为一星，本奖项要求至少 2 星"]


def test_hours_below_minimum_is_refused():
    assert "累计已审核服务时长 99.5 小时" in eligibility(_kind(min_hours=100), _facts(total_hours="99.5"))[0]


def test_dismissed_volunteer_is_not_eligible():
    assert eligibility(_kind(), _facts(dismissed=True)) == ["该志愿者有劝退记录，不符合推荐条件"]
    assert eligibility(_kind(no_dismissal=False), _facts(dismissed=True)) == []


def test_registered_years_rule():
    assert eligibility(_kind(min_years=3), _facts(years_active=2)) == ["注册满 2 年，本奖项要求至少 3 年"]
    assert eligibility(_kind(min_years=3), _facts(years_active=3)) == []


def test_inactive_organization_rule():
    k = _kind(nominee_type=NomineeType.ORGANIZATION, name="最佳志愿服务组织")
    assert eligibility(k, _facts(org_active=False)) == ["所在组织不是正常运行（已审核通过）状态"]


def test_years_between_counts_whole_years():
    assert services.years_between(date(2020, 6, 1), date(2023, 5, 31)) == 2
    assert services.years_between(date(2020, 6, 1), date(2023, 6, 1)) == 3


def test_only_verified_hours_count_for_eligibility(world):
    c = f.award_campaign()
    kind = f.award_kind(c)
    kind.min_star, kind.min_hours, kind.min_years = 0, 10, 0
    v = f.activity_volunteer(world["org_a"], registered_on=local_today() - timedelta(days=800))
    f.service_record(v, world["org_a"], day=local_today() - timedelta(days=3), hours="8", by=world["org_leader"])
    f.service_record(v, world["org_a"], day=local_today() - timedelta(days=2), hours="5", verified=False,
                     by=world["org_leader"])
    n = f.award_nomination(c, world["org_a"], kind=kind, volunteer_=v)
    facts = services.facts_for(n)
    assert facts["total_hours"] == "8.0"
    with pytest.raises(AwardError, match="累计已审核服务时长 8.0 小时"):
        services.transition(n, "submit", world["org_leader"])
    assert n.status == NominationStatus.DRAFT


def test_submit_freezes_facts(world):
    c = f.award_campaign()
    kind = f.award_kind(c)
    kind.min_star, kind.min_years = 0, 0
    v = f.activity_volunteer(world["org_a"])
    db.session.add(AwardReceived(volunteer_id=v.id, name="2024年度优秀志愿者", awarded_on=date(2024, 12, 5),
                                 granting_unit="赤坎区文明办"))
    db.session.add(AwardReceived(volunteer_id=v.id, name="优秀青年志愿者", awarded_on=date(2025, 5, 4),
                                 granting_unit="团区委"))
    v.total_hours = D("350")
    n = f.award_nomination(c, world["org_a"], kind=kind, volunteer_=v)
    services.transition(n, "submit", world["org_leader"])
    assert n.status == NominationStatus.SUBMITTED
    assert n.facts["star"] == 2 and n.facts["awards"] == ["2024年度优秀志愿者", "2025 优秀青年志愿者"]
    v.total_hours = D("2000")  # the ledger moves on; the submission does not
    db.session.flush()
    assert n.facts["total_hours"] == "350.0"
    assert [s.action for s in n.steps][-1] == "submit"


def test_dismissed_volunteer_cannot_be_submitted(world):
    c = f.award_campaign()
    kind = f.award_kind(c)
    kind.min_star, kind.min_years = 0, 0
    v = f.activity_volunteer(world["org_a"], status=VolunteerStatus.DISMISSED)
    n = f.award_nomination(c, world["org_a"], kind=kind, volunteer_=v)
    with pytest.raises(AwardError, match="劝退"):
        services.transition(n, "submit", world["org_leader"])


def test_organization_facts_count_volunteers_and_hours(world):
    c = f.award_campaign()
    kind = f.award_kind(c, "organization")
    for hours in ("100", "50.5"):
        v = f.activity_volunteer(world["org_a"])
        v.total_hours = D(hours)
    n = f.award_nomination(c, world["org_a"], kind=kind)
    facts = services.facts_for(n)
    assert facts["volunteers"] == 2 and facts["total_hours"] == "150.5" and facts["org_active"] is True
    world["org_a"].status = OrgStatus.SUSPENDED
    assert "所在组织不是正常运行（已审核通过）状态" in eligibility(kind, services.facts_for(n))


def test_nomination_outside_window_is_refused(world):
    c = f.award_campaign()
    c.nomination_end = local_today() - timedelta(days=1)
    c.nomination_start = local_today() - timedelta(days=5)
    with pytest.raises(AwardError, match="不在推荐申报期内"):
        services.save_nomination(world["org_leader"], c, None, services.NominationData(
            kind_id=f.award_kind(c, "organization").id, organization_id=world["org_a"].id, summary="事迹"))


def test_org_leader_cannot_nominate_another_orgs_volunteer(world):
    c = f.award_campaign()
    v = f.activity_volunteer(world["org_b"])
    with pytest.raises(AwardError, match="请选择本组织的志愿者"):
        services.save_nomination(world["org_leader"], c, None, services.NominationData(
            kind_id=f.award_kind(c).id, organization_id=world["org_a"].id, volunteer_id=v.id, summary="事迹"))
    with pytest.raises(AwardError, match="本人负责的组织"):
        services.save_nomination(world["org_leader"], c, None, services.NominationData(
            kind_id=f.award_kind(c).id, organization_id=world["org_b"].id, volunteer_id=v.id, summary="事迹"))


def test_deeds_length_limit(world):
    c = f.award_campaign()
    c.deeds_limit = 300
    with pytest.raises(AwardError, match="事迹材料不超过 300 字") as e:
        services.save_nomination(world["org_leader"], c, None, services.NominationData(
            kind_id=f.award_kind(c, "organization").id, organization_id=world["org_a"].id, summary="事迹",
            deeds="字" * 301))
    assert e.value.field == "deeds"


# ---- quotas and order -----------------------------------------------------------------------------

def test_district_cannot_recommend_past_its_quota(world):
    c = f.award_campaign(district_quota=2)
    noms = [f.award_nomination(c, world["org_a"], status="submitted") for _ in range(3)]
    services.transition(noms[0], "recommend", world["district_staff"])
    services.transition(noms[1], "recommend", world["district_staff"])
    assert [n.district_order for n in noms[:2]] == [1, 2]
    with pytest.raises(AwardError, match="推荐名额为 2 个，已推荐 2 个"):
        services.transition(noms[2], "recommend", world["district_staff"])
    # Another district's quota is its own.
    other = f.award_nomination(c, world["org_b"], status="submitted")
    services.transition(other, "recommend", world["district_staff_2"])
    assert other.status == NominationStatus.RECOMMENDED


def test_reorder_swaps_district_order(world):
    c = f.award_campaign()
    a, b = (f.award_nomination(c, world["org_a"], status="submitted") for _ in range(2))
    services.transition(a, "recommend", world["district_staff"])
    services.transition(b, "recommend", world["district_staff"])
    services.reorder(world["district_staff"], b, "up")
    assert (a.district_order, b.district_order) == (2, 1)


# ---- the state machine --------------------------------------------------------------------------

LEGAL = [
    ("draft", "submit", "org_leader", "submitted"),
    ("submitted", "recommend", "district_staff", "recommended"),
    ("submitted", "reject", "district_staff", "rejected"),
    ("submitted", "recommend", "city_admin", "recommended"),
]


@pytest.mark.parametrize("src,action,role,dst", LEGAL)
def test_legal_transitions(world, src, action, role, dst):
    c = f.award_campaign()
    kind = f.award_kind(c, "organization")
    kind.min_years = 0
    n = f.award_nomination(c, world["org_a"], kind=kind, status=src)
    services.transition(n, action, world[role], "理由充分")
    assert n.status.value == dst
    step = n.steps[-1]
    assert (step.action, step.from_status, step.to_status) == (action, src, dst)
    assert step.actor_id == world[role].id and step.at is not None


ILLEGAL = [
    ("draft", "recommend", "district_staff", "不能区级推荐"),
    ("submitted", "submit", "org_leader", "不能提交推荐"),
    ("rejected", "recommend", "district_staff", "不能区级推荐"),
    ("recommended", "reject", "district_staff", "不能区级不予推荐"),
    ("submitted", "recommend", "org_leader", "无权"),
    ("draft", "submit", "district_staff", "无权"),
    ("submitted", "recommend", "reviewer", "无权"),
    ("submitted", "recommend", "leader", "无权"),
    ("recommended", "rank", "city_admin", "自动完成"),
    ("ranked", "publicize", "city_admin", "自动完成"),
    ("publicized", "award", "city_admin", "自动完成"),
    ("recommended", "revoke", "city_admin", "不能取消表彰资格"),
    ("draft", "fly", "city_admin", "未知的操作"),
]


@pytest.mark.parametrize("src,action,role,message", ILLEGAL)
def test_illegal_transitions_are_refused(world, src, action, role, message):
    c = f.award_campaign()
    n = f.award_nomination(c, world["org_a"], status=src)
    with pytest.raises(AwardError, match=message):
        services.transition(n, action, world[role], "x")
    assert n.status.value == src and not n.steps


def test_reject_needs_a_reason(world):
    c = f.award_campaign()
    n = f.award_nomination(c, world["org_a"], status="submitted")
    with pytest.raises(AwardError, match="请填写不予推荐的理由"):
        services.transition(n, "reject", world["district_staff"], "  ")


def test_district_review_closes_when_scoring_starts(world):
    c = f.award_campaign(stage="scoring")
    n = f.award_nomination(c, world["org_a"], status="submitted")
    with pytest.raises(AwardError, match="区级推荐已截止"):
        services.transition(n, "recommend", world["district_staff"])


# ---- scoring ------------------------------------------------------------------------------------

def test_trimmed_mean_with_four_reviewers_keeps_all():
    assert trimmed_mean([D(60), D(70), D(80), D(95)]) == D("76.25")


def test_trimmed_mean_with_five_reviewers_drops_highest_and_lowest():
    assert trimmed_mean([D(10), D(70), D(80), D(90), D(100)]) == D("80.00")


def test_trimmed_mean_of_nothing_is_none():
    assert trimmed_mean([]) is None


def test_ranking_shows_ties():
    ranks = rank_scores([(1, D("88")), (2, D("91.5")), (3, D("88")), (4, D("70")), (5, None)])
    assert ranks == {2: (1, False), 1: (2, True), 3: (2, True), 4: (4, False), 5: (5, False)}


def _reviewers(n: int, **kw):
    return [f.user(Role.REVIEWER, **kw) for _ in range(n)]


def test_reviewer_scores_per_criterion_within_max(world):
    panel = _reviewers(1)
    c = f.award_campaign(stage="scoring", panel=panel)
    n = f.award_nomination(c, world["org_a"], status="recommended")
    with pytest.raises(AwardError, match="应在 0–30 分之间") as e:
        services.score(panel[0], n, ["31", "10", "10", "5"])
    assert e.value.field == "p0"
    with pytest.raises(AwardError, match="请填写数字"):
        services.score(panel[0], n, ["abc", "10", "10", "5"])
    with pytest.raises(AwardError, match="应在 0–40 分之间"):
        services.score(panel[0], n, ["1", "-1", "10", "5"])
    sheet = services.score(panel[0], n, ["28", "35.5", "18", "9"])
    assert sheet.total == D("90.5")
    services.score(panel[0], n, ["20", "30", "10", "5"])  # a second save replaces the first
    assert db.session.query(ScoreSheet).count() == 1


def test_unassigned_reviewer_cannot_score(world):
    c = f.award_campaign(stage="scoring", panel=_reviewers(1))
    n = f.award_nomination(c, world["org_a"], status="recommended")
    with pytest.raises(AwardError, match="不是本次评选的评审专家"):
        services.score(world["reviewer"], n, ["1", "1", "1", "1"])


def test_scoring_only_in_scoring_stage(world):
    panel = _reviewers(1)
    c = f.award_campaign(stage="nominating", panel=panel)
    n = f.award_nomination(c, world["org_a"], status="recommended")
    with pytest.raises(AwardError, match="不在评审打分阶段"):
        services.score(panel[0], n, ["1", "1", "1", "1"])


def test_reviewer_must_recuse_from_own_organization(world):
    own = f.user(Role.REVIEWER, orgs=[world["org_a"]])
    c = f.award_campaign(stage="scoring", panel=[own])
    n = f.award_nomination(c, world["org_a"], status="recommended")
    other = f.award_nomination(c, world["org_b"], status="recommended")
    assert services.must_recuse(own, n) and not services.must_recuse(own, other)
    with pytest.raises(AwardError, match="回避"):
        services.score(own, n, ["1", "1", "1", "1"])
    services.score(own, other, ["1", "1", "1", "1"])


def test_recusal_covers_volunteer_member_of_reviewers_org(world):
    own = f.user(Role.REVIEWER, orgs=[world["org_b"]])
    v = f.activity_volunteer(world["org_a"])
    from blueprints.volunteers.models import Membership
    db.session.add(Membership(volunteer_id=v.id, organization_id=world["org_b"].id, joined_on=date(2021, 1, 1)))
    c = f.award_campaign(stage="scoring", panel=[own])
    n = f.award_nomination(c, world["org_a"], volunteer_=v, status="recommended")
    assert services.must_recuse(own, n)


def _split(total: int) -> list[str]:
    """A total spread over the default criteria (30/40/20/10)."""
    out = []
    for mx in (30, 40, 20, 10):
        out.append(str(min(total, mx)))
        total -= min(total, mx)
    return out


def test_close_scoring_ranks_within_each_kind_with_trimming(world):
    panel = _reviewers(5)
    c = f.award_campaign(stage="scoring", panel=panel)
    vol_kind, org_kind = f.award_kind(c), f.award_kind(c, "organization")
    a = f.award_nomination(c, world["org_a"], kind=vol_kind, status="recommended")
    b = f.award_nomination(c, world["org_b"], kind=vol_kind, status="recommended")
    o = f.award_nomination(c, world["org_a"], kind=org_kind, status="recommended")
    for r, total_a, total_b in zip(panel, (10, 80, 80, 80, 100), (70, 80, 80, 90, 99)):
        services.score(r, a, _split(total_a))
        services.score(r, b, _split(total_b))
    services.score(panel[0], o, ["20", "20", "10", "5"])
    services.advance(world["city_admin"], c, "close_scoring")
    assert c.stage == CampaignStage.RANKED
    assert a.score == D("80.00") and b.score == D("83.33")
    assert (b.rank, a.rank, o.rank) == (1, 2, 1)
    assert a.status == NominationStatus.RANKED and a.steps[-1].action == "rank"


def test_close_scoring_refuses_unscored_nominations(world):
    c = f.award_campaign(stage="scoring", panel=_reviewers(1))
    f.award_nomination(c, world["org_a"], status="recommended", name="李娜")
    with pytest.raises(AwardError, match="没有任何评分（如：李娜）"):
        services.advance(world["city_admin"], c, "close_scoring")
    assert c.stage == CampaignStage.SCORING


def test_publish_includes_ties_at_the_quota_boundary(world):
    c = f.award_campaign(stage="ranked")
    kind = f.award_kind(c)
    kind.quota = 2
    noms = []
    for rank, tied in ((1, False), (2, True), (2, True), (4, False)):
        noms.append(f.award_nomination(c, world["org_a"], kind=kind, status="ranked", rank=rank, tied=tied,
                                       score=D(90 - rank)))
    services.advance(world["city_admin"], c, "publish")
    assert [n.status for n in noms] == [NominationStatus.PUBLICIZED] * 3 + [NominationStatus.NOT_SELECTED]
    assert {r["name"] for r in services.public_rows(c)} == {n.nominee_name for n in noms[:3]}


# ---- objections and decision ----------------------------------------------------------------------

def test_objection_throttle(world):
    c = f.award_campaign(stage="notice")
    for _ in range(services.OBJECTION_LIMIT):
        services.raise_objection(c, None, "王先生", "13800138000", "材料不实", "10.0.0.1")
    with pytest.raises(AwardError, match="提交过于频繁") as e:
        services.raise_objection(c, None, "王先生", "13800138000", "材料不实", "10.0.0.1")
    assert e.value.status == 429
    services.raise_objection(c, None, "李女士", "13900139000", "另一位", "10.0.0.2")  # other client
    # An hour later the same client may write again.
    services.raise_objection(c, None, "王先生", "13800138000", "补充", "10.0.0.1", now=utcnow() + timedelta(hours=1, minutes=1))


def test_objection_only_during_notice(world):
    c = f.award_campaign(stage="ranked")
    with pytest.raises(AwardError):
        services.raise_objection(c, None, "王", "138", "x", "1.1.1.1")


def test_upheld_objection_revokes_and_decision_awards_the_rest(world):
    c = f.award_campaign(stage="notice")
    c.notice_start, c.notice_end = local_today() - timedelta(days=7), local_today()
    c.presentation_date = local_today() + timedelta(days=30)
    keep = f.award_nomination(c, world["org_a"], status="publicized", rank=1)
    drop = f.award_nomination(c, world["org_b"], status="publicized", rank=2)
    o = services.raise_objection(c, drop.id, "王先生", "13800138000", "服务时长不实", "10.0.0.1")
    with pytest.raises(AwardError, match="还有 1 条公示异议未处理"):
        services.advance(world["city_admin"], c, "decide")
    with pytest.raises(AwardError, match="请填写核实情况"):
        services.resolve_objection(world["city_admin"], o, True, "")
    services.resolve_objection(world["city_admin"], o, True, "经核实，部分服务记录重复登记")
    assert o.status == ObjectionStatus.UPHELD and drop.status == NominationStatus.NOT_SELECTED
    assert "公示异议成立" in drop.steps[-1].comment
    services.advance(world["city_admin"], c, "decide")
    assert keep.status == NominationStatus.AWARDED and c.stage == CampaignStage.DECIDED
    award = db.session.scalar(db.select(AwardReceived).where(AwardReceived.volunteer_id == keep.volunteer_id))
    assert award.name == f"{c.year}年度最美志愿者" and award.source == "commendation"
    assert award.awarded_on == local_today()  # presentation still ahead: not a future date
    assert db.session.scalar(db.select(AwardReceived).where(AwardReceived.volunteer_id == drop.volunteer_id)) is None


def test_decision_waits_for_end_of_notice(world):
    c = f.award_campaign(stage="notice")
    with pytest.raises(AwardError, match="期满后方可作出表彰决定"):
        services.advance(world["city_admin"], c, "decide")


def test_stage_actions_in_order_only(world):
    c = f.award_campaign()
    with pytest.raises(AwardError, match="不能发布公示"):
        services.advance(world["city_admin"], c, "publish")
    with pytest.raises(AwardError, match="只有市文明办"):
        services.advance(world["district_staff"], c, "start_scoring")
    with pytest.raises(AwardError, match="请先指定评审专家"):
        services.advance(world["city_admin"], c, "start_scoring")


def test_campaign_dates_must_follow_each_other(world):
    today = local_today()
    d = services.CampaignData(year=2026, title="t", nomination_start=today, nomination_end=today - timedelta(days=1),
                              district_deadline=today, review_deadline=today, notice_start=today, notice_end=today,
                              presentation_date=today)
    with pytest.raises(AwardError, match="推荐截止不能早于推荐开始"):
        services.create_campaign(world["city_admin"], d, services.DEFAULT_CRITERIA)


def test_criteria_parsing():
    assert services.parse_criteria("服务成效：40\n示范带动:20\n") == [{"name": "服务成效", "max": 40},
                                                                 {"name": "示范带动", "max": 20}]
    with pytest.raises(AwardError, match="第 1 行"):
        services.parse_criteria("服务成效 四十")
    with pytest.raises(AwardError, match="满分应在 1–100"):
        services.parse_criteria("x：0")


def test_a_project_may_name_its_own_organizations_activity_only(world):
    c = f.award_campaign()
    kind = f.award_kind(c, "project")
    own, other = f.activity(world["org_a"], title="海滨守护行动"), f.activity(world["org_b"], title="别人的活动")
    with pytest.raises(AwardError, match="本组织举办的活动") as e:
        services.save_nomination(world["org_leader"], c, None, services.NominationData(
            kind_id=kind.id, organization_id=world["org_a"].id, activity_id=other.id, summary="事迹"))
    assert e.value.field == "activity_id"
    n = services.save_nomination(world["org_leader"], c, None, services.NominationData(
        kind_id=kind.id, organization_id=world["org_a"].id, activity_id=own.id, summary="事迹"))
    assert n.activity_id == own.id and n.nominee_name == "海滨守护行动"  # title taken from the activity


def test_activity_id_is_dropped_for_other_nominee_types(world):
    c = f.award_campaign()
    own = f.activity(world["org_a"])
    n = services.save_nomination(world["org_leader"], c, None, services.NominationData(
        kind_id=f.award_kind(c, "organization").id, organization_id=world["org_a"].id, activity_id=own.id,
        summary="事迹"))
    assert n.activity_id is None


def test_a_volunteer_of_two_organizations_is_nominated_once_per_award(world):
    from blueprints.volunteers.models import Membership

    c = f.award_campaign()
    kind = f.award_kind(c)
    v = f.activity_volunteer(world["org_a"], name="两边服务")
    db.session.add(Membership(volunteer_id=v.id, organization_id=world["org_b"].id, is_primary=False,
                              joined_on=local_today()))
    db.session.flush()
    services.save_nomination(world["org_leader"], c, None, services.NominationData(
        kind_id=kind.id, organization_id=world["org_a"].id, volunteer_id=v.id, summary="事迹"))
    with pytest.raises(AwardError, match="已由.*推荐参评此奖项") as e:
        services.save_nomination(world["org_leader_2"], c, None, services.NominationData(
            kind_id=kind.id, organization_id=world["org_b"].id, volunteer_id=v.id, summary="事迹"))
    assert e.value.field == "volunteer_id"
