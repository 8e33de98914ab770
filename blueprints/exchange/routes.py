"""The platform of record: exchange export (a job; marks what it sent), the city admin's column
mapping, and the read-back of the target system's export (upload → preview → confirm, a job)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask import g

from blueprints.exchange import services
from blueprints.exchange.forms import ExportForm, ImportForm
from blueprints.exchange.models import Dataset
from blueprints.exchange.services import ExchangeError, MappingErrors
from core import jobs
from core.audit import record_event
from core.auth import roles_required
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.roles import Role
from core.tabular import TableError, take_rows
from core.timeutil import local_today
from core.validators import parse_int

bp = Blueprint("exchange", __name__, url_prefix="/exchange")
OFFICE = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
IMPORT_KIND = "exchange"
register_nav("平台数据对接", "exchange.index", OFFICE, order=720, group="工作")
register_nav("对接字段映射", "exchange.mapping_edit", (Role.CITY_ADMIN,), order=870, group="系统")


def _index(form: ExportForm, status: int = 200):
    page = paginate(services.batches_stmt(current_user), request.args.get("page"))
    return render_template("exchange/index.html", form=form, page=page, m=services.mapping()), status


@bp.get("/")
@roles_required(*OFFICE)
def index():
    form = ExportForm()
    today = local_today()
    form.start.data, form.end.data = date(today.year, today.month, 1), today
    return _index(form)


@bp.post("/export")
@roles_required(*OFFICE)
def export():
    """A POST: the export marks what it sends (state changes), so it is never a link."""
    form = ExportForm()
    if form.validate_on_submit():
        if form.end.data < form.start.data:
            form.end.errors.append("结束日期不能早于开始日期")
        else:
            req = services.ExportRequest(Dataset(form.dataset.data), form.start.data, form.end.data,
                                         form.include_sent.data)
            return jobs.start_export("exchange.export", f"报送{services.mapping().system}：{req.dataset.label}",
                                     req.args(), pii=True)  # full ID numbers and phones for the target system
    return _index(form, 422)


@jobs.exporter("exchange.export")
def build_export(user, args: dict) -> jobs.Sheet:
    try:
        req = services.ExportRequest.from_args(args)
    except ExchangeError as e:
        raise jobs.JobError(e.message) from None
    # This export writes (the sent marks): its transaction takes SQLite's write lock from the start,
    # as an import's does (core/jobs.py), instead of upgrading a read snapshot at the end.
    db.session.commit()
    g.write_transactions = True
    result = services.run_export(user, req)
    b = result.batch
    return jobs.Sheet(f"{b.system}{req.dataset.label}", result.headers, result.rows,
                      f"{b.system}_{req.dataset.label}_{req.start:%Y%m%d}-{req.end:%Y%m%d}.xlsx",
                      audit=("exchange_batch", f"报送{b.system}", f"导出{req.dataset.label} {b.rows} 条，跳过已报送 {b.skipped} 条"))


# ---- the mapping (city admin) -----------------------------------------------------------------------------

def _mapping_input() -> tuple[str, dict]:
    entries = {}
    for d, srcs in services.SOURCES.items():
        entries[d] = [services.ColumnInput(
            source=s.key, target=request.form.get(f"{d.value}-{s.key}-target", ""),
            position=parse_int(request.form.get(f"{d.value}-{s.key}-pos", ""), 0, 999),
            include=request.form.get(f"{d.value}-{s.key}-include") == "1") for s in srcs]
    return request.form.get("system", ""), entries


@bp.route("/mapping", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def mapping_edit():
    form, errors = EmptyForm(), {}
    m = services.mapping()
    typed = None
    if form.validate_on_submit():
        system, entries = _mapping_input()
        try:
            services.save_mapping(current_user, system, entries)
        except MappingErrors as e:
            errors, typed = e.errors, (system, entries)
        else:
            db.session.commit()
            flash("字段映射已保存。", "success")
            return redirect(url_for("exchange.mapping_edit"), 303)
    elif request.method == "POST":
        abort(400)
    if typed:  # re-show what was typed, in the listed order
        system, entries = typed
        m = services.Mapping(system, {d: [services.Column(r.source, next(s.label for s in services.SOURCES[d] if s.key == r.source),
                                                          r.target, r.include) for r in rows] for d, rows in entries.items()})
    positions = {d: {c.source: (i + 1) for i, c in enumerate(cols)} for d, cols in m.columns.items()}
    if typed:
        positions = {d: {r.source: ("" if r.position is None else r.position) for r in rows} for d, rows in typed[1].items()}
    return render_template("exchange/mapping.html", form=form, m=m, errors=errors, positions=positions,
                           datasets=list(Dataset)), 422 if errors else 200


# ---- the read-back ------------------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@roles_required(*OFFICE)
def import_upload():
    form = ImportForm()
    m = services.mapping()
    rows, token = None, None
    if form.validate_on_submit():
        try:
            got = jobs.import_upload("exchange.preview", f"预览回读{m.system}志愿者编号", form.file.data)
        except TableError as e:
            form.file.errors.append(str(e))
        else:
            if got.response is not None:  # a large file: checked by a job (issue 16)
                return got.response
            rows, token = got.rows, got.token
    good_count = sum(1 for r in rows or [] if not r.errors)
    return render_template("exchange/import.html", form=form, rows=rows, token=token, m=m, good=good_count,
                           columns=services.import_columns(m)), 422 if form.errors else 200


@jobs.upload_importer("exchange.preview", back="exchange.import_upload")
def check_import(user, params: dict, read) -> jobs.Checked:
    m = services.mapping()
    rows = services.iter_check_import(user, read(services.import_columns(m)), m)
    return jobs.Checked(rows, IMPORT_KIND, lambda r: {"volunteer_id": r.values["volunteer_id"],
                                                      "external_id": r.values["external_id"]},
                        {"heading": f"回读{m.system}志愿者编号", "confirm": url_for("exchange.import_confirm"),
                         "columns": [["证件号码", "id_masked", "pii"], ["匹配到的志愿者", "name", "note"],
                                     ["对方系统编号", "external_id", "text"]],
                         "all_or_nothing": False, "unit": "人"}, meta={"system": m.system})


@bp.post("/import/confirm")
@roles_required(*OFFICE)
def import_confirm():
    if not EmptyForm().validate():
        abort(400)
    stash = take_rows(request.form.get("token", ""), current_user.id, IMPORT_KIND)
    if not stash:
        flash("导入预览已过期，请重新上传。", "error")
        return redirect(url_for("exchange.import_upload"), 303)
    meta, rows = jobs.unstash(stash)
    system = str(meta.get("system") or services.DEFAULT_SYSTEM)[:32]
    return jobs.start_import("exchange.import", f"回读{system}志愿者编号", rows, {"system": system})


def _import_done(user, params: dict, counts: dict) -> jobs.Done:
    system = str(params.get("system") or services.DEFAULT_SYSTEM)[:32]
    updated, skipped = counts.get("updated", 0), counts.get("skipped", 0)
    record_event("import", "exchange_batch", None, f"回读{system}", f"匹配 {updated} 人，跳过 {skipped} 人",
                 user=user, region_id=user.region_id)
    return jobs.Done(f"已匹配并更新 {updated} 名志愿者" + (f"，{skipped} 人已不在管理范围内未更新" if skipped else "") + "。",
                     url_for("exchange.index"))


@jobs.chunked_importer("exchange.import", done=_import_done)
def apply_import(user, params: dict, rows: list, counts: dict) -> None:
    """One chunk of the read-back (core/jobs.py chunked_importer: committed chunk by chunk); every
    chunk adds to the one batch the first chunk opened."""
    system = str(params.get("system") or services.DEFAULT_SYSTEM)[:32]
    batch = db.session.get(services.ExchangeBatch, counts["batch"]) if counts.get("batch") else None
    if batch is None:
        batch = services.import_batch(user, system)
        counts["batch"] = batch.id
    updated, skipped = services.apply_import(user, rows, system, batch)
    counts["updated"] = counts.get("updated", 0) + updated
    counts["skipped"] = counts.get("skipped", 0) + skipped
