from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints.stations.models import WUYOU_ITEMS, StationType
from core.forms import DateField, FlaskForm
from core.validators import LIFETIME_DATES


def _int_or_none(value):
    """A picked id; "" means none; junk becomes -1, which no choice has (the service refuses it)."""
    if value in (None, "", "0"):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        return -1
    return n if 0 < n < 2**31 else -1


class StationForm(FlaskForm):
    name = StringField("站点名称", validators=[DataRequired("请填写站点名称"), Length(max=128, message="最多 128 个字")])
    station_type = SelectField("站点类型", choices=[(t.value, t.label) for t in StationType],
                               default=StationType.COMMUNITY.value, validate_choice=False)
    region_id = SelectField("所在区域", coerce=_int_or_none, validate_choice=False,
                            description="社区志愿服务站选所在的村(社区)；公共场所站点可选所在的街道或社区。")
    address = StringField("地址", validators=[Optional(), Length(max=200, message="最多 200 个字")])
    organization_id = SelectField("管理组织", coerce=_int_or_none, validate_choice=False)
    opening_hours = StringField("开放时间", validators=[Optional(), Length(max=200, message="最多 200 个字")],
                                description="如：周一至周五 08:30–11:30、15:00–18:00；周六、周日 09:00–11:30")
    opened_on = DateField("设立日期", validators=[Optional()], allowed=LIFETIME_DATES)
    contact_name = StringField("联系人", validators=[Optional(), Length(max=64, message="最多 64 个字")])
    contact_phone = StringField("联系电话", validators=[Optional(), Length(max=32, message="联系电话过长")])
    active = BooleanField("站点运行中", default=True)
    closed_on = DateField("停用日期", validators=[Optional()], allowed=LIFETIME_DATES,
                          description="停用的站点填写；不填则按保存当天。年度指标只计当年年底仍在运行的站点。")

    def station_data(self, fields: set[str]) -> dict:
        return {name: self[name].data for name in fields if name in self}


class AssessmentForm(FlaskForm):
    assessed_on = DateField("评估日期", validators=[InputRequired("请填写评估日期")])
    assessor_name = StringField("评估人", validators=[DataRequired("请填写评估人"), Length(max=64, message="最多 64 个字")],
                                description="实地评估的人员，默认为当前账户")


def _add_items(cls):
    # Five yes/no items (001 "五有"), each with a note and an optional photo.
    for key, label, _ in WUYOU_ITEMS:
        setattr(cls, f"{key}_ok", RadioField(label, choices=[("1", "有"), ("0", "无")],
                                             validators=[InputRequired(f"请选择“{label}”是否达标")]))
        setattr(cls, f"{key}_note", TextAreaField("说明", validators=[Optional(), Length(max=500, message="最多 500 个字")],
                                                                 render_kw={"rows": 3}))
        setattr(cls, f"{key}_photo", FileField("照片", render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"}))
    return cls


_add_items(AssessmentForm)
