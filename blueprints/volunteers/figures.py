"""The volunteers' and the ledger's headline figures (core/figures.py): one definition each.

Counted by organization membership (the user's scope), unlike the assessment's figures, which count
by residence (blueprints/assessment/figures.py); the labels say which.
"""
from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import func, select

from blueprints.volunteers import ledger
from blueprints.volunteers.models import (CorrectionRequest, RecordStatus, RequestStatus, ServiceRecord, Volunteer,
                                          VolunteerStatus)
from core.sources import cite
from core import scope
from core.extensions import db
from core.figures import Figure, register_figure
from core.timeutil import local_today


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


def _volunteers(user):
    return scope.scoped(select(func.count()).select_from(Volunteer), Volunteer, user)


@register_figure("volunteers.registered")
def registered(user) -> Figure:
    n = _count(_volunteers(user).where(Volunteer.status == VolunteerStatus.ACTIVE))
    return Figure(n, "在册志愿者（按组织）",
                  "状态为“在册”（未劝退）、且加入了您管辖范围内至少一个组织的志愿者；加入多个组织的只计一次。"
                  "按居住地统计的“注册志愿者”见年度考核。",
                  unit="人", url=url_for("volunteers.index", status="active"))


@register_figure("volunteers.dismissed")
def dismissed(user) -> Figure:
    n = _count(_volunteers(user).where(Volunteer.status == VolunteerStatus.DISMISSED))
    return Figure(n, "已劝退志愿者", "加入了您管辖范围内组织、经区县文明办决定全市劝退的志愿者（档案与服务时长保留，不计入在册）；"
                  "组织自行劝退的只结束其在该组织的成员身份，不计入此数。",
                  unit="人", url=url_for("volunteers.index", status="dismissed"))


@register_figure("volunteers.core")
def core_volunteers(user) -> Figure:
    year = local_today().year
    n = _count(_volunteers(user).where(Volunteer.id.in_(ledger.core_volunteer_ids(year))))
    return Figure(n, f"{year} 年志愿者骨干",
                  f"{year} 年在同一社区（该社区的组织和站点）已审核服务时长达到 {ledger.core_hours()} 小时的志愿者"
                  f"（{cite('001', '附件4 第四条')}：“每年在本社区服务时长达48小时以上”），按组织统计。",
                  unit="人", url=url_for("volunteers.index", kind="core"))


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


@register_figure("hours.year")
def year_hours(user) -> Figure:
    year = local_today().year
    start, end = _year_bounds(year)
    total = ledger.verified_hours(scope.scope_filter(ServiceRecord, user), start, end)
    return Figure(total, f"{year} 年已审核服务时长（按记录单位）",
                  f"您管辖范围内的组织记录、已审核的服务记录在 {year} 年的时长合计；待审核记录不计。"
                  "按志愿者居住地统计的服务时长见年度考核。",
                  unit="小时", kind="hours",
                  url=url_for("ledger.index", status="verified", **{"from": start.isoformat(), "to": end.isoformat()}),
                  page_attr="data-total-hours")


def _records(user):
    return scope.scoped(select(func.count()).select_from(ServiceRecord), ServiceRecord, user)


@register_figure("ledger.pending")
def pending_records(user) -> Figure:
    n = _count(_records(user).where(ServiceRecord.status == RecordStatus.PENDING))
    return Figure(n, "待审核服务记录", "您管辖范围内的组织录入、尚未审核的服务记录（各年度）。", unit="条",
                  url=url_for("ledger.index", status="pending"))


@register_figure("ledger.late")
def late_records(user) -> Figure:
    year = local_today().year
    start, end = _year_bounds(year)
    n = _count(_records(user).where(ServiceRecord.late_entry.is_(True), ServiceRecord.service_date >= start,
                                    ServiceRecord.service_date <= end))
    return Figure(n, f"{year} 年补录记录", f"服务日期在 {year} 年、超过 {ledger.late_working_days()} 个工作日才录入的服务记录（含待审核）。", unit="条",
                  url=url_for("ledger.index", late="1", **{"from": start.isoformat(), "to": end.isoformat()}))


@register_figure("ledger.open_requests")
def open_requests(user) -> Figure:
    n = _count(scope.scoped(select(func.count()).select_from(CorrectionRequest), CorrectionRequest, user)
               .where(CorrectionRequest.status == RequestStatus.OPEN))
    return Figure(n, "待答复的更正申请", "志愿者提出、尚未答复的记录更正申请（《志愿服务记录与证明出具办法》第十三条）。",
                  unit="件", url=url_for("ledger.requests_index", status="open"))
