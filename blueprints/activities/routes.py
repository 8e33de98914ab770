from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.activities import services
from blueprints.activities.forms import QUALITY_CHOICES, ActivityForm, AllPresentForm, CancelForm
from blueprints.activities.models import Activity, ActivityStatus, Category, Participant
from blueprints.orgs.services import org_filter
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.panels import Panel, register_panel
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import cached_rows, paginate
from core.timeutil import local_today
from core.templating import is_htmx
from core.validators import parse_id

bp = Blueprint("activities", __name__, url_prefix="/activities")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
EDITORS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
register_nav("志愿服务活动", "activities.index", READERS, order=220, group="志愿服务")



def _activity(activity_id: int, write: bool = False) -> Activity:
    return scope.get_scoped_or_404(Activity, activity_id, current_user, write=write)


def _participant(activity: Activity, pid: int) -> Participant:
    p = scope.get_scoped_or_404(Participant, pid, current_user, write=True)
    if p.activity_id != activity.id:
        abort(404)
    return p


# ---- list --------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.ListFilters.from_args(request.args)
    page = paginate(services.list_query(current_user, f), request.args.get("page"), per_page=30, load=False)
    ctx = dict(page=page, f=f, args=f.args(), rows=cached_rows(page, "activities/_row_items.html"))
    if is_htmx():
        return render_template("activities/_rows.html", **ctx)
    return render_template(
        "activities/index.html", of=org_filter(current_user, f.org),
        regions=services.filter_regions(current_user), categories=list(Category),
        statuses=list(ActivityStatus), can_create=services.can_organize(current_user), **ctx)


jobs.list_exporter("activities.export", lambda user, args: services.export_rows(user, services.ListFilters.from_args(args)),
                   sheet="志愿服务活动", file_stem="志愿服务活动", headers=services.EXPORT_HEADERS,
                   widths=services.EXPORT_WIDTHS, entity="activity", summary="导出志愿服务活动 {n} 条")


@bp.get("/export.xlsx")
@roles_required(*READERS)
def export():
    return jobs.start_export("activities.export", "导出志愿服务活动", request.args)


# ---- create / edit ----------------------------------------------------------------------------

def _form_choices(form: ActivityForm, activity: Activity | None = None) -> None:
    orgs = services.organizer_orgs(current_user)
    form.organization_id.choices = [(0, "请选择组织单位")] + [(o.id, o.name) for o in orgs]
    form.region_id.choices = [(0, "（组织所在区域）")] + [
        (r.id, ("　" * max(0, r.path.count("/") - 2)) + r.name) for r in services.region_choices(current_user)]
    if activity is not None and activity.region_id and activity.region_id not in dict(form.region_id.choices):
        form.region_id.choices.append((activity.region_id, activity.region.name))
    form.station_id.choices = [(0, "（不在站点）")] + [(s.id, s.name) for s in services.station_choices(orgs)]
    if activity is not None and activity.station_id and activity.station_id not in dict(form.station_id.choices):
        form.station_id.choices.append((activity.station_id, activity.station.name))
    from blueprints.projects.services import project_choices  # the project library (blueprints/projects)

    form.project_id.choices = [(0, "（不属于项目）")] + [
        (p.id, f"{p.title}（{p.organization.name}）") for p in project_choices(current_user, include_closed=False)]
    if activity is not None and activity.project_id and activity.project_id not in dict(form.project_id.choices):
        form.project_id.choices.append((activity.project_id, "（当前所属项目）"))


def _data(form: ActivityForm) -> services.ActivityData:
    return services.ActivityData(
        title=form.title.data or "", organization_id=form.organization_id.data or None, held_on=form.held_on.data,
        place=form.place.data or "", category=form.category.data, region_id=form.region_id.data or None,
        start_time=form.start_time.data, end_time=form.end_time.data, risky=form.risky.data,
        description=form.description.data or "", capacity=form.capacity.data,
        person_in_charge=form.person_in_charge.data or "", station_id=form.station_id.data or None,
        project_id=form.project_id.data or None)


