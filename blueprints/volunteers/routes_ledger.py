"""The ledger's pages: records with filters and batch verification (HTMX), one record (edit until
verified, then correction with a trace), volunteers' correction requests (《办法》§13), training (§8)
and awards (§9), certificates (§15) with the public check /verify/<code>, transfer files, and the
boxes this feature adds to the volunteer's page (core/panels.py). The rules live in ledger.py,
certificates.py and transfer.py; these views parse, call one service and render."""
from __future__ import annotations

from urllib.parse import quote

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.orgs.models import Organization
from blueprints.orgs.services import org_filter
from blueprints.volunteers import certificates, ledger, services, transfer
from blueprints.volunteers.forms import (AnswerForm, AwardForm, CertificateForm, CorrectionForm, RecordEditForm,
                                         RecordForm, RequestForm, RevokeForm, TrainingForm, TransferImportForm)
from blueprints.activities.models import Activity
from blueprints.volunteers.models import (AwardReceived, Certificate, CorrectionRequest, Quality, RecordStatus,
                                          RequestStatus, ServiceRecord, TrainingRecord, Volunteer)
from blueprints.volunteers.views_common import READERS, WRITERS, bp, ledger_bp, public_bp
from blueprints.volunteers.views_common import field_error as _field_error
from blueprints.volunteers.views_common import org_choices as _org_choices
from blueprints.volunteers.views_common import volunteer_or_404 as _volunteer
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.pagination import cached_rows, paginate, paginate_capped
from core.panels import Panel, register_panel
from core.pdf import pdf_response
from core.tabular import stash_rows, take_rows
from core.timeutil import local_today
from core.templating import is_htmx, render_htmx
from core.validators import parse_id

T = "volunteers/ledger/"  # this feature's templates


def _record(rid: int, write: bool = False) -> ServiceRecord:
    return scope.get_scoped_or_404(ServiceRecord, rid, current_user, write=write)


def _require_verifier() -> None:
    if not ledger.can_verify(current_user):
        abort(403)


# ---- the ledger: filters and batch verification -----------------------------------------------------

def _rows_context(filters: dict, page_arg=None, message: tuple[str, str] | None = None) -> dict:
    stmt = ledger.record_list_query(current_user, filters)

    def load(ids: list[int]) -> list[ServiceRecord]:
        rows = {r.id: r for r in db.session.scalars(select(ServiceRecord).where(ServiceRecord.id.in_(ids)).options(
            selectinload(ServiceRecord.volunteer).load_only(Volunteer.name, Volunteer.number),
            selectinload(ServiceRecord.organization).load_only(Organization.name),
            selectinload(ServiceRecord.activity).load_only(Activity.title)))}
        return [rows[i] for i in ids if i in rows]

    # The page's ids first (index-only under every filter), then its 50 rows — read and rendered once per
    # data version for everyone with the same scope and filters (core/pagination.cached_rows).
    page = paginate_capped(stmt.with_only_columns(ServiceRecord.id), page_arg, per_page=50, load=False, loader=load)
    total_hours = ledger.listed_hours(current_user, filters, capped=page.capped, stmt=stmt)
    can_verify = ledger.can_verify(current_user)
    rows = cached_rows(page, T + "_row_items.html", can_verify=can_verify, prepare=lambda items: {
        "info": {"has_pending": any(r.status == RecordStatus.PENDING for r in items)}})
    return dict(page=page, rows=rows, total_hours=total_hours, filters=filters, can_verify=can_verify, message=message)


@ledger_bp.get("/")
@roles_required(*READERS)
def index():
    filters = ledger.clean_filters(request.args)
    ctx = _rows_context(filters, request.args.get("page"))

    def page_context() -> dict:
        volunteer = (db.session.scalar(scope.scoped(select(Volunteer).where(Volunteer.id == filters["volunteer"]),
                                                    Volunteer, current_user))
                     if "volunteer" in filters else None)
        return dict(of=org_filter(current_user, filters.get("org")), statuses=list(RecordStatus), volunteer=volunteer)

    return render_htmx(T + "index.html", T + "_rows.html", page_context=page_context, **ctx)


