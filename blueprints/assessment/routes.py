from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.models import Role
from blueprints.assessment import charts, services
from blueprints.assessment.forms import IndicatorForm, ReopenForm, SetupForm, ThresholdsForm, ValueForm
from blueprints.assessment.models import AssessmentYear, Indicator
from blueprints.regions.models import Region, RegionLevel
from blueprints.stations.services import targets as station_targets
from core import jobs, scope
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pdf import cached_pdf_lazy, pdf_or_job, pdf_response
from core.timeutil import local_today
from core.templating import render_htmx

bp = Blueprint("assessment", __name__, url_prefix="/assessment")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
register_nav("年度考核", "assessment.index", READERS, order=700)
register_nav("考核指标", "assessment.indicators", (Role.CITY_ADMIN,), order=710)


def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return local_today().year
    return year if 2000 <= year <= 2100 else local_today().year


def _district(region_id: int) -> Region:
    region = scope.get_scoped_or_404(Region, region_id, current_user)
    if region.level != RegionLevel.DISTRICT:
        abort(404)
    return region


def _indicator(indicator_id: int) -> Indicator:
    return scope.get_scoped_or_404(Indicator, indicator_id, current_user)


def brief_defaults() -> dict:
    """What the 月度简报 form offers: the last complete month, up to the current one."""
    today = local_today()
    y, m = services.last_complete_month(today)
    return {"value": f"{y}-{m:02d}", "max": f"{today.year}-{today.month:02d}"}


def _dashboard_context(year: int) -> dict:
    res = services.results(year)
    visible = services.visible_district_ids(current_user)
    ctx: dict = dict(year=year, res=res, visible=visible, can_edit=services.can_edit(current_user),
                     ay=services.get_year(year), action_form=EmptyForm(), reopen_form=ReopenForm())
    ctx["key"] = services.key_figures(year, sorted(visible)) if visible else None
    ctx["brief"] = brief_defaults()
    ctx["station_city_min"] = station_targets().city_min  # 000: the city ≥ 30 stations (configurable)
    ctx["prev_key"] = services.key_figures(year - 1, sorted(visible)) if visible else None
    if res is not None:
        rows = [d for d in res.ranked if d.id in visible]
        ctx["rows"] = rows
        ctx["score_chart"] = charts.bar_chart([(d.name, d.total, d.tone) for d in rows], res.total_weight,
                                              f"{year} 年度考核得分（满分 {res.total_weight:g}）")
        ctx["trend_chart"] = charts.compare_chart([(d.name, d.total, d.prev_total) for d in rows], res.total_weight, year)
    return ctx


@bp.get("/")
@roles_required(*READERS)
def index():
    ctx = _dashboard_context(_year())
    # The year switch swaps the body by HTMX; a reload or a shared URL gets the full page.
    return render_htmx("assessment/index.html", "assessment/_body.html", **ctx)


# ---- indicators (city admin) -------------------------------------------------------------------

@bp.get("/indicators")
@roles_required(*READERS)
def indicators():
    year = _year()
    ay = services.get_year(year)
    return render_template("assessment/indicators.html", year=year, ay=ay, items=services.indicators(year, False),
                           can_edit=services.can_edit(current_user), setup_form=SetupForm(year=year),
                           definitions=services.BY_CODE)


@bp.post("/indicators/setup")
@roles_required(Role.CITY_ADMIN)
def setup():
    form = SetupForm()
    if not form.validate():
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("assessment.indicators"), 303)
    services.ensure_year(form.year.data)
    db.session.commit()
    flash(f"已设置 {form.year.data} 年度考核指标。", "success")
    return redirect(url_for("assessment.indicators", year=form.year.data), 303)


