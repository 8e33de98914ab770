"""Volunteers registry: list with filters, registration, the volunteer's page, personal data (audited
显示), status (劝退), memberships, XLSX export and import. The ledger's pages (records, verification,
corrections, training, awards, certificates, transfer) live in routes_ledger.py on the "ledger"
blueprint and add their boxes to the volunteer's page through core/panels.py; the public certificate
check is the "verify" blueprint. The blueprints and what both modules share are in views_common.py."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.orgs.models import Organization
from blueprints.orgs.services import org_filter
from blueprints.volunteers import ledger, services
from blueprints.accounts.models import Role
from blueprints.volunteers.forms import (DecideForm, DismissForm, ImportForm, MembershipDismissForm, MembershipForm,
                                         ReinstateForm, VolunteerEditForm, VolunteerForm)
from blueprints.volunteers.models import SKILLS, DismissalEvent, Membership, PoliticalStatus, VolunteerStatus
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import cached_rows, paginate
from core.exports import xlsx_bytes, xlsx_response
from core.tabular import ImportRow, TableError, import_bytes, iter_table, precheck, read_table, stash_rows, take_rows
from core.timeutil import local_today
from core.validators import ValidationError as IdValidationError
from core.validators import mask_phone, parse_id_number
from core.templating import is_htmx, render_htmx
from blueprints.volunteers.views_common import READERS, WRITERS, bp
from blueprints.volunteers.views_common import field_error as _field_error
from blueprints.volunteers.views_common import org_choices as _org_choices
from blueprints.volunteers.views_common import volunteer_or_404 as _volunteer
from core.validators import parse_id

OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)  # decide a city-wide 劝退 (001 附件4 第五条 "报上级…备案")

register_nav("志愿者", "volunteers.index", READERS, order=200, group="志愿服务")
register_nav("服务台账", "ledger.index", READERS, order=210, group="志愿服务")


def _region_choices() -> list[tuple[int, str]]:
    out = [(0, "—")]
    for r in services.residence_regions(current_user):
        indent = {"district": "", "town": "　", "community": "　　"}.get(r.level.value, "")
        out.append((r.id, indent + r.name))
    return out



def _data_from(form) -> services.VolunteerData:
    return services.VolunteerData(
        name=form.name.data or "", phone=form.phone.data or "", political_status=form.political_status.data,
        public_servant=form.public_servant.data, work_unit=form.work_unit.data or "", skills=form.skills.data or [],
        availability=form.availability.data or [], region_id=form.region_id.data or None,
        registered_on=form.registered_on.data, guardian_name=form.guardian_name.data or "",
        guardian_phone=form.guardian_phone.data or "", guardian_relation=form.guardian_relation.data or "",
        guardian_consent=form.guardian_consent.data,
    )




# ---- the list -------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.ListFilters.from_args(request.args)
    stmt = services.with_details(services.list_query(current_user, f))
    page = paginate(stmt, request.args.get("page"), per_page=30, load=False)
    rows = cached_rows(page, "volunteers/_row_items.html",
                       prepare=lambda items: {"rows": services.decorate(items, f.year)}, year=f.year)
    ctx = dict(page=page, rows=rows, f=f, args=f.args(), is_htmx=is_htmx())
    return render_htmx("volunteers/index.html", "volunteers/_rows.html", page_context=lambda: dict(
        of=org_filter(current_user, f.org), regions=services.filter_regions(current_user),
        can_write=current_user.can_write, statuses=list(VolunteerStatus), politicals=list(PoliticalStatus),
        skills=SKILLS, star_labels=ledger.STAR_LABELS, official_hours=ledger.official_hours(),
        official_days=ledger.official_days(), can_see_queue=current_user.role in (*OFFICE, Role.LEADER)), **ctx)


@jobs.exporter("volunteers.export")
def build_export(user, args: dict) -> jobs.Sheet:
    """Runs in the worker for the job's owner: the same filters, the same scope as the list."""
    rows = services.export_rows(user, services.ListFilters.from_args(args))
    return jobs.Sheet("志愿者", services.EXPORT_HEADERS, rows, f"志愿者名册_{local_today().isoformat()}.xlsx",
                      widths=[16, 10, 6, 6, 22, 15, 12, 8, 24, 16, 28, 14, 12, 10, 14, 8, 14, 12, 20],
                      audit=("volunteer", "志愿者名册", lambda n: f"导出志愿者名册 {n} 人（证件号、电话已脱敏）"))


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    # Phones and ID numbers are masked in the file, but names with ages and districts are still
    # personal data: the file expires after JOB_PII_KEEP_HOURS.
    return jobs.start_export("volunteers.export", "导出志愿者名册", request.args, pii=True)


