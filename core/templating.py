"""Jinja filters and globals shared by every template."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from typing import Callable

from flask import Flask, Response, make_response, render_template, request
from flask_login import current_user
from jinja2 import Undefined
from jinja2.compiler import CodeGenerator

from core.nav import nav_for
from core.timeutil import LOCAL_TZ, to_local, utcnow


def fmt_datetime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""


def fmt_date(value, fmt: str = "%Y-%m-%d") -> str:
    return value.strftime(fmt) if value else ""


def fmt_cn_date(value, time: bool = False) -> str:
    """The one date style of printed documents (公文): 2024年11月30日, no zero padding; with time=True
    a datetime (shown in local time) gets " 09:05". Takes a date, a datetime or an ISO string (the
    frozen facts of certificates and nominations keep dates as ISO text; an ISO datetime string is
    taken as local time, as stored JSON writes it)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=LOCAL_TZ)
        except ValueError:
            return value  # not a date: print it as it is rather than fail a whole PDF
    if isinstance(value, datetime):
        value = to_local(value)  # naive datetimes are stored UTC (core.timeutil)
        text = f"{value.year}年{value.month}月{value.day}日"
        return f"{text} {value:%H:%M}" if time else text
    return f"{value.year}年{value.month}月{value.day}日"


def fmt_money(value) -> str:
    """¥1,234.56 from a Decimal; never through float."""
    if value is None:
        return ""
    d = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    return f"{sign}¥{abs(d):,.2f}"


def fmt_number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    if digits == 0:
        return f"{int(round(value)):,}"
    return f"{value:,.{digits}f}"


def fmt_percent(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def mask_id(value) -> str:
    from core.validators import mask_id_number

    return mask_id_number(value or "")


def mask_phone_filter(value) -> str:
    from core.validators import mask_phone

    return mask_phone(value or "")


# Phone numbers inside free text (a need's "联系人 138…", "0759-…"): mobiles and landlines with an
# area code. Digits glued to other digits are not phones (IDs, amounts), hence the look-arounds.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")


def mask_phones_in_text(value) -> str:
    """Free text with every phone number in it masked as `mask_phone` does."""
    from core.validators import mask_phone

    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0).replace(" ", "")), str(value or ""))


class QuietUndefined(Undefined):
    """Jinja's Undefined, printed as '' without an exception.

    `{{ 'selected' if x == y }}` yields Undefined when false; markupsafe's escape() probes it for
    `__html__`, and the default Undefined answers that probe by raising AttributeError — about a tenth
    of a millisecond each, which made a select of 5,000 organizations cost half a second. Rendering is
    unchanged: an undefined value still prints as nothing and still fails on any other use.
    """

    __slots__ = ()

    def __html__(self) -> str:
        return ""


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with the implicit `else` of an inline if using the environment's
    Undefined class (QuietUndefined) instead of the hard-wired default one."""

    def write_commons(self) -> None:
        super().write_commons()
        self.writeline("cond_expr_undefined = environment.undefined")


def split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    """A URL as a GET form needs it: the path (a form's GET drops the action's query) and the query's
    fields, to be sent as hidden inputs."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


def is_htmx() -> bool:
    """Whether this request comes from htmx (answer with a partial rather than the whole page)."""
    return request.headers.get("HX-Request") == "true"


def vary_hx(body, status: int = 200) -> Response:
    """A response whose content depends on `HX-Request` (a page or its partial): say so to caches."""
    resp = make_response(body, status)
    resp.vary.add("HX-Request")
    return resp


def render_htmx(page_template: str, partial_template: str, /, *, page_context: Callable[[], dict] | None = None,
                **context) -> Response:
    """The partial for an htmx request, the whole page otherwise, with `Vary: HX-Request`.

    `context` goes to both templates (any name but `page_context`: `page`, `status`… are the views');
    `page_context()` (what only the page needs: filter choices, buttons) is computed only when the whole
    page is rendered."""
    if is_htmx():
        return vary_hx(render_template(partial_template, **context))
    extra = page_context() if page_context is not None else {}
    return vary_hx(render_template(page_template, **extra, **context))


def init_templating(app: Flask) -> None:
    app.jinja_env.undefined = QuietUndefined
    app.jinja_env.code_generator_class = _CodeGenerator
    app.jinja_env.filters.update(
        datetime=fmt_datetime, date=fmt_date, cn_date=fmt_cn_date, money=fmt_money, number=fmt_number,
        percent=fmt_percent, mask_id=mask_id, mask_phone=mask_phone_filter,
        mask_phones_in_text=mask_phones_in_text,
        reject_page=lambda d: {k: v for k, v in d.items() if k != "page"},
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from core.panels import render_panels
    from core.tabular import preview_text

    app.jinja_env.globals["render_panels"] = render_panels
    app.jinja_env.globals["split_url"] = split_url  # the pager's jump form: path + hidden query fields
    from core.sources import cite

    app.jinja_env.globals["cite"] = cite  # policy documents by title, never by seed number
    from core.settings import policy

    app.jinja_env.globals["policy"] = policy  # policy numbers as the city admin set them, never typed in
    app.jinja_env.filters["preview"] = preview_text  # cell text echoed from an uploaded file

    from core.figures import figure

    app.jinja_env.globals["figure"] = lambda key: figure(key, current_user)
    from core.nav import sidenav

    app.jinja_env.globals["sidenav"] = sidenav  # base.html's menu, built once per role and page

    @app.context_processor
    def globals_():
        return {
            "nav_groups": nav_for(current_user),
            "office_name": app.config["OFFICE_NAME"],
            "is_htmx": is_htmx(),
            "now_utc": utcnow(),
        }
