"""Personal data outside the database columns: file modes, pending imports, URLs and logs.

- Files: the process umask is 077 from the app's creation on, so everything it writes (the SQLite
  database and its -wal/-shm, the PDF cache, backups, instance secrets) is 0600 and every directory
  0700; an existing SQLite database is narrowed to 0600 at start. Uploads and pending imports live in
  the database (core/uploads.py, core/tabular.py).
- Pending imports (core/tabular.py) are swept when older than their lifetime, at most every few
  minutes per process, and a preview can be cancelled (`POST /imports/cancel`) which deletes it.
- URLs: an ID number or a phone number typed into a search box never lands in the browser's history
  (an HTMX request that carries one answers `HX-Push-Url: false`; a full page load is redirected to
  the URL without it), and access logs (gunicorn, werkzeug) print runs of 7 or more digits as
  "[redacted]" (`RedactingGunicornLogger`, loaded by gunicorn.conf.py).
"""
from __future__ import annotations

import logging
import os
import re
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, flash, redirect, request
from flask_login import current_user, login_required

# Runs of 7+ digits (an ID number with or without its X, a phone number, a bank or landline number),
# and numbers typed in groups ("138-1234-5678", "138 1234 5678" → "138+1234+5678" in a query string).
LONG_DIGITS = re.compile(r"\d{7,}[\dXx]?")
GROUPED_DIGITS = re.compile(r"\d{3,}(?:(?:[ +\-]|%20|%2[Dd])\d{3,})+[\dXx]?")
# What a person's number looks like in a search term: an 18- or 15-character ID number, a mobile
# number (optionally +86), a landline with its area code.
PERSONAL_NUMBER = re.compile(
    r"(?<!\d)(?:\d{17}[\dXx]|\d{15}|(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}|0\d{2,3}-?\d{7,8})(?![\dXx])")
REDACTED = "[redacted]"
SWEEP_EVERY = 600  # seconds between two sweeps of expired pending imports in one process


def restrict_file_modes() -> None:
    """New files 0600, new directories 0700, for the whole process (one place, before anything is written)."""
    os.umask(0o077)


def _tighten_existing(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    paths: list[tuple[str, int]] = []
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        base = uri[len("sqlite:///"):].split("?")[0]
        paths += [(base + suffix, 0o600) for suffix in ("", "-wal", "-shm", "-journal")]
    paths += [(folder, 0o700) for folder in (app.instance_path, app.config.get("UPLOAD_DIR")) if folder]
    for path, mode in paths:
        try:
            if os.path.exists(path) and os.stat(path).st_mode & 0o777 != mode:
                os.chmod(path, mode)
        except OSError as e:  # not ours to change (another owner): say so, do not stop the app
            logging.getLogger(__name__).warning("cannot restrict %s to %o: %s", path, mode, e.strerror)


def _grouped(m: re.Match) -> str:
    return REDACTED if sum(ch.isdigit() for ch in m.group(0)) >= 11 else m.group(0)


def redact(text: str) -> str:
    """Long digit runs (and numbers of 11+ digits typed in groups) out of a line of log."""
    return LONG_DIGITS.sub(REDACTED, GROUPED_DIGITS.sub(_grouped, text)) if text else text


def has_personal_number(value: str) -> bool:
    return bool(PERSONAL_NUMBER.search(value or ""))


def _clean_url() -> str | None:
    """This request's URL without the query parameters that carry a personal number (None if none do)."""
    args = request.args
    keep = [(k, v) for k in args for v in args.getlist(k) if not has_personal_number(v)]
    if len(keep) == sum(len(args.getlist(k)) for k in args):
        return None
    return request.path + ("?" + urlencode(keep) if keep else "")


class RedactingFilter(logging.Filter):
    """A logging filter for request logs (werkzeug's dev server): digits out of the message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def make_gunicorn_logger():
    """gunicorn's Logger whose access-log atoms (request line, path, query, referer) are redacted.
    A factory, so that importing this module does not need gunicorn (gunicorn.conf.py calls it)."""
    from gunicorn.glogging import Logger

    class RedactingGunicornLogger(Logger):
        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}

    return RedactingGunicornLogger


# ---- cancelling a pending import ------------------------------------------------------------------

bp = Blueprint("imports", __name__)


@bp.post("/imports/cancel")
@login_required
def cancel_import():
    from core.tabular import drop_rows

    from core.extensions import db

    drop_rows(request.form.get("token", ""), current_user.id)
    db.session.commit()
    flash("已取消导入，预览数据已删除。", "info")
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith(("//", "/\\")) or urlsplit(target).netloc:
        target = "/"  # only local redirects
    return redirect(target, 303)


def init_privacy(app: Flask) -> None:
    _tighten_existing(app)
    logging.getLogger("werkzeug").addFilter(RedactingFilter())
    app.register_blueprint(bp)
    last_sweep = {"at": 0.0}

    @app.before_request
    def keep_personal_numbers_out_of_history():
        now = time.monotonic()
        if now - last_sweep["at"] > SWEEP_EVERY:
            last_sweep["at"] = now
            from core.extensions import db
            from core.tabular import sweep_pending

            try:
                if sweep_pending():
                    db.session.commit()
            except Exception:  # busy database: the next sweep (or the next stash) removes them
                db.session.rollback()
        if request.method == "GET" and request.args and request.headers.get("HX-Request") != "true":
            clean = _clean_url()
            if clean is not None:
                flash("为保护个人信息，完整的身份证号或电话号码不能作为查询条件；请输入后 4 位。", "warning")
                return redirect(clean, 303)
        return None

    @app.after_request
    def no_history_entry_with_personal_numbers(response):
        # "false": htmx leaves the history alone (an element that pushes its URL would push the number;
        # one that does not push must not start to).
        if request.headers.get("HX-Request") == "true" and request.args and _clean_url() is not None:
            response.headers["HX-Push-Url"] = "false"
        return response
