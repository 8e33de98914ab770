"""Volunteers come in (issue 17): the public self-registration, its status page and the activation by
code; on the staff side the organization's queue of applications (and of certificate requests) and
the activation-code sheet, and the district office's tile. Rules: services_join.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.orgs.models import Organization
from blueprints.portal import services_join as sj
from blueprints.portal import services_me
from blueprints.portal.forms import ActivateForm, CodesForm, JoinForm, RefuseForm, StatusForm
from blueprints.portal.models import CertificateRequest, JoinApplication, JoinStatus
from blueprints.portal.routes import bp
from core import auth, scope
from core.auth import client_ip, roles_required, start_session
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.qr import qr_svg_data_uri
from core.templating import is_htmx, render_htmx
from core.urls import public_url
from core.validators import parse_id

DECIDERS = (Role.ORG_LEADER, Role.DISTRICT_STAFF, Role.CITY_ADMIN)
register_nav("志愿者注册审核", "portal.applications", DECIDERS, order=205, group="志愿服务")
register_nav("账户激活码", "portal.codes", (Role.ORG_LEADER,), order=206, group="志愿服务")


def _signed_in_elsewhere():
    """The public pages are for people without an account; a logged-in user goes home."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home" if current_user.role == Role.VOLUNTEER else "home.index"))
    return None


def _throttled(kind: str) -> bool:
    over = sj.throttle_exceeded(client_ip(), kind)
    db.session.commit()  # the attempt counts even if the form is wrong
    return over


def _field_error(form, e: sj.JoinError, default: str) -> None:
    target = e.field if e.field in form else default
    form[target].errors = list(form[target].errors) + [e.message]


# ---- public: self-registration -------------------------------------------------------------------------

@bp.route("/join", methods=["GET", "POST"])
def join():
    if (away := _signed_in_elsewhere()) is not None:
        return away
    form = JoinForm()
    form.organization_id.choices = sj.org_choices()
    form.region_id.choices = [(0, "—")] + [(r.id, r.name) for r in sj.residence_regions()]
    if request.method == "POST":
        if _throttled("join"):
            return render_template("portal/join.html", form=form, throttled=True), 429
        if form.validate():
            data = sj.JoinData(name=form.name.data, id_number=form.id_number.data, phone=form.phone.data,
                               organization_id=form.organization_id.data or 0, password=form.password.data,
                               region_id=form.region_id.data or None, skills=form.skills.data or [],
                               availability=form.availability.data or [], guardian_name=form.guardian_name.data or "",
                               guardian_phone=form.guardian_phone.data or "",
                               guardian_relation=form.guardian_relation.data or "",
                               guardian_consent=bool(form.guardian_consent.data))
            try:
                sj.submit(data)
            except sj.JoinError as e:
                db.session.rollback()
                _field_error(form, e, "id_number")
            else:
                db.session.commit()
                return redirect(url_for("portal.join_done"), 303)
        return render_template("portal/join.html", form=form, throttled=False), 422
    return render_template("portal/join.html", form=form, throttled=False)


@bp.get("/join/done")
def join_done():
    if (away := _signed_in_elsewhere()) is not None:
        return away
    return render_template("portal/join_done.html")


@bp.route("/join/status", methods=["GET", "POST"])
def join_status():
    if (away := _signed_in_elsewhere()) is not None:
        return away
    form = StatusForm()
    found = None
    status = 200
    if request.method == "POST":
        if _throttled("join_status"):
            return render_template("portal/join_status.html", form=form, found=None, throttled=True), 429
        if form.validate():
            found = sj.find_applications(form.id_number.data, form.password.data)
            if not found:
                form.id_number.errors = list(form.id_number.errors) + ["没有找到与该身份证号和密码对应的申请"]
                status = 422
        else:
            status = 422
    form.password.data = ""
    return render_template("portal/join_status.html", form=form, found=found, throttled=False), status


# ---- public: activation by code ---------------------------------------------------------------------------

@bp.route("/activate", methods=["GET", "POST"])
def activate():
    if (away := _signed_in_elsewhere()) is not None:
        return away
    form = ActivateForm()
    if request.method == "GET" and request.args.get("c"):
        form.code.data = sj.format_code(sj.normalize_code(request.args["c"])[:sj.CODE_LENGTH])
    if request.method == "POST":
        if _throttled("activate"):
            return render_template("portal/activate.html", form=form, throttled=True), 429
        if form.validate():
            try:
                user = sj.activate(form.code.data, form.id_text.data, form.password.data)
            except sj.JoinError as e:
                db.session.rollback()
                _field_error(form, e, "code")
            else:
                start_session(user)
                db.session.commit()
                flash(f"账户已开通。以后可用志愿者编号 {user.username} 或手机号登录。", "success")
                return redirect(url_for("portal.home"), 303)
        return render_template("portal/activate.html", form=form, throttled=False), 422
    return render_template("portal/activate.html", form=form, throttled=False)


auth.allow_volunteer("portal.join", "portal.join_done", "portal.join_status", "portal.activate")


# ---- staff: the queue of applications and certificate requests ----------------------------------------

