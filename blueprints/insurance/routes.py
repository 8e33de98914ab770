"""Insurance (保险保障): policies, insured volunteers, renewals, coverage, warnings."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.activities.models import Activity
from blueprints.insurance import services
from blueprints.insurance.forms import ImportForm, PolicyForm
from blueprints.insurance.models import InsurancePolicy, InsuredPerson
from blueprints.insurance.services import InsuranceError, PolicyData
from blueprints.orgs.models import Organization
from blueprints.orgs.services import org_filter
from blueprints.volunteers.models import Volunteer
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.panels import Panel, register_panel
from core.exports import xlsx_bytes, xlsx_response
from core.tabular import TableError, take_rows
from core.timeutil import local_today
from core.uploads import IMAGES, UploadError, delete_stored, read_upload, send_stored, store_bytes
from core.templating import render_htmx, vary_hx
from core.validators import parse_id

bp = Blueprint("insurance", __name__, url_prefix="/insurance")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
WRITERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
SCAN_KINDS = IMAGES | frozenset({"pdf"})
IMPORT_KIND = "insurance-insured"
register_nav("保险保障", "insurance.index", READERS, order=600, group="保障")



def _policy(policy_id: int, write: bool = False) -> InsurancePolicy:
    return scope.get_scoped_or_404(InsurancePolicy, policy_id, current_user, write=write)


def _ids(values) -> list[int]:
    out = []
    for v in values:
        if (n := parse_id(v)) is not None:
            out.append(n)
    return sorted(set(out))[:20000]


# ---- list and detail ------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.PolicyFilter.from_args(request.args)
    page = paginate(services.policies_stmt(current_user, f), request.args.get("page"))
    today, days = local_today(), services.warn_days()
    ctx = dict(page=page, f=f, args=f.args(), today=today, days=days,
               counts=services.insured_counts([p.id for p in page.items]),
               status_of=lambda p: services.policy_status(p, today, days),
               labels=services.STATUS_LABELS, tones=services.STATUS_TONES)
    return render_htmx("insurance/index.html", "insurance/_rows.html", page_context=lambda: dict(
        of=org_filter(current_user, f.org), insurers=services.insurers_in_scope(current_user),
        can_write=current_user.role in WRITERS), **ctx)


jobs.list_exporter("insurance.export", lambda user, args: services.export_rows(user, services.PolicyFilter.from_args(args)),
                   sheet="保险保单", file_stem="志愿者保险保单", headers=services.EXPORT_HEADERS,
                   widths=services.EXPORT_WIDTHS, entity="insurance_policy", summary="导出保单 {n} 份")


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    return jobs.start_export("insurance.export", "导出志愿者保险保单", request.args)


@bp.get("/<int:policy_id>")
@roles_required(*READERS)
def detail(policy_id: int):
    policy = _policy(policy_id)
    status = services.policy_status(policy)
    insured = paginate(select(Volunteer).join(InsuredPerson, InsuredPerson.volunteer_id == Volunteer.id)
                       .where(InsuredPerson.policy_id == policy.id).order_by(Volunteer.name_pinyin, Volunteer.id),
                       request.args.get("page"), per_page=50)
    covered_now = None
    if policy.is_headcount:
        covered_now = services.headcount_covered(policy.organization_id, max(min(local_today(), policy.end_date),
                                                                             policy.start_date))
    successor = db.session.scalar(select(InsurancePolicy).where(InsurancePolicy.renewed_from_id == policy.id))
    return render_template("insurance/detail.html", policy=policy, status=status, insured=insured,
                           label=services.STATUS_LABELS[status], tone=services.STATUS_TONES[status],
                           covered_now=covered_now, successor=successor,
                           can_write=current_user.can_write)


@bp.get("/<int:policy_id>/scan")
@roles_required(*READERS)
def scan(policy_id: int):
    policy = _policy(policy_id)
    if not policy.scan:
        abort(404)
    return send_stored(policy.scan, policy.scan_name or None)


# ---- form: create, edit, renew -----------------------------------------------------------------------------

def _setup_form(form: PolicyForm, keep_org: Organization | None = None, keep_source: str = "") -> list[Organization]:
    orgs = services.orgs_for(current_user)
    if keep_org is not None and keep_org.id not in {o.id for o in orgs}:
        orgs.append(keep_org)
    form.organization.choices = [("", "请选择")] + [(str(o.id), o.name) for o in orgs]
    sources = services.payer_sources()
    if keep_source and keep_source not in sources:
        sources.append(keep_source)
    form.payer_source.choices = [("", "请选择")] + [(s, s) for s in sources]
    return orgs


def _fill(form: PolicyForm, data: PolicyData) -> None:
    form.organization.data = str(data.organization_id or "")
    form.insurer.data, form.policy_no.data, form.product.data = data.insurer, data.policy_no, data.product
    form.mode.data, form.head_count.data = data.mode, data.head_count
    form.start_date.data, form.end_date.data = data.start_date, data.end_date
    form.sum_insured.data = format(data.sum_insured, "f") if data.sum_insured else ""
    form.premium.data = format(data.premium, "f") if data.premium else ""
    form.payer_source.data, form.payer_note.data, form.note.data = data.payer_source, data.payer_note, data.note


def _data(form: PolicyForm) -> PolicyData:
    org = form.organization.data or ""
    return PolicyData(organization_id=int(org) if org.isdigit() and len(org) <= 9 else None,
                      insurer=form.insurer.data or "", policy_no=form.policy_no.data or "",
                      product=form.product.data or "", mode=form.mode.data or "", head_count=form.head_count.data,
                      start_date=form.start_date.data, end_date=form.end_date.data,
                      sum_insured=form.sum_insured.data or "", premium=form.premium.data or "",
                      payer_source=form.payer_source.data or "", payer_note=form.payer_note.data or "",
                      note=form.note.data or "", volunteer_ids=_ids(request.form.getlist("volunteer_ids")))


def _read_scan(form: PolicyForm):
    upload = form.scan.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return read_upload(upload, SCAN_KINDS)
    except UploadError as e:
        form.scan.errors.append(e.message)
        return None


def _picker_ctx(org_id: int | None, selected: list[int], q: str = "") -> dict:
    chosen = services.volunteers_by_ids(services.org_member_ids(org_id, selected, active_only=False)) \
        if org_id and selected else []
    chosen_ids = {v.id for v in chosen}
    matches = [v for v in services.picker_volunteers(org_id, q) if v.id not in chosen_ids] if org_id else []
    return {"org_id": org_id, "chosen": chosen, "matches": matches, "q": q}


def _save_policy(form: PolicyForm, policy: InsurancePolicy | None, renewed_from: InsurancePolicy | None):
    """Validate, save, store the scan; returns the saved policy or None (errors are on the form)."""
    scan_data = _read_scan(form)
    if form.scan.errors:
        return None
    data = _data(form)
    try:
        if policy is None:
            policy = services.create_policy(current_user, data, renewed_from)
        else:
            services.update_policy(current_user, policy, data)
    except InsuranceError as e:
        db.session.rollback()
        target = getattr(form, e.field or "", None)
        (target.errors if target is not None else form.form_errors).append(e.message)
        return None
    old = policy.scan
    if scan_data:
        stored = store_bytes(*scan_data, "insurance", form.scan.data.filename)
        policy.scan, policy.scan_name = stored.name, stored.original_name
    elif form.remove_scan.data:
        policy.scan, policy.scan_name = None, ""
    db.session.commit()
    if old and old != policy.scan:
        delete_stored(old)
    return policy


def _render_form(form, policy=None, renew_of=None, status=200):
    org_id = None
    raw = form.organization.data or ""
    if raw.isdigit() and len(raw) <= 9 and raw in {c[0] for c in form.organization.choices}:
        org_id = int(raw)
    if request.method == "POST":
        selected = _ids(request.form.getlist("volunteer_ids"))
    elif renew_of is not None:
        selected = services.renewal_data(renew_of).volunteer_ids
    elif policy is not None:
        selected = [p.volunteer_id for p in policy.insured]
    else:
        selected = []
    if form.errors or getattr(form, "form_errors", None):
        status = 422
    return render_template("insurance/form.html", form=form, policy=policy, renew_of=renew_of,
                           insurers=services.INSURERS, products=services.PRODUCTS,
                           picker=_picker_ctx(org_id, selected)), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def create():
    form = PolicyForm()
    orgs = _setup_form(form)
    if request.method == "GET":
        today = local_today()
        org = request.args.get("org", "")
        form.organization.data = org if org in {str(o.id) for o in orgs} else (str(orgs[0].id) if len(orgs) == 1
                                                                              else "")
        form.start_date.data, form.end_date.data = today, today + timedelta(days=364)
    if form.validate_on_submit():
        policy = _save_policy(form, None, None)
        if policy is not None:
            flash(f"保单 {policy.policy_no} 已登记。", "success")
            return redirect(url_for("insurance.detail", policy_id=policy.id), 303)
    return _render_form(form)


@bp.route("/<int:policy_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit(policy_id: int):
    policy = _policy(policy_id, write=True)
    form = PolicyForm()
    _setup_form(form, keep_org=policy.organization, keep_source=policy.payer_source)
    if request.method == "GET":
        _fill(form, PolicyData(policy.organization_id, policy.insurer, policy.policy_no, policy.product,
                               policy.mode.value, policy.head_count, policy.start_date, policy.end_date,
                               policy.sum_insured, policy.premium, policy.payer_source, policy.payer_note,
                               policy.note))
    if form.validate_on_submit():
        if _save_policy(form, policy, None) is not None:
            flash("保单已保存。", "success")
            return redirect(url_for("insurance.detail", policy_id=policy.id), 303)
    return _render_form(form, policy=policy)


@bp.route("/<int:policy_id>/renew", methods=["GET", "POST"])
@roles_required(*WRITERS)
def renew(policy_id: int):
    old = _policy(policy_id, write=True)
    form = PolicyForm()
    _setup_form(form, keep_org=old.organization, keep_source=old.payer_source)
    if request.method == "GET":
        _fill(form, services.renewal_data(old))
    if form.validate_on_submit():
        policy = _save_policy(form, None, old)
        if policy is not None:
            flash(f"已续保：新保单 {policy.policy_no}。", "success")
            return redirect(url_for("insurance.detail", policy_id=policy.id), 303)
    return _render_form(form, renew_of=old)


@bp.get("/picker")
@roles_required(*WRITERS)
def picker():
    """The volunteer picker of the policy form (HTMX): chosen ones first, then search matches."""
    raw = request.args.get("organization", "")
    org_id = None
    if raw.isdigit() and len(raw) <= 9:
        org = db.session.scalar(scope.scoped(select(Organization).where(Organization.id == int(raw)),
                                             Organization, current_user))
        org_id = org.id if org is not None else None
    selected = [] if request.args.get("clear") else _ids(request.args.getlist("volunteer_ids"))
    q = (request.args.get("vq") or "").strip()[:32]
    if request.args.get("all") and org_id:
        selected = sorted(set(selected) | {v.id for v in services.picker_volunteers(org_id, q, limit=5000)})
    return vary_hx(render_template("insurance/_picker.html", picker=_picker_ctx(org_id, selected, q)))


@bp.post("/<int:policy_id>/delete")
@roles_required(*WRITERS)
def delete(policy_id: int):
    policy = _policy(policy_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    stored = policy.scan
    for later in db.session.scalars(select(InsurancePolicy).where(InsurancePolicy.renewed_from_id == policy.id)):
        later.renewed_from_id = None
    db.session.delete(policy)
    db.session.commit()
    delete_stored(stored)
    flash("保单已删除。", "success")
    return redirect(url_for("insurance.index"), 303)


@bp.post("/<int:policy_id>/cover-activity/<int:activity_id>")
@roles_required(*WRITERS)
def cover_activity(policy_id: int, activity_id: int):
    """From a risky activity's panel: put its uninsured participants on a policy in force that day."""
    policy = _policy(policy_id, write=True)
    activity = scope.get_scoped_or_404(Activity, activity_id, current_user)
    if not EmptyForm().validate():
        abort(400)
    try:
        added, left = services.cover_activity(policy, activity)
    except InsuranceError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        msg = f"已将 {added} 名参与者加入保单 {policy.policy_no}。"
        if left:
            msg += f"另有 {left} 人不是 {policy.organization.name} 的在册志愿者，需另行投保。"
        flash(msg, "success" if not left else "warning")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


