"""Monthly reports' headline figures (core/figures.py)."""
from __future__ import annotations

from flask import url_for

from blueprints.reports import services
from core.figures import Figure, register_figure


@register_figure("reports.review")
def awaiting_review(user) -> Figure:
    return Figure(services.pending_reviews(user), "待我审核的月报",
                  "已提交或重新提交、等您审核的月报：县(市、区)文明办审本辖区组织的月报，市文明办审各县(市、区)和市直组织的月报。",
                  unit="份", url=url_for("reports.index", status="review"))
