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


# ---- recruitment on the platform (issue 17) ---------------------------------------------------------

from blueprints.activities.models import RecruitScope  # noqa: E402
from blueprints.volunteers.forms import MultiCheckboxField  # noqa: E402
from blueprints.volunteers.models import SKILLS  # noqa: E402


class RecruitForm(CnForm):
    open_to = SelectField("招募范围", choices=[(s.value, s.label) for s in RecruitScope],
                          validators=[DataRequired("请选择招募范围")])
    min_age = IntegerField("最低年龄", validators=[Optional(), NumberRange(1, 100, "应在 1 到 100 岁之间")],
                           description="不限请留空；按出生年份计算")
    max_age = IntegerField("最高年龄", validators=[Optional(), NumberRange(1, 100, "应在 1 到 100 岁之间")])
    skills = MultiCheckboxField("技能要求（须全部具备）", choices=[(s, s) for s in SKILLS], validators=[Optional()])
    minors = BooleanField("允许未成年人参加（须监护人同意或陪同；有风险的活动不可勾选）")
    deadline_day = DateField("报名截止日期", validators=[Optional()], description="不填则活动结束前均可报名（到场后报名并签到）")
    deadline_time = TimeField("截止时间", validators=[Optional()])
    auto_accept = BooleanField("报名即自动录用（否则由组织审核）")


class SignupForm(CnForm):
    guardian_present = BooleanField("监护人陪同参加（未成年人）")


class RateForm(CnForm):
    rating = SelectField("评分", choices=[("5", "5 分 非常满意"), ("4", "4 分"), ("3", "3 分"), ("2", "2 分"), ("1", "1 分")],
                         validators=[DataRequired("请选择评分")])
    comment = TextAreaField("评价", validators=[Optional(), Length(max=500, message="最多 500 个字")])


class MakeupForm(CnForm):
    left_at = TimeField("离开时间", validators=[InputRequired("请填写离开时间")])
    note = StringField("说明", validators=[Optional(), Length(max=200, message="最多 200 个字")])


class CodeForm(CnForm):
    code = StringField("签到码", validators=[DataRequired("请输入现场显示的 6 位签到码"),
                                            Length(min=6, max=6, message="签到码为 6 位数字")])
