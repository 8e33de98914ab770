"""Form pieces shared by features."""
from __future__ import annotations

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button POST (approve, deactivate, logout): only the CSRF token."""


def form_errors_status(form) -> int:
    return 422 if form.errors else 200


# ---- fields whose parse errors speak Chinese (WTForms' own messages are English) ---------------

from wtforms import DateField as _DateField  # noqa: E402
from wtforms import IntegerField as _IntegerField  # noqa: E402


from wtforms.validators import StopValidation  # noqa: E402


class _OneMessage:
    """A value typed but unreadable says so once: the range validators are skipped after it.
    (An empty value still goes through the validators, so "请填写…" and Optional() behave as usual.)"""

    def pre_validate(self, form):
        if self.process_errors and any((v or "").strip() for v in (self.raw_data or [])):
            raise StopValidation()


class DateField(_OneMessage, _DateField):
    """A YYYY-MM-DD date; an unreadable value gets a Chinese message next to the field."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("日期格式应为 YYYY-MM-DD（如 2026-05-04）") from None


class IntegerField(_OneMessage, _IntegerField):
    """An integer; an unreadable value gets a Chinese message next to the field."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("请填写整数") from None
