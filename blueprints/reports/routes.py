"""Monthly reports (月报制度): my reports, drafts with autosave, review, matrix, 催报, notifications,
attachments, the monthly needs list and the quarterly bulletin."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.reports import services
from blueprints.reports.forms import AttachmentForm, RemindForm, TransitionForm
from blueprints.reports.models import (AttachmentKind, MonthlyReport, Notification, ReportAttachment, ReportLevel,
                                       ReportStatus)
from blueprints.reports.services import DraftData, ReportConflict, ReportError, ReportForbidden
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate, paginate_list
from core.pdf import cached_pdf, pdf_or_job, pdf_response
from core.timeutil import local_today
from core.uploads import send_stored
from core.templating import render_htmx
from core.validators import parse_id

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
MATRIX_READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
ALL = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER, Role.REVIEWER)

# One entry for the report pages (they share a tab bar), plus the needs list and the notifications.
register_nav("月报", "reports.index", READERS, order=400, group="工作")
register_nav("需求信息", "reports.needs", ALL, order=402, group="工作")
register_nav("消息通知", "reports.notifications", ALL, order=404, group="工作")



def _report(report_id: int) -> MonthlyReport:
    return scope.get_scoped_or_404(MonthlyReport, report_id, current_user)


def _year_arg(name: str = "year", args=None) -> int:
    try:
        year = int((request.args if args is None else args).get(name, ""))
    except ValueError:
        return local_today().year
    return year if services.MIN_YEAR <= year <= services.MAX_YEAR else local_today().year


# ---- lists --------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.ReportFilter.from_args(request.args)
    page = paginate(services.list_stmt(current_user, f), request.args.get("page"))
    ctx = dict(page=page, f=f, args=f.args(), today=local_today(), day=services.deadline_day(),
               standing=services.standing)
    return render_htmx("reports/index.html", "reports/_rows.html", page_context=lambda: dict(
        statuses=list(ReportStatus), periods=services.period_choices(),
        districts=services.districts_in_scope(current_user) if current_user.role in (Role.CITY_ADMIN, Role.LEADER)
        else [], units=services.filing_units(current_user), pending=services.pending_reviews(current_user)), **ctx)


jobs.list_exporter("reports.export", lambda user, args: services.export_rows(user, services.ReportFilter.from_args(args)),
                   sheet="月报", file_stem="月报列表", headers=services.EXPORT_HEADERS, widths=services.EXPORT_WIDTHS,
                   entity="monthly_report", summary="导出月报列表 {n} 份")


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    return jobs.start_export("reports.export", "导出月报列表", request.args)


@bp.get("/mine")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def mine():
    """The filer's units × the last twelve months, each with its report or a button to start it."""
    today = local_today()
    day = services.deadline_day()
    periods = services.period_choices(today)
    units = services.filing_units(current_user)
    rows = []
    for level, uid, name in units:
        cells = []
        for y, m in periods:
            rep = services.find_report(level, uid, y, m)
            cells.append({"year": y, "month": m, "report": rep, "due": services.due_date(y, m, day),
                          "state": services.cell_state(rep, y, m, today, day)})
        rows.append({"level": level, "unit_id": uid, "name": name, "cells": cells})
    return render_template("reports/mine.html", rows=rows, form=EmptyForm(), today=today)


@bp.post("/open")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def open_report():
    if not EmptyForm().validate_on_submit():
        abort(400)
    period = services.parse_period(request.form.get("period"))
    try:
        level, uid = request.form.get("unit", "").split("-", 1)
        level, uid = ReportLevel(level), int(uid)
    except ValueError:
        abort(404)
    if period is None:
        flash("月份无效", "error")
        return redirect(url_for("reports.mine"), 303)
    try:
        report = services.open_report(current_user, level, uid, *period)
    except ReportForbidden:
        abort(403)
    except ReportError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.mine"), 303)
    db.session.commit()
    return redirect(url_for("reports.edit", report_id=report.id), 303)


# ---- one report ---------------------------------------------------------------------------------

def _detail_ctx(report: MonthlyReport, transition_form: TransitionForm | None = None) -> dict:
    return dict(report=report, actions=services.allowed_actions(current_user, report),
                labels=services.ACTION_LABELS, transition_form=transition_form or TransitionForm(),
                can_file=services.can_file(current_user, report), due=services.due_date(report.year, report.month),
                standing=services.standing(report, report.year, report.month, local_today()),
                org_reports=_org_reports(report), live=services.figures_for(report) if report.status.editable else None,
                next_review=_next_review(report))


