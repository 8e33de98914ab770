from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.volunteers.models import (AVAILABILITY, DISMISS_LABELS, POLITICAL_LABELS, SKILLS, Quality)
from core.forms import DateField, FlaskForm, coerce_id
from core.pickers import PickField
from core.sources import cite
from core.validators import LIFETIME_DATES, IdNumber, Phone


class CnForm(FlaskForm):
    """Kept as the name these forms derive from; Chinese messages now come from core.forms.FlaskForm."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _required(label: str):
    return DataRequired(f"请填写{label}")


def _date(label: str, required: bool = True, **kw):
    return DateField(label, validators=[DataRequired(f"请选择{label}") if required else Optional()], **kw)


CHANNELS = ["现场", "电话", "书面", "其他"]


class VolunteerForm(CnForm):
    organization_id = PickField("登记组织", coerce=coerce_id, validators=[DataRequired("请选择登记组织")])
    name = StringField("姓名", validators=[_required("姓名"), Length(max=64, message="姓名最多 64 个字")])
    id_number = StringField("身份证号", validators=[DataRequired("请填写身份证号"), IdNumber()],
                            render_kw={"autocomplete": "off", "maxlength": 18},
                            description="18 位，出生日期、性别和年龄由号码得出。")
    phone = StringField("手机号", validators=[Phone()], render_kw={"autocomplete": "off"})
    political_status = SelectField("政治面貌", choices=[(k.value, v) for k, v in POLITICAL_LABELS.items()],
                                   default="masses")
    public_servant = BooleanField("公职人员（机关、事业单位工作人员）")
    work_unit = StringField("工作单位", validators=[Length(max=128, message="最多 128 个字")],
                            description="党员、公职人员填写所在单位，便于党组织了解本单位党员的志愿服务情况。")
    skills = MultiCheckboxField("服务技能", choices=[(s, s) for s in SKILLS])
    availability = MultiCheckboxField("服务时间", choices=[(a, a) for a in AVAILABILITY])
    region_id = SelectField("居住区域", coerce=coerce_id, validators=[Optional()],
                            description="不选则为登记组织所在区域。")
    registered_on = _date("注册日期", allowed=LIFETIME_DATES)
    guardian_name = StringField("监护人姓名", validators=[Length(max=64, message="最多 64 个字")])
    guardian_phone = StringField("监护人电话", validators=[Phone(optional=True)])
    guardian_relation = StringField("与本人关系", validators=[Length(max=16, message="最多 16 个字")])
    guardian_consent = BooleanField("监护人已同意其参加志愿服务")


class VolunteerEditForm(VolunteerForm):
    organization_id = None
    id_number = StringField("更正身份证号", validators=[Optional(), IdNumber()],
                            render_kw={"autocomplete": "off", "maxlength": 18},
                            description="留空表示不修改；如需更正请填写完整号码。")
    phone = StringField("手机号", validators=[Phone(optional=True)], render_kw={"autocomplete": "off"})


class DismissForm(CnForm):
    reason = RadioField(f"劝退原因（依据{cite('001', '附件4 第五条')}）", choices=[(k.value, v) for k, v in DISMISS_LABELS.items()],
                        validators=[DataRequired("请选择劝退原因")])
    dismissed_on = _date("劝退日期")
    note = TextAreaField("情况说明", validators=[Length(max=500, message="最多 500 个字")])


class MembershipDismissForm(DismissForm):
    report = BooleanField("行为加重，报上级志愿服务组织备案（区县文明办可决定全市劝退）")


class DecideForm(CnForm):
    decision = RadioField("处理结果", choices=[("city", "决定全市劝退（不能再加入任何组织）"), ("file", "予以备案，不再处理")],
                          validators=[DataRequired("请选择处理结果")])
    note = TextAreaField("处理意见", validators=[_required("处理意见"), Length(max=500, message="最多 500 个字")])


class ReinstateForm(CnForm):
    note = StringField("恢复原因", validators=[_required("恢复原因"), Length(max=200, message="最多 200 个字")])


class MembershipForm(CnForm):
    organization_id = PickField("加入组织", coerce=coerce_id, validators=[DataRequired("请选择组织")])


QUALITY_CHOICES = [(q.value, q.label) for q in Quality]


class RecordForm(CnForm):
    organization_id = PickField("记录单位", coerce=coerce_id, validators=[DataRequired("请选择记录单位")])
    service_date = _date("服务日期")
    hours = StringField("时长（小时）", validators=[_required("时长")], render_kw={"inputmode": "decimal"})
    content = TextAreaField("服务内容", validators=[_required("服务内容"), Length(max=500, message="最多 500 个字")])
    quality = SelectField("服务质量", choices=QUALITY_CHOICES, default="good")


class RecordEditForm(RecordForm):
    organization_id = None


class CorrectionForm(RecordEditForm):
    void = BooleanField("作废该记录（如记错了人或并无此次服务）")
    reason = TextAreaField("更正原因", validators=[_required("更正原因"), Length(max=500, message="最多 500 个字")])
    request_id = SelectField("对应的更正申请", coerce=coerce_id, validators=[Optional()])


class TrainingForm(CnForm):
    name = StringField("培训名称", validators=[_required("培训名称"), Length(max=128, message="最多 128 个字")])
    content = TextAreaField("主要内容", validators=[Length(max=500, message="最多 500 个字")])
    hours = StringField("学习时长（小时）", validators=[_required("学习时长")], render_kw={"inputmode": "decimal"})
    host_unit = StringField("举办单位", validators=[_required("举办单位"), Length(max=128, message="最多 128 个字")])
    held_on = _date("培训日期", allowed=LIFETIME_DATES)


class AwardForm(CnForm):
    name = StringField("奖项名称", validators=[_required("奖项名称"), Length(max=128, message="最多 128 个字")])
    awarded_on = _date("获奖日期", allowed=LIFETIME_DATES)
    granting_unit = StringField("授予单位", validators=[_required("授予单位"), Length(max=128, message="最多 128 个字")])


class RequestForm(CnForm):
    organization_id = PickField("答复组织", coerce=coerce_id, validators=[DataRequired("请选择答复组织")])
    record_id = SelectField("涉及的记录", coerce=coerce_id, validators=[Optional()])
    received_on = _date("收到日期")
    channel = SelectField("提出方式", choices=[(c, c) for c in CHANNELS], default="现场")
    content = TextAreaField("志愿者提出的更正内容",
                            validators=[_required("更正内容"), Length(max=1000, message="最多 1000 个字")])


class AnswerForm(CnForm):
    decision = RadioField("答复结果", choices=[("accepted", "采纳（并更正记录）"), ("rejected", "不予更正")],
                          validators=[DataRequired("请选择答复结果")])
    answer = TextAreaField("答复内容", validators=[_required("答复内容"), Length(max=1000, message="最多 1000 个字")])


class CertificateForm(CnForm):
    organization_id = PickField("出具单位", coerce=coerce_id, validators=[DataRequired("请选择出具单位")])
    person_in_charge = StringField("出具单位负责人", validators=[_required("负责人"), Length(max=64, message="最多 64 个字")])
    period_start = _date("起始日期")
    period_end = _date("截止日期")


class RevokeForm(CnForm):
    reason = StringField("作废原因", validators=[_required("作废原因"), Length(max=200, message="最多 200 个字")])


class ImportForm(CnForm):
    organization_id = PickField("登记组织", coerce=coerce_id, validators=[DataRequired("请选择登记组织")])
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的文件")])


class TransferImportForm(CnForm):
    organization_id = PickField("接收组织", coerce=coerce_id, validators=[DataRequired("请选择接收组织")])
    file = FileField("转移文件（.json）", validators=[FileRequired("请选择转移文件")])
    id_number = StringField("志愿者身份证号", validators=[DataRequired("请填写身份证号"), IdNumber()],
                            render_kw={"autocomplete": "off", "maxlength": 18},
                            description="按志愿者本人身份证填写；文件中只有脱敏号码，系统据此核对并匹配本人。")
    phone = StringField("手机号（新登记时使用）", validators=[Phone(optional=True)], render_kw={"autocomplete": "off"})
