"""The volunteers' forms. Their validators are the registry's (core/validators.py, the staff
registration form's fields) and the accounts' password rule: one rule, one home."""
from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from blueprints.accounts.forms import password_policy
from blueprints.volunteers.forms import MultiCheckboxField, VolunteerForm
from blueprints.volunteers.models import AVAILABILITY, SKILLS
from core.forms import FlaskForm, coerce_id
from core.pickers import PickField
from core.validators import IdNumber, Phone


def _password(label: str = "设置密码"):
    return PasswordField(label, validators=[DataRequired("请设置密码"), Length(max=128, message="密码过长"), password_policy],
                         description="至少 8 位，须同时包含字母和数字。", render_kw={"autocomplete": "new-password"})


def _confirm():
    return PasswordField("确认密码", validators=[DataRequired("请再次输入密码"), EqualTo("password", "两次输入的密码不一致")],
                         render_kw={"autocomplete": "new-password"})


class JoinForm(FlaskForm):
    organization_id = PickField("申请加入的组织（站点）", coerce=coerce_id, validators=[DataRequired("请选择要加入的组织")])
    name = VolunteerForm.name
    id_number = StringField("身份证号", validators=[DataRequired("请填写身份证号"), IdNumber()],
                            render_kw={"autocomplete": "off", "maxlength": 18, "inputmode": "text"},
                            description="18 位；已在本市登记过的志愿者会自动匹配，不会重复登记。")
    phone = StringField("手机号", validators=[DataRequired("请填写手机号"), Phone()],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    region_id = SelectField("居住区域", coerce=coerce_id, validators=[Optional()])
    skills = MultiCheckboxField("服务技能", choices=[(s, s) for s in SKILLS])
    availability = MultiCheckboxField("服务时间", choices=[(a, a) for a in AVAILABILITY])
    guardian_name = VolunteerForm.guardian_name
    guardian_phone = VolunteerForm.guardian_phone
    guardian_relation = VolunteerForm.guardian_relation
    guardian_consent = VolunteerForm.guardian_consent
    password = _password()
    confirm = _confirm()


class StatusForm(FlaskForm):
    id_number = StringField("身份证号", validators=[DataRequired("请填写身份证号"), Length(max=20)],
                            render_kw={"autocomplete": "off", "maxlength": 18})
    password = PasswordField("注册时设置的密码", validators=[DataRequired("请输入密码"), Length(max=128)])


class ActivateForm(FlaskForm):
    code = StringField("激活码", validators=[DataRequired("请填写激活码"), Length(max=20, message="激活码格式不正确")],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    id_text = StringField("身份证号（或后 4 位）", validators=[DataRequired("请填写身份证号或其后 4 位"),
                                                      Length(min=4, max=18, message="请填写完整身份证号或其后 4 位")],
                          render_kw={"autocomplete": "off", "maxlength": 18})
    password = _password()
    confirm = _confirm()


class RefuseForm(FlaskForm):
    reason = TextAreaField("不通过原因", validators=[DataRequired("请填写不通过的原因（将告知申请人）"),
                                                Length(max=500, message="最多 500 个字")])


class CodesForm(FlaskForm):
    organization_id = PickField("组织", coerce=coerce_id, validators=[DataRequired("请选择组织")])
    volunteer_ids = MultiCheckboxField("成员", coerce=int, validate_choice=False)


class ProfileForm(FlaskForm):
    phone = StringField("新手机号", validators=[Phone(optional=True)], description="留空表示不修改。",
                        render_kw={"autocomplete": "off", "inputmode": "tel"})
    skills = MultiCheckboxField("服务技能", choices=[(s, s) for s in SKILLS])
    availability = MultiCheckboxField("服务时间", choices=[(a, a) for a in AVAILABILITY])


class MyCorrectionForm(FlaskForm):
    content = TextAreaField("需要更正的内容", validators=[DataRequired("请写明需要更正的内容"),
                                                   Length(max=1000, message="最多 1000 个字")],
                            description="如日期、时长或服务内容有误，请写明正确的情况；组织会答复并在此显示。")


class CertRequestForm(FlaskForm):
    organization_id = PickField("出具单位", coerce=coerce_id, validators=[DataRequired("请选择出具单位")])
    note = TextAreaField("用途或说明", validators=[Length(max=500, message="最多 500 个字")])


