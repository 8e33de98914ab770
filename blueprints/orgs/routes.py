from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import Role, UserStatus
from blueprints.accounts.services import username_taken
from blueprints.orgs import importing, services, workflow
from blueprints.orgs.forms import ApplyForm, ImportForm, OptionsForm, OrgForm, TransitionForm
from blueprints.orgs.models import Organization, OrgStatus
from core import jobs, scope
from core.audit import record_event
from core.auth import allow_pending, allow_volunteer, roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import cached_rows, paginate
from core.exports import xlsx_bytes, xlsx_response
from core.tabular import TableError, take_rows
from core.templating import is_htmx, render_htmx
from core.validators import parse_id

bp = Blueprint("orgs", __name__, url_prefix="/orgs")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER, Role.ORG_LEADER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
register_nav("志愿服务组织", "orgs.index", READERS, order=200)
register_nav("登记审核", "orgs.queue", OFFICE, order=210)
register_nav("组织类型与服务领域", "orgs.options", (Role.CITY_ADMIN,), order=850, group="系统")
# An applicant's pending account reaches only its application (core/auth.py gate).
allow_pending("orgs.edit", "orgs.transition", "orgs.check_duplicate", "orgs.parent_options",
              home="orgs.application")
# The public application pages stay open to a logged-in volunteer (apply sends any account home).
allow_volunteer("orgs.apply", "orgs.apply_done", "orgs.check_duplicate")


def _org(org_id: int) -> Organization:
    return scope.get_scoped_or_404(Organization, org_id, current_user)



# ---- registry --------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.RegistryFilters.from_args(request.args)
    stmt = services.registry_stmt(current_user, f).options(joinedload(Organization.region))
    page = paginate(stmt, request.args.get("page"), load=False)
    rows = cached_rows(page, "orgs/_row_items.html", prepare=lambda items: {
        "district_names": services.district_names(), "mask_name": services.mask_name})
    return render_htmx("orgs/index.html", "orgs/_rows.html", page_context=lambda: dict(
        districts=services.district_choices(current_user), kinds=services.kind_filter_options(current_user),
        fields=services.service_field_options(), statuses=list(OrgStatus), flags=services.FLAGS,
        sorts=services.SORT_LABELS, can_create=services.can_create(current_user),
        can_import=current_user.role in OFFICE), page=page, rows=rows, f=f, args=f.as_args())


@jobs.exporter("orgs.export")
def build_export(user, args: dict) -> jobs.Sheet:
    rows = services.export_rows(user, services.RegistryFilters.from_args(args))
    return jobs.Sheet("志愿服务组织", services.EXPORT_HEADERS, rows, "志愿服务组织名录.xlsx",
                      widths=[30, 18, 10, 22, 10, 22, 8, 24, 10, 14, 30, 12, 24, 10, 10, 12],
                      audit=("organization", "志愿服务组织名录", f"导出 {len(rows)} 个组织"))


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    # Contact names and phones of the organizations: personal data, the file expires.
    return jobs.start_export("orgs.export", "导出志愿服务组织名录", request.args, pii=True)


@bp.get("/<int:org_id>")
@roles_required(*READERS)
def detail(org_id: int):
    return _render_detail(_org(org_id))


def _render_detail(org: Organization, status: int = 200, error_action: str | None = None,
                   error: str | None = None, comment: str = ""):
    return render_template(
        "orgs/detail.html", org=org, children=services.children_of(current_user, org),
        leaders=services.leaders_of(org),
        parent_visible=org.parent is not None and scope.in_scope(current_user, org.parent),
        can_reveal=services.can_reveal(current_user, org),
        actions=workflow.actions_for(current_user, org), labels=workflow.BUTTON_LABELS,
        reason_labels=workflow.REASON_LABELS, can_edit=bool(services.editable_fields(current_user, org)),
        error_action=error_action, error=error, comment=comment, form=TransitionForm(),
        district_names=services.district_names(),
    ), status


@bp.post("/<int:org_id>/reveal-phone")
@roles_required(*READERS)
def reveal_phone(org_id: int):
    """HTMX: the full contact phone in place of the masked one, recorded in the audit log."""
    org = _org(org_id)
    if not services.can_reveal(current_user, org) or not EmptyForm().validate():
        abort(403)
    value = services.reveal_phone(current_user, org)
    db.session.commit()
    if not is_htmx():
        flash(f"{org.name} 联系电话：{value}（已记录查看）", "info")
        resp = redirect(url_for("orgs.detail", org_id=org.id), 303)
    else:
        resp = make_response(render_template("orgs/_phone.html", org=org, value=value, revealed=True))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/<int:org_id>/transition")
