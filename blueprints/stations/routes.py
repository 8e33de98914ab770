from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints.accounts.models import Role
from blueprints.regions.models import Region, RegionLevel
from blueprints.stations import services
from blueprints.stations.forms import AssessmentForm, StationForm
from blueprints.stations.models import (PUBLIC_PLACE_TYPES, WUYOU_ITEMS, Station, StationAssessment,
                                        StationType)
from core import scope, uploads
from core.auth import roles_required
from core.dashboard import Tile, register_tile
from core.extensions import db
from core.nav import register_nav
from core.panels import Panel, register_panel
from core.pagination import paginate
from core.pdf import pdf_response, render_pdf
from core.timeutil import local_today
from core.templating import render_htmx

bp = Blueprint("stations", __name__, url_prefix="/stations")
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER, Role.ORG_LEADER)
BOARD = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.LEADER)
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
register_nav("志愿服务站", "stations.index", READERS, order=220)
register_nav("站点覆盖看板", "stations.coverage", BOARD, order=230)


def _station(station_id: int) -> Station:
    return scope.get_scoped_or_404(Station, station_id, current_user)


@bp.get("/")
@roles_required(*READERS)
def index():
    f = services.StationFilters.from_args(request.args)
    page = paginate(services.list_stmt(current_user, f), request.args.get("page"), scalars=False)
    ctx = dict(page=page, f=f, args=f.as_args(), region_labels=services.region_labels([r[0].region for r in page.items]))
    return render_htmx("stations/index.html", "stations/_rows.html", page_context=lambda: dict(
        districts=services.district_choices(current_user), types=list(StationType),
        can_create=services.is_office(current_user), can_board=current_user.role in BOARD), **ctx)


def _fill(form: StationForm, region_id: int | None) -> None:
    # Grouped by 县(市、区) so a city-wide list of several hundred communities stays readable.
    groups: dict[str, list] = {"": [("", "请选择")]}
    for rid, label, level in services.region_choices(current_user):
        district, _, rest = label.partition(" / ")
        groups.setdefault(district, []).append((rid, rest or f"{district}（全区）"))
    form.region_id.choices = groups
    form.organization_id.choices = [("", "（无）")] + [
        (o.id, o.name) for o in services.org_choices(current_user, region_id)]
    # Picking a region reloads the managing organizations of that district (HTMX).
    form.region_id.render_kw = {"hx-get": url_for("stations.org_options"), "hx-target": "#organization_id",
                                "hx-trigger": "change", "hx-include": "#organization_id"}


def _limit(form: StationForm, fields: set[str]) -> None:
    for name in list(services.STATION_FIELDS):
        if name not in fields and name in form:
            delattr(form, name)


def _save(form: StationForm, station: Station | None, fields: set[str]):
    ok = form.validate_on_submit()
    if request.method != "POST":
        return None
    data = form.station_data(fields)
    for name, message in services.validate(current_user, data, station, fields).items():
        form[name].errors = list(form[name].errors) + [message]
        ok = False
    if not ok:
        return None
    if station is None:
        return services.create_station(current_user, data)
    services.update_station(current_user, station, data)
    return station


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*OFFICE)
def create():
    form = StationForm()
    fields = services.editable_fields(current_user, None)
    _fill(form, form.region_id.data)
    if request.method == "GET":
        # Prefills from "为该组织新增站点" (org page) and a community without a station (board drill-down).
        form.organization_id.data = services.parse_id(request.args.get("organization_id"))
        form.region_id.data = services.parse_id(request.args.get("region_id"))
        if form.region_id.data:
            _fill(form, form.region_id.data)
    station = _save(form, None, fields)
    if station is not None:
        db.session.commit()
        flash(f"已新增站点：{station.name}", "success")
        return redirect(url_for("stations.detail", station_id=station.id), 303)
    return render_template("stations/form.html", form=form, station=None), 422 if form.errors else 200


@bp.route("/<int(max=2147483647):station_id>/edit", methods=["GET", "POST"])
@login_required
def edit(station_id: int):
    station = _station(station_id)
    fields = services.editable_fields(current_user, station)
    if not fields:
        abort(403)
    form = StationForm(obj=station) if request.method == "GET" else StationForm()
    if request.method == "GET":
        form.station_type.data = station.station_type.value
    _fill(form, form.region_id.data if "region_id" in fields else station.region_id)
    _limit(form, fields)
    if _save(form, station, fields) is not None:
        db.session.commit()
        flash("已保存。", "success")
        return redirect(url_for("stations.detail", station_id=station.id), 303)
    return render_template("stations/form.html", form=form, station=station), 422 if form.errors else 200


@bp.get("/org-options")
@roles_required(*OFFICE)
def org_options():
    """HTMX: the managing-organization <option>s for the region picked on the form."""
    region_id = services.parse_id(request.args.get("region_id"))
    selected = services.parse_id(request.args.get("organization_id"))
    orgs = services.org_choices(current_user, region_id) if region_id else []
    return render_template("stations/_org_options.html", orgs=orgs, selected=selected)