@bp.route("/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def edit_indicator(indicator_id: int):
    ind = _indicator(indicator_id)
    form = IndicatorForm(obj=ind)
    if request.method == "GET":
        form.method.data = ind.method.value
    if form.validate_on_submit():
        try:
            services.update_indicator(ind, name=form.name.data, target=form.target.data, weight=form.weight.data,
                                      method=form.method.data, active=form.active.data)
        except services.AssessmentError as e:
            db.session.rollback()
            (getattr(form, e.field).errors if e.field else form.name.errors).append(e.message)
        else:
            db.session.commit()
            flash(f"已保存指标：{ind.name}", "success")
            return redirect(url_for("assessment.indicators", year=ind.year), 303)
    status = 422 if form.errors else 200
    return render_template("assessment/indicator_form.html", form=form, ind=ind,
                           definition=services.BY_CODE.get(ind.code)), status


@bp.route("/years/<int:year>/grades", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def grades(year: int):
    ay = scope.get_scoped_or_404(AssessmentYear, _year_id(year), current_user)
    form = ThresholdsForm(obj=ay)
    if form.validate_on_submit():
        try:
            services.update_thresholds(ay, form.excellent.data, form.good.data, form.passing.data)
        except services.AssessmentError as e:
            db.session.rollback()
            getattr(form, e.field or "excellent").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"{year} 年度等次线已保存。", "success")
            return redirect(url_for("assessment.indicators", year=year), 303)
    status = 422 if form.errors else 200
    return render_template("assessment/grades_form.html", form=form, ay=ay), status


def _year_id(year: int) -> int:
    ay_id = db.session.scalar(select(AssessmentYear.id).where(AssessmentYear.year == year))
    if ay_id is None:
        abort(404)
    return ay_id


# ---- one district ------------------------------------------------------------------------------

@bp.get("/districts/<int:region_id>")
@roles_required(*READERS)
def district(region_id: int):
    region = _district(region_id)
    year = _year()
    res = services.results(year)
    row = res.district(region.id) if res else None
    return render_template("assessment/district.html", region=region, year=year, res=res, row=row,
                           can_edit=services.can_edit(current_user))


@bp.route("/districts/<int:region_id>/values/<int:indicator_id>", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def value(region_id: int, indicator_id: int):
    region = _district(region_id)
    ind = _indicator(indicator_id)
    existing = services.value_row(ind, region)
    form = ValueForm(obj=existing)
    if form.validate_on_submit():
        try:
            services.save_value(current_user, ind, region, entered=form.entered.data, adjusted=form.adjusted.data,
                                reason=form.reason.data)
        except services.AssessmentError as e:
            db.session.rollback()
            getattr(form, e.field or "adjusted").errors.append(e.message)
        else:
            db.session.commit()
            flash(f"已保存 {region.name} 的“{ind.name}”。", "success")
            return redirect(url_for("assessment.district", region_id=region.id, year=ind.year), 303)
    res = services.compute(ind.year)
    row = res.district(region.id) if res else None
    cell = next((c for c in row.cells if c.code == ind.code), None) if row else None
    status = 422 if form.errors else 200
    return render_template("assessment/value_form.html", form=form, region=region, ind=ind, cell=cell,
                           entered=services.is_entered(ind.code)), status


# ---- freeze / re-open --------------------------------------------------------------------------

@bp.post("/years/<int:year>/freeze")
@roles_required(Role.CITY_ADMIN)
def freeze(year: int):
    if not EmptyForm().validate():
        abort(400)
    try:
        services.freeze(current_user, year)
    except services.AssessmentError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"{year} 年度考核结果已定稿；此后数据变化不影响本年度结果。", "success")
    return redirect(url_for("assessment.index", year=year), 303)


@bp.post("/years/<int:year>/reopen")
@roles_required(Role.CITY_ADMIN)
def reopen(year: int):
    form = ReopenForm()
    if not form.validate():
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("assessment.index", year=year), 303)
    try:
        services.reopen(current_user, year, form.reason.data)
    except services.AssessmentError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"{year} 年度考核已重新开启，结果将按最新数据计算。", "success")
    return redirect(url_for("assessment.index", year=year), 303)


# ---- PDFs --------------------------------------------------------------------------------------
# Served from the file cache keyed by year and data version (a frozen year: its snapshot id), so a
# repeat download reads one file; the results are computed only on a miss.

def _has_results(year: int) -> bool:
    return bool(services.get_year(year)) and bool(services.indicators(year))


def _report_pdf_key(year: int) -> str:
    return f"assessment-city:{year}:{services.data_version(year)}"


def _report_pdf_name(year: int) -> str:
    return f"{year}年度志愿服务工作考核报告.pdf"


