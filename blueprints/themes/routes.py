from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.regions.models import Region
from blueprints.activities.models import Activity
from blueprints.themes import calendar as cal
from blueprints.themes import services
from blueprints.themes.forms import CopyForm, ImportForm, LinkForm, PlanEditForm, PlanForm, RowForm, SaturdayForm
from blueprints.themes.models import ThemePlan, ThemePlanRow
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.panels import Panel, register_panel
from core.pdf import pdf_or_job, pdf_response, render_pdf
from core.settings import get_str, set_value
from core.tabular import TableError, take_rows
from core.timeutil import local_today
from core.templating import is_htmx, render_htmx

bp = Blueprint("themes", __name__, url_prefix="/themes")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
EDITORS = services.EDITOR_ROLES
BOARD_READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
LINKERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)  # who records activities
register_nav("每月一主题", "themes.index", READERS, order=230, group="志愿服务")

XLSX_WIDTHS = [8, 34, 60, 16, 18]



def _plan(plan_id: int) -> ThemePlan:
    return scope.get_scoped_or_404(ThemePlan, plan_id, current_user)


def _editable_plan(plan_id: int) -> ThemePlan:
    plan = _plan(plan_id)
    if not services.can_edit_plan(current_user, plan):
        abort(403)
    return plan


def _editable_row(row_id: int) -> ThemePlanRow:
    row = scope.get_scoped_or_404(ThemePlanRow, row_id, current_user)
    if not services.can_edit_plan(current_user, row.plan):
        abort(403)
    return row


def _row_data(form: RowForm) -> services.RowData:
    return services.RowData(form.month.data or "", form.name.data or "", form.content.data or "",
                            form.lead_unit.data or "", form.responsible_units.data or "")


def _put_errors(form, errors: dict[str, str]) -> None:
    for key, message in errors.items():
        field = getattr(form, key, None)
        if field is not None:
            field.errors = list(field.errors) + [message]


# ---- plans -------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.PlanFilters.from_args(request.args)
    plans = services.list_plans(current_user, f)
    counts = services.row_counts([p.id for p in plans])
    ctx = dict(plans=plans, counts=counts, f=f)
    if is_htmx():
        return render_template("themes/_plans.html", **ctx)
    years = sorted({p.year for p in services.list_plans(current_user, services.PlanFilters())}, reverse=True)
    return render_template("themes/index.html", years=years, can_create=bool(services.plan_regions_for(current_user)),
                           can_load_example=current_user.role == Role.CITY_ADMIN,
                           example=services.example_plan(), action_form=EmptyForm(), **ctx)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create():
    regions = services.plan_regions_for(current_user)
    if not regions:
        abort(403)
    form = PlanForm()
    form.region_id.choices = [(r.id, r.name) for r in regions]
    if request.method == "GET":
        form.year.data = local_today().year + (1 if local_today().month >= 10 else 0)
    if form.validate_on_submit():
        region = db.session.get(Region, form.region_id.data)
        try:
            plan = services.create_plan(current_user, region, form.year.data, form.title.data, form.note.data)
        except services.ThemeError as e:
            getattr(form, e.field or "title").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已新建 {plan.year} 年主题计划，请逐行填写每月主题。", "success")
            return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    status = 422 if form.errors else 200
    return render_template("themes/new.html", form=form), status


@bp.post("/example")
@roles_required(Role.CITY_ADMIN)
def load_example():
    if not EmptyForm().validate():
        abort(400)
    try:
        plan, created = services.load_example(current_user)
    except services.ThemeError as e:
        flash(e.message, "error")
        return redirect(url_for("themes.index"), 303)
    db.session.commit()
    flash("已载入 2015 年广安市“每月一主题”示例安排表。" if created else "示例安排表已经载入过。", "success")
    return redirect(url_for("themes.detail", plan_id=plan.id), 303)


