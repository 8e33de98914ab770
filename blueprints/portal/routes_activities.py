"""Volunteers' recruitment pages (issue 17), phone first: the public list of recruiting activities and
an activity's page (anyone may read them), signing up and cancelling, the QR check-in landing page and
the typed code, 补签, rating, my sign-ups and my messages. The rules are blueprints/activities'
(recruitment.py, checkin.py); these views parse, call one service and render."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.activities import checkin, recruitment
from blueprints.activities.forms import CodeForm, MakeupForm, RateForm, SignupForm
from blueprints.activities.models import Category, SignupStatus
from blueprints.activities.services import ActivityError
from blueprints.portal.nav import register_tab
from blueprints.portal.routes import bp
from blueprints.volunteers.models import SKILLS, Volunteer
from core import auth
from core.auth import roles_required
from core.extensions import db
from core.forms import EmptyForm
from core.pagination import paginate
from core.roles import Role
from core.templating import render_htmx


def _is_volunteer() -> bool:
    return current_user.is_authenticated and current_user.role == Role.VOLUNTEER


# ---- the public list and page -------------------------------------------------------------------

@bp.get("/recruit/")
def activities():
    f = recruitment.PublicFilters.from_args(request.args)
    page = paginate(recruitment.public_query(f), request.args.get("page"), per_page=20)
    args = {k: v for k, v in request.args.items() if k in ("region", "category", "skill", "from") and v}
    return render_htmx("portal/activities.html", "portal/_activity_cards.html", page=page, f=f, args=args,
                       page_context=lambda: dict(regions=recruitment.public_regions(), categories=list(Category),
                                                 skills=SKILLS))


def _page_context(activity, **forms) -> dict:
    ctx = dict(activity=activity, seats=activity.capacity - activity.participant_count if activity.capacity else None,
               deadline=recruitment.deadline_of(activity), signup_open=recruitment.signup_open(activity),
               p=None, problems=[], minor=False, action_form=EmptyForm(), signup_form=forms.get("signup_form") or SignupForm(),
               rate_form=forms.get("rate_form") or RateForm(), makeup_form=forms.get("makeup_form") or MakeupForm(),
               ratings=recruitment.rating_summary(activity), hm=checkin.local_hm)
    if _is_volunteer():
        v = db.session.get(Volunteer, current_user.volunteer_id or 0)
        p = recruitment.own_participant(current_user, activity)
        ctx.update(p=p, can_rate=bool(p and recruitment.can_rate(p)),
                   can_makeup=bool(p and checkin.can_request_makeup(p)))
        if v is not None and (p is None or not p.holds_place):
            ctx["problems"] = [x for x in recruitment.problems(v, activity, guardian_present=True)]
            ctx["minor"] = recruitment.age_at(v, activity) < recruitment.ADULT_AGE
        if p is not None and p.rating and request.method == "GET":
            ctx["rate_form"] = RateForm(data={"rating": str(p.rating), "comment": p.rating_comment})
    return ctx


@bp.get("/recruit/<int:activity_id>")
def activity(activity_id: int):
    a = recruitment.public_activity_or_404(activity_id, current_user)
    return render_template("portal/activity.html", **_page_context(a))


def _own_or_404(a):
    p = recruitment.own_participant(current_user, a)
    if p is None:
        abort(404)
    return p


@bp.post("/recruit/<int:activity_id>/signup")
@roles_required(Role.VOLUNTEER)
def signup(activity_id: int):
    a = recruitment.public_activity_or_404(activity_id, current_user)
    form = SignupForm()
    if form.validate_on_submit():
        try:
            p = recruitment.sign_up_self(current_user, a, guardian_present=form.guardian_present.data)
        except ActivityError as e:
            db.session.rollback()
            flash(e.message, "error")
            return render_template("portal/activity.html", signup_error=e.message,
                                   **_page_context(a, signup_form=form)), 422
        db.session.commit()
        flash("报名成功，已录用。" if p.signup_status == SignupStatus.ACCEPTED else "报名已提交，等待组织审核。", "success")
    else:
        abort(400)
    return redirect(url_for("portal.activity", activity_id=a.id), 303)


@bp.post("/recruit/<int:activity_id>/cancel")
@roles_required(Role.VOLUNTEER)
def cancel_signup(activity_id: int):
    a = recruitment.public_activity_or_404(activity_id, current_user)
    p = _own_or_404(a)
    if not EmptyForm().validate():
        abort(400)
    try:
        recruitment.cancel_self(current_user, p)
    except ActivityError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash("已取消报名。", "success")
    return redirect(url_for("portal.activity", activity_id=a.id), 303)


def _own_form_post(activity_id: int, form, form_key: str, fallback: str, act, done: str):
    """A volunteer's form about their own sign-up (a rating, a 补签 request): the service's refusal goes
    next to its field (else next to `fallback`), and the activity page is shown again with what was typed."""
    a = recruitment.public_activity_or_404(activity_id, current_user)
    p = _own_or_404(a)
    if form.validate_on_submit():
        try:
            act(p)
        except ActivityError as e:
            db.session.rollback()
            getattr(form, e.field if e.field in form else fallback).errors.append(e.message)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("portal.activity", activity_id=a.id), 303)
    return render_template("portal/activity.html", **_page_context(a, **{form_key: form})), 422


@bp.post("/recruit/<int:activity_id>/rate")
@roles_required(Role.VOLUNTEER)
def rate(activity_id: int):
    form = RateForm()
    return _own_form_post(activity_id, form, "rate_form", "rating",
                          lambda p: recruitment.rate(current_user, p, form.rating.data, form.comment.data),
                          "感谢您的评价。")


@bp.post("/recruit/<int:activity_id>/makeup")
@roles_required(Role.VOLUNTEER)
def request_makeup(activity_id: int):
    form = MakeupForm()
    return _own_form_post(activity_id, form, "makeup_form", "left_at",
                          lambda p: checkin.request_makeup(current_user, p, form.left_at.data, form.note.data),
                          "补签申请已提交，等待组织确认。")


# ---- check-in: the QR's URL, and a typed code -------------------------------------------------------

@bp.route("/c/<int:activity_id>", methods=["GET", "POST"], endpoint="checkin")
@roles_required(Role.VOLUNTEER)
def checkin_page(activity_id: int):
    """The QR code's URL. GET shows the activity and one button; the POST checks in (or out)."""
    a = recruitment.public_activity_or_404(activity_id, current_user)
    p = recruitment.own_participant(current_user, a)
    form = CodeForm(data={"code": request.args.get("c", "")[:6]} if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            _, message = checkin.scan(current_user, a, form.code.data)
        except checkin.CheckinRefused as e:
            db.session.commit()  # the refusal's log entry, nothing else changed
            form.code.errors.append(e.message)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("portal.activity", activity_id=a.id), 303)
    return render_template("portal/checkin.html", activity=a, p=p, form=form, hm=checkin.local_hm), (
        422 if form.errors else 200)



