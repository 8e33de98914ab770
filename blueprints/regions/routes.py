from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints.accounts.models import Role
from blueprints.regions import services
from blueprints.regions.forms import FiguresForm, ImportForm, MoveForm, RegionForm
from blueprints.regions.models import Region
from core import jobs, scope
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.auth import roles_required
from core.pdf import pdf_response, render_pdf
from core.exports import xlsx_bytes, xlsx_response
from core.tabular import TableError, take_rows
from core.timeutil import local_today

bp = Blueprint("regions", __name__, url_prefix="/regions")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER, Role.ORG_LEADER)
EDITORS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
register_nav("区域管理", "regions.index", (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER), order=800, group="系统")


def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return local_today().year
    return year if 2000 <= year <= 2100 else local_today().year


def _region(region_id: int) -> Region:
    return scope.get_scoped_or_404(Region, region_id, current_user)


@bp.get("/")
@roles_required(*READERS)
def index():
    year = _year()
    roots = [(r, len(r.children)) for r in services.roots_for(current_user)]
    # The top level opens by itself: one click less for everyone.
    open_children = {r.id: services.children_of(r, current_user) for r, _ in roots}
    return render_template("regions/index.html", roots=roots, year=year, open_children=open_children,
                           summaries=services.district_summaries(current_user, year),
                           can_import=current_user.role in EDITORS)


@bp.get("/<int:region_id>/children")
@roles_required(*READERS)
def children(region_id: int):
    region = _region(region_id)
    return render_template("regions/_children.html", region=region,
                           children=services.children_of(region, current_user))


@bp.get("/<int:region_id>")
@roles_required(*READERS)
def detail(region_id: int):
    region = _region(region_id)
    return render_template(
        "regions/detail.html", region=region, children=services.children_of(region, current_user),
        can_edit=services.can_edit(current_user, region), can_add=services.can_add_child(current_user, region),
        can_figures=services.can_edit_figures(current_user, region), references=services.references_to(region),
        action_form=EmptyForm(),
    )


