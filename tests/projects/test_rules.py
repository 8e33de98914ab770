"""The project library's rules (seed 000 (五)1), without requests."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from blueprints.projects import services
from blueprints.projects.models import ProjectStatus
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f

SCORES = {"goals": "90", "effect": "80", "satisfaction": "95", "management": "70", "funds": "100"}


@pytest.fixture
def w(world):
    world["project"] = f.volunteer_project(world["org_a"])
    db.session.commit()
    return world


def _data(w, **kw):
    d = dict(title="留守儿童四点半课堂", organization_id=w["org_a"].id, field="助学", target_group="留守儿童",
             start_date=date(2026, 3, 1), end_date=date(2026, 12, 31), budget=Decimal("12000.50"), goals="每周三次课后辅导")
    d.update(kw)
    return services.ProjectData(**d)


def test_project_runs_through_the_four_stages(w):
    """000 (五)1: "规范项目的立项、管理及评估等流程" — 立项 → 实施 → 评估 → 结项, each step recorded."""
    p = services.create_project(w["org_leader"], _data(w))
    assert p.status == ProjectStatus.INITIATED and p.budget == Decimal("12000.50")
    services.transition(w["org_leader"], p, "start")
    services.transition(w["org_leader"], p, "review")
    assert p.status == ProjectStatus.EVALUATING
    ev = services.evaluate(w["district_staff"], p, SCORES, "赤坎区文明办", local_today(), "成效明显")
    assert p.status == ProjectStatus.CLOSED
    assert [s.action for s in p.steps] == ["create", "start", "review", "close"]
    assert [s.to_status for s in p.steps] == ["initiated", "implementing", "evaluating", "closed"]
    assert p.steps[1].label == "开始实施" and p.steps[-1].actor_name == w["district_staff"].display_name
    assert ev.total == Decimal("86.50")


def test_illegal_moves_are_refused_with_a_message(w):
    """000 (五)1: "规范项目的立项、管理及评估等流程" — no stage is skipped, and the organization does not
    evaluate or return its own project."""
    p = w["project"]
    with pytest.raises(services.ProjectError, match="立项"):
        services.transition(w["org_leader"], p, "review")  # 立项 → 评估 skips 实施
    with pytest.raises(services.ProjectError):
        services.transition(w["org_leader"], p, "close")
    services.transition(w["org_leader"], p, "start")
    services.transition(w["org_leader"], p, "review")
    with pytest.raises(services.ProjectError, match="文明办"):
        services.transition(w["org_leader"], p, "return", "补充材料")
    with pytest.raises(services.ProjectError, match="文明办"):
        services.evaluate(w["org_leader"], p, SCORES, "自评", local_today(), "")
    with pytest.raises(services.ProjectError, match="退回原因"):
        services.transition(w["district_staff"], p, "return", "")
    with pytest.raises(services.ProjectError):
        services.transition(w["district_staff_2"], p, "return", "补充材料")  # another district
    services.transition(w["district_staff"], p, "return", "请补充服务记录")
    assert p.status == ProjectStatus.IMPLEMENTING and p.steps[-1].comment == "请补充服务记录"
    with pytest.raises(services.ProjectError, match="提交评估后"):
        services.evaluate(w["district_staff"], p, SCORES, "赤坎区文明办", local_today(), "")


def test_evaluation_total_is_the_weighted_sum(w):
    """003: "加强对志愿者、志愿组织和志愿服务项目的评估" — weighted criteria, weights adding up to 100."""
    assert sum(weight for _, _, weight in services.CRITERIA) == 100
    scores = {k: Decimal(v) for k, v in SCORES.items()}
    assert services.weighted_total(scores) == Decimal("86.50")  # 27 + 20 + 19 + 10.5 + 10
    assert services.weighted_total({k: Decimal(100) for k in SCORES}) == Decimal("100.00")
    assert services.grade(Decimal("86.5")) == "良好" and services.grade(Decimal("59.99")) == "不合格"
    for bad in ("101", "-1", "abc", "9.55", "NaN", "1e400"):
        with pytest.raises(services.ProjectError):
            services.parse_score(bad, "goals", "目标达成度")


def test_bad_evaluation_saves_nothing(w):
    p = w["project"]
    services.transition(w["org_leader"], p, "start")
    services.transition(w["org_leader"], p, "review")
    with pytest.raises(services.ProjectError, match="服务成效"):
        services.evaluate(w["district_staff"], p, {**SCORES, "effect": "120"}, "赤坎区文明办", local_today(), "")
    assert p.status == ProjectStatus.EVALUATING and p.evaluation is None
    with pytest.raises(services.ProjectError, match="评估日期"):
        services.evaluate(w["district_staff"], p, SCORES, "赤坎区文明办", local_today() + timedelta(days=1), "")


def test_project_form_rules(w):
    """000 (五)1: a project has its organization, field, target group, period, budget and goals."""
    with pytest.raises(services.ProjectError, match="结束日期"):
        services.create_project(w["org_leader"], _data(w, end_date=date(2026, 1, 1)))
    with pytest.raises(services.ProjectError, match="组织"):
        services.create_project(w["org_leader"], _data(w, organization_id=w["org_b"].id))
    with pytest.raises(services.ProjectError, match="服务对象"):
        services.create_project(w["org_leader"], _data(w, target_group="外星人"))
    with pytest.raises(services.ProjectError, match="预算"):
        services.create_project(w["org_leader"], _data(w, budget=None))
    p = w["project"]
    services.transition(w["org_leader"], p, "start")
    services.transition(w["org_leader"], p, "review")
    with pytest.raises(services.ProjectError, match="不能修改"):
        services.update_project(w["org_leader"], p, _data(w))


def test_activities_belong_to_a_project_of_their_organization(w):
    """000 (五)1 and DOMAIN.md: "activities belong to projects" — only the organization's own activities."""
    p = w["project"]
    mine = f.activity(w["org_a"], "敬老院探访")
    other = f.activity(w["org_b"], "霞山清洁")
    services.link_activity(w["org_leader"], p, mine)
    assert mine.project_id == p.id and services.activities_of(p) == [mine]
    with pytest.raises(services.ProjectError):
        services.link_activity(w["city_admin"], p, other)
    p2 = f.volunteer_project(w["org_a"], "第二个项目")
    with pytest.raises(services.ProjectError, match="另一个项目"):
        services.link_activity(w["org_leader"], p2, mine)
    assert services.linkable_activities(w["org_leader"], p2) == []
    services.unlink_activity(w["org_leader"], p, mine)
    assert mine.project_id is None


def test_each_step_reads_as_its_verb_in_the_operation_log(w):
    from sqlalchemy import select

    from core.audit import AuditEntry

    p = w["project"]
    services.transition(w["org_leader"], p, "start")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "volunteer_project")
                              .order_by(AuditEntry.id.desc()))
    assert entry.action == "start" and entry.username == "org_leader"
