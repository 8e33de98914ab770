from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.activities.models import Category
from blueprints.volunteers.forms import CnForm
from blueprints.volunteers.models import Quality
from core.forms import DateField, IntegerField, coerce_id


class ActivityForm(CnForm):
    title = StringField("活动名称", validators=[DataRequired("请填写活动名称"), Length(max=128, message="最多 128 个字")])
    organization_id = SelectField("组织单位", coerce=coerce_id, validators=[DataRequired("请选择组织单位")])
    held_on = DateField("活动日期", validators=[InputRequired("请选择活动日期")])
    start_time = TimeField("开始时间", validators=[Optional()])
    end_time = TimeField("结束时间", validators=[Optional()])
    place = StringField("活动地点", validators=[DataRequired("请填写活动地点"), Length(max=200, message="最多 200 个字")])
    region_id = SelectField("所在区域", coerce=coerce_id, validators=[Optional()],
                            description="活动举办地所在的区域；不选则为组织所在区域")
    category = SelectField("活动类别（三关爱）", choices=[(c.value, c.label) for c in Category],
                           validators=[DataRequired("请选择活动类别")])
    capacity = IntegerField("招募人数", validators=[Optional(), NumberRange(1, 10000, "应在 1 到 10000 之间")],
                            description="不限人数请留空")
    person_in_charge = StringField("活动负责人", validators=[Optional(), Length(max=64, message="最多 64 个字")])
    risky = BooleanField("有风险的志愿服务（需为参与者购买人身保险）")
    description = TextAreaField("活动内容", validators=[Optional(), Length(max=5000, message="最多 5000 个字")])
    # The station it takes place at (issue 18; 001 附件2: each station 2–3 activities a month).
    station_id = SelectField("所在志愿服务站", coerce=coerce_id, validators=[Optional()], validate_choice=False,
                             description="在志愿服务站举办的活动请选择站点，计入站点每月活动次数")
    # The project it belongs to (项目库, blueprints/projects); choices set by the route.
    project_id = SelectField("所属志愿服务项目", coerce=coerce_id, validators=[Optional()],
                             description="项目须由本活动的组织单位实施；不属于项目请留空")


class CancelForm(CnForm):
    reason = StringField("取消原因", validators=[DataRequired("请填写取消原因"), Length(max=200, message="最多 200 个字")])


QUALITY_CHOICES = [(q.value, q.label) for q in Quality]


class AllPresentForm(CnForm):
    hours = StringField("每人时长（小时）", validators=[DataRequired("请填写时长")])
