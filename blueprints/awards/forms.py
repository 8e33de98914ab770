"""Forms of commendation: Chinese labels and messages."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.awards.models import NomineeType
from core.forms import DateField, FlaskForm, IntegerField
from core.pickers import PickField

REQ = "此项必填"


def opt_int(value):
    """Select values as ints; anything unreadable becomes None (then "please choose")."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None  # ids are 32-bit on PostgreSQL


class CampaignForm(FlaskForm):
    year = IntegerField("年度", validators=[InputRequired(REQ), NumberRange(2000, 2100, "年度应在 2000–2100 之间")])
    title = StringField("评选名称", validators=[DataRequired(REQ), Length(max=128, message="不超过 128 字")])
    granting_unit = StringField("授予单位", validators=[DataRequired(REQ), Length(max=128, message="不超过 128 字")])
    nomination_start = DateField("推荐开始", validators=[InputRequired(REQ)])
    nomination_end = DateField("推荐截止", validators=[InputRequired(REQ)])
    district_deadline = DateField("区级推荐截止", validators=[InputRequired(REQ)])
    review_deadline = DateField("市级评审截止", validators=[InputRequired(REQ)])
    notice_start = DateField("公示开始", validators=[InputRequired(REQ)])
    notice_end = DateField("公示结束", validators=[InputRequired(REQ)])
    presentation_date = DateField("表彰日期", validators=[InputRequired(REQ)],
                                  description="建议在纪念日表彰：3月5日 学雷锋纪念日、5月4日 五四青年节、12月5日 国际志愿者日")
    deeds_limit = IntegerField("事迹材料字数上限", validators=[InputRequired(REQ), NumberRange(200, 10000, "应在 200–10000 之间")])
    criteria = TextAreaField("评分标准", validators=[DataRequired(REQ)], render_kw={"rows": 5},
                             description="每行一项，格式“名称：满分”，如“服务成效与社会影响：40”")


class KindForm(FlaskForm):
    name = StringField("奖项名称", validators=[DataRequired(REQ), Length(max=64, message="不超过 64 字")])
    nominee_type = SelectField("推荐对象类型", choices=[(t.value, t.label) for t in NomineeType],
                               validators=[DataRequired(REQ)])
    quota = IntegerField("表彰名额（全市）", validators=[InputRequired(REQ), NumberRange(1, 500, "应在 1–500 之间")])
    min_star = IntegerField("最低星级", default=0, validators=[InputRequired(REQ), NumberRange(0, 5, "应在 0–5 之间")])
    min_hours = IntegerField("最低累计服务时长（小时）", default=0,
                             validators=[InputRequired(REQ), NumberRange(0, 100000, "应在 0–100000 之间")])
    min_years = IntegerField("注册/成立至少（年）", default=0, validators=[InputRequired(REQ), NumberRange(0, 50, "应在 0–50 之间")])
    no_dismissal = BooleanField("无劝退记录", default=True)
    active_org = BooleanField("所在组织须正常运行", default=True)


class PanelForm(FlaskForm):
    reviewers = SelectMultipleField("评审专家", coerce=opt_int, validate_choice=False)


class NominationForm(FlaskForm):
    kind_id = PickField("奖项", coerce=opt_int, validate_choice=False, validators=[InputRequired("请选择奖项")])
    organization_id = PickField("推荐单位", coerce=opt_int, validate_choice=False, validators=[InputRequired("请选择推荐单位")])
    volunteer_id = SelectField("推荐的志愿者", coerce=opt_int, validate_choice=False, validators=[Optional()])
    project_title = StringField("项目名称", validators=[Length(max=128, message="不超过 128 字")])
    activity_id = SelectField("项目对应的活动（可选）", coerce=opt_int, validate_choice=False, validators=[Optional()])
    project_id = SelectField("项目库中的项目（可选）", coerce=opt_int, validate_choice=False, validators=[Optional()])
    summary = TextAreaField("简要事迹（公示用，不超过 200 字）", validators=[DataRequired(REQ), Length(max=200, message="不超过 200 字")],
                            render_kw={"rows": 3})
    deeds = TextAreaField("事迹材料", validators=[Length(max=10000, message="过长")], render_kw={"rows": 12})


class EvidenceForm(FlaskForm):
    file = FileField("证明材料（图片或 PDF，≤ 5 MB）")


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField("意见", validators=[Length(max=500, message="不超过 500 字")])


class ObjectionForm(FlaskForm):
    nomination_id = SelectField("异议对象", coerce=opt_int, validate_choice=False, validators=[Optional()])
    name = StringField("您的姓名", validators=[DataRequired(REQ), Length(max=64, message="不超过 64 字")])
    contact = StringField("联系方式", validators=[DataRequired(REQ), Length(max=64, message="不超过 64 字")])
    content = TextAreaField("异议内容", validators=[DataRequired(REQ), Length(max=2000, message="不超过 2000 字")],
                            render_kw={"rows": 5})


class ResolveForm(FlaskForm):
    upheld = SelectField("处理结论", choices=[("0", "异议不成立"), ("1", "异议成立（取消该对象表彰资格）")])
    outcome = TextAreaField("核实情况与处理结果", validators=[DataRequired(REQ), Length(max=1000, message="不超过 1000 字")],
                            render_kw={"rows": 3})