def _field_error(form, e: services.ActivityError) -> None:
    field = getattr(form, e.field or "title", None) or form.title
    field.errors = list(field.errors) + [e.message]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create():
    form = ActivityForm()
    _form_choices(form)
    if len(form.organization_id.choices) == 1:
        flash("您没有可组织活动的已登记组织。", "warning")
        return redirect(url_for("activities.index"), 303)
    if request.method == "GET":
        wanted = request.args.get("org", type=parse_id)
        if len(form.organization_id.choices) == 2:
            form.organization_id.data = form.organization_id.choices[1][0]
        elif wanted in {oid for oid, _ in form.organization_id.choices[1:]}:
            form.organization_id.data = wanted
        form.held_on.data = local_today()
        form.person_in_charge.data = current_user.display_name or ""
    if form.validate_on_submit():
        try:
            activity = services.create_activity(current_user, _data(form))
        except services.ActivityError as e:
            _field_error(form, e)
        else:
            db.session.commit()
            flash(f"已创建活动：{activity.title}", "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), 303)
    status = 422 if form.errors else 200
    return render_template("activities/form.html", form=form, activity=None), status


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(activity_id: int):
    activity = _activity(activity_id, write=True)
    if activity.status != ActivityStatus.OPEN:
        flash("已取消的活动不能修改，请先恢复。", "warning")
        return redirect(url_for("activities.detail", activity_id=activity.id), 303)
    form = ActivityForm(obj=activity)
    _form_choices(form, activity)
    if request.method == "GET":
        form.category.data = activity.category.value
        form.region_id.data = activity.region_id or 0
        form.project_id.data = activity.project_id or 0
    if form.validate_on_submit():
        try:
            services.update_activity(current_user, activity, _data(form))
        except services.ActivityError as e:
            _field_error(form, e)
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), 303)
    status = 422 if form.errors else 200
    return render_template("activities/form.html", form=form, activity=activity), status


@bp.route("/<int:activity_id>/cancel", methods=["GET", "POST"])
@roles_required(*EDITORS)
def cancel(activity_id: int):
    activity = _activity(activity_id, write=True)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.transition(current_user, activity, "cancel", form.reason.data)
        except services.ActivityError as e:
            form.reason.errors = list(form.reason.errors) + [e.message]
        else:
            db.session.commit()
            flash("活动已取消。", "success")
            return redirect(url_for("activities.detail", activity_id=activity.id), 303)
    status = 422 if form.errors else 200
    return render_template("activities/cancel.html", form=form, activity=activity), status


