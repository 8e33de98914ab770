"""我的任务: the signed-in user's background jobs (exports, imports, mail), their progress and results.
Every route answers the job's owner only (404 to anyone else, by URL or otherwise)."""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from blueprints.accounts.models import Role
from core import jobs
from core.auth import roles_required
from core.exports import XLSX_MIME
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.tabular import ImportRow
from core.templating import is_htmx, render_htmx, vary_hx

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
MIMES = {"xlsx": XLSX_MIME, "pdf": "application/pdf"}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
STAFF = tuple(Role)
register_nav("我的任务", "jobs.index", STAFF, order=940, group="系统")


@bp.get("/")
@roles_required(*STAFF)
def index():
    jobs.sweep_on_access()  # expired files go as soon as anyone looks (the worker also sweeps hourly)
    return render_template("jobs/index.html", jobs=jobs.jobs_of(current_user), retry_form=EmptyForm(),
                           keep_days=current_app.config["JOB_KEEP_DAYS"],
                           pii_hours=current_app.config["JOB_PII_KEEP_HOURS"])


@bp.get("/<int:job_id>")
@roles_required(*STAFF)
def detail(job_id: int):
    job = jobs.owned_or_404(job_id, current_user)
    return render_htmx("jobs/detail.html", "jobs/_status.html", job=job)


@bp.get("/<int:job_id>/status")
@roles_required(*STAFF)
def status(job_id: int):
    return vary_hx(render_template("jobs/_status.html", job=jobs.owned_or_404(job_id, current_user)))


@bp.get("/<int:job_id>/download")
@roles_required(*STAFF)
def download(job_id: int):
    job = jobs.owned_or_404(job_id, current_user)
    size = jobs.file_size(job.id) if job.has_file else None
    if size is None:
        abort(404)
    name = job.result_name or f"任务{job.id}.xlsx"
    # Streamed from the database chunk by chunk (core/jobs.py job_file): any app server serves it.
    resp = Response(jobs.iter_file(job.id), mimetype=MIMES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream"))
    resp.headers["Content-Length"] = str(size)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_CONTROL.sub('', name))}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/<int:job_id>/retry")
@roles_required(*STAFF)
def retry(job_id: int):
    job = jobs.owned_or_404(job_id, current_user)
    if not EmptyForm().validate():
        abort(400)
    try:
        jobs.retry(job)
    except jobs.JobError as e:
        db.session.rollback()
        flash(e.message, "error")
        if is_htmx():  # the widget stays as it is; the message shows with the next page
            return vary_hx(render_template("jobs/_status.html", job=job), 409)
        return redirect(url_for("jobs.detail", job_id=job.id), 303)
    return jobs.respond(job)


@bp.get("/<int:job_id>/preview")
@roles_required(*STAFF)
def preview(job_id: int):
    """The preview a job made of a large import file (core/jobs.py upload_importer): its owner's only
    (404 otherwise), then confirmed on the import's own confirm route as a small file's preview is."""
    job = jobs.owned_or_404(job_id, current_user)
    if jobs.kind_page(job.kind) != "jobs.preview":
        abort(404)
    data = jobs.preview_of(job, job.kind)
    if data is None:
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("jobs.detail", job_id=job.id), 303)
    rows = [ImportRow(line=r["line"], values=r["values"], errors=r["errors"]) for r in data["rows"]]
    status = 422 if data["bad"] and data["all_or_nothing"] else 200
    return render_template("jobs/preview.html", job=job, p=data, rows=rows), status
