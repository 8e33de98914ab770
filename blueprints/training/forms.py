from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.training.models import CourseKind
from core.forms import DateField, FlaskForm, IntegerField, coerce_id
from core.pickers import PickField


class CourseForm(FlaskForm):
    name = StringField("课程名称", validators=[DataRequired("请填写课程名称"), Length(max=128, message="最多 128 个字")])
    kind = SelectField("课程类别", choices=[(k.value, k.label) for k in CourseKind],
                       validators=[DataRequired("请选择课程类别")])
    default_hours = StringField("学时（小时）", validators=[DataRequired("请填写学时")], default="2")
    content = TextAreaField("主要内容", validators=[Optional(), Length(max=2000, message="最多 2000 个字")])
    active = BooleanField("启用（可用于新的培训场次）", default=True)


class SessionForm(FlaskForm):
    course_id = PickField("培训课程", coerce=coerce_id, validators=[DataRequired("请选择培训课程")], placeholder="请选择培训课程")
    organization_id = PickField("举办组织", coerce=coerce_id, validators=[DataRequired("请选择举办组织")], placeholder="请选择举办组织")
    held_on = DateField("培训日期", validators=[InputRequired("请选择培训日期")])
    place = StringField("培训地点", validators=[DataRequired("请填写培训地点"), Length(max=200, message="最多 200 个字")])
    hours = StringField("学时（小时）", validators=[DataRequired("请填写学时")])
    trainer = StringField("授课人", validators=[Optional(), Length(max=64, message="最多 64 个字")])
    capacity = IntegerField("人数上限", validators=[Optional(), NumberRange(1, 10000, "应在 1 到 10000 之间")],
                            description="不限人数请留空")
    note = TextAreaField("备注", validators=[Optional(), Length(max=2000, message="最多 2000 个字")])