@bp.post("/<int:activity_id>/reopen")
@roles_required(*EDITORS)
def reopen(activity_id: int):
    activity = _activity(activity_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.transition(current_user, activity, "reopen")
    except services.ActivityError as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash("活动已恢复。", "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


# ---- detail: participants and attendance ------------------------------------------------------

def _grid_context(activity: Activity, errors: dict | None = None, typed: dict | None = None, **extra) -> dict:
    return dict(activity=activity, participants=services.participants_of(activity),
                summary=services.attendance_summary(activity),
                can_manage=services.can_manage(current_user, activity),
                can_attend=services.can_record_attendance(activity), quality_choices=QUALITY_CHOICES,
                errors=errors or {}, typed=typed or {}, all_form=extra.pop("all_form", None) or AllPresentForm(),
                **extra)


@bp.get("/<int:activity_id>")
@roles_required(*READERS)
def detail(activity_id: int):
    activity = _activity(activity_id)
    return render_template("activities/detail.html", action_form=EmptyForm(), **_grid_context(activity))


@bp.get("/<int:activity_id>/candidates")
@roles_required(*EDITORS)
def candidates(activity_id: int):
    activity = _activity(activity_id, write=True)
    q = request.args.get("q", "")[:50]
    show_all = request.args.get("all") == "1" and not q.strip()
    if show_all:
        found, hint = services.candidates(activity, "", services.SIGNUP_LIST_ALL)
    else:
        found, hint = services.candidates(activity, q) if q.strip() else ([], "")
    template = "activities/_candidates.html" if is_htmx() else "activities/candidates.html"
    return render_template(template, activity=activity, found=found, hint=hint, q=q,
                           show_all=show_all, limit=services.SIGNUP_LIST_ALL if show_all else services.SIGNUP_CANDIDATES,
                           seats_left=services.seats_left(activity))


@bp.post("/<int:activity_id>/participants")
@roles_required(*EDITORS)
def sign_up(activity_id: int):
    activity = _activity(activity_id, write=True)
    ids = []
    for raw in request.form.getlist("volunteer_id"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    error = None
    try:
        added = services.sign_up(current_user, activity, [i for i in ids if 0 < i < 2**31])
    except services.ActivityError as e:
        db.session.rollback()
        error = e.message
    else:
        db.session.commit()
        if not is_htmx():
            flash(f"已报名 {len(added)} 人。", "success")
    if is_htmx():
        resp = render_template("activities/_grid.html", signup_error=error, **_grid_context(activity))
        return resp, (422 if error else 200)
    if error:
        flash(error, "error")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


@bp.post("/<int:activity_id>/participants/<int:pid>/delete")
@roles_required(*EDITORS)
def remove(activity_id: int, pid: int):
    activity = _activity(activity_id, write=True)
    participant = _participant(activity, pid)
    error = None
    try:
        services.remove_participant(current_user, participant)
    except services.ActivityError as e:
        error = e.message
    else:
        db.session.commit()
    if is_htmx():
        return render_template("activities/_grid.html", signup_error=error, **_grid_context(activity)), (
            422 if error else 200)
    flash(error or "已取消该志愿者的报名。", "error" if error else "success")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


@bp.post("/<int:activity_id>/attendance/<int:pid>")
@roles_required(*EDITORS)
def attendance_row(activity_id: int, pid: int):
    activity = _activity(activity_id, write=True)
    participant = _participant(activity, pid)
    hours = request.form.get("hours", "")[:20]
    quality = request.form.get("quality", "good")
    error = None
    try:
        services.record_attendance(current_user, participant, hours, quality)
    except services.ActivityError as e:
        db.session.rollback()
        error = e.message
    else:
        db.session.commit()
    if is_htmx():
        participant = db.session.get(Participant, pid)
        ctx = _grid_context(activity, errors={pid: error} if error else {}, typed={pid: hours} if error else {})
        return render_template("activities/_attendance_row.html", p=participant, **ctx), (422 if error else 200)
    flash(error or "已保存考勤。", "error" if error else "success")
    return redirect(url_for("activities.detail", activity_id=activity.id, _anchor="attendance"), 303)


@bp.post("/<int:activity_id>/attendance")
@roles_required(*EDITORS)
def attendance_all(activity_id: int):
    activity = _activity(activity_id, write=True)
    form = AllPresentForm()
    errors, message = {}, None
    if form.validate_on_submit():
        try:
            saved, errors = services.record_all(current_user, activity, form.hours.data)
        except services.ActivityError as e:
            db.session.rollback()
            form.hours.errors = list(form.hours.errors) + [e.message]
        else:
            db.session.commit()
            message = (f"已为 {saved} 人记录考勤" if saved or errors else "所有报名者都已记录考勤，如需修改请在该行修改") + (
                f"，{len(errors)} 人未能记录（见该行提示）" if errors else "")
    status = 422 if (form.errors or errors) else 200
    if is_htmx():
        ctx = _grid_context(activity, errors=errors, all_form=form, grid_message=message)
        return render_template("activities/_grid.html", **ctx), status
    if form.errors:
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
    elif message:
        flash(message, "warning" if errors else "success")
        for pid, msg in errors.items():
            flash(msg, "error")
    return redirect(url_for("activities.detail", activity_id=activity.id, _anchor="attendance"), 303)


# ---- dashboard tile -----------------------------------------------------------------------------

@register_tile(order=230)
def activities_tile(user):
    """Its figures come from blueprints/activities/figures.py (one definition each)."""
    if user.role not in READERS:
        return None
    return Tile("志愿服务活动", "activities/_tile.html", {}, url=url_for("activities.index"))


@register_panel("org", order=50)
def org_activities_panel(org, user):
    """The organization's latest activities, on its detail page."""
    if user.role not in READERS:
        return None
    items, total = services.recent_of_org(user, org)
    can_create = org.status == "approved" and services.can_manage_org(user, org)
    return Panel(f"志愿服务活动（{total}）", "activities/_org_panel.html",
                 {"items": items, "total": total, "org": org, "can_create": can_create})
from blueprints.activities import routes_recruit  # noqa: E402,F401  (issue 17: recruitment, check-in)