@bp.get("/<int(max=2147483647):station_id>")
@roles_required(*READERS)
def detail(station_id: int):
    station = _station(station_id)
    org_url = None
    if station.organization is not None and "orgs.detail" in current_app.view_functions \
            and scope.in_scope(current_user, station.organization):
        org_url = url_for("orgs.detail", org_id=station.organization.id)
    return render_template("stations/detail.html", station=station, latest=station.latest, org_url=org_url,
                           region_label=services.region_labels([station.region])[station.region_id],
                           can_edit=bool(services.editable_fields(current_user, station)),
                           can_assess=services.can_assess(current_user, station))


@bp.route("/<int(max=2147483647):station_id>/assess", methods=["GET", "POST"])
@roles_required(*OFFICE)
def assess(station_id: int):
    station = _station(station_id)
    if not services.can_assess(current_user, station):
        abort(403)
    form = AssessmentForm()
    if request.method == "GET":
        form.assessed_on.data = local_today()
        form.assessor_name.data = current_user.display_name or current_user.username
    valid = form.validate_on_submit()
    if request.method == "POST" and not valid:
        # Report refused photos together with the other mistakes, not one round later.
        for field, message in services.photo_errors(
                {key: form[f"{key}_photo"].data for key in services.WUYOU_KEYS}).items():
            form[field].errors = list(form[field].errors) + [message]
    elif valid:
        items = [services.ItemInput(key, form[f"{key}_ok"].data == "1", form[f"{key}_note"].data or "",
                                    form[f"{key}_photo"].data) for key, _, _ in WUYOU_ITEMS]
        try:
            a = services.add_assessment(current_user, station, form.assessed_on.data, items, form.assessor_name.data)
        except services.StationError as e:
            db.session.rollback()
            target = e.field if e.field and e.field in form else "assessed_on"
            form[target].errors = list(form[target].errors) + [e.message]
        else:
            db.session.commit()
            flash(f"已保存五有评估：{a.met_count}/5 项达标。", "success")
            return redirect(url_for("stations.detail", station_id=station.id), 303)
    status = 422 if form.errors else 200
    return render_template("stations/assess.html", form=form, station=station, items=WUYOU_ITEMS), status


@bp.get("/assessments/<int(max=2147483647):assessment_id>")
@roles_required(*READERS)
def assessment(assessment_id: int):
    a = db.session.get(StationAssessment, assessment_id)
    if a is None:
        abort(404)
    station = _station(a.station_id)
    return render_template("stations/assessment.html", a=a, station=station)


@bp.get("/photos/<int(max=2147483647):item_id>")
@roles_required(*READERS)
def photo(item_id: int):
    """A 五有 photo, only to users who may see its station (core/uploads.py serves it)."""
    item = services.get_item_in_scope(current_user, item_id)
    if not item.photo:
        abort(404)
    return uploads.send_stored(item.photo, download_name=item.photo_name or None)


# ---- coverage board ----------------------------------------------------------------------------

@bp.get("/coverage")
@roles_required(*BOARD)
def coverage():
    board = services.coverage(current_user)
    return render_template("stations/coverage.html", board=board, tone_labels=services.TONE_LABELS,
                           can_configure=current_user.role == Role.CITY_ADMIN)


@bp.get("/coverage/<int(max=2147483647):district_id>")
@roles_required(*BOARD)
def uncovered(district_id: int):
    district = scope.get_scoped_or_404(Region, district_id, current_user)
    if district.level != RegionLevel.DISTRICT:
        abort(404)
    groups = services.uncovered_communities(current_user, district)
    return render_htmx("stations/uncovered.html", "stations/_uncovered.html", district=district, groups=groups,
                       total=sum(len(c) for _, c in groups), can_create=services.is_office(current_user))


@bp.get("/coverage.pdf")
@roles_required(*BOARD)
def coverage_pdf():
    board = services.coverage(current_user)
    uncovered = {r.district.id: services.uncovered_communities(current_user, r.district)
                 for r in board.rows if r.uncovered}
    data = render_pdf("stations/pdf/coverage.html", board=board, uncovered=uncovered, with_drill=False,
                      title="志愿服务站覆盖情况", tone_labels=services.TONE_LABELS)
    return pdf_response(data, f"志愿服务站覆盖情况_{local_today().isoformat()}.pdf")


@bp.route("/targets")
@roles_required(Role.CITY_ADMIN)
def targets():
    """The targets moved to the one policy settings page (issue 18); old links land there."""
    return redirect(url_for("settings.policy", _anchor="policy-stations__city_min"), 303)


@register_tile(order=230)
def coverage_tile(user):
    if user.role not in BOARD:
        return None
    from blueprints.stations.figures import _board  # the board the tile's figures read (one per request)

    return Tile("志愿服务站", "stations/_tile.html", {"board": _board(user)}, url=url_for("stations.coverage"))


@register_panel("org", order=40)
def org_stations_panel(org, user):
    """The stations an organization manages, on its detail page (orgs renders render_panels("org", org))."""
    if user.role not in READERS:
        return None
    stations = services.stations_of_org(user, org)
    return Panel(f"管理的志愿服务站（{len(stations)}）", "stations/_org_panel.html",
                 {"stations": stations, "org": org, "can_create": services.is_office(user)})