jobs.list_exporter("ledger.export", lambda user, args: ledger.export_rows(user, ledger.clean_filters(args)),
                   sheet="服务台账", file_stem="服务台账", headers=ledger.EXPORT_HEADERS, widths=ledger.EXPORT_WIDTHS,
                   entity="service_record", summary="导出服务台账 {n} 条")


@ledger_bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    return jobs.start_export("ledger.export", "导出服务台账", request.args, pii=True)


@ledger_bp.post("/verify")
@roles_required(*WRITERS)
def verify_batch():
    _require_verifier()
    if not EmptyForm().validate():
        abort(400)
    # The list's filters travel as f_<name> so the refreshed rows show the same selection.
    filters = ledger.clean_filters({k[2:]: v for k, v in request.form.items() if k.startswith("f_")})
    ids = sorted({int(i) for i in request.form.getlist("ids") if i.isdigit() and len(i) < 10})[:1000]
    if not ids:
        message = ("warning", "请先勾选要审核的记录。")
    else:
        records = list(db.session.scalars(scope.scoped(
            select(ServiceRecord).where(ServiceRecord.id.in_(ids), ServiceRecord.status == RecordStatus.PENDING),
            ServiceRecord, current_user)))
        n = ledger.verify_records(current_user, records)
        db.session.commit()
        skipped = len(ids) - n
        message = ("success" if n else "warning",
                   f"已审核通过 {n} 条记录。" + (f"另有 {skipped} 条已审核或不在您的管理范围内，未处理。" if skipped else ""))
    if is_htmx():
        return render_template(T + "_rows.html", **_rows_context(filters, request.form.get("page"), message))
    flash(message[1], message[0])
    return redirect(url_for("ledger.index", **filters), 303)


# ---- one record ---------------------------------------------------------------------------------

@bp.route("/<int:vid>/records/new", methods=["GET", "POST"])
@roles_required(*READERS)
def record_new(vid: int):
    v = _volunteer(vid, write=True)
    orgs = ledger.recording_orgs(current_user, v)
    if not v.is_active:
        flash("该志愿者已被劝退，不能新增服务记录。", "error")
        return redirect(url_for("volunteers.detail", vid=v.id), 303)
    form = RecordForm()
    form.organization_id.choices = _org_choices(orgs)
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        try:
            record = ledger.create_record(current_user, v, org, form.service_date.data, form.hours.data,
                                          form.content.data, form.quality.data)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "hours")
        else:
            db.session.commit()
            flash(f"已录入服务记录，待{org.name}审核。" + (f"该记录晚于服务日期 {ledger.late_working_days()} 个工作日以上录入，已标记为补录。"
                                                if record.late_entry else ""), "success")
            if request.form.get("again"):
                return redirect(url_for("volunteers.record_new", vid=v.id), 303)
            return redirect(url_for("volunteers.detail", vid=v.id, _anchor="records"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "record_form.html", form=form, v=v, record=None, no_orgs=not orgs), status


@ledger_bp.get("/<int:rid>")
@roles_required(*READERS)
def record_detail(rid: int):
    record = _record(rid)
    requests_ = list(db.session.scalars(select(CorrectionRequest).where(CorrectionRequest.record_id == record.id)
                                        .order_by(CorrectionRequest.id)))
    return render_template(T + "record_detail.html", r=record, requests=requests_,
                           can_edit=ledger.can_edit_record(current_user, record),
                           can_correct=ledger.can_correct_record(current_user, record),
                           can_verify=(record.status == RecordStatus.PENDING and ledger.can_verify(current_user)),
                           action_form=EmptyForm(), qualities={q.value: q.label for q in Quality},
                           statuses={s.value: s.label for s in RecordStatus})


@ledger_bp.route("/<int:rid>/edit", methods=["GET", "POST"])
@roles_required(*READERS)
def record_edit(rid: int):
    record = _record(rid, write=True)
    if record.status != RecordStatus.PENDING:
        flash("已审核的记录不能直接修改，请使用“更正”并说明原因。", "warning")
        return redirect(url_for("ledger.record_detail", rid=record.id), 303)
    form = RecordEditForm(obj=record) if request.method == "GET" else RecordEditForm()
    if request.method == "GET":
        form.quality.data = record.quality.value
        form.hours.data = str(record.hours)
    if form.validate_on_submit():
        try:
            ledger.update_record(current_user, record, form.service_date.data, form.hours.data, form.content.data,
                                 form.quality.data)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "hours")
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("ledger.record_detail", rid=record.id), 303)
    status = 422 if form.errors else 200
    return render_template(T + "record_form.html", form=form, v=record.volunteer, record=record), status