# ---- XLSX import of the insured ---------------------------------------------------------------------------

@bp.get("/import-template.xlsx")
@roles_required(*WRITERS)
def import_template():
    data = xlsx_bytes("被保险人名单", services.IMPORT_COLUMNS, [], widths=[14, 24])
    return xlsx_response(data, "被保险人名单模板.xlsx")


@bp.route("/<int:policy_id>/import", methods=["GET", "POST"])
@roles_required(*WRITERS)
def import_insured(policy_id: int):
    policy = _policy(policy_id, write=True)
    if policy.is_headcount:
        flash("不记名保单没有被保险人名单。", "error")
        return redirect(url_for("insurance.detail", policy_id=policy.id), 303)
    form = ImportForm()
    rows, token = None, None
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors.append("请选择文件")
        else:
            try:
                got = jobs.import_upload("insurance.preview", f"预览导入被保险人（{policy.policy_no}）", upload,
                                         {"policy_id": policy.id})
            except TableError as e:
                form.file.errors.append(str(e))
            else:
                if got.response is not None:  # a large file: checked by a job (issue 16)
                    return got.response
                rows, token = got.rows, got.token
    status = 422 if form.errors else 200
    return render_template("insurance/import.html", policy=policy, form=form, rows=rows, token=token,
                           good=sum(1 for r in rows or [] if not r.errors)), status