def _next_review(report: MonthlyReport) -> MonthlyReport | None:
    """Once this report is decided, its reviewer is offered the next one waiting (下一份待审)."""
    if report.status not in (ReportStatus.ACCEPTED, ReportStatus.RETURNED) \
            or not services.can_review(current_user, report):
        return None
    return services.next_pending_review(current_user, exclude_id=report.id)


def _org_reports(report: MonthlyReport) -> list:
    """For a district report: its organizations' reports of the month (the roll-up)."""
    if report.level != ReportLevel.DISTRICT:
        return []
    today = local_today()
    day = services.deadline_day()
    orgs = services.orgs_in_scope(current_user, report.region_id)
    by_key = {r.unit_key: r for r in db.session.scalars(scope.scoped(select(MonthlyReport), MonthlyReport, current_user)
                                                          .where(MonthlyReport.level == ReportLevel.ORG,
                                                                 MonthlyReport.region_id == report.region_id,
                                                                 MonthlyReport.year == report.year,
                                                                 MonthlyReport.month == report.month))}
    out = []
    for o in orgs:
        rep = by_key.get(f"org-{o.id}")
        out.append({"org": o, "report": rep, "state": services.cell_state(rep, report.year, report.month, today, day)})
    return out


@bp.get("/<int:report_id>")
@roles_required(*READERS)
def detail(report_id: int):
    report = _report(report_id)
    return render_template("reports/detail.html", **_detail_ctx(report))


def _edit_page(report: MonthlyReport, data: DraftData | None = None, conflict: ReportConflict | None = None,
               error: ReportError | None = None, status: int = 200):
    if data is None:
        data = DraftData(report.summary, report.highlights, report.problems, report.next_plan,
                         [{"what": n.what, "place": n.place, "contact": n.contact, "when": n.when}
                          for n in report.needs])
    version = request.form.get("version") if conflict else report.version
    return render_template("reports/edit.html", report=report, data=data, conflict=conflict, error=error,
                           version=version, live=services.figures_for(report), attach_form=AttachmentForm(),
                           due=services.due_date(report.year, report.month)), status


def _editable_or_redirect(report: MonthlyReport):
    if not services.can_file(current_user, report):
        abort(403)
    if not report.status.editable:
        flash(f"月报{report.status.label}，不能再修改", "error")
        return redirect(url_for("reports.detail", report_id=report.id), 303)
    return None


@bp.get("/<int:report_id>/edit")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def edit(report_id: int):
    report = _report(report_id)
    stop = _editable_or_redirect(report)
    return stop or _edit_page(report)


@bp.post("/<int:report_id>/edit")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def save(report_id: int):
    """Save the draft (button or no-JS), optionally overwriting after a conflict, optionally submitting."""
    report = _report(report_id)
    stop = _editable_or_redirect(report)
    if stop:
        return stop
    if not EmptyForm().validate_on_submit():
        abort(400)
    data = DraftData.from_form(request.form)
    base = services.parse_version(request.form.get("force_version") or request.form.get("version"))
    try:
        services.save_draft(current_user, report, data, base)
        if request.form.get("action") == "submit":
            action = "resubmit" if report.status == ReportStatus.RETURNED else "submit"
            services.transition(report, action, current_user, "")
    except ReportConflict as exc:
        db.session.rollback()
        return _edit_page(report, data, conflict=exc, status=409)
    except ReportForbidden:
        abort(403)
    except ReportError as exc:
        db.session.rollback()
        return _edit_page(report, data, error=exc, status=422)
    db.session.commit()
    if request.form.get("action") == "submit":
        flash("月报已提交，等待审核", "success")
        return redirect(url_for("reports.detail", report_id=report.id), 303)
    flash("草稿已保存", "success")
    return redirect(url_for("reports.edit", report_id=report.id), 303)


@bp.post("/<int:report_id>/autosave")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def autosave(report_id: int):
    """HTMX, debounced: saves the draft as the user types and answers a status line (plus the new
    version number out of band). A conflict is answered with a clear message; nothing is overwritten."""
    report = _report(report_id)
    if not services.can_file(current_user, report):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    data = DraftData.from_form(request.form)
    try:
        services.save_draft(current_user, report, data, services.parse_version(request.form.get("version")))
    except ReportConflict as exc:
        db.session.rollback()
        return render_template("reports/_save_status.html", report=report, conflict=exc, error=None,
                               version=None, saved=False)
    except ReportError as exc:
        db.session.rollback()
        return render_template("reports/_save_status.html", report=report, conflict=None, error=exc,
                               version=None, saved=False)
    db.session.commit()
    return render_template("reports/_save_status.html", report=report, conflict=None, error=None,
                           version=report.version, saved=True, live=report)