@ledger_bp.post("/<int:rid>/delete")
@roles_required(*READERS)
def record_delete(rid: int):
    record = _record(rid, write=True)
    if not EmptyForm().validate():
        abort(400)
    vid = record.volunteer_id
    try:
        ledger.delete_record(current_user, record)
    except ledger.LedgerError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("ledger.record_detail", rid=rid), 303)
    db.session.commit()
    flash("已删除该待审核记录。", "success")
    return redirect(url_for("volunteers.detail", vid=vid, _anchor="records"), 303)


@ledger_bp.post("/<int:rid>/verify")
@roles_required(*READERS)
def record_verify(rid: int):
    record = _record(rid, write=True)
    _require_verifier()
    if not EmptyForm().validate():
        abort(400)
    if ledger.verify_records(current_user, [record]):
        db.session.commit()
        flash("已审核通过。", "success")
    else:
        flash("该记录不是待审核状态。", "warning")
    return redirect(url_for("ledger.record_detail", rid=rid), 303)


@ledger_bp.route("/<int:rid>/correct", methods=["GET", "POST"])
@roles_required(*READERS)
def record_correct(rid: int):
    record = _record(rid, write=True)
    _require_verifier()
    if record.status != RecordStatus.VERIFIED:
        flash("只有已审核的记录需要更正；待审核的记录可直接修改。", "warning")
        return redirect(url_for("ledger.record_detail", rid=record.id), 303)
    # Requests still open, or accepted and waiting for this very correction.
    open_requests = list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.volunteer_id == record.volunteer_id,
        CorrectionRequest.status.in_([RequestStatus.OPEN, RequestStatus.ACCEPTED]),
        CorrectionRequest.organization_id == record.organization_id).order_by(CorrectionRequest.id.desc())))
    form = CorrectionForm(obj=record) if request.method == "GET" else CorrectionForm()
    form.request_id.choices = [(0, "（无）")] + [(q.id, f"{q.received_on.isoformat()} {q.content[:30]}")
                                               for q in open_requests]
    if request.method == "GET":
        form.quality.data = record.quality.value
        form.hours.data = str(record.hours)
        form.request_id.data = request.args.get("request", 0, type=parse_id)
    if form.validate_on_submit():
        req = next((q for q in open_requests if q.id == form.request_id.data), None)
        try:
            ledger.correct_record(current_user, record, form.service_date.data, form.hours.data, form.content.data,
                                  form.quality.data, form.reason.data, void=form.void.data, request=req)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "reason")
        else:
            db.session.commit()
            flash("记录已作废，原记录保留可查。" if form.void.data else "记录已更正，原记录保留可查。", "success")
            return redirect(url_for("ledger.record_detail", rid=record.id), 303)
    status = 422 if form.errors else 200
    return render_template(T + "correct.html", form=form, r=record), status


# ---- correction requests (§13) ---------------------------------------------------------------------