@bp.route("/my/checkin", methods=["GET", "POST"])
@roles_required(Role.VOLUNTEER)
def checkin_code():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            a, _, message = checkin.scan_typed(current_user, form.code.data)
        except checkin.CheckinRefused as e:
            db.session.commit()  # the refusal's log entry
            form.code.errors.append(e.message)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("portal.activity", activity_id=a.id), 303)
    return render_template("portal/checkin_code.html", form=form), (422 if form.errors else 200)


# ---- mine ------------------------------------------------------------------------------------------

@bp.get("/my/activities")
@roles_required(Role.VOLUNTEER)
def my_activities():
    return render_template("portal/my_activities.html", items=recruitment.my_signups(current_user), hm=checkin.local_hm)


def unread(user) -> int:
    from blueprints.reports.services import unread_count

    return unread_count(user)


@bp.get("/my/notices")
@roles_required(Role.VOLUNTEER)
def notices():
    from blueprints.reports.services import notifications_for

    page = paginate(notifications_for(current_user), request.args.get("page"), per_page=30)
    return render_template("portal/notices.html", page=page, action_form=EmptyForm())


@bp.post("/my/notices/read")
@roles_required(Role.VOLUNTEER)
def notices_read():
    from blueprints.reports.services import mark_read

    if not EmptyForm().validate():
        abort(400)
    mark_read(current_user)
    db.session.commit()
    return redirect(url_for("portal.notices"), 303)


auth.allow_volunteer("portal.activities", "portal.activity", "portal.signup", "portal.cancel_signup", "portal.rate",
                     "portal.request_makeup", "portal.checkin", "portal.checkin_code",
                     "portal.my_activities", "portal.notices", "portal.notices_read")
register_tab("招募", "portal.activities", order=100)
register_tab("报名", "portal.my_activities", order=200)
register_tab("签到", "portal.checkin_code", order=300)
register_tab("消息", "portal.notices", order=400, badge=unread)