# ---- registration ----------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def create():
    orgs = services.registrable_orgs(current_user)
    form = VolunteerForm()
    form.organization_id.choices = _org_choices(orgs)
    form.region_id.choices = _region_choices()
    if request.method == "GET":
        form.registered_on.data = local_today()
        if request.args.get("org"):
            form.organization_id.data = request.args.get("org", type=parse_id)
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        try:
            result = services.register(current_user, org, form.id_number.data, _data_from(form))
        except services.VolunteerError as e:
            db.session.rollback()
            _field_error(form, e, "id_number")
        else:
            db.session.commit()
            v = result.volunteer
            if result.created:
                flash(f"已注册志愿者 {v.name}，编号 {v.number}。", "success")
            else:
                flash(f"该志愿者已在 {'；'.join(result.elsewhere)} 注册（编号 {v.number}），"
                      f"本次未新建档案，已将其加入 {org.name}。", "warning")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/form.html", form=form, volunteer=None, no_orgs=not orgs,
                           work_units=services.work_units(current_user)), status


@bp.post("/id-preview")
@roles_required(*WRITERS)
def id_preview():
    """What the ID number being typed says (性别, 出生日期, 年龄) or what is wrong with it, before saving.
    POST only, so the number never reaches a URL or an access log; nothing is stored or logged."""
    raw = (request.form.get("id_number") or "").strip()[:32]
    info, error = None, None
    if raw:
        try:
            info = parse_id_number(raw, local_today())
        except IdValidationError as e:
            error = e.message
    today = local_today()
    age = info.age_on(today) if info else None
    resp = make_response(render_template("volunteers/_id_preview.html", info=info, error=error, age=age,
                                         minor=age is not None and age < services.ADULT_AGE, typed=len(raw),
                                         partial=raw.isdigit() and len(raw) < 18))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/<int:vid>/edit", methods=["GET", "POST"])
@roles_required(*READERS)
def edit(vid: int):
    v = _volunteer(vid, write=True)
    form = VolunteerEditForm(obj=v) if request.method == "GET" else VolunteerEditForm()
    form.region_id.choices = _region_choices()
    # Personal numbers are never sent back in full: the fields start empty, show the masked value,
    # and an empty field keeps what is stored.
    form.id_number.description = f"现为 {v.id_masked}；留空表示不修改，如需更正请填写完整号码。"
    form.phone.render_kw = {"autocomplete": "off", "placeholder": mask_phone(v.phone)}
    form.phone.description = "留空表示不修改。"
    form.guardian_phone.render_kw = {"autocomplete": "off", "placeholder": mask_phone(v.guardian_phone)}
    if request.method == "GET":
        form.id_number.data = form.phone.data = form.guardian_phone.data = ""
        form.skills.data = v.skills
        form.availability.data = [a for a in v.availability.split("、") if a]
        form.political_status.data = v.political_status.value
        form.region_id.data = v.region_id or 0
    if form.validate_on_submit():
        try:
            data = _data_from(form)
            data.phone = data.phone or v.phone
            data.guardian_phone = data.guardian_phone or v.guardian_phone
            services.update(current_user, v, data, form.id_number.data or None)
        except services.VolunteerError as e:
            db.session.rollback()
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    form.id_number.data = ""  # a corrected number is not echoed back either
    return render_template("volunteers/form.html", form=form, volunteer=v,
                           work_units=services.work_units(current_user)), status