@ledger_bp.get("/requests/")
@roles_required(*READERS)
def requests_index():
    status = request.args.get("status", "open")
    if status != "all" and status not in {s.value for s in RequestStatus}:
        status = "open"
    stmt = scope.scoped(select(CorrectionRequest), CorrectionRequest, current_user)
    if status in {s.value for s in RequestStatus}:
        stmt = stmt.where(CorrectionRequest.status == status)
    page = paginate(stmt.options(selectinload(CorrectionRequest.volunteer), selectinload(CorrectionRequest.organization))
                    .order_by(CorrectionRequest.id.desc()), request.args.get("page"))
    return render_template(T + "requests.html", page=page, status=status, statuses=list(RequestStatus),
                           can_answer=ledger.can_verify(current_user))


@bp.route("/<int:vid>/requests/new", methods=["GET", "POST"])
@roles_required(*READERS)
def request_new(vid: int):
    v = _volunteer(vid, write=True)
    orgs = ledger.recording_orgs(current_user, v)
    records = list(db.session.scalars(scope.scoped(
        select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id), ServiceRecord, current_user)
        .order_by(ServiceRecord.service_date.desc()).limit(200)))
    form = RequestForm()
    form.organization_id.choices = _org_choices(orgs)
    form.record_id.choices = [(0, "（不涉及具体记录 / 要求补录）")] + [
        (r.id, f"{r.service_date.isoformat()} {r.hours} 小时 {r.content[:24]}") for r in records]
    if request.method == "GET":
        form.received_on.data = local_today()
        form.record_id.data = request.args.get("record", 0, type=parse_id)
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        record = next((r for r in records if r.id == form.record_id.data), None)
        try:
            ledger.log_request(current_user, v, org, form.content.data, form.received_on.data, form.channel.data, record)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "content")
        else:
            db.session.commit()
            flash("已登记更正申请，待组织答复。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id, _anchor="requests"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "request_form.html", form=form, v=v, no_orgs=not orgs), status


@ledger_bp.route("/requests/<int:qid>/answer", methods=["GET", "POST"])
@roles_required(*READERS)
def request_answer(qid: int):
    req = scope.get_scoped_or_404(CorrectionRequest, qid, current_user, write=True)
    _require_verifier()
    form = AnswerForm()
    if req.status != RequestStatus.OPEN:
        flash("该申请已答复。", "warning")
        return redirect(url_for("volunteers.detail", vid=req.volunteer_id, _anchor="requests"), 303)
    if form.validate_on_submit():
        try:
            ledger.answer_request(current_user, req, form.decision.data == "accepted", form.answer.data)
        except ledger.LedgerError as e:
            db.session.rollback()
            form.answer.errors = [e.message]
        else:
            db.session.commit()
            flash("已答复。" + ("请按申请更正相关记录。" if req.status == RequestStatus.ACCEPTED and req.record_id else ""),
                  "success")
            if req.status == RequestStatus.ACCEPTED and req.record and req.record.status == RecordStatus.VERIFIED:
                return redirect(url_for("ledger.record_correct", rid=req.record_id, request=req.id), 303)
            return redirect(url_for("volunteers.detail", vid=req.volunteer_id, _anchor="requests"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "answer.html", form=form, req=req), status


def _require_own_entry(org_id: int | None) -> None:
    """Training and awards are visible with the person; only the organization that entered one
    (or an office above it) removes it."""
    if org_id is not None:
        scope.get_scoped_or_404(Organization, org_id, current_user)


# ---- training (§8) and awards (§9) ----------------------------------------------------------------

@bp.route("/<int:vid>/trainings/new", methods=["GET", "POST"])
@roles_required(*READERS)
def training_new(vid: int):
    v = _volunteer(vid, write=True)
    form = TrainingForm()
    if form.validate_on_submit():
        orgs = ledger.recording_orgs(current_user, v)
        try:
            ledger.add_training(current_user, v, orgs[0] if orgs else None, form.name.data, form.content.data or "",
                                form.hours.data, form.host_unit.data, form.held_on.data)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash("已登记培训记录（不计入服务时长）。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id, _anchor="trainings"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "simple_form.html", form=form, v=v, title="登记培训记录",
                           note="培训记录单独保存，不计入志愿服务时长（《志愿服务记录与证明出具办法》第八条）。"), status


@bp.post("/trainings/<int:tid>/delete")
@roles_required(*READERS)
def training_delete(tid: int):
    t = scope.get_scoped_or_404(TrainingRecord, tid, current_user, write=True)
    _require_own_entry(t.organization_id)
    if not EmptyForm().validate():
        abort(400)
    vid = t.volunteer_id
    db.session.delete(t)
    db.session.commit()
    flash("已删除培训记录。", "success")
    return redirect(url_for("volunteers.detail", vid=vid, _anchor="trainings"), 303)


@bp.route("/<int:vid>/awards/new", methods=["GET", "POST"])
@roles_required(*READERS)
def award_new(vid: int):
    v = _volunteer(vid, write=True)
    form = AwardForm()
    if form.validate_on_submit():
        orgs = ledger.recording_orgs(current_user, v)
        try:
            ledger.add_award(v, form.name.data, form.awarded_on.data, form.granting_unit.data, user=current_user,
                             org=orgs[0] if orgs else None)
        except ledger.LedgerError as e:
            db.session.rollback()
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash("已登记获奖情况。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id, _anchor="awards"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "simple_form.html", form=form, v=v, title="登记获奖情况",
                           note="评选表彰产生的奖项会自动记入。"), status


@bp.post("/awards/<int:aid>/delete")
@roles_required(*READERS)
def award_delete(aid: int):
    a = scope.get_scoped_or_404(AwardReceived, aid, current_user, write=True)
    _require_own_entry(a.organization_id)
    if not EmptyForm().validate():
        abort(400)
    if a.source == "commendation":
        flash("评选表彰产生的奖项不能在此删除。", "error")
        return redirect(url_for("volunteers.detail", vid=a.volunteer_id, _anchor="awards"), 303)
    vid = a.volunteer_id
    db.session.delete(a)
    db.session.commit()
    flash("已删除获奖记录。", "success")
    return redirect(url_for("volunteers.detail", vid=vid, _anchor="awards"), 303)


# ---- certificates ---------------------------------------------------------------------------------

@bp.route("/<int:vid>/certificates/new", methods=["GET", "POST"])
@roles_required(*READERS)
def certificate_new(vid: int):
    v = _volunteer(vid, write=True)
    orgs = ledger.recording_orgs(current_user, v)
    form = CertificateForm()
    form.organization_id.choices = _org_choices(orgs)
    if request.method == "GET":
        form.period_start.data = v.registered_on
        form.period_end.data = local_today()
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        try:
            cert = certificates.issue(current_user, v, org, form.person_in_charge.data, form.period_start.data,
                                      form.period_end.data)
        except certificates.CertificateError as e:
            db.session.rollback()
            _field_error(form, e, "period_start")
        else:
            db.session.commit()
            flash(f"已出具志愿服务记录证明，编号 {cert.serial}。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id, _anchor="certificates"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "certificate_form.html", form=form, v=v, no_orgs=not orgs), status


@bp.get("/certificates/<int:cid>.pdf")
@roles_required(*READERS)
def certificate_pdf(cid: int):
    cert = scope.get_scoped_or_404(Certificate, cid, current_user)
    return pdf_response(certificates.pdf_bytes(cert), f"志愿服务记录证明_{cert.serial}.pdf")


@bp.route("/certificates/<int:cid>/revoke", methods=["GET", "POST"])
@roles_required(*READERS)
def certificate_revoke(cid: int):
    cert = scope.get_scoped_or_404(Certificate, cid, current_user, write=True)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            certificates.revoke(current_user, cert, form.reason.data)
        except certificates.CertificateError as e:
            db.session.rollback()
            form.reason.errors = [e.message]
        else:
            db.session.commit()
            flash(f"证明 {cert.serial} 已作废，核验时将显示为作废。", "success")
            return redirect(url_for("volunteers.detail", vid=cert.volunteer_id, _anchor="certificates"), 303)
    status = 422 if form.errors else 200
    return render_template(T + "simple_form.html", form=form, v=cert.volunteer,
                           title=f"作废证明 {cert.serial}", note="作废后该证明在核验页面显示为“已作废”。",
                           confirm=f"作废后证明 {cert.serial} 在核验页面显示为“已作废”，不能恢复。确定作废？"), status


@public_bp.get("/")
def verify_form():
    typed = request.args.get("code", "")
    code = certificates.normalize_code(typed)
    if code:
        return redirect(url_for("verify.verify", code=certificates.format_code(code)), 303)
    return _no_store(make_response(render_template(T + "verify.html", cert=None, code=typed[:40], asked=bool(typed)),
                                   404 if typed else 200))


@public_bp.get("/<code>")
def verify(code: str):
    cert = certificates.by_code(code)
    return _no_store(make_response(render_template(T + "verify.html", cert=cert, code=code[:40], asked=True),
                                   200 if cert else 404))


def _no_store(resp):
    resp = make_response(resp)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


# ---- transfer (异地转移和接续) -----------------------------------------------------------------------

@bp.post("/<int:vid>/transfer.json")
@roles_required(*READERS)
def transfer_export(vid: int):
    """A POST: the export is logged (who took a person's records out), and a GET never changes state."""
    v = _volunteer(vid, write=True)
    if not EmptyForm().validate():
        abort(400)
    orgs = ledger.recording_orgs(current_user, v)
    doc = transfer.export_document(current_user, v, orgs[0].name if orgs else "")
    db.session.commit()
    resp = make_response(transfer.dumps(doc))
    resp.mimetype = "application/json"
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'志愿服务记录_{v.number}.json')}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/transfer/import", methods=["GET", "POST"])
@roles_required(*WRITERS)
def transfer_import():
    orgs = services.registrable_orgs(current_user)
    form = TransferImportForm()
    form.organization_id.choices = _org_choices(orgs)
    result, token = None, None
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        try:
            doc = transfer.read_document(form.file.data)
            result = transfer.preview(current_user, doc, form.id_number.data, org)
        except transfer.TransferError as e:
            _field_error(form, e, "file")
        else:
            if result.ok:
                token = stash_rows(current_user.id, "volunteer-transfer",
                                   [transfer.stash_payload(doc, form.id_number.data, org, form.phone.data or "")])
    form.id_number.data = ""  # never echoed back into the page
    status = 422 if form.errors or (result and not result.ok) else 200
    return render_template(T + "transfer_import.html", form=form, result=result, token=token,
                           confirm_form=EmptyForm(), no_orgs=not orgs), status


@bp.post("/transfer/confirm")
@roles_required(*WRITERS)
def transfer_confirm():
    if not EmptyForm().validate():
        abort(400)
    rows = take_rows(request.form.get("token", ""), current_user.id, "volunteer-transfer")
    if not rows:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("volunteers.transfer_import"), 303)
    payload = rows[0]
    org = next((o for o in services.registrable_orgs(current_user) if o.id == payload["org_id"]), None)
    if org is None:
        abort(403)
    try:
        v, n = transfer.apply(current_user, payload, org)
    except (transfer.TransferError, services.VolunteerError) as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("volunteers.transfer_import"), 303)
    db.session.commit()
    flash(f"已转入 {v.name} 的记录 {n} 条。", "success")
    return redirect(url_for("volunteers.detail", vid=v.id), 303)