def _detail_context(plan: ThemePlan, row_form: RowForm | None = None) -> dict:
    can_edit = services.can_edit_plan(current_user, plan)
    copy_regions = services.plan_regions_for(current_user)
    copy_form = CopyForm(formdata=None)
    copy_form.year.data = plan.year + 1 if not plan.is_example else local_today().year
    copy_form.region_id.choices = [(r.id, r.name) for r in copy_regions]
    default_region = plan.region_id if plan.region in copy_regions else (copy_regions[0].id if copy_regions else None)
    copy_form.region_id.data = default_region
    city_rows = []
    if not plan.is_city and not plan.is_example:
        city_rows = [r for p in services.published_plans(plan.year, None) for r in p.rows]
    return dict(plan=plan, can_edit=can_edit, row_form=row_form or RowForm(formdata=None), copy_form=copy_form,
                can_copy=bool(copy_regions), action_form=EmptyForm(), city_rows=city_rows)


@bp.get("/<int:plan_id>")
@roles_required(*READERS)
def detail(plan_id: int):
    plan = _plan(plan_id)
    return render_template("themes/detail.html", **_detail_context(plan))


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(plan_id: int):
    plan = _editable_plan(plan_id)
    form = PlanEditForm(obj=plan)
    if form.validate_on_submit():
        try:
            services.update_plan(plan, form.title.data, form.note.data)
        except services.ThemeError as e:
            getattr(form, e.field or "title").errors.append(e.message)
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    return render_template("themes/edit.html", form=form, plan=plan), 422 if form.errors else 200