# ---- the volunteer's page -----------------------------------------------------------------------

@bp.get("/<int:vid>")
@roles_required(*READERS)
def detail(vid: int):
    v = _volunteer(vid)
    member_ids = {m.organization_id for m in v.memberships}
    joinable = [o for o in services.registrable_org_rows(current_user) if o.id not in member_ids]
    return render_template(
        "volunteers/detail.html", v=v, figures=ledger.figures_for(v), chart=ledger.monthly_chart(v),
        can_write=services.can_write(current_user, v), can_reveal=services.can_reveal(current_user, v),
        joinable=joinable, action_form=EmptyForm(), membership_form=_membership_form(joinable),
        today=local_today(), history=services.dismissal_history(v), is_office=services.is_office(current_user),
        writable_org_ids={o.id for o in ledger.recording_orgs(current_user, v)}, core_hours=ledger.core_hours(),
        official_hours=ledger.official_hours(), official_days=ledger.official_days(),
    )


def _membership_form(joinable: list[Organization]) -> MembershipForm:
    form = MembershipForm(formdata=None)
    form.organization_id.choices = _org_choices(joinable)
    return form


@bp.post("/<int:vid>/reveal/<what>")
@roles_required(*READERS)
def reveal(vid: int, what: str):
    v = _volunteer(vid)
    if what not in services.REVEALABLE:
        abort(404)
    if not services.can_reveal(current_user, v) or not EmptyForm().validate():
        abort(403)
    value = services.reveal(current_user, v, what)
    db.session.commit()
    resp = make_response(render_template("volunteers/_revealed.html", v=v, what=what, value=value,
                                         label=services.REVEALABLE[what], full_page=not is_htmx()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- 劝退: at the organization, reported upward, decided city-wide (001 附件4 第五条) ----------------

def _membership(vid: int, mid: int):
    v = _volunteer(vid, write=True)
    m = scope.get_scoped_or_404(Membership, mid, current_user, write=True)
    if m.volunteer_id != v.id:
        abort(404)
    return v, m


@bp.route("/<int:vid>/memberships/<int:mid>/dismiss", methods=["GET", "POST"])
@roles_required(*WRITERS)
def dismiss_membership(vid: int, mid: int):
    """本站劝退: the organization ends this membership, and may report a serious case upward."""
    v, m = _membership(vid, mid)
    form = MembershipDismissForm()
    if request.method == "GET":
        form.dismissed_on.data = local_today()
    if form.validate_on_submit():
        try:
            services.dismiss_membership(current_user, m, form.reason.data, form.dismissed_on.data,
                                        form.note.data or "", report=form.report.data)
        except services.VolunteerError as e:
            db.session.rollback()
            _field_error(form, e, "reason")
        else:
            db.session.commit()
            flash(f"{m.organization.name} 已劝退 {v.name}" + ("，并已报区县文明办备案。" if form.report.data else "。"), "success")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/dismiss.html", form=form, v=v, membership=m), status


@bp.route("/<int:vid>/memberships/<int:mid>/reinstate", methods=["GET", "POST"])
@roles_required(*WRITERS)
def reinstate_membership(vid: int, mid: int):
    v, m = _membership(vid, mid)
    form = ReinstateForm()
    if form.validate_on_submit():
        try:
            services.reinstate_membership(current_user, m, form.note.data)
        except services.VolunteerError as e:
            db.session.rollback()
            form.note.errors = [e.message]
        else:
            db.session.commit()
            flash(f"{v.name} 已恢复为 {m.organization.name} 的成员；劝退记录予以保留。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/reinstate.html", form=form, v=v, membership=m), status


@bp.route("/<int:vid>/dismiss", methods=["GET", "POST"])
@roles_required(*OFFICE)
def dismiss(vid: int):
    """全市劝退: the district office's (or the city's) decision about the person's standing."""
    v = _volunteer(vid, write=True)
    form = DismissForm()
    if request.method == "GET":
        form.dismissed_on.data = local_today()
    if form.validate_on_submit():
        try:
            services.dismiss(current_user, v, form.reason.data, form.dismissed_on.data, form.note.data or "")
        except services.VolunteerError as e:
            db.session.rollback()
            _field_error(form, e, "reason")
        else:
            db.session.commit()
            flash(f"已对 {v.name} 作全市劝退处理；其档案和服务记录予以保留。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/dismiss.html", form=form, v=v, membership=None), status


@bp.route("/<int:vid>/reinstate", methods=["GET", "POST"])
@roles_required(*OFFICE)
def reinstate(vid: int):
    v = _volunteer(vid, write=True)
    form = ReinstateForm()
    if form.validate_on_submit():
        try:
            services.reinstate(current_user, v, form.note.data)
        except services.VolunteerError as e:
            db.session.rollback()
            form.note.errors = [e.message]
        else:
            db.session.commit()
            flash(f"{v.name} 已恢复在册；劝退记录予以保留。", "success")
            return redirect(url_for("volunteers.detail", vid=v.id), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/reinstate.html", form=form, v=v, membership=None), status


@bp.get("/dismissals")
@roles_required(*OFFICE, Role.LEADER)
def dismissals():
    """The district office's queue: stations' 劝退 reported upward (报上级备案), then the decided ones."""
    return render_template("volunteers/dismissals.html", pending=services.report_queue(current_user),
                           decided=services.report_queue(current_user, pending=False, limit=50),
                           can_decide=services.is_office(current_user), form=DecideForm(formdata=None))


@bp.route("/dismissals/<int:eid>/decide", methods=["GET", "POST"])
@roles_required(*OFFICE)
def decide_report(eid: int):
    report = scope.get_scoped_or_404(DismissalEvent, eid, current_user, write=True)
    if report.report_status is None or report.organization is None or not scope.in_scope(current_user, report.organization):
        abort(404)
    form = DecideForm()
    if form.validate_on_submit():
        try:
            services.decide_report(current_user, report, form.decision.data, form.note.data)
        except services.VolunteerError as e:
            db.session.rollback()
            _field_error(form, e, "decision")
        else:
            db.session.commit()
            flash(f"已处理 {report.volunteer.name} 的报备：{report.report_status.label}。", "success")
            return redirect(url_for("volunteers.dismissals"), 303)
    status = 422 if form.errors else 200
    return render_template("volunteers/decide.html", form=form, report=report), status


# ---- 工作单位: a party unit sees its members' service (004 §12) --------------------------------------

@bp.get("/work-units")
@roles_required(*READERS)
def work_units():
    f = services.ListFilters.from_args(request.args)
    report = services.work_unit_report(current_user, f.unit, f.year) if f.unit else None
    return render_template("volunteers/work_units.html", f=f, report=report, units=services.work_units(current_user),
                           official_hours=ledger.official_hours(), official_days=ledger.official_days(),
                           years=list(range(local_today().year, local_today().year - 6, -1)))


@bp.post("/<int:vid>/memberships")
@roles_required(*READERS)
def add_membership(vid: int):
    v = _volunteer(vid, write=True)
    joinable = [o for o in services.registrable_orgs(current_user)
                if o.id not in {m.organization_id for m in v.memberships}]
    form = MembershipForm()
    form.organization_id.choices = _org_choices(joinable)
    if not form.validate():
        flash("请选择要加入的组织。", "error")
        return redirect(url_for("volunteers.detail", vid=v.id), 303)
    org = next(o for o in joinable if o.id == form.organization_id.data)
    try:
        services.add_membership(current_user, v, org)
    except services.VolunteerError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"{v.name} 已加入 {org.name}。", "success")
    return redirect(url_for("volunteers.detail", vid=v.id), 303)


@bp.post("/<int:vid>/memberships/<int:mid>/primary")
@roles_required(*READERS)
def set_primary(vid: int, mid: int):
    v = _volunteer(vid, write=True)
    m = scope.get_scoped_or_404(Membership, mid, current_user, write=True)
    if m.volunteer_id != v.id or not EmptyForm().validate():
        abort(404 if m.volunteer_id != v.id else 400)
    services.set_primary(current_user, v, m)
    db.session.commit()
    flash(f"主要组织已改为 {m.organization.name}。", "success")
    return redirect(url_for("volunteers.detail", vid=v.id), 303)


# ---- import from a spreadsheet --------------------------------------------------------------------

@bp.get("/import/template")
@roles_required(*WRITERS)
def import_template():
    data = xlsx_bytes("志愿者", services.IMPORT_COLUMNS, [
        ["张三", "（18 位身份证号）", "13800000000", "群众", "否", "扶老、环境保护", "周末", local_today().isoformat(),
         "", "", "", ""],
        ["李小明", "（未满 18 周岁须填监护人）", "13900000000", "共青团员", "否", "助学", "节假日", "", "", "李大明",
         "13700000000", "是"],
    ], widths=[10, 22, 14, 12, 10, 22, 14, 12, 16, 12, 14, 12])
    return xlsx_response(data, "志愿者导入模板.xlsx")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*WRITERS)
def import_upload():
    orgs = services.registrable_orgs(current_user)
    form = ImportForm()
    form.organization_id.choices = _org_choices(orgs)
    rows, token, org = None, None, None
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organization_id.data)
        upload = form.file.data
        try:
            data = import_bytes(upload)
            if jobs.preview_in_job(data):  # a large file is read and checked by the worker (issue 16)
                precheck(upload.filename or "", data)
                return jobs.start_preview("volunteers.preview", f"预览导入志愿者（{org.name}）",
                                          upload.filename or "", data, {"org": org.id})
            rows = services.validate_import(current_user, org, read_table(upload.filename or "", data,
                                                                          services.IMPORT_COLUMNS))
        except TableError as e:
            form.file.errors = [str(e)]
            rows = None
        else:
            if not any(r.errors for r in rows):
                token = stash_rows(current_user.id, f"volunteers:{org.id}",
                                   [{"line": r.line, "values": r.values} for r in rows])
    status = 422 if form.errors or (rows and any(r.errors for r in rows)) else 200
    return render_template("volunteers/import.html", form=form, rows=rows, token=token, confirm_form=EmptyForm(),
                           org=org, columns=services.IMPORT_COLUMNS, no_orgs=not orgs), status


