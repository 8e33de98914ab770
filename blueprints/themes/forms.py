from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.forms import FlaskForm, IntegerField, coerce_id


class IntSelectField(SelectField):
    """A select of ids whose errors speak Chinese (WTForms' own say "Not a valid choice")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", coerce_id)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("请从列表中选择") from None

    def pre_validate(self, form):
        if not self.process_errors and self.data not in [v for v, _ in (self.choices or [])]:
            raise ValidationError("请从列表中选择")


def _year(label: str = "年度"):
    # InputRequired, not DataRequired: typed words keep "请填写整数" (core.forms.IntegerField); the
    # flag marks the field required on the form.
    return IntegerField(label, validators=[InputRequired(f"请填写{label}"),
                                           NumberRange(2000, 2100, "年度应为 2000–2100 之间的整数")])


class PlanForm(FlaskForm):
    region_id = IntSelectField("区域")
    year = _year()
    title = StringField("标题", validators=[Optional(), Length(max=200, message="标题不能超过 200 个字")],
                        description="留空时自动生成，如“湛江市2026年‘每月一主题’志愿服务活动安排表”。")
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000, message="说明不能超过 2000 个字")])


class PlanEditForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=200, message="标题不能超过 200 个字")])
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000, message="说明不能超过 2000 个字")])


class CopyForm(FlaskForm):
    year = _year("新计划年度")
    region_id = IntSelectField("区域")


class RowForm(FlaskForm):
    """Rules (month range, empty name) live in services.validate_row, so that import and inline
    editing refuse the same things with the same words."""

    month = StringField("月份", description="一个月份或范围，如 5 或 1－2")
    name = StringField("活动名称")
    content = TextAreaField("活动内容")
    lead_unit = StringField("牵头单位")
    responsible_units = StringField("责任单位")


class ImportForm(FlaskForm):
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的文件")])


class LinkForm(FlaskForm):
    theme_row_id = IntSelectField("所属主题")
    concentrated = BooleanField("设为本区本月的集中主题活动（集中活动）")


class SaturdayForm(FlaskForm):
    """Which Saturdays the calendar marks as 党员学雷锋星期六 (002 names the day, not the Saturdays)."""

    mode = SelectField("党员学雷锋星期六", choices=[])