@jobs.upload_importer("insurance.preview", back="insurance.import_insured")
def check_import(user, params: dict, read) -> jobs.Checked:
    policy = scope.get_scoped_or_404(InsurancePolicy, params.get("policy_id"), user, write=True)
    if policy.is_headcount:
        raise jobs.JobError("不记名保单没有被保险人名单。")
    rows = services.iter_check_import_rows(policy, read(services.IMPORT_COLUMNS))
    return jobs.Checked(rows, IMPORT_KIND, lambda r: r.values["volunteer_id"],
                        {"heading": f"导入被保险人：{policy.insurer} {policy.policy_no}",
                         "confirm": url_for("insurance.import_confirm", policy_id=policy.id),
                         "columns": ["姓名", ["身份证号", "masked", "pii"]], "done_text": "",
                         "all_or_nothing": False, "unit": "人"}, meta={"policy": policy.id})


@bp.post("/<int:policy_id>/import/confirm")
@roles_required(*WRITERS)
def import_confirm(policy_id: int):
    policy = _policy(policy_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    stash = take_rows(request.form.get("token", ""), current_user.id, IMPORT_KIND)
    meta, ids = jobs.unstash(stash) if stash else ({}, [])
    if not stash or meta.get("policy") != policy.id:
        flash("导入预览已过期，请重新上传。", "error")
        return redirect(url_for("insurance.import_insured", policy_id=policy.id), 303)
    return jobs.start_import("insurance.import", f"导入被保险人（{policy.policy_no}）", ids, {"policy": policy.id})


@jobs.chunked_importer("insurance.import", done=lambda user, params, counts: jobs.Done(
        f"已导入 {counts.get('added', 0)} 名被保险人。", url_for("insurance.detail", policy_id=params.get("policy"))))
def apply_import(user, params: dict, ids: list, counts: dict) -> None:
    """One chunk of the confirmed people (core/jobs.py chunked_importer: committed chunk by chunk); one
    already insured (by an earlier chunk, or meanwhile) is not added twice."""
    policy = scope.get_scoped_or_404(InsurancePolicy, params.get("policy"), user, write=True)
    try:
        counts["added"] = counts.get("added", 0) + services.add_insured(policy, [int(i) for i in ids], action="import")
    except InsuranceError as e:
        raise jobs.JobError(e.message) from None


# ---- coverage and risky activities ---------------------------------------------------------------------------

@bp.get("/coverage")
@roles_required(*READERS)
def coverage():
    districts, orgs, district_id = services.coverage_tables(current_user, parse_id(request.args.get("district")))
    ctx = dict(today=local_today(), districts=districts, orgs=orgs, district_id=district_id,
               total=services.total_row(districts))
    return render_htmx("insurance/coverage.html", "insurance/_coverage_orgs.html", **ctx)


UNCOVERED_SHOWN = 200  # a page lists this many uncovered members (by name); the heading counts all


@bp.get("/coverage/orgs/<int:org_id>")
@roles_required(*READERS)
def org_coverage(org_id: int):
    org = scope.get_scoped_or_404(Organization, org_id, current_user)
    row, uncovered = services.org_uncovered(org, limit=UNCOVERED_SHOWN)
    policies = list(db.session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.organization_id == org.id, services.valid_on(local_today()))
        .order_by(InsurancePolicy.end_date)))
    return render_template("insurance/org_coverage.html", org=org, row=row, uncovered=uncovered,
                           policies=policies, can_write=current_user.can_write)