@jobs.previewer("volunteers.preview", "volunteers.import_preview")
def preview_import(user, params: dict, filename: str, data: bytes) -> dict:
    """Runs in the worker: the same reading and checks as the page's own preview, for the owner. The
    rows are read, checked and written away one at a time (issue 16: memory stays flat): only the
    counts and the rows the page shows stay in memory; the checked rows wait in the job's own file."""
    org = next((o for o in services.registrable_orgs(user) if o.id == params.get("org")), None)
    if org is None:
        raise jobs.JobError("您已无权向该组织导入志愿者。")
    keep = ("姓名", "_masked", "手机号", "政治面貌", "服务技能", "_note")  # what the page shows (no _id_enc)
    total, bad, first, bad_rows, out = 0, 0, [], [], jobs.RowsFile()
    try:
        for r in services.check_import_rows(user, org, iter_table(filename, data, services.IMPORT_COLUMNS)):
            total += 1
            shown = {"line": r.line, "values": {k: r.values.get(k, "") for k in keep}, "errors": r.errors}
            if r.errors:
                bad += 1
                if len(bad_rows) < jobs.PREVIEW_BAD_ROWS:  # the same bounds as every import's
                    bad_rows.append(shown)
            elif len(first) < jobs.PREVIEW_ROWS:
                first.append(shown)
            if not bad:  # nothing is stashed once a row has a problem
                out.add({"line": r.line, "values": r.values})
            if total % 1000 == 0:
                db.session.expire_all()  # people looked up for the checks are not kept
                jobs.progress(total)
        # End the reading transaction first: on SQLite a reader turned writer (the stash) fails at once
        # when another job or request committed meanwhile.
        db.session.commit()
        token = None
        if not bad:
            out.store(jobs.current_job_id(), jobs.ROWS)
            token = stash_rows(user.id, f"volunteers:{org.id}", jobs.rows_ref(jobs.current_job_id(), total))
    finally:
        out.close()
    return {"org": org.id, "token": token, "total": total, "bad": bad, "rows": bad_rows if bad else first,
            "message": (f"共 {total} 行，其中 {bad} 行有错误，请查看。" if bad
                        else f"共 {total} 行，全部校验通过，请查看预览并确认导入。")}


