"""Forms of the annual assessment (Chinese labels and messages)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import BooleanField, DecimalField as _DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.assessment.models import Method
from core.forms import FlaskForm, IntegerField


class DecimalField(_DecimalField):
    """A decimal number; an unreadable value gets a Chinese message next to the field."""

    def process_formdata(self, valuelist):
        if valuelist and str(valuelist[0]).strip():
            try:
                value = Decimal(str(valuelist[0]).strip())
                if not value.is_finite():
                    raise InvalidOperation
                self.data = value
            except (InvalidOperation, ValueError):
                self.data = None
                raise ValueError("请填写数字（如 20 或 12.5）") from None
        else:
            self.data = None


METHOD_CHOICES = [(m.value, m.label) for m in Method]


class IndicatorForm(FlaskForm):
    name = StringField("指标名称", validators=[DataRequired("请填写指标名称。"), Length(max=100, message="不超过 100 个字。")])
    target = DecimalField("目标值", validators=[InputRequired("请填写目标值。"),
                                               NumberRange(min=0, max=10**9, message="目标值不能为负数。")])
    weight = DecimalField("权重（分）", validators=[InputRequired("请填写权重。"),
                                                  NumberRange(min=0, max=100, message="权重应在 0 至 100 之间。")])
    method = SelectField("计分方式", choices=METHOD_CHOICES)
    active = BooleanField("纳入本年度考核")


class ThresholdsForm(FlaskForm):
    excellent = DecimalField("优秀（得分率 ≥ %）", validators=[InputRequired("请填写。"), NumberRange(0, 100, "应在 0 至 100 之间。")])
    good = DecimalField("良好（得分率 ≥ %）", validators=[InputRequired("请填写。"), NumberRange(0, 100, "应在 0 至 100 之间。")])
    passing = DecimalField("合格（得分率 ≥ %）", validators=[InputRequired("请填写。"), NumberRange(0, 100, "应在 0 至 100 之间。")])


class ValueForm(FlaskForm):
    entered = DecimalField("录入值", validators=[Optional(), NumberRange(min=0, max=10**9, message="不能为负数。")])
    adjusted = DecimalField("人工调整后的数值", validators=[Optional(), NumberRange(min=0, max=10**9, message="不能为负数。")],
                            description="留空表示不调整，按系统计算值计分。")
    reason = TextAreaField("调整理由", validators=[Length(max=500, message="不超过 500 个字。")])


class SetupForm(FlaskForm):
    year = IntegerField("年度", validators=[InputRequired("请填写年度。"), NumberRange(2000, 2100, "年度应在 2000 至 2100 之间。")])


class ReopenForm(FlaskForm):
    reason = TextAreaField("重新开启的理由", validators=[DataRequired("请填写理由。"), Length(min=4, max=500, message="理由为 4 至 500 个字。")])
