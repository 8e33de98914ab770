"""The policy settings form, built from the registry of policy numbers (core/settings.py)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import StringField
from wtforms.validators import InputRequired, NumberRange, StopValidation

from core import settings
from core.forms import FlaskForm, IntegerField


def field_name(key: str, index: int | None = None) -> str:
    """"volunteers.star_hours", 0 → "volunteers__star_hours__0" (form names carry no dots)."""
    name = key.replace(".", "__")
    return name if index is None else f"{name}__{index}"


def _integer(label: str, p: settings.Policy) -> IntegerField:
    return IntegerField(label, validators=[InputRequired("请填写"),
                                           NumberRange(p.low, p.high, f"应为 {p.low}–{p.high} 的整数")])


class DecimalPolicyField(StringField):
    """A decimal policy (e.g. the 回馈 rate): `.data` is a Decimal once it reads, what was typed stays shown."""

    def __init__(self, label=None, validators=None, decimals: int = 1, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.decimals = decimals

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        try:
            d = Decimal(self.raw)
        except (InvalidOperation, ValueError):
            raise ValueError(f"请填写数字（最多 {self.decimals} 位小数）") from None
        if not d.is_finite() or d != d.quantize(Decimal(1).scaleb(-self.decimals)):
            raise ValueError(f"请填写数字（最多 {self.decimals} 位小数）")
        self.data = d

    def pre_validate(self, form):
        if self.process_errors and getattr(self, "raw", ""):
            raise StopValidation()

    def _value(self):
        if getattr(self, "raw", None):
            return self.raw
        return format(self.data, "f") if isinstance(self.data, Decimal) else (self.data or "")


def _decimal(label: str, p: settings.Policy) -> DecimalPolicyField:
    return DecimalPolicyField(label, validators=[InputRequired("请填写"), NumberRange(
        p.low, p.high, f"应为 {p.low}–{p.high} 的{p.kind_words}")], decimals=p.decimals)


class PolicyForm(FlaskForm):
    """One integer field per number (a series such as the star thresholds: one per item)."""

    def values(self) -> dict:
        out = {}
        for p in settings.POLICIES.values():
            if isinstance(p.default, tuple):
                out[p.key] = tuple(self[field_name(p.key, i)].data for i in range(len(p.default)))
            else:
                out[p.key] = self[field_name(p.key)].data
        return out

    def show_problems(self, problems: dict[str, str]) -> None:
        """Put each refusal next to its field ("key" or "key.<item index>" of a series)."""
        for where, message in problems.items():
            if where in settings.POLICIES:
                f = self[field_name(where)]
            else:
                key, index = where.rsplit(".", 1)
                f = self[field_name(key, int(index))]
            f.errors = list(f.errors) + [message]


def policy_form(prefill: bool) -> PolicyForm:
    """A form class with the registered policies' fields; prefilled with the values in force on GET."""
    attrs = {}
    for p in settings.POLICIES.values():
        if isinstance(p.default, tuple):
            for i in range(len(p.default)):
                item = p.items[i] if i < len(p.items) else f"第 {i + 1} 项"
                attrs[field_name(p.key, i)] = _integer(f"{item}（{p.unit}）", p)
        else:
            attrs[field_name(p.key)] = (_decimal if p.decimals else _integer)(f"{p.label}（{p.unit}）", p)
    cls = type("PolicyFormFields", (PolicyForm,), attrs)
    if not prefill:
        return cls()
    data = {}
    for p in settings.POLICIES.values():
        value = settings.policy(p.key)
        if isinstance(value, tuple):
            data.update({field_name(p.key, i): v for i, v in enumerate(value)})
        else:
            data[field_name(p.key)] = value
    return cls(data=data)
