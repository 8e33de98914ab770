"""Security headers and the Chinese error pages."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core.extensions import db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

ERROR_TEXT = {
    400: ("请求无效", "请求的内容无法处理。请返回上一页重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("没有权限", "您的账户无权访问此页面或执行此操作。"),
    404: ("页面不存在", "您要找的页面或记录不存在，或不在您的管理范围内。"),
    405: ("操作方式不正确", "此地址不支持该请求方式。"),
    413: ("文件过大", "上传的内容超过了允许的大小。"),
    422: ("填写有误", "提交的内容有误，请检查后重试。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统错误", "服务器处理请求时出错，已记录。请稍后重试或联系管理员。"),
    503: ("系统繁忙", "系统繁忙，请稍后重试。"),
}

# A lock wait that ran out: SQLite's busy timeout, PostgreSQL's lock_not_available (lock_timeout),
# serialization_failure, deadlock_detected and query_canceled (statement_timeout).
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked", "database is busy")
_PG_BUSY = {"55P03", "40001", "40P01", "57014"}


def is_lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _PG_BUSY:
        return True
    text = str(orig).lower()
    return any(m in text for m in _SQLITE_BUSY)

log = logging.getLogger("zhiyuan")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` limited to 0 … 2**31-1 (the id columns' range on PostgreSQL and SQLite alike)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _error_page(code: int, message: str | None = None):
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[400])
    return render_template("errors/error.html", code=code, title=title, text=message or text), code


CSRF_MESSAGE = "页面已过期或请求无效（安全校验失败）。请刷新页面后重试。"


def csrf_failed_page():
    """The page of a failed CSRF check. (A feature may show its own form again instead, with its own
    `@bp.errorhandler(CSRFError)`: the login page does, blueprints/accounts/routes.py.)"""
    return _error_page(400, CSRF_MESSAGE)


NUL_MESSAGE = "提交的内容含有不允许的控制字符，请检查后重试。"


def _has_nul(multidict) -> bool:
    return any("\x00" in value for values in multidict.listvalues() for value in values)


def init_security(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes():
        # No real input contains NUL; PostgreSQL refuses it in text, so stop it at the door on both stores.
        if _has_nul(request.args) or (request.method not in ("GET", "HEAD") and _has_nul(request.form)):
            return _error_page(400, NUL_MESSAGE)
        return None

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            response.vary.add("HX-Request")  # a URL may answer a page or an HTMX partial
        # Pages of logged-in users may show personal data: never cache them anywhere.
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            from flask_login import current_user

            if current_user.is_authenticated:
                response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return csrf_failed_page()

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code in (301, 302, 303, 307, 308):
            return e
        return _error_page(e.code or 500)

    @app.errorhandler(DataError)
    def data_error(e: DataError):
        # A value the database cannot hold (an out-of-range number that slipped past a form) is the
        # client's bad input, not a server failure. Nothing is half-saved: the transaction is rolled back.
        db.session.rollback()
        log.warning("database refused a value on %s %s: %s", request.method, request.path, type(e.orig).__name__)
        return _error_page(400)

    @app.errorhandler(RecursionError)
    def too_deep(e: RecursionError):
        # Input nested deeper than a parser follows (a JSON file of 10 000 "[") is bad input, not a
        # server fault; the feature's reader should say so itself, this keeps it from ever being a 500.
        db.session.rollback()
        log.warning("input nested too deeply on %s %s", request.method, request.path)
        return _error_page(422, "提交的内容嵌套层级过深，无法读取。请检查文件后重试。")

    @app.errorhandler(OperationalError)
    def busy(e: OperationalError):
        # Another request held a lock longer than we wait: roll back (nothing half-saved) and say
        # "busy, try again" — a 503 the user can act on, not a 500.
        g.db_busy = True  # the error page only reads: it must not queue for the write lock again
        try:
            db.session.rollback()
        except Exception:  # the connection itself may be gone; the session is discarded anyway
            log.warning("rollback after a database error failed", exc_info=True)
        if not is_lock_timeout(e):
            return server_error(e)
        log.warning("database busy on %s %s: %s", request.method, request.path, type(e.orig).__name__)
        body, code = _error_page(503)
        return body, code, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def server_error(e: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_page(500)
