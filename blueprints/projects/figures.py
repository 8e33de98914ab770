"""The project library's headline figures (core/figures.py)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from blueprints.projects.models import ProjectStatus, VolunteerProject
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure


@register_figure("projects.implementing")
def implementing(user) -> Figure:
    n = db.session.scalar(scope.scoped(select(func.count(VolunteerProject.id)), VolunteerProject, user)
                          .where(VolunteerProject.status == ProjectStatus.IMPLEMENTING)) or 0
    return Figure(n, "实施中的志愿服务项目", "您管辖范围内的组织处于“实施”阶段的项目库项目。", unit="个",
                  url=url_for("projects.index", status="implementing"))


@register_figure("projects.evaluating")
def evaluating(user) -> Figure:
    n = db.session.scalar(scope.scoped(select(func.count(VolunteerProject.id)), VolunteerProject, user)
                          .where(VolunteerProject.status == ProjectStatus.EVALUATING)) or 0
    return Figure(n, "待评估的志愿服务项目", "您管辖范围内的组织已提交评估、尚未结项的项目。", unit="个",
                  url=url_for("projects.index", status="evaluating"))
