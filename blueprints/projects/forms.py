from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints.projects.services import CRITERIA
from core.forms import DateField, FlaskForm, MoneyField, coerce_id
from core.pickers import PickField


class ProjectForm(FlaskForm):
    title = StringField("项目名称", validators=[DataRequired("请填写项目名称"), Length(max=128, message="最多 128 个字")])
    organization_id = PickField("实施组织", coerce=coerce_id, validators=[DataRequired("请选择实施组织")],
                                placeholder="请选择实施组织")
    field = SelectField("服务领域", validators=[DataRequired("请选择服务领域")])
    target_group = SelectField("服务对象", validators=[DataRequired("请选择服务对象")])
    start_date = DateField("开始日期", validators=[InputRequired("请选择开始日期")])
    end_date = DateField("结束日期", validators=[InputRequired("请选择结束日期")])
    budget = MoneyField("项目预算（元）", money_label="项目预算")
    goals = TextAreaField("项目目标", validators=[DataRequired("请填写项目目标"), Length(max=5000, message="最多 5000 个字")])


class TargetGroupsForm(FlaskForm):
    target_groups = TextAreaField("服务对象", validators=[DataRequired("请至少填写一个服务对象")],
                                  render_kw={"rows": 12}, description="每行一项，最多 60 项、每项 32 字以内")


class ReturnForm(FlaskForm):
    comment = StringField("退回原因", validators=[DataRequired("请填写退回原因"), Length(max=500, message="最多 500 个字")])


class LinkActivityForm(FlaskForm):
    activity_id = PickField("关联活动", coerce=coerce_id, validators=[DataRequired("请选择要关联的活动")],
                            placeholder="请选择本组织的活动")


class EvaluationForm(FlaskForm):
    evaluator = StringField("评估单位", validators=[DataRequired("请填写评估单位"), Length(max=128, message="最多 128 个字")])
    evaluated_on = DateField("评估日期", validators=[InputRequired("请选择评估日期")])
    conclusion = TextAreaField("评估结论", validators=[Optional(), Length(max=5000, message="最多 5000 个字")])


# One score field per criterion (score_goals …), labelled with its weight.
for _key, _label, _weight in CRITERIA:
    setattr(EvaluationForm, f"score_{_key}", StringField(f"{_label}（权重 {_weight}%）",
                                                          validators=[DataRequired("请填写分数")]))
