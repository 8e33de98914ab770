from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from core.forms import DateField, FlaskForm, IntegerField


def _text(label, max_len, required=True, **kw):
    validators = [InputRequired(f"请填写{label}")] if required else [Optional()]
    return StringField(label, validators=validators + [Length(max=max_len, message=f"{label}最多 {max_len} 个字")],
                       **kw)


class PolicyForm(FlaskForm):
    organization = SelectField("投保组织", validators=[InputRequired("请选择投保组织")])
    insurer = _text("保险公司", 64, render_kw={"list": "insurer-options", "autocomplete": "off"})
    policy_no = _text("保单号", 64)
    product = _text("保险产品", 128, render_kw={"list": "product-options", "autocomplete": "off"})
    mode = RadioField("投保方式", choices=[("named", "记名（选择被保险人）"), ("headcount", "不记名（按人数投保）")],
                      default="named", validators=[InputRequired("请选择投保方式")])
    head_count = IntegerField("投保人数", validators=[Optional()], description="不记名保单填写")
    start_date = DateField("保险起期", validators=[InputRequired("请填写保险起期")])
    end_date = DateField("保险止期", validators=[InputRequired("请填写保险止期")])
    # Amounts are parsed by services.parse_money (Decimal to the fen, > 0) so that one rule gives the message.
    sum_insured = StringField("保险金额（元/人）", description="精确到分，如 200000")
    premium = StringField("保费合计（元）", description="精确到分，如 1280.50")
    payer_source = SelectField("经费来源（谁付的保费）", validators=[Optional()])
    payer_note = _text("付款单位/说明", 128, required=False)
    note = TextAreaField("备注", validators=[Optional(), Length(max=2000, message="备注最多 2000 字")])
    scan = FileField("保单扫描件（PDF 或图片）", description="可选，最大 5 MB")
    remove_scan = BooleanField("删除现有扫描件")


class ImportForm(FlaskForm):
    file = FileField("被保险人名单（.xlsx）")