@bp.get("/import/preview/<int:job_id>")
@roles_required(*WRITERS)
def import_preview(job_id: int):
    """The preview a job made of a large file: its owner's only (404 otherwise), then confirmed as usual."""
    job = jobs.owned_or_404(job_id, current_user)
    preview = jobs.preview_of(job, "volunteers.preview")
    orgs = services.registrable_orgs(current_user)
    org = next((o for o in orgs if preview and o.id == preview["org"]), None)
    if preview is None or org is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("volunteers.import_upload"), 303)
    form = ImportForm(data={"organization_id": org.id})
    form.organization_id.choices = _org_choices(orgs)
    rows = [ImportRow(line=r["line"], values=r["values"], errors=r["errors"]) for r in preview["rows"]]
    return render_template("volunteers/import.html", form=form, rows=rows, token=preview["token"],
                           confirm_form=EmptyForm(), org=org, columns=services.IMPORT_COLUMNS, no_orgs=False,
                           total=preview["total"], bad_count=preview["bad"]), 422 if preview["bad"] else 200


@bp.post("/import/confirm")
@roles_required(*WRITERS)
def import_confirm():
    if not EmptyForm().validate():
        abort(400)
    org = next((o for o in services.registrable_orgs(current_user)
                if o.id == request.form.get("org", type=parse_id)), None)
    if org is None:
        abort(404)
    rows = take_rows(request.form.get("token", ""), current_user.id, f"volunteers:{org.id}")
    if rows is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("volunteers.import_upload"), 303)
    # Thousands of registrations: written by the worker, with progress (the rows carry encrypted ID numbers).
    return jobs.start_import("volunteers.import", f"导入志愿者（{org.name}）", rows, {"org": org.id}, pii=True)