@bp.get("/risky")
@roles_required(*READERS)
def risky():
    today = local_today()
    period = request.args.get("period", "upcoming")
    if period == "past":
        start, end = today - timedelta(days=30), today - timedelta(days=1)
    else:
        period, start, end = "upcoming", today, today + timedelta(days=services.RISKY_UPCOMING_DAYS)
    rows = services.risky_activities(current_user, start, end)
    return render_template("insurance/risky.html", rows=rows, period=period, start=start, end=end,
                           upcoming_days=services.RISKY_UPCOMING_DAYS)


# ---- settings --------------------------------------------------------------------------------------------------

@bp.route("/settings")
@roles_required(Role.CITY_ADMIN)
def settings():
    """The warning days moved to the one policy settings page (issue 18); old links land there."""
    return redirect(url_for("settings.policy", _anchor="policy-insurance__warn_days"), 303)


# ---- dashboard tile and panels ----------------------------------------------------------------------------------

@register_tile(order=590)
def insurance_tile(user):
    """Its figures come from blueprints/insurance/figures.py (one definition each)."""
    if user.role not in READERS:
        return None
    today = local_today()
    return Tile("保险提醒", "insurance/_tile.html", {"policies": services.expiring_policies(user, today, limit=3),
                                                 "today": today}, url=url_for("insurance.index"))