@register_tile(order=210)
def ledger_tile(user):
    """Its figures come from blueprints/volunteers/figures.py (one definition each)."""
    if user.role not in WRITERS:
        return None
    return Tile("服务台账", "volunteers/_tile_ledger.html", {}, url=url_for("ledger.index"))


# ---- boxes on the volunteer's page (core/panels.py) ---------------------------------------------------

PANEL_RECORDS = 20


def _in_scope_ids(model, ids: list[int], user) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(scope.scoped(select(model.id).where(model.id.in_(ids)), model, user)))


@register_panel("volunteer", order=10)
def records_panel(v: Volunteer, user) -> Panel:
    """The person's ledger: every record (any organization's), pending shown as pending; links and
    actions only for the records in the user's scope."""
    records = list(db.session.scalars(
        select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)
        .options(selectinload(ServiceRecord.organization), selectinload(ServiceRecord.activity))
        .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc()).limit(PANEL_RECORDS)))
    counts = dict(db.session.execute(select(ServiceRecord.status, func.count())
                                     .where(ServiceRecord.volunteer_id == v.id).group_by(ServiceRecord.status)).all())
    total = sum(counts.values())
    writable = services.can_write(user, v)
    verifiable = 0
    if ledger.can_verify(user) and counts.get(RecordStatus.PENDING):
        verifiable = db.session.scalar(scope.scoped(
            select(func.count()).select_from(ServiceRecord).where(ServiceRecord.volunteer_id == v.id,
                                                                  ServiceRecord.status == RecordStatus.PENDING),
            ServiceRecord, user)) or 0
    return Panel("服务记录", T + "_panel_records.html", {
        "v": v, "records": records, "total": total, "pending": counts.get(RecordStatus.PENDING, 0),
        "linkable": _in_scope_ids(ServiceRecord, [r.id for r in records], user),
        "can_add": writable and v.is_active, "verifiable": verifiable,
        "can_log_request": writable,
    })


