from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms import RadioField as _RadioField
from wtforms import SelectField as _SelectField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.forms import DateField, FlaskForm, MoneyField, coerce_id
from core.pickers import PickField


class _ChineseChoice:
    """Choice fields whose refusals speak Chinese (WTForms' own messages are English)."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError("请从列表中选择") from None

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("请从列表中选择") from None


class SelectField(_ChineseChoice, _SelectField):
    pass


class RadioField(_ChineseChoice, _RadioField):
    pass


def _text(label, max_len, required=None):
    validators = [DataRequired(required)] if required else [Optional()]
    return StringField(label, validators=validators + [Length(max=max_len, message=f"{label}最多 {max_len} 个字")])


class EntryForm(FlaskForm):
    holder = SelectField("记账单位", validators=[DataRequired("请选择记账单位")])
    entry_date = DateField("日期", validators=[InputRequired("请填写日期")])
    kind = RadioField("收支", choices=[("income", "收入"), ("expense", "支出")],
                      validators=[DataRequired("请选择收入或支出")], default="income")
    amount = MoneyField("金额（元）", description="精确到分，如 1234.56")
    source = SelectField("经费来源", validators=[DataRequired("请选择经费来源")])
    purpose = _text("用途", 64)
    project = _text("项目", 128)
    voucher_no = _text("凭证号", 64)
    note = TextAreaField("备注", validators=[Optional(), Length(max=2000, message="备注最多 2000 字")])
    attachment = FileField("附件（PDF 或图片）", description="可选，最大 5 MB")
    remove_attachment = BooleanField("删除现有附件")


class ReverseForm(FlaskForm):
    reason = TextAreaField("冲销原因", validators=[DataRequired("请填写冲销原因"),
                                                 Length(max=2000, message="冲销原因最多 2000 字")])


class ProjectForm(FlaskForm):
    title = _text("项目名称", 128, "请填写项目名称")
    buyer_region_id = PickField("购买方（区域）", coerce=coerce_id, validators=[DataRequired("请选择购买方")])
    buyer_name = _text("购买主体名称", 128)
    provider_org_id = SelectField("承接组织", coerce=coerce_id, validators=[Optional()],
                                  description="招标后确定；立项时可暂不填写")
    amount = MoneyField("项目金额（元）")
    start_date = DateField("开始日期", validators=[InputRequired("请填写开始日期")])
    end_date = DateField("结束日期", validators=[InputRequired("请填写结束日期")])
    description = TextAreaField("项目内容", validators=[Optional(), Length(max=4000, message="最多 4000 字")])
    # The volunteer-service project this contract buys (项目库, blueprints/projects); choices set by the route.
    project_id = SelectField("项目库中的项目", coerce=coerce_id, validators=[Optional()],
                             description="购买的服务在项目库中立项的，选择该项目")


class TransitionForm(FlaskForm):
    action = StringField(validators=[DataRequired("请选择操作")])
    comment = TextAreaField("意见", validators=[Optional(), Length(max=2000, message="意见最多 2000 字")])


class PaymentForm(FlaskForm):
    paid_on = DateField("付款日期", validators=[InputRequired("请填写付款日期")])
    amount = MoneyField("付款金额（元）")
    voucher_no = _text("凭证号", 64)
    over_reason = TextAreaField("超付原因", validators=[Optional(), Length(max=2000, message="最多 2000 字")],
                                description="累计付款超过项目金额时必填")


class AuditForm(FlaskForm):
    holder = SelectField("被审计单位", validators=[DataRequired("请选择被审计单位")])
    audit_date = DateField("审计日期", validators=[InputRequired("请填写审计日期")])
    auditor = _text("审计机构", 128, "请填写审计机构")
    period_start = DateField("审计期间自", validators=[InputRequired("请填写开始日期")])
    period_end = DateField("审计期间至", validators=[InputRequired("请填写结束日期")])
    findings = TextAreaField("审计发现", validators=[Optional(), Length(max=8000, message="最多 8000 字")])
    items = TextAreaField("整改事项", validators=[Optional(), Length(max=8000, message="最多 8000 字")],
                          description="每行一项")
    report = FileField("审计报告（PDF 或图片）", description="可选，最大 10 MB")


class ReportForm(FlaskForm):
    report = FileField("审计报告（PDF、图片或 Word/Excel）", validators=[FileRequired("请选择审计报告文件")],
                       description="最大 10 MB；上传后替换原有报告")


class ItemForm(FlaskForm):
    description = TextAreaField("整改事项", validators=[DataRequired("请填写整改事项"),
                                                    Length(max=2000, message="最多 2000 字")])
    due_date = DateField("整改期限", validators=[Optional()])


class ItemStatusForm(FlaskForm):
    status = SelectField("状态", choices=[("open", "待整改"), ("in_progress", "整改中"), ("done", "已整改")],
                         validators=[DataRequired("请选择状态")])
    result = TextAreaField("整改结果", validators=[Optional(), Length(max=2000, message="最多 2000 字")])


class SourcesForm(FlaskForm):
    sources = TextAreaField("经费来源（每行一项）", validators=[DataRequired("请至少填写一项经费来源")])
