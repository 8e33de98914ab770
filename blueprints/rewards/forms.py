from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints.funding.forms import SelectField
from blueprints.rewards.models import RewardKind
from blueprints.volunteers.ledger import STAR_LABELS
from core.forms import DateField, FlaskForm

KIND_CHOICES = [(k.value, k.label) for k in RewardKind]
STAR_CHOICES = [("0", "不限")] + [(str(i), f"{STAR_LABELS[i]}及以上") for i in range(1, 6)]


class ItemForm(FlaskForm):
    provider = SelectField("提供单位", validators=[DataRequired("请选择提供单位")])
    title = StringField("回馈项目名称", validators=[DataRequired("请填写回馈项目名称"), Length(max=128, message="最多 128 个字")])
    kind = SelectField("类型", choices=KIND_CHOICES, default=RewardKind.SERVICE.value,
                       validators=[DataRequired("请选择类型")])
    description = TextAreaField("内容说明", validators=[Optional(), Length(max=2000, message="最多 2000 字")])
    cost = StringField("所需积分", default="0", description="每次兑换扣减的积分（0 表示凭星级或骨干身份享受，不扣积分）",
                       validators=[InputRequired("请填写所需积分"), Length(max=12, message="数值过长")])
    min_star = SelectField("星级条件", choices=STAR_CHOICES, default="0")
    core_only = BooleanField("仅限志愿者骨干")
    active = BooleanField("开放兑换", default=True)


class RedeemForm(FlaskForm):
    volunteer = StringField("志愿者编号", validators=[DataRequired("请填写志愿者编号"), Length(max=16, message="编号最多 16 位")])
    redeemed_on = DateField("兑换日期", validators=[InputRequired("请填写兑换日期")])
    note = StringField("备注", validators=[Optional(), Length(max=200, message="备注最多 200 字")])


class ReverseForm(FlaskForm):
    reason = TextAreaField("冲销原因", validators=[DataRequired("请填写冲销原因"), Length(max=500, message="冲销原因最多 500 字")])
