"""Commendation's headline figure (core/figures.py): what waits for a reviewer's score."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.awards import services
from blueprints.awards.models import Campaign, CampaignStage, Nomination, NominationStatus, ScoreSheet
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure


def todo_by_campaign(user, campaigns: list[Campaign]) -> dict[int, int]:
    """Per campaign in scoring: the recommended nominations this reviewer has not scored and need not recuse."""
    if user.role != Role.REVIEWER:
        return {}
    done = set(db.session.scalars(select(ScoreSheet.nomination_id).where(ScoreSheet.reviewer_id == user.id)))
    out = {}
    for c in campaigns:
        if c.stage == CampaignStage.SCORING:
            noms = db.session.scalars(scope.scoped(select(Nomination).where(
                Nomination.campaign_id == c.id, Nomination.status == NominationStatus.RECOMMENDED), Nomination, user))
            out[c.id] = sum(1 for n in noms if n.id not in done and not services.must_recuse(user, n))
    return out


def running_campaigns(user, limit: int | None = 3) -> list[Campaign]:
    stmt = scope.scoped(select(Campaign).where(Campaign.stage != CampaignStage.DECIDED), Campaign, user) \
        .order_by(Campaign.year.desc())
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


@register_figure("awards.todo")
def todo(user) -> Figure:
    n = sum(todo_by_campaign(user, running_campaigns(user, limit=None)).values())
    return Figure(n, "待我评分的推荐", "处于评审打分阶段的评选中，已推荐、您尚未评分且无需回避的推荐项目。", unit="项",
                  url=url_for("awards.index"))