@bp.get("/report.pdf")
@roles_required(*READERS)
def report_pdf():
    """The city's annual report: served from the cache when built, else built by a job (core/pdf.py)."""
    year = _year()
    if not current_user.is_city_wide:
        abort(403)  # the city report compares every district: city-wide readers only
    if not _has_results(year):
        abort(404)
    return pdf_or_job(_report_pdf_key(year), _report_pdf_name(year), "assessment.report_pdf",
                      f"生成{year}年度考核报告（PDF）", {"year": year})


@jobs.task_kind("assessment.report_pdf")
def build_report_pdf(user, params: dict) -> jobs.File:
    """Runs in the worker for the job's owner, with the route's checks again."""
    year = int(params["year"])
    if not user.is_city_wide or not _has_results(year):
        raise jobs.JobError("该年度的考核结果不存在，或您无权查看全市考核报告。")

    def context() -> dict:
        jobs.progress(0, 2, "正在汇总考核结果")
        res = services.results(year)
        rows = res.ranked
        ctx = dict(res=res, year=year, rows=rows, title=f"{year} 年度志愿服务工作考核报告",
                   figures=services.key_figures(year, [d.id for d in res.districts]),
                   findings=services.findings(res),
                   trend_chart=charts.compare_chart([(d.name, d.total, d.prev_total) for d in rows],
                                                    res.total_weight, year, width=600))
        jobs.progress(1, 2, "正在排版 PDF")
        return ctx

    data = cached_pdf_lazy(_report_pdf_key(year), "assessment/pdf/city.html", context)
    return jobs.File(_report_pdf_name(year), data, "考核报告已生成。")


@bp.get("/districts/<int:region_id>/summary.pdf")
@roles_required(*READERS)
def district_pdf(region_id: int):
    region = _district(region_id)
    year = _year()
    if not _has_results(year):
        abort(404)

    def context() -> dict:
        res = services.results(year)
        row = res.district(region.id) if res else None
        if row is None:  # e.g. a district added after the year was frozen
            abort(404)
        return dict(res=res, row=row, year=year, region=region,
                    title=f"{region.name} {year} 年度志愿服务工作考核摘要")

    key = f"assessment-district:{region.id}:{year}:{services.data_version(year)}"
    data = cached_pdf_lazy(key, "assessment/pdf/district.html", context)
    return pdf_response(data, f"{region.name}{year}年度考核摘要.pdf")


@bp.get("/brief.pdf")
@roles_required(*READERS)
def brief_pdf():
    """月度简报 of the month chosen on the page (default: the last complete month)."""
    a = request.args
    year, month = services.brief_period(a.get("month"), a.get("year"))
    ids = sorted(services.visible_district_ids(current_user))

    def context() -> dict:
        return dict(rows=services.monthly_brief(year, month, ids), year=year, month=month,
                    figures=services.key_figures(year, ids), title=f"{year}年{month}月志愿服务月度简报")

    key = f"assessment-brief:{year}-{month}:{','.join(map(str, ids))}:{services.data_version(year)}"
    data = cached_pdf_lazy(key, "assessment/pdf/brief.html", context)
    return pdf_response(data, f"志愿服务月度简报_{year}年{month}月.pdf")


# ---- home page tile ----------------------------------------------------------------------------

@register_tile(order=20)
def assessment_tile(user):
    """The leadership's first look (the home page of `leader`): key figures, ranking, the score chart."""
    if user.role not in (Role.LEADER, Role.CITY_ADMIN, Role.DISTRICT_STAFF):
        return None
    year = local_today().year
    res = services.results(year) or services.results(year - 1)
    visible = services.visible_district_ids(user)
    rows = [d for d in res.ranked if d.id in visible] if res else []
    key = services.key_figures(res.year if res else year, sorted(visible)) if visible else None
    wide = user.role == Role.LEADER
    chart = (charts.bar_chart([(d.name, d.total, d.tone) for d in rows], res.total_weight, width=520)
             if res and wide and len(rows) > 1 else None)
    return Tile("年度考核", "assessment/_tile.html", {"res": res, "rows": rows if wide else rows[:5], "key": key,
                                                   "chart": chart, "brief": brief_defaults()},
                wide=wide, url=url_for("assessment.index", year=res.year if res else year))
