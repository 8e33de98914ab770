from __future__ import annotations

import re

from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from blueprints.accounts.models import ROLE_LABELS, Role
from core.forms import FlaskForm, coerce_id

USERNAME_RE = r"^[A-Za-z0-9_.\-]{3,32}$"


def password_policy(form, field):
    value = field.data or ""
    if len(value) < 8 or not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        raise ValidationError("密码至少 8 位，且须同时包含字母和数字")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64, message="用户名过长")],
                           description="志愿者可用志愿者编号或手机号登录。")
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128, message="密码过长")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128, message="密码过长"), password_policy])
    confirm = PasswordField("确认新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("new", "两次输入的新密码不一致")])


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[
        DataRequired("请填写用户名"),
        Regexp(USERNAME_RE, message="用户名为 3–32 位字母、数字、下划线、点或连字符"),
    ])
    display_name = StringField("姓名/称呼", validators=[DataRequired("请填写姓名或称呼"), Length(max=64, message="最多 64 个字")])
    email = StringField("工作邮箱", validators=[
        Optional(), Length(max=120, message="最多 120 个字符"),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="邮箱格式不正确，如 name@example.gov.cn"),
    ], filters=[lambda v: v.strip() if isinstance(v, str) else v],
        description="选填；配置邮件服务器后，催报等通知同时发到此邮箱。")
    role = SelectField("角色", choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    region_id = SelectField("管辖区域", coerce=coerce_id, validators=[Optional()],
                            description="县区工作人员和领导必填；选择“湛江市”表示全市。")
    organizations = SelectMultipleField("负责的组织", coerce=coerce_id, validators=[Optional()],
                                        description="组织负责人必填，可多选。")


class NewUserForm(UserForm):
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码"), Length(max=128), password_policy],
                             description="首次登录时须修改。")
