"""Form pieces shared by features: the project's FlaskForm and the fields whose input is parsed once here."""
from __future__ import annotations

import re
from datetime import date

from flask import request
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import DateField as _DateField
from wtforms import IntegerField as _IntegerField
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.i18n import get_translations
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from core.validators import (BUSINESS_DATES, DB_INT_MAX, DateRange, ValidationError, compact_code, is_blank,
                             parse_int, parse_money, strip_control, strip_invisible)

# WTForms' built-in messages in the project's words; the rest come from WTForms' own Chinese catalogue.
MESSAGES = {
    "This field is required.": "此项必填",
    "Not a valid choice.": "请从列表中选择",
    "Invalid Choice: could not coerce.": "请从列表中选择",
    "Invalid choice(s): one or more data inputs could not be coerced.": "请从列表中选择",
    "'%(value)s' is not a valid choice for this field.": "所选项无效：%(value)s",
    "'%(value)s' are not valid choices for this field.": "所选项无效：%(value)s",
    "Not a valid date value.": "日期格式应为 YYYY-MM-DD（如 2026-05-04）",
    "Not a valid time value.": "时间格式不正确，应为 09:30",
    "Not a valid datetime value.": "日期时间格式不正确",
    "Not a valid integer value.": "请填写整数",
    "Not a valid decimal value.": "请填写数字",
    "Not a valid float value.": "请填写数字",
    "Number must be at least %(min)s.": "不能小于 %(min)s",
    "Number must be at most %(max)s.": "不能大于 %(max)s",
    "Number must be between %(min)s and %(max)s.": "应在 %(min)s 到 %(max)s 之间",
    "Field must be at least %(min)d character long.": "至少 %(min)d 个字",
    "Field must be at least %(min)d characters long.": "至少 %(min)d 个字",
    "Field cannot be longer than %(max)d character.": "最多 %(max)d 个字",
    "Field cannot be longer than %(max)d characters.": "最多 %(max)d 个字",
    "Field must be between %(min)d and %(max)d characters long.": "应为 %(min)d 到 %(max)d 个字",
    "This field cannot be edited.": "此项不可修改",
    "This field is disabled and cannot have a value.": "此项不可填写",
    "Invalid input.": "输入无效",
}


class _Translations:
    """The project's wording first, then WTForms' shipped zh catalogue (no Babel needed)."""

    def __init__(self):
        self.zh = get_translations(["zh"])

    def gettext(self, string):
        return MESSAGES.get(string) or self.zh.gettext(string)

    def ngettext(self, singular, plural, n):
        key = singular if n == 1 else plural
        return MESSAGES.get(key) or self.zh.ngettext(singular, plural, n)


TRANSLATIONS = _Translations()

# Name-like fields (a person's, an organization's, an activity's, a plan's, a unit's): refused when
# only invisible characters were typed. Matched by field name so that new forms are covered too.
NAME_FIELD_RE = re.compile(r"(^|_)(name|title|username|person_in_charge|unit|units|auditor|insurer)$")
MSG_INVISIBLE_NAME = "请填写可见的文字（不能只有空格或不可见字符）"


def compact(value):
    """Field filter for codes (统一社会信用代码, 行政区划代码, 身份证号): NFKC (full-width → ASCII),
    invisible characters removed, trimmed — before any length check."""
    return compact_code(value) if isinstance(value, str) else value


def _strip_line(value):
    return strip_control(value) if isinstance(value, str) else value


def _strip_lines(value):
    return strip_control(value, multiline=True) if isinstance(value, str) else value


def _strip_invisible(value):
    return strip_invisible(value) if isinstance(value, str) else value


class VisibleText:
    """Validator: something visible was typed (not only BOM, zero-width or bidi-override characters)."""

    def __call__(self, form, field):
        raw = (field.raw_data or [""])[0] if field.raw_data else ""
        if isinstance(raw, str) and raw.strip() and is_blank(raw):
            raise StopValidation(MSG_INVISIBLE_NAME)