@bp.route("/<int:parent_id>/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create(parent_id: int):
    parent = _region(parent_id)
    if not services.can_add_child(current_user, parent):
        abort(403)
    form = RegionForm()
    if form.validate_on_submit():
        try:
            region = services.create_region(parent, form.name.data, form.code.data, form.sort.data,
                                            kind=form.kind.data or None)
        except services.RegionError as e:
            getattr(form, e.field or "name").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已新增{region.level.label}：{region.name}", "success")
            return redirect(url_for("regions.detail", region_id=region.id), 303)
    status = 422 if form.errors else 200
    return render_template("regions/form.html", form=form, parent=parent, region=None), status


@bp.route("/<int:region_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(region_id: int):
    region = _region(region_id)
    if not services.can_edit(current_user, region):
        abort(403)
    form = RegionForm(obj=region)
    if request.method == "GET" and region.kind:
        form.kind.data = region.kind.value
    if form.validate_on_submit():
        try:
            services.update_region(region, form.name.data, form.code.data, form.sort.data, form.kind.data or "")
        except services.RegionError as e:
            getattr(form, e.field or "name").errors.append(e.message)
        else:
            db.session.commit()
            flash("已保存。", "success")
            return redirect(url_for("regions.detail", region_id=region.id), 303)
    status = 422 if form.errors else 200
    return render_template("regions/form.html", form=form, parent=region.parent, region=region), status


@bp.route("/<int:region_id>/move", methods=["GET", "POST"])
@roles_required(*EDITORS)
def move(region_id: int):
    region = _region(region_id)
    if not services.can_edit(current_user, region) or region.parent is None:
        abort(403)
    form = MoveForm()
    form.parent_id.choices = [(r.id, f"{r.parent.name + ' / ' if r.parent else ''}{r.name}")
                              for r in services.move_targets(current_user, region)]
    if form.validate_on_submit():
        target = _region(form.parent_id.data)
        try:
            services.move_region(current_user, region, target)
        except services.RegionError as e:
            form.parent_id.errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已将 {region.name} 移至 {target.name}。", "success")
            return redirect(url_for("regions.detail", region_id=region.id), 303)
    status = 422 if form.errors else 200
    return render_template("regions/move.html", form=form, region=region), status


@bp.post("/<int:region_id>/active")
@roles_required(*EDITORS)
def toggle_active(region_id: int):
    region = _region(region_id)
    if not services.can_edit(current_user, region) or not EmptyForm().validate():
        abort(403)
    services.set_active(region, request.form.get("active") == "1")
    db.session.commit()
    flash(f"{region.name} 已{'启用' if region.active else '停用（含下级区域）'}。", "success")
    return redirect(url_for("regions.detail", region_id=region.id), 303)


@bp.post("/<int:region_id>/delete")
@roles_required(*EDITORS)
def delete(region_id: int):
    region = _region(region_id)
    if not services.can_edit(current_user, region) or not EmptyForm().validate():
        abort(403)
    parent_id = region.parent_id
    try:
        services.delete_region(region)
    except services.RegionError as e:
        flash(e.message, "error")
        return redirect(url_for("regions.detail", region_id=region.id), 303)
    db.session.commit()
    flash("区域已删除。", "success")
    return redirect(url_for("regions.detail", region_id=parent_id) if parent_id else url_for("regions.index"), 303)


@bp.route("/<int:region_id>/figures", methods=["GET", "POST"])
@roles_required(*READERS)
def figures(region_id: int):
    region = _region(region_id)
    editable = services.can_edit_figures(current_user, region)
    year = _year()
    fig = services.figures_for(region, year)
    form = FiguresForm(obj=fig, year=year) if request.method == "GET" else FiguresForm()
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate():
            try:
                services.save_figures(region, form.year.data, population=form.population.data,
                                      urban_population=form.urban_population.data,
                                      party_members=form.party_members.data, league_members=form.league_members.data)
            except services.RegionError as e:
                db.session.rollback()
                getattr(form, e.field).errors.append(e.message)
            else:
                db.session.commit()
                flash(f"{region.name} {form.year.data} 年度数据已保存。", "success")
                return redirect(url_for("regions.detail", region_id=region.id), 303)
    status = 422 if form.errors else 200
    return render_template("regions/figures.html", form=form, region=region, editable=editable, year=year), status


@bp.get("/import/template")
@roles_required(*EDITORS)
def import_template():
    data = xlsx_bytes("区域", services.IMPORT_COLUMNS, [
        ["示例街道", "乡镇(街道)", "440802001", "440802"],
        ["示例社区", "村(社区)", "440802001001", "440802001"],
    ], widths=[20, 14, 18, 18])
    return xlsx_response(data, "区域导入模板.xlsx")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_upload():
    form = ImportForm()
    rows, token, error = None, None, None
    if form.validate_on_submit():
        try:
            got = jobs.import_upload("regions.preview", "预览导入区域", form.file.data)
        except TableError as e:
            form.file.errors.append(str(e))
            rows = None
        else:
            if got.response is not None:  # a large file: checked by a job (issue 16)
                return got.response
            rows, token = got.rows, got.token
    status = 422 if form.errors or (rows and any(r.errors for r in rows)) else 200
    return render_template("regions/import.html", form=form, rows=rows, token=token,
                           confirm_form=EmptyForm(), error=error), status


@jobs.upload_importer("regions.preview", back="regions.import_upload")
def check_import(user, params: dict, read) -> jobs.Checked:
    return jobs.Checked(services.check_rows(user, read(services.IMPORT_COLUMNS)), "regions",
                        lambda r: {"line": r.line, "values": r.values},
                        {"heading": "导入区域", "confirm": url_for("regions.import_confirm"),
                         "columns": ["名称", "级别", "行政区划代码", ["上级代码", "上级行政区划代码", "text"]]})


@bp.post("/import/confirm")
@roles_required(*EDITORS)
def import_confirm():
    if not EmptyForm().validate():
        abort(400)
    rows = take_rows(request.form.get("token", ""), current_user.id, "regions")
    if rows is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("regions.import_upload"), 303)
    return jobs.start_import("regions.import", "导入区域", rows)


@jobs.chunked_importer("regions.import", done=lambda user, params, counts: jobs.Done(
        f"已导入 {counts.get('regions', 0)} 个区域。", url_for("regions.index")))
def apply_import(user, params: dict, rows: list, counts: dict) -> None:
    """One chunk of the confirmed rows (core/jobs.py chunked_importer: committed chunk by chunk)."""
    try:
        counts["regions"] = counts.get("regions", 0) + services.apply_import(user, rows)
    except services.RegionError as e:
        raise jobs.JobError(e.message) from None


@bp.get("/report.pdf")
@roles_required(*READERS)
def report_pdf():
    year = _year()
    summaries = services.district_summaries(current_user, year)
    data = render_pdf("regions/pdf/tree.html", summaries=summaries, year=year, title=f"{year} 年度区域及人口数据")
    return pdf_response(data, f"区域及人口数据_{year}.pdf")
