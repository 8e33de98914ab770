"""Staff pages of recruitment on the platform (issue 17): publish an activity for sign-up, the rotating
check-in code (QR), the roster with sign-up status and check-in/out times (a panel of the activity page),
the queue of sign-ups and 补签 requests, and the district office's figures per organization.
The rules live in recruitment.py and checkin.py; these views parse, call one service and render."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.accounts.models import Role
from blueprints.activities import checkin, recruitment, services
from blueprints.activities.forms import RecruitForm
from blueprints.activities.models import Participant
from blueprints.activities.routes import EDITORS, READERS, _activity, _participant, bp
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.panels import Panel, register_panel
from core.qr import qr_svg_data_uri
from core.templating import render_htmx
from core.timeutil import local_today, to_local
from core.urls import public_url

FIGURE_READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER, Role.ORG_LEADER)
register_nav("报名审核", "activities.signups", EDITORS, order=221, group="志愿服务")
register_nav("平台招募统计", "activities.recruitment", FIGURE_READERS, order=222, group="志愿服务")


# ---- publish -------------------------------------------------------------------------------------

@bp.route("/<int:activity_id>/recruit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def recruit(activity_id: int):
    activity = _activity(activity_id, write=True)
    form = RecruitForm()
    if request.method == "GET":
        form.open_to.data = activity.recruit_open_to.value if activity.recruit_open_to else "members"
        form.min_age.data, form.max_age.data = activity.recruit_min_age, activity.recruit_max_age
        form.skills.data = activity.skill_list
        form.minors.data, form.auto_accept.data = activity.recruit_minors, activity.auto_accept
        if activity.signup_deadline:
            local = to_local(activity.signup_deadline)
            form.deadline_day.data, form.deadline_time.data = local.date(), local.time().replace(tzinfo=None)
    if form.validate_on_submit():
        data = recruitment.RecruitData(
            open_to=form.open_to.data, min_age=form.min_age.data, max_age=form.max_age.data, skills=form.skills.data,
            minors=form.minors.data, deadline_day=form.deadline_day.data, deadline_time=form.deadline_time.data,
            auto_accept=form.auto_accept.data)
        try:
            recruitment.publish(current_user, activity, data)
        except services.ActivityError as e:
            field = getattr(form, e.field or "open_to", None) or form.open_to
            field.errors = list(field.errors) + [e.message]
        else:
            db.session.commit()
            flash("已发布招募，志愿者可在手机上报名。", "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), 303)
    return render_template("activities/recruit.html", form=form, activity=activity), (422 if form.errors else 200)


@bp.post("/<int:activity_id>/recruit/stop")
@roles_required(*EDITORS)
def recruit_stop(activity_id: int):
    activity = _activity(activity_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        recruitment.unpublish(current_user, activity)
    except services.ActivityError as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash("已停止招募。", "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


# ---- the rotating code ----------------------------------------------------------------------------

def _code_context(activity) -> dict:
    current = checkin.current_code(activity)
    ctx = dict(activity=activity, current=current, window=checkin.WINDOW_SECONDS)
    if current:
        url = public_url("portal.checkin", activity_id=activity.id, c=current[0])
        ctx.update(url=url, qr=qr_svg_data_uri(url))
    else:
        start, end = checkin.period(activity)
        ctx.update(start=to_local(start), end=to_local(end))
    return ctx


@bp.get("/<int:activity_id>/code")
@roles_required(*EDITORS)
def code(activity_id: int):
    """The organizer's QR and 6-digit code; the widget refreshes itself by HTMX polling, the full page
    is for a projector or a phone held up at the entrance."""
    activity = _activity(activity_id, write=True)
    if not services.can_manage(current_user, activity):
        abort(403)
    return render_htmx("activities/checkin_code.html", "activities/_checkin_code.html", **_code_context(activity))


# ---- sign-ups: accept / decline, 补签 -------------------------------------------------------------------

def _back(activity_id: int):
    target = request.form.get("back") == "queue"
    return redirect(url_for("activities.signups") if target else url_for("activities.detail", activity_id=activity_id,
                                                                            _anchor="roster"), 303)


def _decide(activity_id: int, pid: int, accept: bool):
    activity = _activity(activity_id, write=True)
    p = _participant(activity, pid)
    if not EmptyForm().validate():
        abort(400)
    try:
        recruitment.decide(current_user, p, accept)
    except services.ActivityError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"已{'录用' if accept else '不录用'}：{p.volunteer.name}", "success")
    return _back(activity.id)


@bp.post("/<int:activity_id>/signups/<int:pid>/accept")
@roles_required(*EDITORS)
def signup_accept(activity_id: int, pid: int):
    return _decide(activity_id, pid, True)


@bp.post("/<int:activity_id>/signups/<int:pid>/decline")
@roles_required(*EDITORS)
def signup_decline(activity_id: int, pid: int):
    return _decide(activity_id, pid, False)


def _makeup(activity_id: int, pid: int, confirm: bool):
    activity = _activity(activity_id, write=True)
    p = _participant(activity, pid)
    if not EmptyForm().validate():
        abort(400)
    try:
        message = checkin.decide_makeup(current_user, p, confirm)
    except services.ActivityError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return _back(activity.id)


@bp.post("/<int:activity_id>/signups/<int:pid>/makeup/confirm")
@roles_required(*EDITORS)
def makeup_confirm(activity_id: int, pid: int):
    return _makeup(activity_id, pid, True)


@bp.post("/<int:activity_id>/signups/<int:pid>/makeup/refuse")
@roles_required(*EDITORS)
def makeup_refuse(activity_id: int, pid: int):
    return _makeup(activity_id, pid, False)


@bp.get("/signups")
@roles_required(*EDITORS)
def signups():
    page = paginate(recruitment.pending_query(current_user), request.args.get("page"), per_page=50)
    return render_template("activities/signups.html", page=page, action_form=EmptyForm())


# ---- the district's figures ---------------------------------------------------------------------------

def _year() -> int:
    y = request.args.get("year", type=int)
    today = local_today()
    return y if y and 2000 <= y <= today.year + 1 else today.year


@bp.get("/recruitment", endpoint="recruitment")
@roles_required(*FIGURE_READERS)
def recruitment_page():
    year = _year()
    rows = recruitment.district_figures(current_user, year)
    return render_template("activities/recruitment.html", rows=rows, year=year, total=recruitment.totals(rows),
                           this_year=local_today().year,
                           years=list(range(local_today().year, local_today().year - 5, -1)))


@register_tile(order=231)
def recruitment_tile(user):
    """平台招募: the district office's (and the city's) view of sign-ups and check-ins; its numbers are the
    registered figures (blueprints/activities/figures.py), the page lists them per organization."""
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER):
        return None
    return Tile("平台招募与签到", "activities/_recruitment_tile.html", {}, url=url_for("activities.recruitment"))


# ---- the panel on the activity page: recruitment, code, roster, ratings ---------------------------------

@register_panel("activity", order=20)
def recruitment_panel(activity, user):
    if user.role not in READERS:
        return None
    manage = services.can_manage(user, activity)
    roster = list(db.session.scalars(
        select(Participant).where(Participant.activity_id == activity.id)
        .options(selectinload(Participant.volunteer), selectinload(Participant.record)).order_by(Participant.id)))
    if not (activity.published_at or roster or manage):
        return None
    return Panel("平台招募与签到", "activities/_recruit_panel.html", dict(
        activity=activity, manage=manage, roster=roster, ratings=recruitment.rating_summary(activity),
        comments=recruitment.recent_comments(activity), signup_open=recruitment.signup_open(activity),
        deadline=recruitment.deadline_of(activity), hm=checkin.local_hm, today=local_today(),
        codes_active=checkin.codes_active(activity)))