@bp.post("/<int:plan_id>/<any(publish, withdraw):action>")
@roles_required(*EDITORS)
def transition(plan_id: int, action: str):
    plan = _editable_plan(plan_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.transition(plan, action)
    except services.ThemeError as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash("计划已发布，各地按此开展每月主题活动。" if action == "publish" else "计划已撤回为草稿。", "success")
    return redirect(url_for("themes.detail", plan_id=plan.id), 303)


@bp.post("/<int:plan_id>/delete")
@roles_required(*EDITORS)
def delete(plan_id: int):
    plan = _editable_plan(plan_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        services.delete_plan(plan)
    except services.ThemeError as e:
        flash(e.message, "error")
        return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    db.session.commit()
    flash("计划已删除。", "success")
    return redirect(url_for("themes.index"), 303)


@bp.post("/<int:plan_id>/copy")
@roles_required(*EDITORS)
def copy(plan_id: int):
    source = _plan(plan_id)
    regions = services.plan_regions_for(current_user)
    if not regions:
        abort(403)
    form = CopyForm()
    form.region_id.choices = [(r.id, r.name) for r in regions]
    if form.validate_on_submit():
        try:
            plan = services.copy_plan(current_user, source, form.year.data, db.session.get(Region, form.region_id.data))
        except services.ThemeError as e:
            getattr(form, e.field or "year").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已复制为 {plan.year} 年计划（草稿），请核对后发布。", "success")
            return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    ctx = _detail_context(source)
    ctx["copy_form"] = form
    return render_template("themes/detail.html", **ctx), 422


# ---- rows (inline, HTMX) -----------------------------------------------------------------------

def _rows_section(plan: ThemePlan, row_form: RowForm | None = None, status: int = 200):
    if is_htmx():
        return render_template("themes/_rows.html", **_detail_context(plan, row_form)), status
    if status == 200:
        return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    return render_template("themes/detail.html", **_detail_context(plan, row_form)), status


@bp.post("/<int:plan_id>/rows")
@roles_required(*EDITORS)
def add_row(plan_id: int):
    plan = _editable_plan(plan_id)
    form = RowForm()
    if form.validate_on_submit():
        try:
            services.add_row(plan, _row_data(form))
        except services.RowInvalid as e:
            _put_errors(form, e.errors)
        else:
            db.session.commit()
            if not is_htmx():
                flash("已添加一行。", "success")
            return _rows_section(plan)
    return _rows_section(plan, form, 422)


@bp.get("/rows/<int:row_id>")
@roles_required(*READERS)
def row(row_id: int):
    r = scope.get_scoped_or_404(ThemePlanRow, row_id, current_user)
    return render_template("themes/_row.html", row=r, plan=r.plan, can_edit=services.can_edit_plan(current_user, r.plan))


@bp.route("/rows/<int:row_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_row(row_id: int):
    r = _editable_row(row_id)
    # Prefixed: the inline editor shares the page with the add form and other rows' editors.
    prefix = f"row{r.id}"
    form = (RowForm(data=vars(services.RowData.from_row(r)), prefix=prefix) if request.method == "GET"
            else RowForm(prefix=prefix))
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_row(r, _row_data(form))
        except services.RowInvalid as e:
            db.session.rollback()
            _put_errors(form, e.errors)
        else:
            db.session.commit()
            if is_htmx():
                return render_template("themes/_row.html", row=r, plan=r.plan, can_edit=True)
            flash("已保存。", "success")
            return redirect(url_for("themes.detail", plan_id=r.plan_id), 303)
    status = 422 if form.errors else 200
    if is_htmx():
        return render_template("themes/_row_edit.html", row=r, form=form), status
    return render_template("themes/row_form.html", row=r, plan=r.plan, form=form), status


@bp.post("/rows/<int:row_id>/move")
@roles_required(*EDITORS)
def move_row(row_id: int):
    r = _editable_row(row_id)
    if not EmptyForm().validate():
        abort(400)
    services.move_row(r, request.form.get("direction", ""))
    db.session.commit()
    return _rows_section(r.plan)


@bp.post("/rows/<int:row_id>/delete")
@roles_required(*EDITORS)
def delete_row(row_id: int):
    r = _editable_row(row_id)
    if not EmptyForm().validate():
        abort(400)
    plan = r.plan
    try:
        services.delete_row(r)
    except services.ThemeError as e:
        flash(e.message, "error")
        return redirect(url_for("themes.detail", plan_id=plan.id), 303)
    db.session.commit()
    return _rows_section(plan)


# ---- print, export, import ---------------------------------------------------------------------

@bp.get("/<int:plan_id>.pdf")
@roles_required(*READERS)
def plan_pdf(plan_id: int):
    plan = _plan(plan_id)
    data = render_pdf("themes/pdf/plan.html", plan=plan, rows=services.pdf_rows(plan), title=plan.title)
    return pdf_response(data, f"{plan.title}.pdf")


@jobs.exporter("themes.plan")
def build_plan_xlsx(user, args: dict) -> jobs.Sheet:
    plan = scope.get_scoped_or_404(ThemePlan, args.get("plan_id"), user)
    return jobs.Sheet(f"{plan.year}年主题", services.IMPORT_COLUMNS, services.export_rows(plan), f"{plan.title}.xlsx",
                      widths=XLSX_WIDTHS)


@bp.get("/<int:plan_id>.xlsx")
@roles_required(*READERS)
def plan_xlsx(plan_id: int):
    plan = _plan(plan_id)
    return jobs.start_export("themes.plan", f"导出{plan.title}", {"plan_id": plan.id})


@bp.route("/<int:plan_id>/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_upload(plan_id: int):
    plan = _editable_plan(plan_id)
    form = ImportForm()
    rows, token = None, None
    if form.validate_on_submit():
        try:
            got = jobs.import_upload("themes.preview", f"预览导入{plan.title}", form.file.data, {"plan_id": plan.id})
        except TableError as e:
            form.file.errors.append(str(e))
        else:
            if got.response is not None:  # a large file: checked by a job (issue 16)
                return got.response
            rows, token = got.rows, got.token
    status = 422 if form.errors or (rows and any(r.errors for r in rows)) else 200
    return render_template("themes/import.html", plan=plan, form=form, rows=rows, token=token,
                           confirm_form=EmptyForm()), status


@jobs.upload_importer("themes.preview", back="themes.import_upload")
def check_import(user, params: dict, read) -> jobs.Checked:
    plan = scope.get_scoped_or_404(ThemePlan, params.get("plan_id"), user)
    if not services.can_edit_plan(user, plan):
        raise jobs.JobError("该主题计划已不能修改。")
    return jobs.Checked(services.check_rows(read(services.IMPORT_COLUMNS)), f"themes-{plan.id}",
                        lambda r: {"line": r.line, "values": r.values},
                        {"heading": f"导入主题：{plan.title}", "done_text": "确认后替换本计划的主题。",
                         "confirm": url_for("themes.import_confirm", plan_id=plan.id),
                         "columns": ["月份", "活动名称", "活动内容", "牵头单位", "责任单位"]})


@bp.post("/<int:plan_id>/import/confirm")
@roles_required(*EDITORS)
def import_confirm(plan_id: int):
    plan = _editable_plan(plan_id)
    if not EmptyForm().validate():
        abort(400)
    rows = take_rows(request.form.get("token", ""), current_user.id, f"themes-{plan.id}")
    if rows is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("themes.import_upload", plan_id=plan.id), 303)
    if jobs.rows_ref_of(rows) is not None:  # a large file's rows, in its preview job's file: the worker replaces
        return jobs.start_import("themes.import", f"导入{plan.title}", rows, {"plan": plan.id})
    try:
        n = services.apply_import(plan, rows)
    except (services.ThemeError, services.RowInvalid) as e:
        db.session.rollback()
        flash(getattr(e, "message", str(e)), "error")
        return redirect(url_for("themes.import_upload", plan_id=plan.id), 303)
    db.session.commit()
    flash(f"已导入 {n} 行主题。", "success")
    return redirect(url_for("themes.detail", plan_id=plan.id), 303)



@jobs.importer("themes.import")
def apply_import(user, params: dict, rows) -> jobs.Done:
    """A large file's rows replace the plan's in one transaction, by design (all or nothing: a plan half
    replaced would be worse than none); the rows are read from the job's file as they are written."""
    plan = scope.get_scoped_or_404(ThemePlan, params.get("plan"), user)
    if not services.can_edit_plan(user, plan):
        raise jobs.JobError("该主题计划已不能修改（未导入任何数据）。")
    try:
        n = services.apply_import(plan, rows)
    except (services.ThemeError, services.RowInvalid) as e:
        raise jobs.JobError(getattr(e, "message", None) or "数据在预览后发生了变化，请重新上传文件（未导入任何数据）。") from None
    return jobs.Done(f"已导入 {n} 行主题。", url_for("themes.detail", plan_id=plan.id))


# ---- calendar ----------------------------------------------------------------------------------

def _calendar_district():
    return cal.calendar_district(current_user, request.args.get("region"))


@bp.get("/calendar")
@roles_required(*READERS)
def calendar():
    """The current year (a stable address for the menu); /calendar/<year> is the shareable one."""
    return calendar_year(local_today().year)


@bp.get("/calendar/<int:year>")
@roles_required(*READERS)
def calendar_year(year: int):
    today = local_today()
    if not services.MIN_YEAR <= year <= services.MAX_YEAR:
        abort(404)
    district = _calendar_district()
    ctx = dict(year=year, district=district, months=cal.year_view(current_user, year, district), today=today,
               districts=cal.district_choices(current_user), region_arg=_region_arg(district),
               saturday_form=_saturday_form(), saturday_mode=get_str(cal.SATURDAY_SETTING, "all"))
    return render_htmx("themes/calendar.html", "themes/_calendar_year.html", page_context=lambda: dict(view="year"),
                       **ctx)


@bp.get("/calendar/<int:year>/<int:month>")
@roles_required(*READERS)
def calendar_month(year: int, month: int):
    if not (services.MIN_YEAR <= year <= services.MAX_YEAR and 1 <= month <= 12):
        abort(404)
    district = _calendar_district()
    prev, nxt = cal.shift_month(year, month, -1), cal.shift_month(year, month, 1)
    ctx = dict(year=year, month=month, district=district, today=local_today(), prev=prev, next=nxt,
               districts=cal.district_choices(current_user), region_arg=_region_arg(district),
               saturday_form=_saturday_form(),
               **cal.month_view(current_user, year, month, district))
    return render_htmx("themes/calendar.html", "themes/_calendar_month.html", page_context=lambda: dict(view="month"),
                       **ctx)


def _saturday_form(formdata=None) -> SaturdayForm | None:
    if current_user.role != Role.CITY_ADMIN:
        return None
    form = SaturdayForm(formdata=formdata)
    form.mode.choices = list(cal.SATURDAY_CHOICES.items())
    if formdata is None:
        form.mode.data = get_str(cal.SATURDAY_SETTING, "all")
    return form


@bp.post("/calendar/saturdays")
@roles_required(Role.CITY_ADMIN)
def saturdays():
    form = _saturday_form(request.form)
    if form.validate_on_submit():
        set_value(cal.SATURDAY_SETTING, form.mode.data, current_user)
        db.session.commit()
        flash(f"日历中的党员学雷锋星期六已设为：{cal.SATURDAY_CHOICES[form.mode.data]}。", "success")
    else:
        flash("请选择有效的选项。", "error")
    return redirect(url_for("themes.calendar"), 303)


def _region_arg(district) -> dict:
    return {"region": district.id} if district is not None else {}


def activity_url(activity_id: int) -> str:
    return url_for("activities.detail", activity_id=activity_id)


# ---- board -------------------------------------------------------------------------------------

def _board_year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return local_today().year
    return year if services.MIN_YEAR <= year <= services.MAX_YEAR else local_today().year


@bp.get("/board")
@roles_required(*BOARD_READERS)
def board():
    year, today = _board_year(), local_today()
    rows = cal.board_rows(current_user, year, today)
    return render_template("themes/board.html", year=year, rows=rows, today=today, states=list(cal.CellState))


@bp.get("/board/cell")
@roles_required(*BOARD_READERS)
def board_cell():
    year = _board_year()
    try:
        month = int(request.args.get("month", ""))
    except ValueError:
        abort(404)
    if not 1 <= month <= 12:
        abort(404)
    unit = scope.get_scoped_or_404(Region, request.args.get("region"), current_user)
    items = cal.board_drill(current_user, unit, year, month)
    return render_template("themes/_board_cell.html", unit=unit, year=year, month=month, items=items)


def _board_table(rows) -> list[list]:
    out = []
    for r in rows:
        line = [r.region.name]
        for c in r.cells:
            text = c.state.label
            if c.activity is not None:
                text += f"：{c.activity.title}（{c.activity.held_on:%m-%d}）"
            if c.orgs:
                text += f"；{c.orgs} 个组织参与"
            line.append(text)
        line += [r.held, r.missing, r.orgs]
        out.append(line)
    return out


BOARD_HEADERS = ["单位"] + [f"{m}月" for m in range(1, 13)] + ["已举办", "未开展", "组织参与"]


@jobs.exporter("themes.board")
def build_board_xlsx(user, args: dict) -> jobs.Sheet:
    year = int(args["year"])
    rows = cal.board_rows(user, year, local_today())
    return jobs.Sheet(f"{year}集中活动", BOARD_HEADERS, _board_table(rows), f"{year}年每月一主题集中活动看板.xlsx",
                      widths=[12] + [22] * 12 + [9, 9, 10])


@bp.get("/board.xlsx")
@roles_required(*BOARD_READERS)
def board_xlsx():
    year = _board_year()
    return jobs.start_export("themes.board", f"导出{year}年集中活动看板", {"year": year})


@bp.get("/board.pdf")
@roles_required(*BOARD_READERS)
def board_pdf():
    """Every unit × twelve months: built by a job (core/pdf.py), offered in 我的任务."""
    year = _board_year()
    return pdf_or_job(None, f"{year}年每月一主题集中活动看板.pdf", "themes.board_pdf",
                      f"生成{year}年集中活动看板（PDF）", {"year": year})


@jobs.task_kind("themes.board_pdf")
def build_board_pdf(user, params: dict) -> jobs.File:
    """Runs in the worker for the job's owner: the board as the owner's scope shows it."""
    year, today = int(params["year"]), local_today()
    if user.role not in BOARD_READERS:
        raise jobs.JobError("您无权查看集中活动看板。")
    jobs.progress(0, 2, "正在汇总各单位开展情况")
    rows = cal.board_rows(user, year, today)
    jobs.progress(1, 2, "正在排版 PDF")
    data = render_pdf("themes/pdf/board.html", rows=rows, year=year, today=today, states=list(cal.CellState),
                      title=f"{year}年“每月一主题”集中活动开展情况")
    return jobs.File(f"{year}年每月一主题集中活动看板.pdf", data, "看板 PDF 已生成。")


# ---- the box on an activity's page ---------------------------------------------------------------

def _panel_context(activity: Activity, user, form: LinkForm | None = None) -> dict:
    link = cal.link_of(activity)
    unit = cal.unit_region_of(activity)
    can_link = (user.role in LINKERS and user.can_write and scope.in_scope(user, activity)
                and activity.status == "open")
    rows = cal.row_choices(activity)
    if form is None:
        form = LinkForm(formdata=None)
        form.theme_row_id.data = link.theme_row_id if link else (rows[0].id if len(rows) == 1 else 0)
        form.concentrated.data = bool(link and link.is_concentrated)
    form.theme_row_id.choices = [(0, "（不属于主题活动）")] + [
        (r.id, f"{r.month_label}月 · {r.name}{'' if r.plan.is_city else '（' + r.plan.region.name + '）'}") for r in rows]
    other = cal.concentrated_of(unit.id, activity.held_on.year, activity.held_on.month)
    return dict(activity=activity, link=link, unit=unit, rows=rows, form=form, can_link=can_link,
                can_mark=cal.can_mark_concentrated(user, unit), other=other if other and other.activity_id != activity.id else None)


@register_panel("activity", order=40)
def theme_panel(activity, user):
    if user.role not in READERS:
        return None
    return Panel("每月一主题", "themes/_activity_panel.html", _panel_context(activity, user))


@bp.post("/activity/<int:activity_id>/link")
@roles_required(*LINKERS)
def link_activity(activity_id: int):
    activity = scope.get_scoped_or_404(Activity, activity_id, current_user, write=True)
    form = LinkForm()
    ctx = _panel_context(activity, current_user, form)
    status = 200
    if form.validate_on_submit():
        try:
            cal.link_activity(current_user, activity, form.theme_row_id.data or None, bool(form.concentrated.data))
        except cal.LinkError as e:
            db.session.rollback()
            getattr(form, e.field or "theme_row_id").errors.append(e.message)
            status = 422
        else:
            db.session.commit()
            if not is_htmx():
                flash("已保存主题关联。", "success")
                return redirect(url_for("activities.detail", activity_id=activity.id), 303)
            ctx = _panel_context(activity, current_user)
            ctx["saved"] = True
    else:
        status = 422
    if is_htmx():
        return render_template("themes/_activity_panel.html", ctx=ctx), status
    for f in form.errors.values():
        for message in f:
            flash(message, "error")
    return redirect(url_for("activities.detail", activity_id=activity.id), 303)


# ---- dashboard tile ----------------------------------------------------------------------------

@register_tile(order=225)
def theme_tile(user):
    if user.role not in READERS:
        return None
    today = local_today()
    district = cal.calendar_district(user, None)
    nxt = cal.shift_month(today.year, today.month, 1)
    this_rows = services.themes_by_month(today.year, district.id if district else None)[today.month]
    next_rows = services.themes_by_month(nxt[0], district.id if district else None)[nxt[1]]
    ctx = dict(today=today, this_rows=this_rows, next_rows=next_rows, next=nxt,
               days_left=(cal.month_end(today.year, today.month) - today).days,
               next_starts_in=(date(nxt[0], nxt[1], 1) - today).days,
               orgs=cal.org_theme_activities(user, today.year, today.month) if user.role == Role.ORG_LEADER else None)
    return Tile("每月一主题", "themes/_tile.html", ctx, url=url_for("themes.calendar_month", year=today.year,
                                                                    month=today.month))
