"""Training (培训制度): the course catalogue, sessions, batch attendance, the share of new volunteers trained."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.activities.services import can_organize, organizer_orgs
from blueprints.training import services
from blueprints.training.forms import CourseForm, SessionForm
from blueprints.training.models import CourseKind, TrainingAttendee, TrainingCourse, TrainingSession
from core import scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.panels import Panel, register_panel
from core.roles import Role
from core.templating import render_htmx
from core.timeutil import local_today
from core.validators import parse_id, parse_int

bp = Blueprint("training", __name__, url_prefix="/training")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
EDITORS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
KEEPERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
register_nav("志愿者培训", "training.index", READERS, order=235, group="志愿服务")


def _year(raw) -> int:
    this = local_today().year
    y = parse_int(raw)
    return y if y and this - 10 <= y <= this + 1 else this


def _field_error(form, e: services.TrainingError, default: str) -> None:
    field = getattr(form, e.field or default, None) or getattr(form, default)
    field.errors = list(field.errors) + [e.message]


# ---- sessions list ---------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    kind = request.args.get("kind", "")
    kind = kind if kind in {k.value for k in CourseKind} else ""
    year = _year(request.args.get("year"))
    page = paginate(services.list_sessions(current_user, kind, year), request.args.get("page"), per_page=30)
    args = {k: v for k, v in {"kind": kind, "year": year}.items() if v}
    return render_htmx("training/index.html", "training/_rows.html", page=page, kind=kind, year=year, args=args,
                       kinds=list(CourseKind), can_create=current_user.role in EDITORS and can_organize(current_user),
                       this_year=local_today().year)


# ---- the catalogue ---------------------------------------------------------------------------------

@bp.get("/courses")
@roles_required(*READERS)
def courses():
    items = services.courses(current_user)
    return render_template("training/courses.html", courses=items,
                           editable={c.id for c in items if services.can_edit_course(current_user, c)},
                           can_create=services.can_keep_catalogue(current_user))


@bp.route("/courses/new", methods=["GET", "POST"])
@roles_required(*KEEPERS)
def course_new():
    return _course_form(None)


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required(*KEEPERS)
def course_edit(course_id: int):
    course = scope.get_scoped_or_404(TrainingCourse, course_id, current_user, write=True)
    if not services.can_edit_course(current_user, course):
        abort(403)
    return _course_form(course)


def _course_form(course: TrainingCourse | None):
    form = CourseForm(obj=course)
    if request.method == "GET" and course is not None:
        form.kind.data = course.kind.value
        form.default_hours.data = f"{course.default_hours:g}"
    if form.validate_on_submit():
        try:
            course = services.save_course(current_user, course, form.name.data, form.kind.data, form.content.data,
                                          form.default_hours.data, form.active.data)
        except services.TrainingError as e:
            _field_error(form, e, "name")
        else:
            db.session.commit()
            flash(f"已保存课程：{course.name}", "success")
            return redirect(url_for("training.courses"), 303)
    return render_template("training/course_form.html", form=form, course=course), (422 if form.errors else 200)


# ---- sessions --------------------------------------------------------------------------------------

def _session(session_id: int, write: bool = False) -> TrainingSession:
    return scope.get_scoped_or_404(TrainingSession, session_id, current_user, write=write)


def _session_choices(form: SessionForm, session: TrainingSession | None = None) -> None:
    form.course_id.choices = [(c.id, f"{c.name}（{c.kind.label}）") for c in services.courses(current_user, active_only=True)]
    if session is not None and session.course_id not in dict(form.course_id.choices):
        form.course_id.choices.append((session.course_id, session.course.name))
    form.organization_id.choices = [(o.id, o.name) for o in organizer_orgs(current_user)]


def _session_data(form: SessionForm) -> services.SessionData:
    return services.SessionData(course_id=form.course_id.data, organization_id=form.organization_id.data,
                                held_on=form.held_on.data, place=form.place.data or "", hours=form.hours.data,
                                trainer=form.trainer.data or "", capacity=form.capacity.data, note=form.note.data or "")


@bp.route("/sessions/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def session_new():
    form = SessionForm()
    _session_choices(form)
    if not form.organization_id.choices:
        flash("您没有可举办培训的已登记组织。", "warning")
        return redirect(url_for("training.index"), 303)
    if request.method == "GET":
        form.held_on.data = local_today()
        wanted = parse_id(request.args.get("course"))
        if wanted in dict(form.course_id.choices):
            form.course_id.data = wanted
            form.hours.data = f"{db.session.get(TrainingCourse, wanted).default_hours:g}"
    if form.validate_on_submit():
        try:
            session = services.save_session(current_user, None, _session_data(form))
        except services.TrainingError as e:
            _field_error(form, e, "place")
        else:
            db.session.commit()
            flash("已创建培训场次。", "success")
            return redirect(url_for("training.session_detail", session_id=session.id), 303)
    return render_template("training/session_form.html", form=form, session=None), (422 if form.errors else 200)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def session_edit(session_id: int):
    session = _session(session_id, write=True)
    form = SessionForm(obj=session)
    _session_choices(form, session)
    if request.method == "GET":
        form.hours.data = f"{session.hours:g}"
    if form.validate_on_submit():
        try:
            services.save_session(current_user, session, _session_data(form))
        except services.TrainingError as e:
            _field_error(form, e, "place")
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("training.session_detail", session_id=session.id), 303)
    return render_template("training/session_form.html", form=form, session=session), (422 if form.errors else 200)


@bp.post("/sessions/<int:session_id>/delete")
@roles_required(*EDITORS)
def session_delete(session_id: int):
    session = _session(session_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.delete_session(current_user, session)
    except services.TrainingError as e:
        flash(e.message, "error")
        return redirect(url_for("training.session_detail", session_id=session.id), 303)
    db.session.commit()
    flash("已删除培训场次。", "success")
    return redirect(url_for("training.index"), 303)


def _detail_context(session: TrainingSession, q: str = "", error: str | None = None) -> dict:
    can_manage = current_user.can_write and scope.in_scope(current_user, session)
    roster = services.roster(session, q) if can_manage else []
    return dict(session=session, attendees=session.attendees, roster=roster, q=q, error=error,
                admitted=services.may_attend(session, [v.id for v in roster]), can_manage=can_manage,
                held=session.held_on <= local_today(), roster_limit=services.ROSTER_LIMIT,
                action_form=EmptyForm())


@bp.get("/sessions/<int:session_id>")
@roles_required(*READERS)
def session_detail(session_id: int):
    session = _session(session_id)
    q = request.args.get("q", "")[:20]
    return render_htmx("training/session.html", "training/_attendance.html", **_detail_context(session, q))


@bp.post("/sessions/<int:session_id>/attendance")
@roles_required(*EDITORS)
def attendance(session_id: int):
    session = _session(session_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    ids = [i for i in (parse_id(raw) for raw in request.form.getlist("volunteer_id")) if i]
    try:
        added = services.mark_attended(current_user, session, ids)
    except services.TrainingError as e:
        db.session.rollback()
        flash(e.message, "error")
        return render_template("training/session.html", **_detail_context(session, error=e.message)), 422
    db.session.commit()
    flash(f"已记录 {len(added)} 人参加培训。", "success")
    return redirect(url_for("training.session_detail", session_id=session.id, _anchor="attendance"), 303)


@bp.post("/sessions/<int:session_id>/attendees/<int:attendee_id>/delete")
@roles_required(*EDITORS)
def attendee_delete(session_id: int, attendee_id: int):
    session = _session(session_id, write=True)
    attendee = scope.get_scoped_or_404(TrainingAttendee, attendee_id, current_user, write=True)
    if attendee.session_id != session.id or not EmptyForm().validate():
        abort(404 if attendee.session_id != session.id else 400)
    name = attendee.volunteer.name
    services.remove_attendee(current_user, attendee)
    db.session.commit()
    flash(f"已移除 {name} 的参训记录。", "success")
    return redirect(url_for("training.session_detail", session_id=session.id, _anchor="attendance"), 303)


# ---- the share of new volunteers trained -----------------------------------------------------------

@bp.get("/coverage")
@roles_required(*READERS)
def coverage():
    year = _year(request.args.get("year"))
    rows, total = services.coverage(current_user, year)
    return render_template("training/coverage.html", rows=rows, total=total, year=year, this_year=local_today().year)


# ---- tile and panel --------------------------------------------------------------------------------

@register_tile(order=235)
def training_tile(user):
    if user.role not in READERS:
        return None
    return Tile("志愿者培训", "training/_tile.html", {}, url=url_for("training.index"))


@register_panel("volunteer", order=40)
def volunteer_training_panel(volunteer, user):
    """岗前培训 done or not, and the sessions attended, on the volunteer's page."""
    if user.role not in READERS:
        return None
    return Panel("培训情况", "training/_volunteer_panel.html",
                 {"pre_service": services.pre_service_date(volunteer),
                  "sessions": services.attended_sessions(volunteer)})