@bp.get("/need-row")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def need_row():
    return render_template("reports/_need_row.html", need={})


@bp.get("/need-row/removed")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def need_removed():
    # The row is deleted by the swap; the event makes the form autosave the shorter list.
    resp = make_response("")
    resp.headers["HX-Trigger"] = "needs-changed"
    return resp


@bp.post("/<int:report_id>/transition")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF, Role.CITY_ADMIN)
def transition(report_id: int):
    report = _report(report_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return render_template("reports/detail.html", **_detail_ctx(report, form)), 422
    try:
        services.transition(report, form.action.data or "", current_user, form.comment.data or "")
    except ReportForbidden:
        abort(403)
    except ReportError as exc:
        db.session.rollback()
        form.comment.errors = [exc.message]
        return render_template("reports/detail.html", **_detail_ctx(report, form)), 422
    db.session.commit()
    flash(f"已{services.ACTION_LABELS[form.action.data]}", "success")
    return redirect(url_for("reports.detail", report_id=report.id), 303)


# ---- attachments --------------------------------------------------------------------------------

@bp.post("/<int:report_id>/attachments")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def upload(report_id: int):
    report = _report(report_id)
    if not services.can_file(current_user, report):
        abort(403)
    form = AttachmentForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _edit_page(report, error=ReportError("请选择附件类别", "kind"), status=422)
    try:
        services.add_attachment(current_user, report, form.kind.data, request.files.get("file"))
    except ReportError as exc:
        db.session.rollback()
        return _edit_page(report, error=exc, status=422)
    db.session.commit()
    flash("附件已上传", "success")
    return redirect(url_for("reports.edit", report_id=report.id) + "#attachments", 303)


@bp.get("/attachments/<int:attachment_id>")
@roles_required(*READERS)
def attachment(attachment_id: int):
    att = scope.get_scoped_or_404(ReportAttachment, attachment_id, current_user)
    return send_stored(att.stored_name, att.original_name)


@bp.get("/attachments/<int:attachment_id>/thumb")
@roles_required(*READERS)
def thumbnail(attachment_id: int):
    att = scope.get_scoped_or_404(ReportAttachment, attachment_id, current_user)
    return send_stored(att.thumb_name or (att.stored_name if att.is_image else None), att.original_name)


@bp.post("/attachments/<int:attachment_id>/delete")
@roles_required(Role.ORG_LEADER, Role.DISTRICT_STAFF)
def delete_attachment(attachment_id: int):
    att = scope.get_scoped_or_404(ReportAttachment, attachment_id, current_user, write=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    report_id = att.report_id
    try:
        services.delete_attachment(current_user, att)
    except ReportForbidden:
        abort(403)
    except ReportError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.detail", report_id=report_id), 303)
    db.session.commit()
    flash("附件已删除", "success")
    return redirect(url_for("reports.edit", report_id=report_id) + "#attachments", 303)


# ---- matrix and 催报 -----------------------------------------------------------------------------

def _matrix_filters(args=None, user=None) -> tuple[ReportLevel, int, int | None, bool]:
    """The matrix's filters from the query: the page and its export (in the worker) read them here, alike."""
    args = request.args if args is None else args
    user = current_user if user is None else user
    # The city office reviews districts: it starts on the districts; district staff on their orgs.
    default = "district" if user.role in (Role.CITY_ADMIN, Role.LEADER) and user.is_city_wide else "org"
    level = ReportLevel.DISTRICT if args.get("level", default) == "district" else ReportLevel.ORG
    year = _year_arg(args=args)
    district = parse_id(args.get("district"))
    return level, year, district, args.get("only") == "problems"


MATRIX_PAGE = 50  # units per page of the matrix


@bp.get("/matrix")
@roles_required(*MATRIX_READERS)
def matrix():
    level, year, district, only = _matrix_filters()
    months, rows = services.matrix(current_user, level, year, district, only)
    # Every unit counts in the filters and the totals; the page renders MATRIX_PAGE of them (a district's
    # 2,000+ organizations × 12 months were ~900 KB of HTML at 10×). The export stays whole.
    page = paginate_list(rows, request.args.get("page"), per_page=MATRIX_PAGE)
    totals = dict(units=len(rows), late=sum(r.late for r in rows), missing=sum(r.missing for r in rows))
    today = local_today()
    period = services.default_period(today)
    ctx = dict(months=months, rows=page.items, page=page, totals=totals, level=level, year=year, district=district,
               only=only, today=today, day=services.deadline_day())
    return render_htmx("reports/matrix.html", "reports/_matrix.html", page_context=lambda: dict(
        districts=services.districts_in_scope(current_user), years=list(range(today.year, today.year - 4, -1)),
        chase_levels=services.chase_levels(current_user), periods=services.period_choices(),
        default_period=period, remind_form=RemindForm()), **ctx)


@jobs.exporter("reports.matrix_export")
def build_matrix_export(user, args: dict) -> jobs.Sheet:
    """Runs in the worker for the job's owner: the matrix's filters and scope, re-applied."""
    level, year, district, only = _matrix_filters(args, user)
    months, rows = services.matrix(user, level, year, district, only)
    headers, body = services.matrix_export(months, rows, level)
    return jobs.Sheet(f"{year}年月报报送", headers, body, f"{year}年月报报送矩阵_{level.label}.xlsx",
                      widths=[32] + [10] * (len(headers) - 1),
                      audit=("monthly_report", "月报报送矩阵", f"导出 {year} 年月报报送矩阵 {len(body)} 个单位"))


@bp.get("/matrix.xlsx")
@roles_required(*MATRIX_READERS)
def matrix_export():
    return jobs.start_export("reports.matrix_export", "导出月报报送矩阵", request.args)


@bp.post("/remind")
@roles_required(*OFFICE)
def remind():
    form = RemindForm()
    if not form.validate_on_submit():
        abort(400)
    period = services.parse_period(form.period.data)
    level = ReportLevel.DISTRICT if form.level.data == "district" else ReportLevel.ORG
    back = url_for("reports.matrix", level=level.value, year=period[0] if period else None)
    if period is None:
        flash("请选择催报的月份", "error")
        return redirect(back, 303)
    try:
        entry = services.send_reminders(current_user, level, *period)
    except ReportForbidden:
        abort(403)
    except ReportError as exc:
        flash(exc.message, "error")
        return redirect(back, 303)
    done = f"已向 {entry.unit_count} 个逾期单位的 {entry.recipient_count} 位负责人发送催报通知"
    if entry.mail_to:  # the e-mail goes out in the background (我的任务 shows how it went)
        jobs.submit(jobs.create("reports.remind_mail", f"发送催报邮件（{period[0]} 年 {period[1]} 月）",
                                {"log": entry.id, "users": entry.mail_to}))
        done += f"，{len(entry.mail_to)} 封邮件正在后台发送"
    else:
        db.session.commit()
    flash(done, "success")
    return redirect(url_for("reports.reminders"), 303)


@jobs.task_kind("reports.remind_mail")
def send_reminder_mail(user, params: dict) -> jobs.Done:
    sent = services.send_reminder_mail(params["log"], params["users"])
    return jobs.Done(f"已发送 {sent} 封催报邮件。", url_for("reports.reminders"))


@bp.get("/reminders")
@roles_required(*OFFICE, Role.LEADER)
def reminders():
    return render_template("reports/reminders.html", logs=services.reminder_logs(current_user))


# ---- notifications ------------------------------------------------------------------------------

@bp.get("/notifications")
@roles_required(*ALL)
def notifications():
    page = paginate(services.notifications_for(current_user), request.args.get("page"))
    return render_template("reports/notifications.html", page=page, unread=services.unread_count(current_user),
                           form=EmptyForm())


@bp.post("/notifications/<int:note_id>/read")
@roles_required(*ALL)
def read_notification(note_id: int):
    note = scope.get_scoped_or_404(Notification, note_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user, note)
    db.session.commit()
    target = note.url if note.url.startswith("/") and not note.url.startswith("//") else ""
    return redirect(target or url_for("reports.notifications"), 303)


@bp.post("/notifications/read-all")
@roles_required(*ALL)
def read_all():
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = services.mark_read(current_user)
    db.session.commit()
    flash(f"已将 {n} 条通知标为已读", "success")
    return redirect(url_for("reports.notifications"), 303)


# ---- publications -------------------------------------------------------------------------------

def _period_arg():
    return services.parse_period(request.args.get("period")) or services.default_period()


@bp.get("/needs")
@roles_required(*ALL)
def needs():
    year, month = _period_arg()
    return render_template("reports/needs.html", year=year, month=month, rows=services.published_needs(year, month),
                           periods=services.period_choices())


@bp.get("/needs.pdf")
@roles_required(*ALL)
def needs_pdf():
    year, month = _period_arg()
    data = cached_pdf(f"reports-needs-{year}-{month}-{services.data_stamp()}", "reports/pdf/needs.html",
                      title=f"{year} 年 {month} 月志愿服务需求信息", year=year, month=month,
                      rows=services.published_needs(year, month))
    return pdf_response(data, f"志愿服务需求信息-{year}-{month:02d}.pdf")


def _quarter_arg() -> tuple[int, int]:
    today = local_today()
    cur_q = (today.month - 1) // 3 + 1
    dy, dq = (today.year, cur_q - 1) if cur_q > 1 else (today.year - 1, 4)
    try:
        q = int(request.args.get("quarter", ""))
    except ValueError:
        q = 0
    if "year" not in request.args or not 1 <= q <= 4:
        return dy, dq
    return _year_arg(), q


@bp.get("/bulletin")
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
def bulletin():
    year, quarter = _quarter_arg()
    today = local_today()
    return render_template("reports/bulletin.html", b=services.bulletin(year, quarter),
                           years=list(range(today.year, today.year - 4, -1)))


def _bulletin_key(year: int, quarter: int) -> str:
    return f"reports-bulletin-{year}-{quarter}-{local_today()}-{services.data_stamp()}"


@bp.get("/bulletin.pdf")
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
def bulletin_pdf():
    """Served from the cache when built today for this data, else built by a job (core/pdf.py)."""
    year, quarter = _quarter_arg()
    return pdf_or_job(_bulletin_key(year, quarter), f"志愿服务季度通报-{year}Q{quarter}.pdf", "reports.bulletin_pdf",
                      f"生成{year}年第{quarter}季度通报（PDF）", {"year": year, "quarter": quarter})


@jobs.task_kind("reports.bulletin_pdf")
def build_bulletin_pdf(user, params: dict) -> jobs.File:
    year, quarter = int(params["year"]), int(params["quarter"])
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER) or not 1 <= quarter <= 4:
        raise jobs.JobError("您无权查看季度通报。")
    jobs.progress(0, 2, "正在汇总通报数据")
    b = services.bulletin(year, quarter)
    jobs.progress(1, 2, "正在排版 PDF")
    data = cached_pdf(_bulletin_key(year, quarter), "reports/pdf/bulletin.html",
                      title=f"{year} 年第 {quarter} 季度志愿服务工作通报", b=b)
    return jobs.File(f"志愿服务季度通报-{year}Q{quarter}.pdf", data, "季度通报已生成。")


# ---- settings -----------------------------------------------------------------------------------

@bp.route("/settings")
@roles_required(Role.CITY_ADMIN)
def settings():
    """The deadline moved to the one policy settings page (issue 18); old links land there."""
    return redirect(url_for("settings.policy", _anchor="policy-reports__deadline_day"), 303)


# ---- layout: the unread count next to the user's name --------------------------------------------

@bp.app_context_processor
def unread_notifications_count():
    def unread_notifications() -> int:
        if not getattr(current_user, "is_authenticated", False) or getattr(current_user, "status", None) == "pending":
            return 0
        return services.unread_count(current_user)
    return {"unread_notifications": unread_notifications}


# ---- dashboard ----------------------------------------------------------------------------------

@register_tile(order=400, live=True)  # the person's unread notifications
def reports_tile(user):
    if user.role == Role.ORG_LEADER or (user.role == Role.DISTRICT_STAFF):
        today = local_today()
        y, m = services.default_period(today)
        mine = []
        for level, uid, name in services.filing_units(user):
            rep = services.find_report(level, uid, y, m)
            mine.append({"name": name, "report": rep, "state": services.cell_state(rep, y, m, today)})
        return Tile(f"{y} 年 {m} 月月报", "reports/_tile.html",
                    {"mine": mine, "due": services.due_date(y, m),
                     "unread": services.unread_count(user), "role": user.role.value},
                    url=url_for("reports.mine"))
    if user.role == Role.CITY_ADMIN:
        return Tile("月报审核", "reports/_tile.html",
                    {"mine": [], "due": None,
                     "unread": services.unread_count(user), "role": user.role.value},
                    url=url_for("reports.index", status="review"))
    return None
