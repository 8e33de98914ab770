"""The project library (项目库): list, 立项, the steps 立项 → 实施 → 评估 → 结项, activities, the evaluation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.activities.models import Activity
from blueprints.activities.services import can_organize, organizer_orgs
from blueprints.orgs.services import service_field_options
from blueprints.projects import services
from blueprints.projects.forms import EvaluationForm, LinkActivityForm, ProjectForm, ReturnForm, TargetGroupsForm
from blueprints.projects.models import ProjectStatus, VolunteerProject
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
from core.workflow import verbs_for

bp = Blueprint("projects", __name__, url_prefix="/projects")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
EDITORS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
register_nav("志愿服务项目库", "projects.index", READERS, order=225, group="志愿服务")
register_nav("项目服务对象", "projects.options", (Role.CITY_ADMIN,), order=855, group="系统")
VERBS = verbs_for("volunteer_project", list(services.TRANSITIONS))


def _project(project_id: int, write: bool = False) -> VolunteerProject:
    return scope.get_scoped_or_404(VolunteerProject, project_id, current_user, write=write)


def _field_error(form, e: services.ProjectError, default: str) -> None:
    field = getattr(form, e.field or default, None) or getattr(form, default)
    field.errors = list(field.errors) + [e.message]


@bp.get("/")
@roles_required(*READERS)
def index():
    status = request.args.get("status", "")
    status = status if status in {s.value for s in ProjectStatus} else ""
    q = request.args.get("q", "")[:40]
    page = paginate(services.list_query(current_user, status, q), request.args.get("page"), per_page=30)
    args = {k: v for k, v in {"status": status, "q": q}.items() if v}
    return render_htmx("projects/index.html", "projects/_rows.html", page=page, status=status, q=q, args=args,
                       statuses=list(ProjectStatus),
                       can_create=current_user.role in EDITORS and can_organize(current_user))


def _choices(form: ProjectForm, project: VolunteerProject | None = None) -> None:
    form.organization_id.choices = [(o.id, o.name) for o in organizer_orgs(current_user)]
    fields, groups = service_field_options(), services.target_groups()
    if project is not None:
        if project.organization_id not in dict(form.organization_id.choices):
            form.organization_id.choices.append((project.organization_id, project.organization.name))
        fields = fields + [project.field] if project.field not in fields else fields
        groups = groups + [project.target_group] if project.target_group not in groups else groups
    form.field.choices = [("", "请选择服务领域")] + [(x, x) for x in fields]
    form.target_group.choices = [("", "请选择服务对象")] + [(x, x) for x in groups]


def _data(form: ProjectForm) -> services.ProjectData:
    return services.ProjectData(title=form.title.data or "", organization_id=form.organization_id.data,
                                field=form.field.data or "", target_group=form.target_group.data or "",
                                start_date=form.start_date.data, end_date=form.end_date.data,
                                budget=form.budget.amount, goals=form.goals.data or "")


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create():
    form = ProjectForm()
    _choices(form)
    if not form.organization_id.choices:
        flash("您没有可实施项目的已登记组织。", "warning")
        return redirect(url_for("projects.index"), 303)
    if form.validate_on_submit():
        try:
            project = services.create_project(current_user, _data(form))
        except services.ProjectError as e:
            _field_error(form, e, "title")
        else:
            db.session.commit()
            flash(f"已立项：{project.title}", "success")
            return redirect(url_for("projects.detail", project_id=project.id), 303)
    return render_template("projects/form.html", form=form, project=None), (422 if form.errors else 200)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(project_id: int):
    project = _project(project_id, write=True)
    form = ProjectForm(obj=project)
    _choices(form, project)
    if form.validate_on_submit():
        try:
            services.update_project(current_user, project, _data(form))
        except services.ProjectError as e:
            _field_error(form, e, "title")
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("projects.detail", project_id=project.id), 303)
    return render_template("projects/form.html", form=form, project=project), (422 if form.errors else 200)


def _detail(project: VolunteerProject, status: int = 200, **forms):
    link_form = forms.get("link_form") or LinkActivityForm()
    link_form.activity_id.choices = [(a.id, f"{a.held_on:%Y-%m-%d} {a.title}")
                                     for a in services.linkable_activities(current_user, project)]
    contracts, nominations = services.pointing_at(current_user, project)
    return render_template(
        "projects/detail.html", project=project, activities=services.activities_of(project),
        contracts=contracts, nominations=nominations,
        actions=services.allowed_actions(current_user, project), verbs=VERBS, can_manage=services.can_manage(current_user, project),
        can_evaluate=services.can_evaluate(current_user, project), link_form=link_form,
        return_form=forms.get("return_form") or ReturnForm(), action_form=EmptyForm(), grade=services.grade,
        editable=project.status in (ProjectStatus.INITIATED, ProjectStatus.IMPLEMENTING)), status


@bp.get("/<int:project_id>")
@roles_required(*READERS)
def detail(project_id: int):
    return _detail(_project(project_id))


@bp.post("/<int:project_id>/<any(start, review):action>")
@roles_required(*EDITORS)
def move(project_id: int, action: str):
    project = _project(project_id, write=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.transition(current_user, project, action)
    except services.ProjectError as e:
        flash(e.message, "error")
        return _detail(project, 422)
    db.session.commit()
    flash(f"已{VERBS[action]}。", "success")
    return redirect(url_for("projects.detail", project_id=project.id), 303)


@bp.post("/<int:project_id>/return")
@roles_required(*EDITORS)
def send_back(project_id: int):
    project = _project(project_id, write=True)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            services.transition(current_user, project, "return", form.comment.data)
        except services.ProjectError as e:
            _field_error(form, e, "comment")
        else:
            db.session.commit()
            flash("已退回实施。", "success")
            return redirect(url_for("projects.detail", project_id=project.id), 303)
    return _detail(project, 422, return_form=form)


@bp.post("/<int:project_id>/activities")
@roles_required(*EDITORS)
def link(project_id: int):
    project = _project(project_id, write=True)
    form = LinkActivityForm()
    form.activity_id.choices = [(a.id, a.title) for a in services.linkable_activities(current_user, project)]
    if form.validate_on_submit():
        activity = scope.get_scoped_or_404(Activity, form.activity_id.data, current_user, write=True)
        try:
            services.link_activity(current_user, project, activity)
        except services.ProjectError as e:
            _field_error(form, e, "activity_id")
        else:
            db.session.commit()
            flash(f"已关联活动：{activity.title}", "success")
            return redirect(url_for("projects.detail", project_id=project.id, _anchor="activities"), 303)
    return _detail(project, 422, link_form=form)


@bp.post("/<int:project_id>/activities/<int:activity_id>/unlink")
@roles_required(*EDITORS)
def unlink(project_id: int, activity_id: int):
    project = _project(project_id, write=True)
    activity = scope.get_scoped_or_404(Activity, activity_id, current_user, write=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.unlink_activity(current_user, project, activity)
    except services.ProjectError as e:
        flash(e.message, "error")
        return _detail(project, 422)
    db.session.commit()
    flash("已取消关联。", "success")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="activities"), 303)


@bp.route("/<int:project_id>/evaluate", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_STAFF)
def evaluate(project_id: int):
    project = _project(project_id, write=True)
    if project.status != ProjectStatus.EVALUATING:
        flash(f"项目处于“{project.status.label}”阶段，实施组织提交评估后才能评估。", "warning")
        return redirect(url_for("projects.detail", project_id=project.id), 303)
    form = EvaluationForm()
    if request.method == "GET":
        form.evaluated_on.data = local_today()
        form.evaluator.data = current_user.region.name + "文明办" if current_user.region else ""
    if form.validate_on_submit():
        scores = {key: getattr(form, f"score_{key}").data for key, _, _ in services.CRITERIA}
        try:
            ev = services.evaluate(current_user, project, scores, form.evaluator.data, form.evaluated_on.data,
                                   form.conclusion.data)
        except services.ProjectError as e:
            _field_error(form, e, "evaluator")
        else:
            db.session.commit()
            flash(f"评估已完成，总分 {ev.total}，项目结项。", "success")
            return redirect(url_for("projects.detail", project_id=project.id), 303)
    return render_template("projects/evaluate.html", form=form, project=project, criteria=services.CRITERIA), (
        422 if form.errors else 200)


@bp.route("/options", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def options():
    form = TargetGroupsForm()
    if request.method == "GET":
        form.target_groups.data = "\n".join(services.target_groups())
    if form.validate_on_submit():
        try:
            services.save_target_groups(current_user, form.target_groups.data)
        except services.ProjectError as e:
            db.session.rollback()
            form.target_groups.errors = list(form.target_groups.errors) + [e.message]
        else:
            db.session.commit()
            flash("项目服务对象已保存。", "success")
            return redirect(url_for("projects.options"), 303)
    return render_template("projects/options.html", form=form), (422 if form.errors else 200)


@register_tile(order=228)
def projects_tile(user):
    if user.role not in READERS:
        return None
    return Tile("志愿服务项目库", "projects/_tile.html", {}, url=url_for("projects.index"))


@register_panel("activity", order=30)
def activity_project_panel(activity, user):
    """The project an activity belongs to, on the activity's page."""
    if user.role not in READERS or not getattr(activity, "project_id", None):
        return None
    project = db.session.get(VolunteerProject, activity.project_id)
    return Panel("所属志愿服务项目", "projects/_activity_panel.html",
                 {"project": project, "visible": project is not None and scope.in_scope(user, project)})