class FlaskForm(_FlaskForm):
    """The base of every form: Chinese messages (WTForms' zh catalogue, `Meta.locales`), control
    characters stripped from text (line breaks kept in a TextAreaField), names refused when invisible."""

    class Meta:
        locales = ["zh"]

        def get_translations(self, form):
            # flask_wtf hands translation to Flask-Babel (not used here, so: English); ours instead.
            return TRANSLATIONS

        def wrap_formdata(self, form, formdata):
            # No form of the platform is posted as JSON; flask_wtf would parse any JSON body (a nested
            # one overflows the parser). A JSON body is simply no form data: the form says what is missing.
            if formdata is _Auto and request.is_json and not request.form and not request.files:
                return ImmutableMultiDict() if _is_submitted() else None
            return _FlaskForm.Meta.wrap_formdata(self, form, formdata)

        def bind_field(self, form, unbound_field, options):
            field = DefaultMeta.bind_field(self, form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                # A password is compared, never shown or exported: it is left exactly as typed.
                clean = _strip_lines if isinstance(field, TextAreaField) else _strip_line
                field.filters = (clean, *field.filters)
                if NAME_FIELD_RE.search(field.short_name) and not isinstance(field, TextAreaField):
                    field.filters = (*field.filters, _strip_invisible)
                    field.validators = [VisibleText(), *field.validators]
            return field


class EmptyForm(FlaskForm):
    """A one-button POST (approve, deactivate, logout): only the CSRF token."""


def form_errors_status(form) -> int:
    return 422 if form.errors else 200


# ---- fields whose input is parsed once, here, with ranges --------------------------------------


def coerce_id(value) -> int:
    """`coerce=` of a select of row ids: an int a database column holds (0 … 2**31-1). Anything else
    (40 digits, words) raises ValueError, which the select reports as "请从列表中选择"."""
    number = parse_int(value, 0, DB_INT_MAX)
    if number is None:
        raise ValueError(value)
    return number


class _OneMessage:
    """A value typed but unreadable says so once: the range validators are skipped after it.
    (An empty value still goes through the validators, so "请填写…" and Optional() behave as usual.)"""

    def pre_validate(self, form):
        if self.process_errors and any((v or "").strip() for v in (self.raw_data or [])):
            raise StopValidation()


class DateField(_OneMessage, _DateField):
    """A YYYY-MM-DD date within the range that makes sense for it (default: 2000 … today + 5 years,
    the platform's own business; `allowed=LIFETIME_DATES` for founding, registration, awards).
    No year-1 or 9999 date passes; an unreadable or out-of-range value gets a Chinese message."""

    def __init__(self, label=None, validators=None, allowed: DateRange = BUSINESS_DATES, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.allowed = allowed

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("日期格式应为 YYYY-MM-DD（如 2026-05-04）") from None
        if isinstance(self.data, date):
            lo, hi = self.allowed.bounds()
            if not lo <= self.data <= hi:
                value, self.data = self.data, None
                raise ValueError(self.allowed.message(value=value))


class IntegerField(_OneMessage, _IntegerField):
    """An integer a database column can hold (±2**31-1); an unreadable value gets a Chinese message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("请填写整数") from None
        if isinstance(self.data, int) and abs(self.data) > DB_INT_MAX:
            self.data = None
            raise ValueError("数值过大")


class MoneyField(StringField):
    """Yuan to the fen, parsed as Decimal by core.validators.parse_money (≤ 12 integer digits,
    2 decimals; never float). The parsed value is in `.amount`; `.data` keeps what was typed."""

    def __init__(self, label=None, validators=None, money_label: str = "金额", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.flags.required = True  # an empty value is refused with "请填写金额"
        self.money_label = money_label
        self.amount = None

    def pre_validate(self, form):
        self.amount = None
        try:
            self.amount = parse_money(self.data, self.money_label)
        except ValidationError as e:
            raise StopValidation(e.message) from None

    def _value(self):
        from decimal import Decimal

        if isinstance(self.data, Decimal):
            return format(self.data, "f")
        return self.data or ""