def _import_done(user, params: dict, counts: dict) -> jobs.Done:
    return jobs.Done(f"已导入：新注册 {counts.get('created', 0)} 人，已有档案加入本组织 {counts.get('joined', 0)} 人。",
                     url_for("volunteers.index", org=params.get("org")))


@jobs.chunked_importer("volunteers.import", done=_import_done)
def apply_import(user, params: dict, rows: list, counts: dict) -> None:
    """One chunk of the confirmed rows (core/jobs.py chunked_importer: committed chunk by chunk, the
    session cleared between chunks). One person, one record across chunks too: a person registered by
    an earlier chunk is in the database, so the same ID number later joins or is refused, never doubled."""
    org = services.registrable_org(user, params.get("org"))
    if org is None:
        raise jobs.JobError("您已无权向该组织导入志愿者。")
    try:
        created, joined = services.apply_import(user, org, rows)
    except services.VolunteerError as e:
        raise jobs.JobError(e.message) from None
    counts["created"] = counts.get("created", 0) + created
    counts["joined"] = counts.get("joined", 0) + joined


# ---- home tiles -----------------------------------------------------------------------------------

@register_tile(order=200)
def volunteers_tile(user):
    """Its figures come from blueprints/volunteers/figures.py (one definition each)."""
    if user.role not in READERS:
        return None
    return Tile("志愿者", "volunteers/_tile_volunteers.html", {}, url=url_for("volunteers.index"))