@register_panel("activity", order=40)
def activity_panel(activity: Activity, user):
    if not activity.risky or user.role not in READERS:
        return None
    missing = services.uncovered_participants(activity)
    return Panel("参与者保险", "insurance/_activity_panel.html", {
        "activity": activity, "missing": missing, "can_write": user.can_write,
        "policies": services.policies_for_activity(activity) if missing and user.can_write else [],
        "participants": activity.participant_count,
    })


@register_panel("org", order=55)
def org_panel(org: Organization, user):
    if user.role not in READERS:
        return None
    row, _ = services.org_uncovered(org)
    today = local_today()
    policies = list(db.session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.organization_id == org.id, InsurancePolicy.end_date >= today)
        .order_by(InsurancePolicy.end_date).limit(5)))
    return Panel("保险保障", "insurance/_org_panel.html", {
        "org": org, "row": row, "policies": policies, "today": today,
        "status_of": lambda p: services.policy_status(p, today),
        "labels": services.STATUS_LABELS, "tones": services.STATUS_TONES,
        "can_write": user.can_write,
    })


@register_panel("volunteer", order=60)
def volunteer_panel(volunteer, user):
    if user.role not in READERS:
        return None
    today = local_today()
    policies = list(db.session.scalars(
        scope.scoped(select(InsurancePolicy), InsurancePolicy, user)
        .join(InsuredPerson, InsuredPerson.policy_id == InsurancePolicy.id)
        .where(InsuredPerson.volunteer_id == volunteer.id).order_by(InsurancePolicy.end_date.desc()).limit(5)))
    return Panel("保险", "insurance/_volunteer_panel.html", {
        "covered": services.is_covered(volunteer.id, today), "policies": policies, "today": today,
    })
