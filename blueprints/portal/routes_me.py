"""我的 (issue 17): the volunteer's own record, phone-first. Thin views over services_me.py; every one
is opened to the volunteer's account with auth.allow_volunteer and reads through the scope gate."""
from __future__ import annotations

from urllib.parse import quote

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.portal import services, services_me
from blueprints.portal.forms import CertRequestForm, MyCorrectionForm, ProfileForm
from blueprints.portal.nav import register_tab
from blueprints.portal.routes import bp
from blueprints.volunteers import certificates, transfer
from blueprints.volunteers import services as vs
from blueprints.volunteers.models import Certificate
from core import auth, scope
from core.auth import roles_required
from core.extensions import db
from core.forms import EmptyForm
from core.pdf import pdf_response
from core.roles import Role
from core.validators import mask_phone

volunteer_only = roles_required(Role.VOLUNTEER)


def _me():
    return services.own_volunteer(current_user)


@bp.get("/my/records")
@volunteer_only
def records():
    v = _me()
    page = services_me.records_page(current_user, v, request.args.get("page"))
    return render_template("portal/records.html", v=v, page=page)


@bp.route("/my/records/<int:record_id>/correct", methods=["GET", "POST"])
@volunteer_only
def correct(record_id: int):
    v = _me()
    record = services_me.own_record_or_404(current_user, record_id)
    form = MyCorrectionForm()
    if form.validate_on_submit():
        try:
            services_me.file_correction(current_user, v, record, form.content.data)
        except vs.VolunteerError as e:
            db.session.rollback()
            form.content.errors = list(form.content.errors) + [e.message]
        else:
            db.session.commit()
            flash("更正申请已提交，组织答复后将在“我的申请”中显示。", "success")
            return redirect(url_for("portal.requests"), 303)
    status = 422 if form.errors else 200
    return render_template("portal/correct.html", form=form, record=record), status


@bp.get("/my/requests")
@volunteer_only
def requests():
    v = _me()
    return render_template("portal/requests.html", corrections=services_me.correction_requests(current_user, v),
                           cert_requests=services_me.cert_requests(current_user, v))


def _honors(v, form):
    from blueprints.training.services import pre_service_date  # 岗前培训 done: the training feature's one rule

    return render_template("portal/honors.html", v=v, form=form,
                           certs=services_me.certificates(current_user, v),
                           trainings=services_me.trainings(current_user, v),
                           pre_service=pre_service_date(v),
                           awards=services_me.awards(current_user, v))


@bp.get("/my/certificates")
@volunteer_only
def honors():
    v = _me()
    form = CertRequestForm()
    form.organization_id.choices = [(o.id, o.name) for o in services_me.membership_orgs(current_user, v)]
    return _honors(v, form)


@bp.post("/my/certificates/request")
@volunteer_only
def request_certificate():
    v = _me()
    form = CertRequestForm()
    form.organization_id.choices = [(o.id, o.name) for o in services_me.membership_orgs(current_user, v)]
    if form.validate_on_submit():
        try:
            services_me.request_certificate(current_user, v, form.organization_id.data, form.note.data)
        except vs.VolunteerError as e:
            db.session.rollback()
            form.organization_id.errors = list(form.organization_id.errors) + [e.message]
        else:
            db.session.commit()
            flash("已向组织申请出具志愿服务记录证明。", "success")
            return redirect(url_for("portal.requests"), 303)
    return _honors(v, form), 422


@bp.get("/my/certificates/<int:cid>.pdf")
@volunteer_only
def certificate_pdf(cid: int):
    cert = scope.get_scoped_or_404(Certificate, cid, current_user)
    if cert.revoked:
        abort(404)
    return pdf_response(certificates.pdf_bytes(cert), f"志愿服务记录证明_{cert.serial}.pdf")


@bp.route("/my/profile", methods=["GET", "POST"])
@volunteer_only
def profile():
    v = _me()
    form = ProfileForm(data={"skills": v.skills, "availability": [a for a in v.availability.split("、") if a]}
                       if request.method == "GET" else None)
    # The current phone only masked, as on the staff edit form: the field takes a new one.
    form.phone.render_kw = dict(form.phone.render_kw or {}, placeholder=mask_phone(v.phone))
    if form.validate_on_submit():
        try:
            services_me.update_contact(current_user, v, form.phone.data or v.phone, form.skills.data or [],
                                       form.availability.data or [])
        except vs.VolunteerError as e:
            db.session.rollback()
            target = e.field if e.field in ("phone", "skills", "availability") else "phone"
            form[target].errors = list(form[target].errors) + [e.message]
        else:
            db.session.commit()
            flash("已更新联系方式和服务意向。", "success")
            return redirect(url_for("portal.profile"), 303)
    status = 422 if form.errors else 200
    return render_template("portal/profile.html", v=v, form=form, action_form=EmptyForm(),
                           reveals=services_me.reveals(v)), status


@bp.post("/my/data.json")
@volunteer_only
def my_data():
    """A copy of one's personal data (PIPL Art. 45): the registry's transfer file. A POST: the copy is
    logged, and a GET never changes state."""
    v = _me()
    if not EmptyForm().validate():
        abort(400)
    doc = transfer.export_document(current_user, v, v.primary_org.name if v.primary_org else "")
    db.session.commit()
    resp = make_response(transfer.dumps(doc))
    resp.mimetype = "application/json"
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'我的志愿服务记录_{v.number}.json')}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


auth.allow_volunteer("portal.records", "portal.correct", "portal.requests", "portal.honors",
                     "portal.request_certificate", "portal.certificate_pdf", "portal.profile", "portal.my_data")
register_tab("记录", "portal.records", order=910, in_bar=False, title="服务记录与更正")
register_tab("证书", "portal.honors", order=920, in_bar=False, title="证书、培训与表彰")
register_tab("资料", "portal.profile", order=930, in_bar=False, title="我的资料与个人信息")
