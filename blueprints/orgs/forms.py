from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.accounts.forms import USERNAME_RE, password_policy
from blueprints.orgs.models import RegistrationType
from core.forms import DateField, FlaskForm, IntegerField, compact
from core.validators import LIFETIME_DATES, parse_id


def _int_or_none(value):
    if value in (None, "", "0"):
        return None
    number = parse_id(value)
    return number if number is not None else -1  # not a choice: the select's own check reports it


class OrgForm(FlaskForm):
    name = StringField("组织名称", validators=[DataRequired("请填写组织名称"), Length(max=128, message="组织名称最多 128 个字")])
    kind = SelectField("组织类型", validators=[DataRequired("请选择组织类型")])
    region_id = SelectField("所属区域", coerce=_int_or_none, validate_choice=False,
                            description="组织所在的县(市、区)、乡镇(街道)或村(社区)。")
    parent_id = SelectField("上级组织", coerce=_int_or_none, validate_choice=False,
                            description="总队/支队/大队等隶属关系；没有可不选。")
    registration_type = RadioField("登记类型", choices=[(t.value, t.label) for t in RegistrationType],
                                   default=RegistrationType.FILED.value, validate_choice=False)
    credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(max=18, message="统一社会信用代码应为18位")],
                              filters=[compact],
                              description="依法登记的组织必填（18 位，含校验位）；备案的组织不填。")
    contact_name = StringField("联系人", validators=[DataRequired("请填写联系人"), Length(max=64, message="最多 64 个字")])
    contact_phone = StringField("联系电话", validators=[DataRequired("请填写联系电话"), Length(max=32, message="联系电话过长")])
    address = StringField("地址", validators=[Optional(), Length(max=200, message="地址最多 200 个字")])
    founded_on = DateField("成立日期", validators=[Optional()], allowed=LIFETIME_DATES)
    service_fields = SelectMultipleField("服务领域", widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                         validate_choice=False)
    is_demo_site = BooleanField("示范点")
    demo_site_year = IntegerField("示范点年度", validators=[Optional()])
    is_incubated = BooleanField("孵化组织")
    incubated_year = IntegerField("孵化年度", validators=[Optional()])
    description = TextAreaField("简介", validators=[Optional(), Length(max=2000, message="简介最多 2000 个字")])
    confirm_duplicate = BooleanField("我已核对，确认不是重复登记")

    def org_data(self, fields: set[str]) -> dict:
        """The submitted values of the fields the user may change, as the service expects them."""
        out = {}
        for name in fields:
            if name in self:
                out[name] = self[name].data
        return out


class ApplyForm(OrgForm):
    username = StringField("登录用户名", validators=[
        DataRequired("请填写用户名"), Regexp(USERNAME_RE, message="用户名为 3–32 位字母、数字、下划线、点或连字符")])
    display_name = StringField("申请人姓名", validators=[DataRequired("请填写姓名"), Length(max=64, message="最多 64 个字")])
    password = PasswordField("密码", validators=[DataRequired("请设置密码"), Length(max=128), password_policy],
                             description="至少 8 位，须同时包含字母和数字。")
    confirm = PasswordField("确认密码", validators=[DataRequired("请再次输入密码"), EqualTo("password", "两次输入的密码不一致")])


class TransitionForm(FlaskForm):
    action = StringField(validators=[DataRequired()])
    comment = TextAreaField("说明", validators=[Optional(), Length(max=1000, message="最多 1000 个字")])


class OptionsForm(FlaskForm):
    kinds = TextAreaField("组织类型（每行一项）", validators=[DataRequired("请至少填写一个组织类型")])
    service_fields = TextAreaField("服务领域（每行一项）", validators=[DataRequired("请至少填写一个服务领域")])


class ImportForm(FlaskForm):
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的文件")])