@login_required
def transition(org_id: int):
    org = _org(org_id)
    form = TransitionForm()
    form.validate()
    if form.csrf_token.errors or not form.action.data:
        abort(400)
    action = form.action.data or ""
    try:
        step = workflow.transition(org, action, current_user, form.comment.data or "")
    except workflow.NotPermitted:
        db.session.rollback()
        abort(403)
    except workflow.WorkflowError as e:
        db.session.rollback()
        if e.field == "comment" and current_user.status != UserStatus.PENDING:
            return _render_detail(org, 422, action, e.message, form.comment.data or "")
        flash(e.message, "error")
        return redirect(_back(org), 303)
    db.session.commit()
    flash(f"{org.name}：{step.label}。" + ("负责人账户已激活。" if action == "approve" else ""), "success")
    return redirect(_back(org), 303)


def _back(org: Organization) -> str:
    if current_user.status == UserStatus.PENDING:
        return url_for("orgs.application")
    return url_for("orgs.detail", org_id=org.id)


# ---- create / edit -------------------------------------------------------------------------------

def _fill(form: OrgForm, user, org: Organization | None, region_id: int | None) -> None:
    kinds = services.kinds()
    if org is not None and org.kind not in kinds:
        kinds = kinds + [org.kind]
    form.kind.choices = [("", "请选择")] + [(k, k) for k in kinds]
    form.region_id.choices = [("", "请选择")] + services.region_choices(user)
    fields = services.service_field_options()
    if org is not None:
        fields += [f for f in org.service_fields if f not in fields]
    form.service_fields.choices = [(x, x) for x in fields]
    form.region_id.flags.required = True
    if "parent_id" in form and user is not None:
        form.parent_id.choices = [("", "（无）")] + [(o.id, o.name) for o in services.parent_choices(user, region_id, org)]
        # Picking a region reloads the parents that fit it (HTMX).
        form.region_id.render_kw = {"hx-get": url_for("orgs.parent_options"), "hx-target": "#parent_id",
                                    "hx-trigger": "change", "hx-swap": "innerHTML"}
        if org is not None:
            form.region_id.render_kw["hx-vals"] = f'{{"org_id": "{org.id}"}}'


def _limit_fields(form: OrgForm, fields: set[str]) -> None:
    for name in list(services.ALL_FIELDS):
        if name not in fields and name in form:
            delattr(form, name)