def _application_or_404(app_id: int) -> JoinApplication:
    return scope.get_scoped_or_404(JoinApplication, app_id, current_user)


@bp.get("/join/applications")
@roles_required(*DECIDERS)
def applications():
    status = request.args.get("status", "pending")
    if status not in [s.value for s in JoinStatus] + ["all"]:
        status = "pending"
    page = paginate(sj.applications(current_user, status), request.args.get("page"))
    tabs = [(url_for("portal.applications", status=s.value), s.label, status == s.value) for s in JoinStatus]
    tabs.append((url_for("portal.applications", status="all"), "全部", status == "all"))
    return render_htmx("portal/applications.html", "portal/_applications.html", page=page, status=status,
                       action_form=EmptyForm(), refuse_form=RefuseForm(), may_decide=sj.may_decide(current_user),
                       page_context=lambda: {"cert_requests": services_me.open_cert_requests(current_user),
                                             "status_tabs": tabs})


def _decided(application: JoinApplication, message: str, status: int = 200, refuse_form=None):
    if is_htmx():
        return render_template("portal/_application_row.html", a=application, action_form=EmptyForm(),
                               refuse_form=refuse_form or RefuseForm(), may_decide=sj.may_decide(current_user),
                               message=message), status
    if status >= 400:
        flash(message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("portal.applications"), 303)


@bp.post("/join/applications/<int:app_id>/approve")
@roles_required(*DECIDERS)
def approve(app_id: int):
    application = _application_or_404(app_id)
    if not EmptyForm().validate():
        abort(400)
    if not sj.may_decide(current_user):
        abort(403)
    try:
        v = sj.approve(current_user, application)
    except sj.JoinError as e:
        db.session.rollback()
        return _decided(_application_or_404(app_id), e.message, 422)
    db.session.commit()
    return _decided(application, f"已通过，志愿者编号 {v.number}，账户已开通。")


@bp.post("/join/applications/<int:app_id>/refuse")
@roles_required(*DECIDERS)
def refuse(app_id: int):
    application = _application_or_404(app_id)
    if not sj.may_decide(current_user):
        abort(403)
    form = RefuseForm()
    if not form.validate():
        return _decided(application, "请填写不通过的原因（将告知申请人）", 422, refuse_form=form)
    try:
        sj.refuse(current_user, application, form.reason.data)
    except sj.JoinError as e:
        db.session.rollback()
        return _decided(_application_or_404(app_id), e.message, 422, refuse_form=form)
    db.session.commit()
    return _decided(application, "已退回申请，申请人可查看原因。")


@bp.post("/join/cert-requests/<int:req_id>/done")
@roles_required(*DECIDERS)
def cert_request_done(req_id: int):
    req = scope.get_scoped_or_404(CertificateRequest, req_id, current_user)
    if not EmptyForm().validate():
        abort(400)
    services_me.close_cert_request(current_user, req)
    db.session.commit()
    flash("已标记为已办理。", "success")
    return redirect(url_for("portal.applications"), 303)


# ---- staff: activation codes ----------------------------------------------------------------------------

def _leader_orgs() -> list[Organization]:
    return sj.joinable_orgs(current_user)


@bp.get("/join/codes")
@roles_required(Role.ORG_LEADER)
def codes():
    orgs = _leader_orgs()
    org_id = parse_id(request.args.get("org")) or (orgs[0].id if len(orgs) == 1 else None)
    org = next((o for o in orgs if o.id == org_id), None)
    if org_id and org is None:
        abort(404)
    form = CodesForm()
    form.organization_id.choices = [(o.id, o.name) for o in orgs]
    members = sj.members_without_account(current_user, org) if org else []
    if org:
        form.organization_id.data = org.id
    return render_template("portal/codes.html", form=form, orgs=orgs, org=org, members=members)


@bp.post("/join/codes")
@roles_required(Role.ORG_LEADER)
def codes_issue():
    orgs = _leader_orgs()
    form = CodesForm()
    form.organization_id.choices = [(o.id, o.name) for o in orgs]
    org = next((o for o in orgs if o.id == form.organization_id.data), None) if form.validate() else None
    if org is None:
        abort(404 if form.organization_id.data else 400)
    try:
        issued = sj.issue_codes(current_user, org, form.volunteer_ids.data or [])
    except sj.JoinError as e:
        db.session.rollback()
        form.volunteer_ids.errors = [e.message]
        return render_template("portal/codes.html", form=form, orgs=orgs, org=org,
                               members=sj.members_without_account(current_user, org)), 422
    db.session.commit()
    sheet = [(c, qr_svg_data_uri(public_url("portal.activate", c=c.code))) for c in issued]
    return render_template("portal/codes_sheet.html", org=org, sheet=sheet,
                           activate_url=public_url("portal.activate"))


# ---- the district office's tile ------------------------------------------------------------------------

@register_tile(order=215)
def join_tile(user):
    if user.role not in (Role.DISTRICT_STAFF, Role.CITY_ADMIN, Role.ORG_LEADER):
        return None
    return Tile("志愿者自主注册", "portal/_tile.html", {}, url=url_for("portal.applications"))  # figures: portal/figures.py