@register_panel("volunteer", order=20)
def requests_panel(v: Volunteer, user) -> Panel | None:
    reqs = list(db.session.scalars(scope.scoped(
        select(CorrectionRequest).where(CorrectionRequest.volunteer_id == v.id), CorrectionRequest, user)
        .options(selectinload(CorrectionRequest.organization), selectinload(CorrectionRequest.record))
        .order_by(CorrectionRequest.id.desc())))
    if not reqs:
        return None
    return Panel("更正申请（《办法》第十三条）", T + "_panel_requests.html",
                 {"v": v, "requests": reqs, "can_answer": ledger.can_verify(user)})


@register_panel("volunteer", order=30)
def training_panel(v: Volunteer, user) -> Panel:
    rows = list(db.session.scalars(select(TrainingRecord).where(TrainingRecord.volunteer_id == v.id)
                                   .order_by(TrainingRecord.held_on.desc())))
    return Panel("培训记录（不计入服务时长）", T + "_panel_training.html",
                 {"v": v, "rows": rows, "can_write": services.can_write(user, v), "removable": _removable(rows, user),
                  "hours": ledger.quantize(sum((t.hours for t in rows), 0))})


@register_panel("volunteer", order=40)
def awards_panel(v: Volunteer, user) -> Panel:
    rows = list(db.session.scalars(select(AwardReceived).where(AwardReceived.volunteer_id == v.id)
                                   .order_by(AwardReceived.awarded_on.desc())))
    return Panel("获奖情况", T + "_panel_awards.html", {"v": v, "rows": rows, "removable": _removable(rows, user),
                                                     "can_write": services.can_write(user, v)})


def _removable(rows, user) -> set[int]:
    """Entries this user may remove: those of organizations in their scope (see _require_own_entry)."""
    if not user.can_write:
        return set()
    own = _in_scope_ids(Organization, sorted({r.organization_id for r in rows if r.organization_id}), user)
    return {r.id for r in rows if r.organization_id is None or r.organization_id in own}


@register_panel("volunteer", order=50)
def certificates_panel(v: Volunteer, user) -> Panel:
    certs = list(db.session.scalars(scope.scoped(
        select(Certificate).where(Certificate.volunteer_id == v.id), Certificate, user)
        .options(selectinload(Certificate.organization)).order_by(Certificate.id.desc())))
    writable = services.can_write(user, v)
    return Panel("志愿服务记录证明与转移接续", T + "_panel_certificates.html",
                 {"v": v, "certs": certs, "can_issue": writable, "can_export": writable})