def _check(form: OrgForm, user, org: Organization | None, fields: set[str], warn_duplicates: bool) -> tuple[bool, list]:
    """Form validation plus the service's rules; field messages attached. Returns (ok, duplicates
    to confirm)."""
    ok = form.validate_on_submit()
    if request.method != "POST":
        return False, []
    data = services.clean(form.org_data(fields))
    for name, message in services.validate(user, data, org, fields).items():
        if name in form and message not in form[name].errors:
            form[name].errors = list(form[name].errors) + [message]
        ok = False
    dups = []
    if ok and warn_duplicates:
        dups = [d for d in services.duplicates_for(user, data.get("name"), data.get("credit_code"), data.get("region_id"),
                                                   org.id if org else None) if not d.same_district]
        if dups and not form.confirm_duplicate.data:
            ok = False
    return ok, dups


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not services.can_create(current_user):
        abort(403)
    form = OrgForm()
    fields = services.editable_fields(current_user, None)
    _fill(form, current_user, None, form.region_id.data)
    _limit_fields(form, fields)
    ok, dups = _check(form, current_user, None, fields, warn_duplicates=True)
    if ok:
        try:
            org = services.create_org(current_user, form.org_data(fields), submit=request.form.get("submit") == "1")
        except (services.OrgError, workflow.WorkflowError) as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash(f"已新建组织：{org.name}（{org.status.label}）。", "success")
            return redirect(url_for("orgs.detail", org_id=org.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/form.html", form=form, org=None, dups=dups,
                           dups_brief=not services.sees_applications(current_user)), status


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    org = _org(org_id)
    fields = services.editable_fields(current_user, org)
    if not fields:
        abort(403)
    form = OrgForm(obj=org) if request.method == "GET" else OrgForm()
    if request.method == "GET":
        form.service_fields.data = org.service_fields
        form.registration_type.data = org.registration_type.value
        form.region_id.data = org.region_id
        form.parent_id.data = org.parent_id
    _fill(form, current_user, org, form.region_id.data if "region_id" in fields else org.region_id)
    _limit_fields(form, fields)
    ok, _ = _check(form, current_user, org, fields, warn_duplicates=False)
    if ok:
        try:
            services.update_org(current_user, org, form.org_data(fields))
        except services.OrgError as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash("已保存。" + ("请在下方重新提交审核。" if org.status == OrgStatus.RETURNED else ""), "success")
            return redirect(_back(org), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/form.html", form=form, org=org, dups=[]), status


@bp.get("/parent-options")
@login_required
def parent_options():
    """HTMX: the parent <option>s for the region picked on the form."""
    region_id = parse_id(request.args.get("region_id")) or 0
    org = None
    if request.args.get("org_id", "").isdigit():
        org = scope.get_scoped_or_404(Organization, request.args["org_id"], current_user)
    orgs = services.parent_choices(current_user, region_id, org) if region_id else []
    return render_template("orgs/_parent_options.html", orgs=orgs)


@bp.get("/check-duplicate")
def check_duplicate():
    """HTMX: warn while typing when the name or credit code already exists (public: the apply form).
    Staff see the details; anyone else only hears of registered organizations, briefly, and is
    throttled per address."""
    staff = services.sees_applications(current_user)
    if not staff:
        over = services.throttle_exceeded(_client_ip(), "check")
        db.session.commit()  # the counter, in its own short transaction
        if over:
            return render_template("orgs/_duplicates.html", dups=[], dup_throttled=True), 429
    region_id, exclude = parse_id(request.args.get("region_id")), parse_id(request.args.get("org_id"))
    dups = services.duplicates_for(current_user, request.args.get("name", "")[:128],
                                   request.args.get("credit_code", "")[:18], region_id, exclude)
    return render_template("orgs/_duplicates.html", dups=dups, dups_brief=not staff)


# ---- the public application --------------------------------------------------------------------

def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    if current_user.is_authenticated:
        return redirect(url_for("orgs.application") if current_user.status == UserStatus.PENDING
                        else url_for("home.index"))
    form = ApplyForm()
    fields = (services.REGISTRATION_FIELDS - {"parent_id"}) | services.CONTACT_FIELDS
    _fill(form, None, None, None)
    _limit_fields(form, fields)
    if request.method == "POST":
        if services.throttle_exceeded(_client_ip()):
            db.session.commit()
            return render_template("orgs/apply.html", form=form, dups=[], dups_brief=True, throttled=True), 429
        db.session.commit()  # the attempt counts even if the form is wrong
    ok, dups = _check(form, None, None, fields, warn_duplicates=True)
    if ok and username_taken(form.username.data):
        form.username.errors = list(form.username.errors) + ["该用户名已被使用"]
        ok = False
    if ok:
        try:
            org, user = services.apply(form.org_data(fields), {"username": form.username.data,
                                                                "display_name": form.display_name.data,
                                                                "password": form.password.data})
        except (services.OrgError, workflow.WorkflowError) as e:
            db.session.rollback()
            target = e.field if getattr(e, "field", None) in form else "name"
            form[target].errors = list(form[target].errors) + [e.message]
        else:
            db.session.commit()
            return redirect(url_for("orgs.apply_done", u=user.username), 303)
        finally:
            db.session.info.pop("actor", None)
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/apply.html", form=form, dups=dups, dups_brief=True, throttled=False), status


@bp.get("/apply/done")
def apply_done():
    return render_template("orgs/apply_done.html", username=request.args.get("u", "")[:32])


@bp.get("/application")
@login_required
def application():
    """An applicant's (or any org leader's) view of their organizations' registration status."""
    if current_user.role != Role.ORG_LEADER:
        return redirect(url_for("home.index"))
    orgs = services.applications_of(current_user)
    return render_template("orgs/application.html", orgs=orgs, form=TransitionForm(),
                           can_edit={o.id: bool(services.editable_fields(current_user, o)) for o in orgs},
                           actions={o.id: workflow.actions_for(current_user, o) for o in orgs},
                           labels=workflow.BUTTON_LABELS, reason_labels=workflow.REASON_LABELS)


# ---- review queue ---------------------------------------------------------------------------------

@bp.get("/queue")
@roles_required(*OFFICE)
def queue():
    page = paginate(services.queue_stmt(current_user), request.args.get("page"), per_page=50)
    return render_template("orgs/queue.html", page=page,
                           by_district=services.queue_by_district(current_user),
                           district_names=services.district_names())


@register_tile(order=200)
def registry_tile(user):
    """Its figures come from blueprints/orgs/figures.py (one definition each)."""
    if user.role in OFFICE:
        return Tile("组织登记审核", "orgs/_tile_queue.html", {"queue": True}, url=url_for("orgs.queue"))
    if user.role == Role.LEADER:
        return Tile("志愿服务组织", "orgs/_tile_queue.html", {"queue": False}, url=url_for("orgs.index"))
    if user.role == Role.ORG_LEADER:
        return Tile("本组织登记状态", "orgs/_tile_mine.html", {"orgs": services.applications_of(user)},
                    url=url_for("orgs.application"))
    return None


# ---- options (city admin) ----------------------------------------------------------------------------

@bp.route("/options", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def options():
    form = OptionsForm()
    if request.method == "GET":
        form.kinds.data = "\n".join(services.kinds())
        form.service_fields.data = "\n".join(services.service_field_options())
    if form.validate_on_submit():
        try:
            services.save_options(current_user, form.kinds.data, form.service_fields.data)
        except services.OrgError as e:
            db.session.rollback()
            target = form.kinds if "组织类型" in e.message else form.service_fields
            target.errors = list(target.errors) + [e.message]
        else:
            db.session.commit()
            flash("组织类型与服务领域已保存。", "success")
            return redirect(url_for("orgs.options"), 303)
    status = 422 if form.errors else 200
    return render_template("orgs/options.html", form=form), status


# ---- import ------------------------------------------------------------------------------------------

@bp.get("/import/template")
@roles_required(*OFFICE)
def import_template():
    data = xlsx_bytes("组织", importing.IMPORT_COLUMNS, importing.IMPORT_EXAMPLE,
                      widths=[30, 18, 18, 10, 22, 10, 16, 26, 12, 24, 24])
    return xlsx_response(data, "志愿服务组织导入模板.xlsx")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*OFFICE)
def import_upload():
    form = ImportForm()
    rows, token = None, None
    if form.validate_on_submit():
        try:
            got = jobs.import_upload("orgs.preview", "预览导入志愿服务组织名录", form.file.data)
        except TableError as e:
            form.file.errors.append(str(e))
            rows = None
        else:
            if got.response is not None:  # a large file: checked by a job (issue 16)
                return got.response
            rows, token = got.rows, got.token
    status = 422 if form.errors or (rows and any(r.errors for r in rows)) else 200
    return render_template("orgs/import.html", form=form, rows=rows, token=token, confirm_form=EmptyForm(),
                           kinds=services.kinds(), fields=services.service_field_options()), status


@jobs.upload_importer("orgs.preview", back="orgs.import_upload")
def check_import(user, params: dict, read) -> jobs.Checked:
    return jobs.Checked(importing.check_rows(user, read(importing.IMPORT_COLUMNS)), "orgs",
                        lambda r: {"line": r.line, "values": r.values},
                        {"heading": "从表格导入志愿服务组织", "confirm": url_for("orgs.import_confirm"),
                         "columns": ["名称", "类型", "所属区域", "登记类型", "统一社会信用代码", "联系人"]})


@bp.post("/import/confirm")
@roles_required(*OFFICE)
def import_confirm():
    if not EmptyForm().validate():
        abort(400)
    rows = take_rows(request.form.get("token", ""), current_user.id, "orgs")
    if rows is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("orgs.import_upload"), 303)
    return jobs.start_import("orgs.import", "导入志愿服务组织名录", rows, pii=True)  # contact names and phones


def _import_done(user, params: dict, counts: dict) -> jobs.Done:
    n = counts.get("orgs", 0)
    record_event("import", "organization", None, "志愿服务组织名录", f"导入 {n} 个组织", user=user, region_id=user.region_id)
    return jobs.Done(f"已导入 {n} 个组织。", url_for("orgs.index", sort="-created"))


@jobs.chunked_importer("orgs.import", done=_import_done)
def apply_import(user, params: dict, rows: list, counts: dict) -> None:
    """One chunk of the confirmed rows (core/jobs.py chunked_importer: committed chunk by chunk)."""
    try:
        counts["orgs"] = counts.get("orgs", 0) + importing.apply_import(user, rows)
    except services.OrgError as e:
        raise jobs.JobError(e.message) from None

