"""Funding (经费保障): ledger, balances, purchased-service projects, audits, yearly statement."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.funding import services
from blueprints.funding.forms import (AuditForm, EntryForm, ItemForm, ItemStatusForm, PaymentForm, ProjectForm,
                                      ReportForm, ReverseForm, SourcesForm, TransitionForm)
from blueprints.funding.models import (FundAudit, LedgerEntry, ProjectPayment, ProjectStatus, RectificationItem,
                                       ServiceProject)
from blueprints.funding.services import FundingError, Holder
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.panels import Panel, register_panel
from core.pdf import pdf_response, render_pdf
from core.settings import set_value
from core.timeutil import local_today
from core.uploads import DOCUMENTS, IMAGES, UploadError, delete_stored, read_upload, send_stored, store_bytes
from core.templating import render_htmx

bp = Blueprint("funding", __name__, url_prefix="/funding")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
WRITERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
ATTACHMENT_KINDS = IMAGES | frozenset({"pdf"})
# One entry in the side navigation; the funding pages share a tab bar (templates/funding/_tabs.html).
register_nav("经费保障", "funding.index", READERS, order=610, group="保障")
register_nav("经费来源设置", "funding.settings", (Role.CITY_ADMIN,), order=860, group="系统")



def _year(default: int | None = None) -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return default or local_today().year
    return year if 2000 <= year <= 2100 else (default or local_today().year)


def _entry(entry_id: int, write: bool = False) -> LedgerEntry:
    return scope.get_scoped_or_404(LedgerEntry, entry_id, current_user, write=write)


def _holder_choices(holders: list[Holder]) -> list:
    return [("", "请选择")] + [(h.key, h.label) for h in holders]


# ---- ledger -----------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.LedgerFilter.from_args(request.args)
    stmt = services.ledger_stmt(current_user, f)
    page = paginate(services.ledger_rows(stmt), request.args.get("page"))
    ctx = dict(page=page, f=f, args=f.args(), totals=services.totals(stmt))

    def page_context() -> dict:
        holders = services.holders_for(current_user, with_entries=True)
        if f.holder and f.holder not in {h.key for h in holders}:  # chosen by a link, no entries yet
            chosen = services.parse_holder(current_user, f.holder)
            holders += [chosen] if chosen else []
        return dict(holders=holders, sources=services.sources(), years=services.entry_years(current_user),
                    can_write=current_user.role in WRITERS)

    return render_htmx("funding/index.html", "funding/_rows.html", page_context=page_context, **ctx)


@jobs.exporter("funding.export")
def build_export(user, args: dict) -> jobs.Sheet:
    f = services.LedgerFilter.from_args(args)
    rows = []
    for e in db.session.scalars(services.ledger_rows(services.ledger_stmt(user, f)).limit(50000)):
        rows.append([e.entry_date.isoformat(), e.holder_name, e.kind.label, e.signed_amount, e.source, e.purpose,
                     e.project, e.voucher_no, ("冲销" if e.is_reversal else ""), e.reason or e.note])
    return jobs.Sheet("经费台账", ["日期", "记账单位", "收支", "金额（元）", "经费来源", "用途", "项目", "凭证号", "类型", "说明"],
                      rows, f"经费台账_{local_today():%Y%m%d}.xlsx", widths=[12, 30, 8, 14, 14, 16, 24, 14, 8, 30])


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    return jobs.start_export("funding.export", "导出经费台账", request.args)


def _entry_form(form: EntryForm, holders: list[Holder], keep_source: str | None = None) -> None:
    form.holder.choices = _holder_choices(holders)
    names = services.sources()
    if keep_source and keep_source not in names:
        names.append(keep_source)
    form.source.choices = [("", "请选择")] + [(s, s) for s in names]


def _entry_data(form: EntryForm) -> services.EntryData:
    return services.EntryData(entry_date=form.entry_date.data, kind=form.kind.data, amount=form.amount.data,
                              source=form.source.data, purpose=form.purpose.data or "", project=form.project.data or "",
                              voucher_no=form.voucher_no.data or "", note=form.note.data or "")


def _read_attachment(form) -> tuple[bytes, str] | None:
    upload = form.attachment.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return read_upload(upload, ATTACHMENT_KINDS)
    except UploadError as e:
        form.attachment.errors.append(e.message)
        return None


@bp.route("/entries/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def create_entry():
    holders = services.holders_for(current_user)
    form = EntryForm()
    _entry_form(form, holders)
    if request.method == "GET":
        form.entry_date.data = local_today()
        if request.args.get("holder") in {h.key for h in holders}:
            form.holder.data = request.args["holder"]
        elif len(holders) == 1:
            form.holder.data = holders[0].key
        copy = request.args.get("copy", "")
        if copy.isdigit() and len(copy) <= 9:
            src = db.session.scalar(scope.scoped(select(LedgerEntry).where(LedgerEntry.id == int(copy)),
                                                 LedgerEntry, current_user))
            if src is not None:
                form.holder.data = src.holder_key
                form.kind.data, form.amount.data, form.source.data = src.kind.value, abs(src.amount), src.source
                form.purpose.data, form.project.data, form.voucher_no.data = src.purpose, src.project, src.voucher_no
    if form.validate_on_submit():
        attachment = _read_attachment(form)
        holder = services.parse_holder(current_user, form.holder.data)
        if holder is None:
            form.holder.errors.append("请选择记账单位")
        elif not form.attachment.errors:
            try:
                entry = services.create_entry(current_user, holder, _entry_data(form))
            except FundingError as e:
                db.session.rollback()
                getattr(form, e.field or "amount").errors.append(e.message)
            else:
                if attachment:
                    stored = store_bytes(*attachment, "funding", form.attachment.data.filename)
                    entry.attachment, entry.attachment_name = stored.name, stored.original_name
                db.session.commit()
                flash(f"已记账：{entry.kind.label} {entry.amount:,.2f} 元。", "success")
                return redirect(url_for("funding.index", holder=holder.key), 303)
    status = 422 if form.errors else 200
    return render_template("funding/entry_form.html", form=form, entry=None,
                           purposes=services.PURPOSE_SUGGESTIONS), status


@bp.get("/entries/<int:entry_id>")
@roles_required(*READERS)
def entry_detail(entry_id: int):
    entry = _entry(entry_id)
    lock = services.entry_lock(entry)
    payment = None
    if entry.service_project_id:
        payment = entry.service_project
    editable = current_user.can_write and lock is None and not entry.is_reversal and entry.reversed_by is None \
        and entry.service_project_id is None
    return render_template("funding/entry_detail.html", entry=entry, lock=lock, editable=editable, project=payment,
                           can_reverse=current_user.can_write and not entry.is_reversal and entry.reversed_by is None
                           and entry.service_project_id is None,
                           action_form=EmptyForm())


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit_entry(entry_id: int):
    entry = _entry(entry_id, write=True)
    try:
        services.check_editable(entry)
    except FundingError as e:
        flash(e.message, "error")
        return redirect(url_for("funding.entry_detail", entry_id=entry.id), 303)
    form = EntryForm(obj=entry) if request.method == "GET" else EntryForm()
    _entry_form(form, [services.holder_of(entry)], keep_source=entry.source)
    form.holder.data = entry.holder_key
    if request.method == "GET":
        form.kind.data = entry.kind.value
    if form.validate_on_submit():
        attachment = _read_attachment(form)
        if not form.attachment.errors:
            try:
                services.update_entry(current_user, entry, _entry_data(form))
            except FundingError as e:
                db.session.rollback()
                getattr(form, e.field or "amount").errors.append(e.message)
            else:
                old = entry.attachment
                if attachment:
                    stored = store_bytes(*attachment, "funding", form.attachment.data.filename)
                    entry.attachment, entry.attachment_name = stored.name, stored.original_name
                elif form.remove_attachment.data:
                    entry.attachment, entry.attachment_name = None, ""
                db.session.commit()
                if old and old != entry.attachment:
                    delete_stored(old)
                flash("已保存。", "success")
                return redirect(url_for("funding.entry_detail", entry_id=entry.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/entry_form.html", form=form, entry=entry,
                           purposes=services.PURPOSE_SUGGESTIONS), status


@bp.post("/entries/<int:entry_id>/delete")
@roles_required(*WRITERS)
def delete_entry(entry_id: int):
    entry = _entry(entry_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    holder_key, attachment = entry.holder_key, entry.attachment
    try:
        services.delete_entry(current_user, entry)
    except FundingError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("funding.entry_detail", entry_id=entry_id), 303)
    db.session.commit()
    delete_stored(attachment)
    flash("记录已删除。", "success")
    return redirect(url_for("funding.index", holder=holder_key), 303)


@bp.route("/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@roles_required(*WRITERS)
def reverse_entry(entry_id: int):
    entry = _entry(entry_id, write=True)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            rev = services.reverse_entry(current_user, entry, form.reason.data)
        except FundingError as e:
            db.session.rollback()
            form.reason.errors.append(e.message)
        else:
            db.session.commit()
            if request.form.get("reenter") == "1":
                flash("已冲销原记录。请按正确内容核对下面的记账信息后保存。", "success")
                return redirect(url_for("funding.create_entry", copy=entry.id), 303)
            flash("已冲销原记录。", "success")
            return redirect(url_for("funding.entry_detail", entry_id=rev.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/reverse.html", form=form, entry=entry, lock=services.entry_lock(entry)), status


@bp.get("/entries/<int:entry_id>/attachment")
@roles_required(*READERS)
def entry_attachment(entry_id: int):
    entry = _entry(entry_id)
    if not entry.attachment:
        abort(404)
    return send_stored(entry.attachment, entry.attachment_name)


# ---- balances and one holder's books ---------------------------------------------------------------------

@bp.get("/balances")
@roles_required(*READERS)
def balances():
    year = _year()
    rows = services.balances_by_holder(current_user, year)
    total = services.Totals(sum((r.income for r in rows), services.ZERO), sum((r.expense for r in rows), services.ZERO))
    return render_template("funding/balances.html", rows=rows, year=year, total=total, this_year=local_today().year,
                           closing=sum((r.balance for r in rows), services.ZERO),
                           years=services.entry_years(current_user),
                           sources=services.scope_source_balances(current_user, year),
                           months=services.scope_monthly_summary(current_user, year))


def _holder(org_id: int | None, region_id: int | None) -> Holder:
    key = f"org-{org_id}" if org_id else f"region-{region_id}"
    holder = services.parse_holder(current_user, key)
    if holder is None:
        abort(404)
    return holder


@bp.get("/orgs/<int:org_id>")
@bp.get("/regions/<int:region_id>")
@roles_required(*READERS)
def holder(org_id: int | None = None, region_id: int | None = None):
    h = _holder(org_id, region_id)
    year = _year()
    return render_template(
        "funding/holder.html", holder=h, year=year, sources=services.source_balances(h, year),
        months=services.monthly_summary(h, year), years=services.yearly_summary(h),
        balance=services.holder_balance(h), audits=services.audits_for_holder(h), projects=services.holder_projects(h),
        year_options=services.entry_years(current_user), can_write=current_user.role in WRITERS,
        org_url=url_for("orgs.detail", org_id=org_id) if org_id and "orgs.detail" in current_app.view_functions else None)


@bp.get("/orgs/<int:org_id>/statement.pdf")
@bp.get("/regions/<int:region_id>/statement.pdf")
@roles_required(*READERS)
def statement_pdf(org_id: int | None = None, region_id: int | None = None):
    h = _holder(org_id, region_id)
    year = _year()
    st = services.statement(h, year)
    data = render_pdf("funding/pdf/statement.html", st=st, title=f"{h.name} {year} 年度经费收支公开报告")
    return pdf_response(data, f"{h.name}_{year}年度经费公开报告.pdf")


# ---- purchased-service projects -----------------------------------------------------------------------

@bp.get("/projects/")
@roles_required(*READERS)
def projects():
    status = request.args.get("status", "")
    stmt = scope.scoped(select(ServiceProject), ServiceProject, current_user)
    if status in {s.value for s in ProjectStatus}:
        stmt = stmt.where(ServiceProject.status == ProjectStatus(status))
    else:
        status = ""
    page = paginate(stmt.order_by(ServiceProject.start_date.desc(), ServiceProject.id.desc()), request.args.get("page"))
    ctx = dict(page=page, status=status, statuses=list(ProjectStatus))
    return render_htmx("funding/projects.html", "funding/_project_rows.html",
                       page_context=lambda: dict(can_create=current_user.role in OFFICE), **ctx)


def _project_form(form: ProjectForm, buyer_id: int | None = None) -> None:
    buyers = services.buyer_regions(current_user)
    form.buyer_region_id.choices = [(r.id, r.name) for r in buyers]
    buyer = next((r for r in buyers if r.id == buyer_id), None)
    form.provider_org_id.choices = [(0, "（待招标确定）")] + [
        (o.id, o.name) for o in services.provider_orgs(current_user, buyer)]
    from blueprints.projects.services import project_choices  # the project library

    form.project_id.choices = [(0, "（不关联项目库）")] + [
        (p.id, f"{p.title}（{p.organization.name}）") for p in project_choices(current_user)]


def _project_data(form: ProjectForm) -> services.ProjectData:
    return services.ProjectData(title=form.title.data or "", buyer_region_id=form.buyer_region_id.data,
                                buyer_name=form.buyer_name.data or "", provider_org_id=form.provider_org_id.data or None,
                                amount=form.amount.data, start_date=form.start_date.data, end_date=form.end_date.data,
                                description=form.description.data or "", project_id=form.project_id.data or None)


@bp.route("/projects/new", methods=["GET", "POST"])
@roles_required(*OFFICE)
def create_project():
    form = ProjectForm()
    _project_form(form)
    if form.validate_on_submit():
        try:
            project = services.create_project(current_user, _project_data(form))
        except FundingError as e:
            db.session.rollback()
            getattr(form, e.field or "title").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已立项：{project.title}", "success")
            return redirect(url_for("funding.project_detail", project_id=project.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/project_form.html", form=form, project=None), status


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*OFFICE)
def edit_project(project_id: int):
    project = scope.get_scoped_or_404(ServiceProject, project_id, current_user, write=True)
    if not services.can_manage_project(current_user, project):
        abort(403)
    form = ProjectForm(obj=project) if request.method == "GET" else ProjectForm()
    if request.method == "GET":
        form.provider_org_id.data = project.provider_org_id or 0
        form.project_id.data = project.project_id or 0
    _project_form(form, project.buyer_region_id)
    if form.validate_on_submit():
        try:
            services.update_project(current_user, project, _project_data(form))
        except FundingError as e:
            db.session.rollback()
            getattr(form, e.field or "title").errors.append(e.message)
        else:
            db.session.commit()
            flash("项目信息已保存。", "success")
            return redirect(url_for("funding.project_detail", project_id=project.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/project_form.html", form=form, project=project), status


def _render_project(project: ServiceProject, status: int = 200, transition_form=None, pay_form=None):
    return render_template(
        "funding/project_detail.html", project=project, actions=services.allowed_actions(current_user, project),
        labels=services.PROJECT_ACTION_LABELS, can_manage=services.can_manage_project(current_user, project),
        can_pay=services.can_manage_project(current_user, project) and project.status in services.PAYABLE
        and project.provider_org_id is not None,
        transition_form=transition_form or TransitionForm(), pay_form=pay_form, statuses=list(ProjectStatus),
        can_reverse_payments=services.can_manage_project(current_user, project) and project.status != ProjectStatus.CLOSED,
    ), status


@bp.get("/projects/<int:project_id>")
@roles_required(*READERS)
def project_detail(project_id: int):
    project = scope.get_scoped_or_404(ServiceProject, project_id, current_user)
    return _render_project(project)


@bp.post("/projects/<int:project_id>/transition")
@roles_required(*OFFICE)
def project_transition(project_id: int):
    project = scope.get_scoped_or_404(ServiceProject, project_id, current_user, write=True)
    if not services.can_manage_project(current_user, project):
        abort(403)
    form = TransitionForm()
    if not form.validate_on_submit():
        return _render_project(project, 422, transition_form=form)
    action = form.action.data
    try:
        services.transition(project, action, current_user, form.comment.data)
    except FundingError as e:
        db.session.rollback()
        db.session.refresh(project)
        form.comment.errors.append(e.message)
        return _render_project(project, 422, transition_form=form)
    db.session.commit()
    flash(f"已{services.PROJECT_ACTION_LABELS[action]}，项目状态：{project.status.label}。", "success")
    return redirect(url_for("funding.project_detail", project_id=project.id), 303)


@bp.route("/projects/<int:project_id>/pay", methods=["GET", "POST"])
@roles_required(*OFFICE)
def project_pay(project_id: int):
    project = scope.get_scoped_or_404(ServiceProject, project_id, current_user, write=True)
    if not services.can_manage_project(current_user, project):
        abort(403)
    form = PaymentForm()
    if request.method == "GET":
        form.paid_on.data = local_today()
    if form.validate_on_submit():
        try:
            services.record_payment(current_user, project, form.paid_on.data, form.amount.data,
                                    form.voucher_no.data or "", form.over_reason.data or "")
        except FundingError as e:
            db.session.rollback()
            db.session.refresh(project)
            getattr(form, e.field or "amount").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已登记付款，累计已付 {project.paid:,.2f} 元。", "success")
            return redirect(url_for("funding.project_detail", project_id=project.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/pay.html", form=form, project=project), status


@bp.post("/payments/<int:payment_id>/reverse")
@roles_required(*OFFICE)
def reverse_payment(payment_id: int):
    payment = scope.get_scoped_or_404(ProjectPayment, payment_id, current_user, write=True)
    project = payment.project
    if not services.can_manage_project(current_user, project):
        abort(403)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            services.reverse_payment(current_user, payment, form.reason.data)
        except FundingError as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash(f"已冲销 {payment.paid_on:%Y-%m-%d} 的付款 {payment.amount:,.2f} 元。", "success")
    else:
        flash("请填写冲销原因。", "error")
    return redirect(url_for("funding.project_detail", project_id=project.id), 303)


# ---- audits --------------------------------------------------------------------------------------------

@bp.get("/audits/")
@roles_required(*READERS)
def audits():
    stmt = scope.scoped(select(FundAudit), FundAudit, current_user).order_by(FundAudit.audit_date.desc(), FundAudit.id.desc())
    page = paginate(stmt, request.args.get("page"))
    return render_template("funding/audits.html", page=page, can_create=services.can_audit(current_user))


@bp.route("/audits/new", methods=["GET", "POST"])
@roles_required(*OFFICE)
def create_audit():
    form = AuditForm()
    form.holder.choices = _holder_choices(services.holders_for(current_user))
    if request.method == "GET" and request.args.get("holder"):
        form.holder.data = request.args.get("holder")
    if form.validate_on_submit():
        report = None
        if form.report.data and getattr(form.report.data, "filename", ""):
            try:
                report = read_upload(form.report.data, ATTACHMENT_KINDS | DOCUMENTS, max_bytes=10 * 1024 * 1024)
            except UploadError as e:
                form.report.errors.append(e.message)
        holder = services.parse_holder(current_user, form.holder.data)
        if holder is None:
            form.holder.errors.append("请选择被审计单位")
        elif not form.report.errors:
            data = services.AuditData(audit_date=form.audit_date.data, auditor=form.auditor.data or "",
                                      period_start=form.period_start.data, period_end=form.period_end.data,
                                      findings=form.findings.data or "",
                                      items=(form.items.data or "").splitlines())
            try:
                audit = services.create_audit(current_user, holder, data)
            except FundingError as e:
                db.session.rollback()
                getattr(form, e.field or "auditor").errors.append(e.message)
            else:
                if report:
                    stored = store_bytes(*report, "funding", form.report.data.filename)
                    audit.report, audit.report_name = stored.name, stored.original_name
                db.session.commit()
                flash(f"审计已登记，{audit.period_start:%Y-%m-%d} 至 {audit.period_end:%Y-%m-%d} 的账目已锁定。", "success")
                return redirect(url_for("funding.audit_detail", audit_id=audit.id), 303)
    status = 422 if form.errors else 200
    return render_template("funding/audit_form.html", form=form), status


def _render_audit(audit: FundAudit, status: int = 200, item_form=None, report_form=None):
    return render_template("funding/audit_detail.html", audit=audit, item_form=item_form or ItemForm(),
                           report_form=report_form or ReportForm(),
                           can_manage=services.can_manage_audit(current_user, audit),
                           can_update=services.can_update_items(current_user, audit),
                           status_form=ItemStatusForm()), status


@bp.get("/audits/<int:audit_id>")
@roles_required(*READERS)
def audit_detail(audit_id: int):
    return _render_audit(scope.get_scoped_or_404(FundAudit, audit_id, current_user))


@bp.get("/audits/<int:audit_id>/report")
@roles_required(*READERS)
def audit_report(audit_id: int):
    audit = scope.get_scoped_or_404(FundAudit, audit_id, current_user)
    if not audit.report:
        abort(404)
    return send_stored(audit.report, audit.report_name)


@bp.post("/audits/<int:audit_id>/report")
@roles_required(*OFFICE)
def upload_report(audit_id: int):
    audit = scope.get_scoped_or_404(FundAudit, audit_id, current_user, write=True)
    if not services.can_manage_audit(current_user, audit):
        abort(403)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            data, kind = read_upload(form.report.data, ATTACHMENT_KINDS | DOCUMENTS, max_bytes=10 * 1024 * 1024)
        except UploadError as e:
            form.report.errors.append(e.message)
        else:
            old = audit.report
            stored = store_bytes(data, kind, "funding", form.report.data.filename)
            audit.report, audit.report_name = stored.name, stored.original_name
            db.session.commit()
            delete_stored(old)
            flash("审计报告已上传。", "success")
            return redirect(url_for("funding.audit_detail", audit_id=audit.id), 303)
    return _render_audit(audit, 422, report_form=form)


@bp.post("/audits/<int:audit_id>/items")
@roles_required(*OFFICE)
def add_item(audit_id: int):
    audit = scope.get_scoped_or_404(FundAudit, audit_id, current_user, write=True)
    if not services.can_manage_audit(current_user, audit):
        abort(403)
    form = ItemForm()
    if form.validate_on_submit():
        try:
            services.add_item(current_user, audit, form.description.data, form.due_date.data)
        except FundingError as e:
            db.session.rollback()
            form.description.errors.append(e.message)
        else:
            db.session.commit()
            flash("已添加整改事项。", "success")
            return redirect(url_for("funding.audit_detail", audit_id=audit.id), 303)
    return _render_audit(audit, 422, item_form=form)


@bp.post("/audits/items/<int:item_id>")
@roles_required(*WRITERS)
def item_status(item_id: int):
    item = scope.get_scoped_or_404(RectificationItem, item_id, current_user, write=True)
    form = ItemStatusForm()
    if form.validate_on_submit():
        try:
            services.set_item_status(current_user, item, form.status.data, form.result.data or "")
        except FundingError as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash("整改情况已更新。", "success")
    else:
        flash("；".join(sum(form.errors.values(), [])) or "提交有误", "error")
    return redirect(url_for("funding.audit_detail", audit_id=item.audit_id), 303)


# ---- settings ------------------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def settings():
    form = SourcesForm()
    if request.method == "GET":
        form.sources.data = "\n".join(services.sources())
    if form.validate_on_submit():
        items = []
        for line in (form.sources.data or "").splitlines():
            line = line.strip()
            if line and line not in items:
                items.append(line)
        if not items:
            form.sources.errors.append("请至少填写一项经费来源")
        elif any(len(s) > 32 for s in items):
            form.sources.errors.append("每项经费来源最多 32 个字")
        elif len(items) > 30:
            form.sources.errors.append("经费来源最多 30 项")
        else:
            set_value(services.SOURCES_KEY, items, current_user)
            db.session.commit()
            flash("经费来源已保存。", "success")
            return redirect(url_for("funding.settings"), 303)
    status = 422 if form.errors else 200
    return render_template("funding/settings.html", form=form), status


# ---- dashboard tile and organization panel ----------------------------------------------------------------

@register_tile(order=600)
def funding_tile(user):
    """Its figures come from blueprints/funding/figures.py (one definition each)."""
    if user.role not in READERS:
        return None
    return Tile("经费", "funding/_tile.html", {}, url=url_for("funding.balances"))


@register_panel("org", order=60)
def org_panel(org, user):
    if user.role not in READERS:
        return None
    h = services.parse_holder(user, f"org-{org.id}")
    if h is None:
        return None
    year = local_today().year
    rows = services.source_balances(h, year)
    t = services.Totals(sum((r.income for r in rows), services.ZERO), sum((r.expense for r in rows), services.ZERO))
    return Panel("经费收支", "funding/_org_panel.html", {
        "holder": h, "year": year, "totals": t, "balance": services.holder_balance(h),
        "projects": list(db.session.scalars(select(ServiceProject).where(ServiceProject.provider_org_id == org.id)
                                             .order_by(ServiceProject.start_date.desc()).limit(5))),
        "can_write": user.role in WRITERS,
    })
